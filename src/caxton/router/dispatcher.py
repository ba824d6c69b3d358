"""Delivery from mailboxes into agents: turns, batching, and worker threads.

A turn takes what waits in one mailbox (up to `max_batch` messages) and
delivers it: as one `caxton_handle_batch` call when the agent exports it and
more than one message waits, else one `caxton_handle` call each, in order.
Nothing waits for a batch to fill, so a lightly loaded agent gets each
message at once.

Wasm runs with the GIL released (ctypes drops it around every call into
wasmtime), so worker threads use both cores when handlers do real work. For
tiny handlers the threads mostly contend for the GIL, which is why the number
of workers is a setting and `run_until_idle` can drive everything from the
calling thread. One agent never runs on two threads: its mailbox is in the
ready queue at most once, and only the worker holding the turn touches it.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections.abc import Callable
from functools import partial
from time import perf_counter
from typing import Final

from caxton.errors import HandlerError
from caxton.router.endpoint import Endpoint, Recipient
from caxton.router.mailbox import Entry, Message
from caxton.router.router import Router
from caxton.router.stats import LATENCY_BOUNDS
from caxton.router.trace import MessageTracer

DEFAULT_MAX_BATCH: Final = 64
# An idle worker wakes this often even with nothing to do: to notice deadlines,
# and work that a busy worker queued without waking anyone (see ReadyQueue.push).
_IDLE_WAKE_S: Final = 0.02
# How late a busy dispatcher may notice a deadline that was set after it last looked.
_DEADLINE_GRAIN_S: Final = 0.01

log = logging.getLogger("caxton.router")


class Dispatcher:
    def __init__(self, router: Router, *, workers: int = 1, max_batch: int = DEFAULT_MAX_BATCH):
        if workers < 0 or max_batch < 1:
            raise ValueError("workers must be >= 0 and max_batch >= 1")
        self.router = router
        self.workers = workers
        self.max_batch = max_batch
        self._threads: list[threading.Thread] = []
        self.turns = 0
        self.batches = 0
        self._due = 0.0  # when to ask the conversations for deadlines next

    # Driving from the calling thread (tests, benchmarks, the local runner).

    def run_until_idle(self, max_turns: int | None = None) -> int:
        """Run turns on this thread until no mailbox has work; returns turns run."""
        ready = self.router.ready
        turns = 0
        while max_turns is None or turns < max_turns:
            self._check_deadlines()
            endpoint = ready.pop_nowait()
            if endpoint is None:
                break
            self.turn(endpoint)
            turns += 1
        return turns

    # Worker threads (the server).

    def start(self) -> None:
        for number in range(self.workers):
            thread = threading.Thread(
                target=self._work, name=f"caxton-dispatch-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every mailbox is empty and no turn runs; False on timeout."""
        return self.router.ready.wait_idle(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.router.ready.close()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _work(self) -> None:
        ready = self.router.ready
        while not ready.closed:
            endpoint = ready.pop(self._idle_wait())
            if endpoint is not None:
                try:
                    self.turn(endpoint)
                finally:
                    ready.done()
            self._check_deadlines()

    def _idle_wait(self) -> float:
        deadline = self.router.conversations.next_deadline()
        if deadline is None:
            return _IDLE_WAKE_S
        return min(max(deadline - self.router.clock(), 0.0), _IDLE_WAKE_S)

    def _check_deadlines(self) -> None:
        # Asking the conversations costs a lock; a clock read is cheap. So ask
        # at most every _DEADLINE_GRAIN_S, or sooner when a known deadline is due.
        now = self.router.clock()
        if now < self._due:
            return
        deadline = self.router.conversations.next_deadline()
        if deadline is not None and now >= deadline:
            self.router.expire()
            deadline = self.router.conversations.next_deadline()
        self._due = min(deadline or now + _DEADLINE_GRAIN_S, now + _DEADLINE_GRAIN_S)

    # One turn.

    def turn(self, endpoint: Endpoint) -> None:
        # The turn lock lets the router swap or detach the agent between turns
        # (hot reload, removal) without racing a turn in progress.
        with endpoint.turn_lock:
            if endpoint.paused:
                endpoint.mailbox.park()  # `Router.resume` schedules it again
                return
            self._deliver(endpoint)
        if endpoint.mailbox.end_turn():
            self.router.ready.push(endpoint)

    def drain(self, endpoint: Endpoint) -> None:
        """Stop `endpoint` accepting messages and deliver what waits, on this thread."""
        endpoint.accepting = False
        while len(endpoint.mailbox):
            with endpoint.turn_lock:
                self._deliver(endpoint)

    def _deliver(self, endpoint: Endpoint) -> None:
        # Any exception from an agent is caught below, not only HandlerError:
        # a worker thread must outlive every agent's failure.
        entries = endpoint.mailbox.take(self.max_batch)
        agent = endpoint.agent
        self.turns += 1
        if not entries:
            return
        measure = self.router.measure
        started = perf_counter() if measure else 0.0
        if agent is None:  # detached while its messages waited
            self._failed(endpoint, entries, RuntimeError(f"agent {endpoint.name!r} is gone"))
            return
        tracer = self.router.tracer
        if tracer is not None and any(tracer.samples(entry[0]) for entry in entries):
            handled = self._handle_traced(tracer, endpoint, agent, entries)
        elif len(entries) > 1 and agent.accepts_batches:
            handled = self._handle_batch(endpoint, agent, entries)
        else:
            # One message a turn is the common case: no call beyond the handler's.
            handled = entries
            handle = agent.handle
            for entry in entries:
                try:
                    handle(entry[1], entry[0])
                except Exception as error:
                    self._failed(endpoint, [entry], error)
                    handled = [kept for kept in handled if kept is not entry]
        if measure:
            # Inlined, not a call: it runs on every turn. Latency runs to the turn's
            # end, which for a batch is when each of its messages was handled.
            done = perf_counter()
            stats = endpoint.stats
            delivered = stats.delivered
            buckets = stats.buckets
            waited = 0.0
            for message, _, routed_at in handled:
                delivered[message["performative"]] += 1
                latency = done - routed_at
                buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
                waited += latency
            stats.latency_sum += waited
            stats.handler_seconds += done - started
        if endpoint.after_delivery is not None:
            endpoint.after_delivery(entries)

    def _handle_batch(
        self, endpoint: Endpoint, agent: Recipient, entries: list[Entry]
    ) -> list[Entry]:
        """All of `entries` in one `caxton_handle_batch` call; the entries handled."""
        self.batches += 1
        try:
            agent.handle_batch(_batch(entries), len(entries), entries[0][0])
        except Exception as error:
            self._failed(endpoint, entries, error)
            return []
        return entries

    def _handle_traced(
        self, tracer: MessageTracer, endpoint: Endpoint, agent: Recipient, entries: list[Entry]
    ) -> list[Entry]:
        """`_deliver`'s delivery with a span around each handler call; the entries handled."""
        calls: list[tuple[list[Entry], Callable[[], object]]]
        if len(entries) > 1 and agent.accepts_batches:
            self.batches += 1
            batch = _batch(entries)
            calls = [(entries, partial(agent.handle_batch, batch, len(entries), entries[0][0]))]
        else:
            calls = [([entry], partial(agent.handle, entry[1], entry[0])) for entry in entries]
        handled: list[Entry] = []
        for taken, call in calls:
            token = tracer.handling(endpoint.name, _messages(taken))
            try:
                call()
            except Exception as error:
                tracer.handled(token, error)
                self._failed(endpoint, taken, error)
                continue
            tracer.handled(token, None)
            handled += taken
        return handled

    def _failed(self, endpoint: Endpoint, entries: list[Entry], error: Exception) -> None:
        if not isinstance(error, HandlerError):
            log.exception("delivery to %s failed unexpectedly", endpoint.name, exc_info=error)
        self.router.handler_failed(endpoint, _messages(entries), error)


def _batch(entries: list[Entry]) -> bytes:
    """The messages as the JSON array `caxton_handle_batch` takes, from their encodings."""
    return b"[" + b",".join([entry[1] for entry in entries]) + b"]"


def _messages(entries: list[Entry]) -> list[Message]:
    return [entry[0] for entry in entries]
