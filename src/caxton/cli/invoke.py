"""`caxton invoke NAME`: send an agent a request and print the answer that ends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from caxton.api.types import InvokeRequest, InvokeResult
from caxton.cli import render
from caxton.cli.agent import complete_agent_name
from caxton.cli.context import context

F = TypeVar("F", bound=Callable[..., Any])

# How much longer than the invocation's own timeout the HTTP call may take.
HTTP_GRACE_S = 10.0
# The HTTP timeout when the server's default invocation timeout applies.
DEFAULT_HTTP_TIMEOUT_S = 120.0


def request_options(timeout_help: str) -> Callable[[F], F]:
    """The options of a request to an agent: `invoke` and `job submit` take the same."""

    def decorate(command: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--content", "content_text", default=None, help="The content, as JSON."
                ),
                click.option(
                    "--performative", "-p", default="request", show_default=True, help="The act."
                ),
                click.option(
                    "--protocol", default="fipa-request", show_default=True, help="The protocol."
                ),
                click.option(
                    "--timeout",
                    type=click.FloatRange(min=0, min_open=True),
                    default=None,
                    help=timeout_help,
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def content(text: str | None) -> object:
    """The `--content` option's JSON value; None when it was not given."""
    return None if text is None else render.json_value("--content", text)


@click.command()
@click.argument("name", shell_complete=complete_agent_name)
@request_options("Seconds to wait for the answer (default: the server's invoke_timeout_s).")
def invoke(
    name: str, performative: str, content_text: str | None, protocol: str, timeout: float | None
) -> None:
    """Send agent NAME a request in a conversation of its own and print the reply message.

    The reply is printed as JSON (with --output json: the whole InvokeResult,
    with conversation_id and elapsed_ms). Exits 6 when no answer comes in
    time, 4 when there is no such agent.
    """
    request = InvokeRequest(
        performative=performative,
        content=content(content_text),
        protocol=protocol or None,
        timeout_s=timeout,
    )
    cli = context()
    result = cli.client().post(
        f"/agents/{render.part(name)}/invoke",
        InvokeResult,
        body=request,
        timeout=DEFAULT_HTTP_TIMEOUT_S if timeout is None else timeout + HTTP_GRACE_S,
    )
    if cli.json:
        render.emit(result)
        return
    render.emit_json(result.reply)
    click.echo(f"(conversation {result.conversation_id}, {result.elapsed_ms:.1f} ms)", err=True)
