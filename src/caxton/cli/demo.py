"""`caxton demo`: the example agents exchanging messages, explained as they go."""

from __future__ import annotations

from importlib import resources
from typing import Any

import click
import orjson
import wasmtime
from rich.console import Console

from caxton.cli.options import make_runtime
from caxton.local import Event, LocalNetwork

_LEVEL_STYLE = {"info": "green", "warn": "yellow", "error": "red"}


@click.command()
def demo() -> None:
    """Start the example agents (ping, pong, echo) and watch them talk."""
    console = Console(highlight=False)
    with make_runtime() as runtime:
        network = LocalNetwork(runtime, lambda event: _show(console, event))
        examples = resources.files("caxton.examples")
        for name in ("ping", "pong", "echo"):
            wat = examples.joinpath(f"{name}.wat").read_text()
            module = runtime.load(bytes(wasmtime.wat2wasm(wat)))
            network.start(module, name)
            console.print(
                f"[bold]started[/] {name}  ({module.size} bytes, sha256 {module.sha256[:12]})"
            )
        console.rule("operator asks echo to echo, and kicks ping")
        deliveries = network.run(
            [
                {
                    "performative": "request",
                    "sender": "operator",
                    "receiver": "echo",
                    "content": {"hello": "world"},
                    "reply_with": "r1",
                },
                {
                    "performative": "request",
                    "sender": "operator",
                    "receiver": "ping",
                    "content": "start",
                },
            ]
        )
        console.rule("done")
        rounds = network.state["ping"].get(b"rounds_done")
        console.print(
            f"{deliveries} messages delivered; ping's key-value state: "
            f"rounds_done = {rounds.decode() if rounds else None}"
        )


def _show(console: Console, event: Event) -> None:
    kind = event["event"]
    if kind == "sent":
        message: dict[str, Any] = event["message"]
        content = orjson.dumps(message.get("content")).decode()
        console.print(
            f"[cyan]{message['sender']:>8}[/] -> [cyan]{message['receiver']!s:<8}[/] "
            f"[bold]{message['performative']}[/] {content}"
        )
    elif kind == "log":
        style = _LEVEL_STYLE.get(event["level"], "dim")
        console.print(f"[dim]{event['agent']:>8} log[/] [{style}]{event['text']}[/]")
    elif kind == "error":
        console.print(f"[red]error[/] {event.get('agent', '')} {event['class']}: {event['reason']}")
