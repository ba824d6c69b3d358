"""The queue of endpoints that have messages waiting, shared by the dispatchers.

An endpoint is in here at most once (its mailbox's `scheduled` flag sees to
that). Idle worker threads sleep on a condition; a push wakes one only when
some worker is idle, so a busy system pays no wake-up cost per message.
"""

from __future__ import annotations

import threading
from collections import deque

from caxton.router.endpoint import Endpoint


class ReadyQueue:
    def __init__(self) -> None:
        self._ready: deque[Endpoint] = deque()
        lock = threading.Lock()
        self._wake = threading.Condition(lock)  # idle workers wait here
        self._settled = threading.Condition(lock)  # wait_idle() callers wait here
        self._idle = 0
        self._busy = 0
        self.closed = False

    def __len__(self) -> int:
        return len(self._ready)

    def push(self, endpoint: Endpoint) -> None:
        self._ready.append(endpoint)
        # Read after the append: a worker that counted itself idle before it
        # looked at the queue either sees this endpoint or gets this notify.
        # Wake one only when the busy workers cannot take all that waits as
        # soon as their turns end: a wake-up costs more than a short wait.
        if self._idle and len(self._ready) > self._busy:
            with self._wake:
                self._wake.notify()

    def pop_nowait(self) -> Endpoint | None:
        """The next endpoint for a caller that runs turns itself (no worker threads)."""
        try:
            return self._ready.popleft()
        except IndexError:
            return None

    def pop(self, timeout: float) -> Endpoint | None:
        """The next endpoint for a worker, waiting up to `timeout` seconds; call `done` after."""
        with self._wake:
            if not self._ready and not self.closed:
                self._idle += 1
                self._wake.wait(timeout)
                self._idle -= 1
            try:
                endpoint = self._ready.popleft()
            except IndexError:
                return None
            self._busy += 1
            return endpoint

    def done(self) -> None:
        with self._wake:
            self._busy -= 1
            if not self._busy and not self._ready:
                self._settled.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued and no turn runs; False if `timeout` passed first."""
        with self._settled:
            return self._settled.wait_for(lambda: not self._ready and not self._busy, timeout)

    def close(self) -> None:
        with self._wake:
            self.closed = True
            self._wake.notify_all()
            self._settled.notify_all()
