"""`caxton conversation show ID`: one conversation and the messages it still has in history."""

from __future__ import annotations

import click

from caxton.api.types import ConversationView
from caxton.cli import render
from caxton.cli.context import context


@click.group()
def conversation() -> None:
    """Look at conversations between agents."""


@conversation.command("show")
@click.argument("conversation_id", metavar="ID")
def show(conversation_id: str) -> None:
    """Conversation ID: its protocol, state, participants and messages. Exits 4 if unknown.

    IDs appear in `caxton message list`, and `caxton invoke` prints the one it used.
    """
    cli = context()
    view = cli.client().get(f"/conversations/{render.part(conversation_id)}", ConversationView)
    if cli.json:
        render.emit(view)
        return
    render.fields(
        [
            ("conversation", view.id),
            ("state", f"{view.state}" + ("" if view.live else " (ended; as last stored)")),
            ("protocol", view.protocol or "-"),
            ("initiator", view.initiator or "-"),
            ("participants", ", ".join(view.participants) or "-"),
            ("started", render.when(view.started)),
            ("last activity", render.when(view.last_activity)),
        ]
    )
    click.echo()
    render.table(
        ("SEQ", "TIME", "PERFORMATIVE", "FROM", "TO", "CONTENT"),
        (
            (
                record.seq,
                render.when(record.at),
                record.message.get("performative", "?"),
                record.message.get("sender") or "-",
                _receivers(record.message.get("receiver")),
                render.brief(record.message.get("content"), 60),
            )
            for record in view.messages
        ),
        empty="(no messages left in the server's history)",
    )


def _receivers(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value) if value else "-"
