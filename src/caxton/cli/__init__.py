"""The `caxton` command line.

Subcommands load on first use (`LazyGroup`), so `caxton --version` and the
commands that only talk HTTP never import wasmtime, FastAPI or the runtime:
each call stays well under 100 ms.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from caxton import __version__
from caxton.cli.context import CliContext, load_client_config

# name -> "module:attribute", loaded when the command is used.
COMMANDS = {
    "agent": "caxton.cli.agent:agent",
    "backup": "caxton.cli.backup:backup",
    "capability": "caxton.cli.capability:capability",
    "completion": "caxton.cli.completion:completion",
    "config": "caxton.cli.config:config",
    "conversation": "caxton.cli.conversation:conversation",
    "demo": "caxton.cli.demo:demo",
    "invoke": "caxton.cli.invoke:invoke",
    "job": "caxton.cli.job:job",
    "message": "caxton.cli.message:message",
    "server": "caxton.cli.server:server",
}


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


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
@click.pass_context
def main(ctx: click.Context, url: str | None, output: str | None) -> None:
    """Caxton: an application server for multi-agent systems."""
    config = load_client_config()
    ctx.obj = CliContext(
        url=(url or config.get("url") or "http://127.0.0.1:8080").rstrip("/"),
        output=output or config.get("output") or "table",
    )


__all__ = ["COMMANDS", "main"]
