"""Helpers for tests that route messages between agents (imported as a top-level module)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from caxton.router import Dispatcher, Router, instantiate
from caxton.runtime import Runtime, Sandbox


class Inbox:
    """A Python stand-in agent that keeps what it is given, for asserting on replies."""

    accepts_batches = False

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle(self, message: bytes, context: object = None) -> int:
        with self._lock:
            self.messages.append(orjson.loads(message))
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        raise AssertionError("Inbox does not export caxton_handle_batch")

    def of(self, performative: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["performative"] == performative]


def inbox(router: Router, name: str, capacity: int = 1024) -> Inbox:
    box = Inbox()
    router.register(router.endpoint(name, capacity), box)
    return box


@contextmanager
def running(router: Router, workers: int = 2) -> Iterator[Dispatcher]:
    """Worker threads delivering for `router` until the block ends."""
    dispatcher = Dispatcher(router, workers=workers)
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop()


class Tap:
    """Wraps a real agent and records each delivery: its messages, thread and interval."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.deliveries: list[tuple[list[dict[str, Any]], int, float, float]] = []

    @property
    def accepts_batches(self) -> bool:
        return bool(self.agent.accepts_batches)

    def handle(self, message: bytes, context: object = None) -> int:
        start = time.perf_counter()
        try:
            return int(self.agent.handle(message, context))
        finally:
            self._record([orjson.loads(message)], start)

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        start = time.perf_counter()
        try:
            return int(self.agent.handle_batch(messages, count, context))
        finally:
            self._record(orjson.loads(messages), start)

    def _record(self, messages: list[dict[str, Any]], start: float) -> None:
        self.deliveries.append((messages, threading.get_ident(), start, time.perf_counter()))

    def messages(self) -> list[dict[str, Any]]:
        return [m for delivered, *_ in self.deliveries for m in delivered]


def tap(
    router: Router, runtime: Runtime, wasm: bytes, name: str, **options: Any
) -> tuple[Tap, Sandbox]:
    """Start `wasm` as `name` behind a `Tap`."""
    endpoint, sandbox = instantiate(router, runtime, runtime.load(wasm), name, **options)
    recorder = Tap(sandbox)
    router.register(endpoint, recorder)
    return recorder, sandbox
