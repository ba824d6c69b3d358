"""`caxton capability search NAME`: which agents offer a capability."""

from __future__ import annotations

import click

from caxton.api.types import CapabilityList
from caxton.cli import render
from caxton.cli.context import context


@click.group()
def capability() -> None:
    """Find agents by what they declared they can do (register_capability)."""


@capability.command("search")
@click.argument("name")
def search(name: str) -> None:
    """The deployed agents that declared capability NAME, with version and description."""
    cli = context()
    found = cli.client().get("/capabilities", CapabilityList, params={"name": name})
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("AGENT", "STATE", "CAPABILITY", "VERSION", "DESCRIPTION"),
        (
            (item.agent, item.agent_state, item.name, item.version or "-", item.description)
            for item in found.items
        ),
        styles={1: render.STATE_STYLES},
        empty=f"no deployed agent offers {name!r}",
    )
