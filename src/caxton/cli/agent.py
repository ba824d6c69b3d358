"""`caxton agent ...`: working with one agent module on this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from caxton.cli.options import json_object, limits_from, make_runtime, read_module
from caxton.errors import AgentInitFailed, ModuleRejected
from caxton.local import Event, LocalNetwork

EXIT_REFUSED = 3


@click.group()
def agent() -> None:
    """Build, run and test agents."""


@agent.command("run")
@click.argument("module", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Agent name (default: the file's stem).")
@click.option("--config", "config_text", default="{}", help="JSON object given to caxton_init.")
@click.option(
    "--message",
    "messages",
    multiple=True,
    help="An ACL message as JSON, delivered in order; repeat for more. "
    "receiver defaults to the agent, sender to 'user'.",
)
@click.option("--fuel", type=int, default=None, help="Fuel per handled message.")
@click.option("--memory", type=int, default=None, help="Linear memory ceiling in bytes.")
@click.option("--timeout-ms", type=int, default=None, help="Wall-clock deadline per message.")
def run(
    module: Path,
    name: str | None,
    config_text: str,
    messages: tuple[str, ...],
    fuel: int | None,
    memory: int | None,
    timeout_ms: int | None,
) -> None:
    """Load one agent in-process and deliver MESSAGEs to it, printing one JSON event a line.

    Events: sent, log, error, capability, tool_call and handled. Messages the
    agent sends to itself are delivered too. Exits 0 when the run completed,
    whatever the agent did, and 3 when the module is refused or fails to start.
    """
    agent_name = name or _default_name(module)
    config = json_object("--config", config_text)
    inbound = [_inbound(json_object("--message", text), agent_name) for text in messages]
    with make_runtime() as runtime:
        limits = limits_from(
            runtime, fuel_per_message=fuel, memory_bytes=memory, deadline_ms=timeout_ms
        )
        network = LocalNetwork(runtime, _print_event)
        try:
            loaded = runtime.load(read_module(module), memory_bytes=limits.memory_bytes)
            network.start(loaded, agent_name, config=config, limits=limits)
        except (ModuleRejected, AgentInitFailed) as error:
            _print_event(
                {"event": "error", "class": error.error_class.value, "reason": error.reason}
            )
            click.echo(f"caxton: {module}: {error}", err=True)
            sys.exit(EXIT_REFUSED)
        network.run(inbound)


def _default_name(module: Path) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in module.stem.lower()).strip("-")
    return cleaned if cleaned[:1].isalpha() else f"agent-{cleaned}"[:63]


def _inbound(message: dict[str, Any], agent_name: str) -> dict[str, Any]:
    message.setdefault("receiver", agent_name)
    message.setdefault("sender", "user")
    return message


def _print_event(event: Event) -> None:
    sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
    sys.stdout.flush()
