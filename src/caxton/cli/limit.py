"""`caxton limit ...`: the API's rate limits, read and changed while the server runs.

Each request takes a token from the global bucket, its identity's, and its
operation's if that has a limit of its own; a bucket gains PER-S tokens a
second up to BURST. Changes apply at once and outlive a restart; `reset`
goes back to the server's settings.
"""

from __future__ import annotations

import click

from caxton.api.types import RateLimit, RateLimitChange, RateLimitList
from caxton.cli import client as http
from caxton.cli import render
from caxton.cli.context import context

SOURCE_STYLES = {"runtime": {"fg": "yellow"}}


@click.group()
def limit() -> None:
    """Show and change the API's rate limits (token buckets) at run time.

    \b
    Scopes:
      global              every request together
      identity            each identity's default (a bucket per identity)
      identity:SUBJECT    one identity's own numbers (key:ID, jwt:SUB, cert:NAME)
      operation:NAME      one operation, shared by every identity (agents.deploy)
    """


def _rate(per_s: float) -> str:
    return "no limit" if per_s == 0 else f"{per_s:g}/s"


@limit.command("list")
def list_limits() -> None:
    """The limits in force: scope, rate, burst, and where each came from (settings, runtime)."""
    cli = context()
    found = cli.client().get("/rate-limits", RateLimitList)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("SCOPE", "PER-S", "BURST", "SOURCE"),
        ((item.scope, _rate(item.per_s), item.burst, item.source) for item in found.items),
        styles={3: SOURCE_STYLES},
    )


@limit.command("set")
@click.argument("scope")
@click.option(
    "--per-s",
    "per_s",
    type=float,
    required=True,
    help="Tokens added a second, 0 or more; 0 means no limit.",
)
@click.option("--burst", type=int, required=True, help="The bucket's size, 1 or more.")
def set_limit(scope: str, per_s: float, burst: int) -> None:
    """Give SCOPE a rate of PER-S tokens a second, up to BURST at once.

    \b
      caxton limit set global --per-s 1000 --burst 2000
      caxton limit set identity:key:ab12cd --per-s 5 --burst 10
      caxton limit set operation:agents.deploy --per-s 0.5 --burst 2

    It applies from the next request on, with no restart, and is kept across
    restarts. Exits 2 if the scope or a number is not one the server accepts.
    """
    cli = context()
    reply = cli.client().request(
        "PUT", f"/rate-limits/{render.part(scope)}", body=RateLimitChange(per_s=per_s, burst=burst)
    )
    changed = http.decode(reply, RateLimit)
    if cli.json:
        render.emit(changed)
        return
    click.echo(f"rate limit {changed.scope}: {_rate(changed.per_s)}, burst {changed.burst}")


@limit.command("reset")
@click.argument("scope")
def reset_limit(scope: str) -> None:
    """Undo SCOPE's change: global and identity go back to the server's settings.

    An identity:SUBJECT goes back to the identity default, an operation:NAME
    has no limit of its own any more; either exits 4 if it had none.
    """
    cli = context()
    cli.client().request("DELETE", f"/rate-limits/{render.part(scope)}")
    if cli.json:
        return
    if scope in ("global", "identity"):
        click.echo(f"rate limit {scope} is back to the server's settings")
    else:
        click.echo(f"rate limit {scope} removed")
