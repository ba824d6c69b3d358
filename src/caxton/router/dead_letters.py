"""Messages that could not be delivered, each kept with the reason why.

Bounded: past `capacity` the oldest are forgotten (and counted), so a flood of
undeliverable messages costs memory once, never without end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    at: float
    receiver: str | None
    reason: str
    message: dict[str, Any]


class DeadLetters:
    def __init__(self, clock: Callable[[], float], capacity: int = DEFAULT_CAPACITY) -> None:
        self._clock = clock
        self._letters: deque[DeadLetter] = deque(maxlen=capacity)
        self.total = 0
        # Where each letter is also kept for good (the store), when set.
        self.sink: Callable[[DeadLetter], None] | None = None

    def keep(self, message: dict[str, Any], receiver: str | None, reason: str) -> None:
        letter = DeadLetter(self._clock(), receiver, reason, message)
        self._letters.append(letter)
        self.total += 1
        if self.sink is not None:
            self.sink(letter)

    def recent(self, limit: int | None = None) -> list[DeadLetter]:
        """The newest `limit` dead letters (all that are kept when None), oldest first."""
        letters = list(self._letters)
        return letters if limit is None else letters[-limit:] if limit > 0 else []

    def __len__(self) -> int:
        return len(self._letters)
