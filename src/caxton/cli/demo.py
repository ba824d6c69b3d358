"""`caxton demo`: example agents exchanging messages through the router, explained as they go.

Part one runs the packaged ping, pong and echo agents. Part two, given the
directory the C examples were built into (`make -C examples/agents/c`), runs
a contract net: one initiator, a hundred bidders, a winner doing the work.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import click
import orjson
import wasmtime

from caxton.cli.options import make_runtime
from caxton.router import Dispatcher, Router, attach
from caxton.runtime import InMemoryKeyValueStore, Runtime

BIDDERS = 100
CNET_DEADLINE_MS = 300


class _Operator:
    """The operator's own inbox: prints the answers it gets."""

    accepts_batches = False

    def handle(self, message: bytes, context: object = None) -> int:
        answer = orjson.loads(message)
        content = orjson.dumps(answer.get("content")).decode()
        click.echo(
            f"{click.style('operator got', fg='magenta')} {answer['performative']} {content}"
        )
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        for answer in orjson.loads(messages):
            self.handle(orjson.dumps(answer))
        return 0


class _AgentLogLines(logging.Handler):
    """Agents' log lines (ABI `log`, WASI stdout and stderr), printed with their agent."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        agent = record.name.removeprefix("caxton.agent.")
        colour = "yellow" if record.levelno >= logging.WARNING else "green"
        label = click.style(f"{agent:>8} log", dim=True)
        click.echo(f"{label} {click.style(record.getMessage(), fg=colour)}")


class _Outcome(InMemoryKeyValueStore):
    """The initiator's state, signalling when its `outcome` is written."""

    def __init__(self) -> None:
        super().__init__(1 << 20)
        self.written = threading.Event()

    def set(self, key: bytes, value: bytes) -> bool:
        stored = super().set(key, value)
        if key == b"outcome":
            self.written.set()
        return stored


@click.command()
@click.option(
    "--agents",
    "agents_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of built C example agents (make -C examples/agents/c): adds a contract net.",
)
@click.option("--workers", default=2, show_default=True, help="Dispatcher threads.")
def demo(agents_dir: Path | None, workers: int) -> None:
    """Start the example agents on a router and watch them talk."""
    agent_logs = logging.getLogger("caxton.agent")
    handler = _AgentLogLines()
    agent_logs.addHandler(handler)
    agent_logs.setLevel(logging.INFO)
    try:
        _run(agents_dir, workers)
    finally:
        agent_logs.removeHandler(handler)


def _run(agents_dir: Path | None, workers: int) -> None:
    with make_runtime() as runtime:
        router = Router(on_route=_show)
        dispatcher = Dispatcher(router, workers=workers)
        dispatcher.start()
        try:
            _ping_pong(runtime, router, dispatcher)
            if agents_dir is not None:
                router.on_route = None  # a hundred bidders are too many to print
                logging.getLogger("caxton.agent").setLevel(logging.WARNING)
                _contract_net(runtime, router, dispatcher, agents_dir)
        finally:
            dispatcher.stop()


def _ping_pong(runtime: Runtime, router: Router, dispatcher: Dispatcher) -> None:
    examples = resources.files("caxton.examples")
    state = InMemoryKeyValueStore(1 << 16)
    router.register(router.endpoint("operator"), _Operator())
    for name in ("ping", "pong", "echo"):
        module = runtime.load(
            bytes(wasmtime.wat2wasm(examples.joinpath(f"{name}.wat").read_text()))
        )
        attach(router, runtime, module, name, kv=state if name == "ping" else None)
        started = click.style("started", bold=True)
        click.echo(f"{started} {name}  ({module.size} bytes, sha256 {module.sha256[:12]})")
    _rule("operator asks echo to echo, and kicks ping")
    router.post(
        {
            "performative": "request",
            "sender": "operator",
            "receiver": "echo",
            "content": {"hello": "world"},
            "reply_with": "r1",
        }
    )
    router.post(
        {"performative": "request", "sender": "operator", "receiver": "ping", "content": "start"}
    )
    dispatcher.wait_idle()
    rounds = state.get(b"rounds_done")
    click.echo(f"ping's key-value state: rounds_done = {rounds.decode() if rounds else None}")


def _contract_net(runtime: Runtime, router: Router, dispatcher: Dispatcher, built: Path) -> None:
    _rule(f"contract net: one initiator, {BIDDERS} bidders, one of them late")
    bidder = runtime.load((built / "cnet_participant.wasm").read_bytes())
    outcome = _Outcome()
    initiator = runtime.load((built / "cnet_initiator.wasm").read_bytes())
    attach(router, runtime, initiator, "boss", kv=outcome)
    names = [f"bidder-{n:03d}" for n in range(BIDDERS)]
    late = runtime.config.default_limits.override(runtime.config.memory, deadline_ms=5_000)
    for number, name in enumerate(names):
        config: dict[str, Any] = {"cost": 50 + (number * 37) % 100}
        if number == 0:
            config = {"cost": 1, "late_ms": 2 * CNET_DEADLINE_MS}
        attach(router, runtime, bidder, name, config=config, limits=late if number == 0 else None)
    started = time.perf_counter()
    router.post(
        {
            "performative": "request",
            "receiver": "boss",
            "content": {
                "participants": names,
                "task": {"numbers": list(range(1, 1001))},
                "deadline_ms": CNET_DEADLINE_MS,
            },
        }
    )
    if not outcome.written.wait(30):
        raise click.ClickException("the contract net did not finish within 30 s")
    dispatcher.wait_idle()
    elapsed_ms = (time.perf_counter() - started) * 1000
    result = outcome.get(b"outcome") or b"null"
    click.echo(f"{click.style('outcome', bold=True)} {result.decode()}  ({elapsed_ms:.0f} ms)")
    for letter in router.dead_letters.recent(3):
        click.echo(
            f"{click.style('dead letter', fg='yellow')} {letter.message.get('performative')} from "
            f"{letter.message.get('sender')}: {letter.reason}"
        )


def _show(message: dict[str, Any]) -> None:
    content = orjson.dumps(message.get("content")).decode()
    sender = click.style(f"{message.get('sender', 'operator'):>8}", fg="cyan")
    receiver = click.style(f"{message['receiver']!s:<8}", fg="cyan")
    performative = click.style(message["performative"], bold=True)
    click.echo(f"{sender} -> {receiver} {performative} {content}")


def _rule(title: str) -> None:
    """A section heading across the terminal, as wide as it is."""
    width = max(40, min(shutil.get_terminal_size().columns, 100))
    click.echo(click.style(f"── {title} ".ljust(width, "─"), bold=True))
