"""The failure policy: when handler errors make an agent restart, and when they make it fail.

`FailurePolicy` holds the settings (validated, errors naming the setting);
`FailureTracker` applies them to one agent. Feed it every handler error with
`record_error(now, error_class, reason)`; it answers `Continue()`,
`Restart(delay_s, reason)` or `Fail(reason)`:

- an error older than `window_s` no longer counts; the `max_errors`-th error
  inside the window trips the policy, and the window starts empty again;
- the first `max_restarts` trips answer `Restart`, with a delay starting at
  `backoff_initial_s` and multiplied by `backoff_multiplier` each time, up to
  `backoff_max_s`;
- the trip after those answers `Fail` (`on_exhaustion = "fail"`), or keeps
  restarting at `backoff_max_s` (`on_exhaustion = "restart"`);
- a trip `reset_after_s` or more after the previous one finds the agent
  healthy again: the restart count and the back-off start over.

The manager carries the answer out: for `Restart` it moves the agent to
Failed with `retry_at` set (lifecycle `fail`), then `restart`s it when the
delay has passed; for `Fail` it moves it to Failed with the reason. An
operator's restart, reload or rollback of an agent calls `reset()`.

Pure: `now` is a monotonic clock reading in seconds passed in by the caller,
so tests drive time instead of sleeping. Not thread-safe: one tracker per
agent, called from wherever that agent's handler errors are seen.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, TypeAlias, final

from caxton.errors import ConfigError, ErrorClass


class Exhaustion(enum.StrEnum):
    """What happens once `max_restarts` restarts have not helped."""

    FAIL = "fail"
    RESTART = "restart"


_SETTING: Final = "failure_policy"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FailurePolicy:
    """One agent's failure policy. Built directly or with `from_mapping` (config, API)."""

    max_errors: int = 5
    window_s: float = 60.0
    max_restarts: int = 3
    backoff_initial_s: float = 1.0
    backoff_multiplier: float = 2.0
    backoff_max_s: float = 60.0
    reset_after_s: float = 600.0
    on_exhaustion: Exhaustion = Exhaustion.FAIL

    def __post_init__(self) -> None:
        _integer("max_errors", self.max_errors, minimum=1)
        _integer("max_restarts", self.max_restarts, minimum=0)
        _seconds("window_s", self.window_s, allow_zero=False)
        _seconds("backoff_initial_s", self.backoff_initial_s, allow_zero=True)
        _seconds("backoff_max_s", self.backoff_max_s, allow_zero=True)
        _seconds("reset_after_s", self.reset_after_s, allow_zero=False)
        multiplier = self.backoff_multiplier
        if not _is_number(multiplier) or not math.isfinite(multiplier) or multiplier < 1:
            raise ConfigError(
                f"{_SETTING}.backoff_multiplier", f"must be a number >= 1, got {multiplier!r}"
            )
        if self.backoff_max_s < self.backoff_initial_s:
            raise ConfigError(
                f"{_SETTING}.backoff_max_s",
                f"must be at least backoff_initial_s ({self.backoff_initial_s}), "
                f"got {self.backoff_max_s}",
            )
        if not isinstance(self.on_exhaustion, Exhaustion):
            try:
                object.__setattr__(self, "on_exhaustion", Exhaustion(self.on_exhaustion))
            except ValueError:
                choices = ", ".join(repr(e.value) for e in Exhaustion)
                raise ConfigError(
                    f"{_SETTING}.on_exhaustion",
                    f"must be one of {choices}, got {self.on_exhaustion!r}",
                ) from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, setting: str = _SETTING) -> FailurePolicy:
        """A policy from a TOML table or a JSON object; errors name `setting.<key>`."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(
                    f"{setting}.{key}", f"unknown setting (known: {', '.join(sorted(known))})"
                )
        try:
            # Untyped input (TOML, JSON): __post_init__ checks every value's type.
            settings: dict[str, Any] = dict(data)
            return cls(**settings)
        except ConfigError as error:
            if setting == _SETTING:
                raise
            renamed = setting + error.setting.removeprefix(_SETTING)
            raise ConfigError(renamed, str(error).removeprefix(f"{error.setting}: ")) from None

    def backoff(self, restart: int) -> float:
        """The delay before restart number `restart` (0-based), in seconds."""
        delay = self.backoff_initial_s * self.backoff_multiplier**restart
        return min(delay, self.backoff_max_s)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(name: str, value: object, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{_SETTING}.{name}", f"must be an integer >= {minimum}, got {value!r}")


def _seconds(name: str, value: object, *, allow_zero: bool) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(
            f"{_SETTING}.{name}", f"must be a finite number of seconds {bound}, got {value!r}"
        )


@final
@dataclass(frozen=True, slots=True)
class Continue:
    """Nothing to do: the agent keeps running."""


@final
@dataclass(frozen=True, slots=True)
class Restart:
    """Restart the agent after `delay_s` seconds; `attempt` counts from 1 since the last reset."""

    delay_s: float
    reason: str
    attempt: int


@final
@dataclass(frozen=True, slots=True)
class Fail:
    """Move the agent to Failed for good, recording `reason`."""

    reason: str


Decision: TypeAlias = Continue | Restart | Fail


@final
class FailureTracker:
    """One agent's recent handler errors and restarts, judged against its policy."""

    __slots__ = ("_errors", "_last_now", "_last_trip", "_restarts", "policy")

    def __init__(self, policy: FailurePolicy) -> None:
        self.policy = policy
        self._errors: deque[tuple[float, ErrorClass]] = deque()
        self._restarts = 0
        self._last_trip: float | None = None
        self._last_now: float | None = None

    @property
    def restarts(self) -> int:
        """Restarts ordered since the last reset."""
        return self._restarts

    def errors_in_window(self, now: float) -> int:
        """How many errors still count at `now`."""
        self._advance(now)
        return len(self._errors)

    def reset(self) -> None:
        """Forget everything: an operator restarted, reloaded or rolled back the agent."""
        self._errors.clear()
        self._restarts = 0
        self._last_trip = None

    def record_error(self, now: float, error_class: ErrorClass, reason: str) -> Decision:
        """One handler error at `now`; what the agent's manager should do about it."""
        self._advance(now)
        self._errors.append((now, ErrorClass(error_class)))
        policy = self.policy
        if len(self._errors) < policy.max_errors:
            return Continue()
        summary = self._summary(error_class, reason)
        self._errors.clear()
        if self._last_trip is not None and now - self._last_trip >= policy.reset_after_s:
            self._restarts = 0
        self._last_trip = now
        if self._restarts < policy.max_restarts:
            delay = policy.backoff(self._restarts)
            self._restarts += 1
            return Restart(
                delay,
                f"{summary}; restart {self._restarts} of {policy.max_restarts} in {delay:g}s",
                self._restarts,
            )
        if policy.on_exhaustion is Exhaustion.RESTART:
            self._restarts += 1
            delay = policy.backoff_max_s
            return Restart(
                delay,
                f"{summary}; restart {self._restarts} (past {policy.max_restarts}) in {delay:g}s",
                self._restarts,
            )
        return Fail(f"{summary}; gave up after {self._restarts} restarts")

    def _advance(self, now: float) -> None:
        if not math.isfinite(now):
            raise ValueError(f"now must be a finite clock reading, got {now!r}")
        if self._last_now is not None and now < self._last_now:
            raise ValueError(
                f"now went backwards ({now} < {self._last_now}): pass a monotonic clock"
            )
        self._last_now = now
        horizon = now - self.policy.window_s
        errors = self._errors
        while errors and errors[0][0] <= horizon:
            errors.popleft()

    def _summary(self, error_class: ErrorClass, reason: str) -> str:
        counts: dict[ErrorClass, int] = {}
        for _, cls in self._errors:
            counts[cls] = counts.get(cls, 0) + 1
        by_class = ", ".join(f"{n} {cls}" for cls, n in sorted(counts.items()))
        return (
            f"{len(self._errors)} handler errors in {self.policy.window_s:g}s ({by_class}); "
            f"last: {error_class}: {reason}"
        )
