"""`caxton audit ...`: the security audit trail.

It holds tool calls and grants, agents' limit and sandbox violations
(`agent.limit`, `agent.trap`), management operations and authentication, and
retention's prunes (`audit.prune`). `audit list` shows the newest records,
`audit verify` walks the log's hash chain (exit 1 when something is wrong),
and `audit export` writes every record as JSON lines, to keep a copy (and its
newest hash) somewhere else. After retention pruned the oldest records, both
say where the chain now starts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from caxton.api.types import AuditList, AuditVerification
from caxton.cli import render
from caxton.cli.client import CliError
from caxton.cli.context import EXIT_FAILED, context

_OUTCOME_STYLES: dict[str, dict[str, Any]] = {
    "ok": {"fg": "green"},
    "denied": {"fg": "yellow"},
    "failed": {"fg": "red", "bold": True},
}


@click.group()
def audit() -> None:
    """Read, verify and export the security audit trail.

    Tool calls and grants, agents' limit and sandbox violations, management
    operations and authentication, and retention's prunes.
    """


@audit.command("list")
@click.option("--action", help="Only records of this action (tool.call, agent.trap...).")
@click.option("--actor", help="Only records by this actor (an agent's name, operator).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def list_records(action: str | None, actor: str | None, limit: int) -> None:
    """The newest audit records, newest last."""
    cli = context()
    params = {"limit": limit, "action": action, "actor": actor}
    found = cli.client().get("/audit", AuditList, params=params)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"),
        (
            (
                entry.seq,
                render.when(entry.at),
                entry.actor,
                entry.action,
                entry.target,
                entry.outcome,
            )
            for entry in found.items
        ),
        styles={5: _OUTCOME_STYLES},
        empty="no audit records",
    )


@audit.command()
def verify() -> None:
    """Check the audit log's hash chain; exit 1, listing the problems, if it is broken.

    After a prune the chain starts at the oldest record left: the line says which.
    """
    cli = context()
    client = cli.client()
    found = client.get("/audit/verify", AuditVerification)
    if cli.json:
        render.emit(found)
    elif found.ok:
        oldest = client.get("/audit", AuditList, params={"after": 0, "limit": 1}).items
        start = _chain_start(oldest[0].seq if oldest else None)
        click.echo(f"audit trail intact: {_count(found.records, 'record')}{start}")
    else:
        click.echo(
            f"audit trail broken: {_count(len(found.problems), 'problem')} in "
            f"{_count(found.records, 'record')}",
            err=True,
        )
        for problem in found.problems:
            click.echo(problem)
    if not found.ok:
        sys.exit(EXIT_FAILED)


@audit.command()
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the records here (created or replaced) instead of to stdout.",
)
def export(path: Path | None) -> None:
    """Every audit record as JSON lines, oldest first; the count goes to stderr."""
    reply = context().client().request("GET", "/audit/export")
    content = reply.content
    if path is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        try:
            path.write_bytes(content)
        except OSError as error:
            raise CliError(f"cannot write {path}: {error.strerror or error}") from None
    count = content.count(b"\n")
    first = orjson.loads(content[: content.find(b"\n")])["seq"] if count else None
    click.echo(
        f"exported {_count(count, 'audit record')}"
        + ("" if path is None else f" to {path}")
        + _chain_start(first),
        err=True,
    )


def _chain_start(first_seq: int | None) -> str:
    """Where the chain starts, when a prune removed the records before it; else ''."""
    if first_seq is None or first_seq == 1:
        return ""
    pruned = "seq 1" if first_seq == 2 else f"seq 1 to {first_seq - 1}"
    return f", from seq {first_seq} ({pruned} pruned)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
