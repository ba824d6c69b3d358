"""`caxton capability search NAME [--version RANGE] [--all-states]`: which agents offer a
capability."""

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
@click.option(
    "--version",
    "version_range",
    metavar="RANGE",
    default=None,
    help="Only versions in this SemVer range: '>=1.2.0 <2.0.0', '^1.2', '~1.4.1', '1.x', "
    "'=1.2.3' (docs/api.md has the grammar).",
)
@click.option(
    "--all-states",
    is_flag=True,
    help="Agents in every state (the STATE column says which), not only those Running.",
)
def search(name: str, version_range: str | None, all_states: bool) -> None:
    """The agents that declared capability NAME and can answer now (Running), with the
    version and description of each declaration.

    A bad RANGE is refused by the server, naming what is wrong (exit 2).
    """
    cli = context()
    client = cli.client()
    params = {"name": name}
    if version_range is not None:
        params["version"] = version_range
    everywhere = {**params, "all_states": "true"}
    found = client.get("/capabilities", CapabilityList, params=everywhere if all_states else params)
    if cli.json:
        render.emit(found)
        return
    within = f" in {version_range}" if version_range is not None else ""
    empty = f"no deployed agent offers {name!r}{within}"
    if not found.items and not all_states:
        # Say whether agents that are not Running offer it: a stopped provider is worth knowing.
        elsewhere = len(client.get("/capabilities", CapabilityList, params=everywhere).items)
        if elsewhere:
            empty = (
                f"no Running agent offers {name!r}{within}; {elsewhere} in other states "
                "(--all-states lists them)"
            )
    render.table(
        ("AGENT", "STATE", "CAPABILITY", "VERSION", "DESCRIPTION"),
        (
            (item.agent, item.agent_state, item.name, item.version or "-", item.description)
            for item in found.items
        ),
        styles={1: render.STATE_STYLES},
        empty=empty,
    )
