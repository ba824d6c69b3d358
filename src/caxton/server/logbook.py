"""Agents' log lines, in memory and bounded, for `GET /agents/{name}/logs` and `--follow`.

Every line an agent writes (ABI `log`, WASI stdout and stderr) reaches the
router's `on_log` hook on the agent's thread; `write` keeps it in O(1). A
follower waits on a condition in a thread of its own (`wait_after`), as the
message history's consumers do, so no one polls.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from caxton.runtime import LogLevel


class LogLine(NamedTuple):
    seq: int
    at: float
    level: str
    agent: str
    text: str


class Logbook:
    def __init__(self, capacity: int, *, clock: Callable[[], float] = time.time) -> None:
        self._lines: deque[LogLine] = deque(maxlen=max(capacity, 0))
        self._clock = clock
        self._seq = 0
        self._new = threading.Condition()
        self._closed = False

    @property
    def last_seq(self) -> int:
        return self._seq

    def write(self, agent: str, level: LogLevel, text: str) -> None:
        with self._new:
            self._seq += 1
            self._lines.append(LogLine(self._seq, self._clock(), level.name.lower(), agent, text))
            self._new.notify_all()

    def lines(self, agent: str | None = None, after: int = 0, limit: int = 100) -> list[LogLine]:
        """The newest `limit` lines after seq `after`, of `agent` (or all), oldest first."""
        with self._new:
            lines = list(self._lines)
        chosen = [line for line in lines if line.seq > after and agent in (None, line.agent)]
        return chosen[-limit:] if limit else []

    def wait_after(self, seq: int, timeout: float) -> bool:
        """Block until a line newer than `seq` exists (True), or timeout or close (False)."""
        with self._new:
            return self._new.wait_for(lambda: self._seq > seq or self._closed, timeout) and (
                self._seq > seq
            )

    def close(self) -> None:
        """Wake every follower: the server is stopping."""
        with self._new:
            self._closed = True
            self._new.notify_all()
