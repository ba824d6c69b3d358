"""One agent's bounded inbox, and whether it is waiting for a turn.

A mailbox never grows past its capacity: a full one refuses the message and
the sender hears -3 (ABI v1 back-pressure). `scheduled` is true from the
moment the mailbox has work until a dispatcher turn leaves it empty, so an
agent is never queued for two turns at once and never runs on two threads.
"""

from __future__ import annotations

import threading
from collections import deque
from enum import Enum
from typing import Any

Message = dict[str, Any]
# A message, its JSON encoding and when it was routed (time.perf_counter), made
# once whatever the number of receivers; the encoding is joined into an array
# as it is for a batch, the time measures the latency to handler done.
Entry = tuple[Message, bytes, float]


class Put(Enum):
    """What happened to a message put in a mailbox."""

    QUEUED = 1  # the mailbox was already waiting for a turn
    SCHEDULE = 2  # the mailbox was idle: the caller must schedule a turn
    FULL = 3


class Mailbox:
    __slots__ = ("_items", "_lock", "capacity", "peak", "received", "scheduled")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[Entry] = deque()
        self._lock = threading.Lock()
        self.scheduled = False
        self.peak = 0
        self.received = 0

    def __len__(self) -> int:
        return len(self._items)

    def has_room(self) -> bool:
        return len(self._items) < self.capacity

    def put(self, entry: Entry) -> Put:
        with self._lock:
            items = self._items
            depth = len(items)
            if depth >= self.capacity:
                return Put.FULL
            items.append(entry)
            self.received += 1
            if depth >= self.peak:
                self.peak = depth + 1
            if self.scheduled:
                return Put.QUEUED
            self.scheduled = True
            return Put.SCHEDULE

    def take(self, most: int) -> list[Entry]:
        """Up to `most` messages, oldest first."""
        with self._lock:
            items = self._items
            if len(items) <= most:
                taken = list(items)
                items.clear()
                return taken
            return [items.popleft() for _ in range(most)]

    def end_turn(self) -> bool:
        """After a turn: True when messages wait (the caller schedules another turn)."""
        with self._lock:
            if self._items:
                return True
            self.scheduled = False
            return False

    def park(self) -> None:
        """End a turn without taking anything: the agent is paused; messages wait."""
        with self._lock:
            self.scheduled = False

    def claim(self) -> bool:
        """True when messages wait and no turn was due: the caller must schedule one."""
        with self._lock:
            if self.scheduled or not self._items:
                return False
            self.scheduled = True
            return True

    def drain(self) -> list[Entry]:
        """Everything still waiting, for an agent that is leaving."""
        with self._lock:
            taken = list(self._items)
            self._items.clear()
            return taken
