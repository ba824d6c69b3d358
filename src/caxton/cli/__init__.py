"""The `caxton` command line.

Subcommands load on first use (`LazyGroup`), so `caxton --version` and the
commands that only talk HTTP never import wasmtime, FastAPI or the runtime:
each call stays well under 100 ms.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click

from caxton import __version__
from caxton.cli.context import CliContext, load_client_config


@dataclass(frozen=True)
class Lazy:
    """A subcommand loaded on first use: where it is, and its one-line help for `caxton --help`.

    The summary is the command's own (a test checks that they agree): listing
    the commands must not import them all.
    """

    target: str  # "module:attribute"
    summary: str


COMMANDS = {
    "agent": Lazy(
        "caxton.cli.agent:agent",
        "Deploy, inspect and control agents on a server; run one here with `run`.",
    ),
    "audit": Lazy(
        "caxton.cli.audit:audit",
        "Read, verify and export the security audit trail.",
    ),
    "auth": Lazy(
        "caxton.cli.auth:auth",
        "Who you are to the server; API keys and the roles of identities.",
    ),
    "backup": Lazy(
        "caxton.cli.backup:backup",
        "Back up a running server's database, and restore one (offline).",
    ),
    "capability": Lazy(
        "caxton.cli.capability:capability",
        "Find agents by what they declared they can do (register_capability).",
    ),
    "completion": Lazy(
        "caxton.cli.completion:completion",
        "Print the completion script for SHELL; load it from your shell's start-up file.",
    ),
    "config": Lazy(
        "caxton.cli.config:config",
        "Show and check the server's settings (flags > CAXTON_* variables > file > defaults).",
    ),
    "conversation": Lazy(
        "caxton.cli.conversation:conversation", "Look at conversations between agents."
    ),
    "demo": Lazy(
        "caxton.cli.demo:demo", "Start the example agents on a router and watch them talk."
    ),
    "events": Lazy(
        "caxton.cli.events:events",
        "Mailbox thresholds crossed and message-rate spikes the server noticed, newest last.",
    ),
    "invoke": Lazy(
        "caxton.cli.invoke:invoke",
        "Send agent NAME a request in a conversation of its own and print the reply message.",
    ),
    "job": Lazy(
        "caxton.cli.job:job",
        "Submit invocations to run in the background, and collect their results.",
    ),
    "limit": Lazy(
        "caxton.cli.limit:limit",
        "Show and change the API's rate limits (token buckets) at run time.",
    ),
    "message": Lazy(
        "caxton.cli.message:message",
        "Send ACL messages to agents, read recent ones, convert between representations.",
    ),
    "server": Lazy("caxton.cli.server:server", "Run a Caxton server, or check on one."),
    "signing": Lazy(
        "caxton.cli.signing:signing",
        "Make ed25519 signing keys, and sign and verify agent modules.",
    ),
    "tool": Lazy(
        "caxton.cli.tool:tool",
        "Connect MCP tool servers, list their tools and grant agents the use of them.",
    ),
}


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, Lazy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self._lazy.get(cmd_name)
        if lazy is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = lazy.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{lazy.target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._summary(ctx, name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _summary(self, ctx: click.Context, name: str) -> str:
        lazy = self._lazy.get(name)
        if lazy is not None:
            return lazy.summary
        command = super().get_command(ctx, name)
        return "" if command is None else command.get_short_help_str()


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="caxton")
@click.option(
    "--url",
    envvar="CAXTON_URL",
    default=None,
    help="The server's URL (default: $CAXTON_URL, the client config, http://127.0.0.1:8080).",
)
@click.option(
    "--output",
    "-o",
    envvar="CAXTON_OUTPUT",
    type=click.Choice(["table", "json"]),
    default=None,
    help="Tables for people (default), JSON for scripts.",
)
@click.option(
    "--token",
    envvar="CAXTON_TOKEN",
    default=None,
    help="API key or JWT (default: $CAXTON_TOKEN, the client config, and for a server on "
    "this machine its data directory's admin.key).",
)
@click.pass_context
def main(ctx: click.Context, url: str | None, output: str | None, token: str | None) -> None:
    """Caxton: an application server for multi-agent systems."""
    config = load_client_config()
    ctx.obj = CliContext(
        url=(url or config.get("url") or "http://127.0.0.1:8080").rstrip("/"),
        output=output or config.get("output") or "table",
        token=token,
        config=config,
    )


__all__ = ["COMMANDS", "main"]
