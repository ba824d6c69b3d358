"""`caxton events`: what the server noticed (mailbox thresholds crossed, rate spikes)."""

from __future__ import annotations

from typing import Any

import click

from caxton.api.types import EventList
from caxton.cli import render
from caxton.cli.context import context

_STYLES: dict[str, dict[str, Any]] = {
    "mailbox-critical": {"fg": "red", "bold": True},
    "mailbox-warning": {"fg": "yellow"},
    "mailbox-recovered": {"fg": "green"},
    "rate-spike": {"fg": "magenta"},
}


@click.command()
@click.option("--agent", help="Only events about this agent.")
@click.option(
    "--kind",
    type=click.Choice(sorted(_STYLES)),
    help="Only events of this kind.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
def events(agent: str | None, kind: str | None, limit: int) -> None:
    """Mailbox thresholds crossed and message-rate spikes the server noticed, newest last."""
    cli = context()
    params = {"limit": limit, "agent": agent, "kind": kind}
    found = cli.client().get("/events", EventList, params=params)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("TIME", "KIND", "AGENT", "DETAIL"),
        (
            (
                render.when(event.at),
                event.kind,
                event.agent or "(server)",
                " ".join(f"{key}={value}" for key, value in event.detail.items()),
            )
            for event in found.items
        ),
        styles={1: _STYLES},
        empty="no events",
    )
