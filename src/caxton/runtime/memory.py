"""Memory limits: the one place where Caxton derives how much memory anything may use.

Every memory limit in Caxton comes from `MemoryConfiguration`; no other module
hard-codes one. The limits are shares of the machine's memory, set by three
environment variables:

    CAXTON_MAX_MEMORY_PERCENT        share of system memory Caxton may use (default 50)
    CAXTON_AGENT_MEMORY_PERCENT      share of Caxton's memory one agent may use (default 10)
    CAXTON_MESSAGE_OVERHEAD_PERCENT  share of an agent's memory kept for its own code,
                                     stack and heap when sizing messages (default 20)

From them: caxton = system * max%; agent = caxton * agent%, capped at the wasm32
address space and rounded down to whole wasm pages; the largest message is the
largest integer strictly below agent * (1 - overhead%).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

# psutil ships no type information; `unused-ignore` keeps this line valid once stubs exist.
import psutil

from caxton.errors import ConfigError

__all__ = ["MemoryConfiguration"]

_logger = logging.getLogger("caxton.runtime.memory")

_KIB = 1024
_MIB = 1024 * _KIB


def _mib(n: int) -> str:
    return f"{n / _MIB:.1f} MiB"


def _message_ceiling(memory_bytes: int, overhead_percent: float) -> float:
    # Written exactly as the documented invariant, in float arithmetic, so that the
    # message size derived from it satisfies `size < memory * (1 - overhead/100)` as
    # anyone checking that expression will evaluate it (int < float compares exactly).
    return memory_bytes * (1 - overhead_percent / 100)


def _largest_below(bound: float) -> int:
    # Largest integer strictly below `bound`: for bound 10.0 that is 9, for 10.5 it is 10.
    return math.ceil(bound) - 1


@dataclass(frozen=True, slots=True)
class MemoryConfiguration:
    """Memory limits for Caxton and its agents, derived from the machine and three settings.

    Build it with `from_environment` or `compute`; both validate.
    """

    system_memory_bytes: int
    caxton_memory_bytes: int
    agent_memory_bytes: int
    max_message_bytes: int
    max_memory_percent: float
    agent_memory_percent: float
    message_overhead_percent: float

    MAX_MEMORY_PERCENT_VAR: ClassVar[str] = "CAXTON_MAX_MEMORY_PERCENT"
    AGENT_MEMORY_PERCENT_VAR: ClassVar[str] = "CAXTON_AGENT_MEMORY_PERCENT"
    MESSAGE_OVERHEAD_PERCENT_VAR: ClassVar[str] = "CAXTON_MESSAGE_OVERHEAD_PERCENT"

    # Half the machine leaves the other half to the OS, page cache and neighbours.
    DEFAULT_MAX_MEMORY_PERCENT: ClassVar[float] = 50.0
    # One agent may take a tenth of Caxton's share, so a runaway agent cannot starve the rest.
    DEFAULT_AGENT_MEMORY_PERCENT: ClassVar[float] = 10.0
    # A fifth of an agent's memory is kept for its code, stack and heap; messages get the rest.
    DEFAULT_MESSAGE_OVERHEAD_PERCENT: ClassVar[float] = 20.0

    # Wasm linear memory grows in pages of 64 KiB (fixed by the wasm spec), so a
    # memory ceiling is only meaningful as a whole number of pages.
    WASM_PAGE_BYTES: ClassVar[int] = 64 * _KIB
    # wasm32 addresses memory with 32-bit offsets: 65536 pages, 4 GiB, is the most an
    # agent can ever use however large the machine.
    WASM32_MAX_MEMORY_BYTES: ClassVar[int] = 65536 * WASM_PAGE_BYTES
    # A C agent built with wasi-libc needs its data segment, a 64 KiB stack and a heap;
    # below 2 MiB such an agent cannot start and handle messages reliably.
    MIN_AGENT_MEMORY_BYTES: ClassVar[int] = 2 * _MIB
    # Below 4 KiB even a modest FIPA-ACL envelope with some content does not fit.
    MIN_MESSAGE_BYTES: ClassVar[int] = 4 * _KIB

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str], system_memory_bytes: int | None = None
    ) -> MemoryConfiguration:
        """Read the three CAXTON_* settings from `env` and log the limits they give.

        `system_memory_bytes` defaults to the machine's total physical memory.
        """
        max_percent = cls._read_percent(
            env, cls.MAX_MEMORY_PERCENT_VAR, cls.DEFAULT_MAX_MEMORY_PERCENT
        )
        agent_percent = cls._read_percent(
            env, cls.AGENT_MEMORY_PERCENT_VAR, cls.DEFAULT_AGENT_MEMORY_PERCENT
        )
        overhead_percent = cls._read_percent(
            env, cls.MESSAGE_OVERHEAD_PERCENT_VAR, cls.DEFAULT_MESSAGE_OVERHEAD_PERCENT
        )
        if system_memory_bytes is None:
            system_memory_bytes = int(psutil.virtual_memory().total)
        config = cls.compute(system_memory_bytes, max_percent, agent_percent, overhead_percent)
        config._log()
        return config

    @classmethod
    def compute(
        cls,
        system_memory_bytes: int,
        max_memory_percent: float = DEFAULT_MAX_MEMORY_PERCENT,
        agent_memory_percent: float = DEFAULT_AGENT_MEMORY_PERCENT,
        message_overhead_percent: float = DEFAULT_MESSAGE_OVERHEAD_PERCENT,
    ) -> MemoryConfiguration:
        """Derive and validate the limits; errors name the CAXTON_* variable to change."""
        if system_memory_bytes <= 0:
            raise ConfigError(
                "system_memory_bytes", f"must be greater than 0, got {system_memory_bytes}"
            )
        cls._check_percent(cls.MAX_MEMORY_PERCENT_VAR, max_memory_percent, repr(max_memory_percent))
        cls._check_percent(
            cls.AGENT_MEMORY_PERCENT_VAR, agent_memory_percent, repr(agent_memory_percent)
        )
        cls._check_percent(
            cls.MESSAGE_OVERHEAD_PERCENT_VAR,
            message_overhead_percent,
            repr(message_overhead_percent),
        )

        caxton = math.floor(system_memory_bytes * max_memory_percent / 100)
        agent = min(math.floor(caxton * agent_memory_percent / 100), cls.WASM32_MAX_MEMORY_BYTES)
        agent -= agent % cls.WASM_PAGE_BYTES
        if agent < cls.MIN_AGENT_MEMORY_BYTES:
            # Raising the agent share is the direct fix; once it is at 100 only
            # Caxton's share of the machine is left to raise.
            if agent_memory_percent < 100:
                setting, current = cls.AGENT_MEMORY_PERCENT_VAR, agent_memory_percent
            else:
                setting, current = cls.MAX_MEMORY_PERCENT_VAR, max_memory_percent
            raise ConfigError(
                setting,
                f"gives {agent} bytes ({_mib(agent)}) of memory per agent, below the minimum"
                f" of {cls.MIN_AGENT_MEMORY_BYTES} bytes ({_mib(cls.MIN_AGENT_MEMORY_BYTES)});"
                f" raise {setting} (now {current:g}) or give the machine more memory",
            )

        max_message = _largest_below(_message_ceiling(agent, message_overhead_percent))
        if max_message < cls.MIN_MESSAGE_BYTES:
            setting = cls.MESSAGE_OVERHEAD_PERCENT_VAR
            raise ConfigError(
                setting,
                f"gives a maximum message size of {max_message} bytes, below the minimum"
                f" of {cls.MIN_MESSAGE_BYTES} bytes; lower {setting}"
                f" (now {message_overhead_percent:g}), raise {cls.AGENT_MEMORY_PERCENT_VAR}"
                " or give the machine more memory",
            )

        return cls(
            system_memory_bytes=system_memory_bytes,
            caxton_memory_bytes=caxton,
            agent_memory_bytes=agent,
            max_message_bytes=max_message,
            max_memory_percent=float(max_memory_percent),
            agent_memory_percent=float(agent_memory_percent),
            message_overhead_percent=float(message_overhead_percent),
        )

    def largest_message_for(self, memory_bytes: int) -> int:
        """The largest message size allowed for an agent with `memory_bytes` of memory.

        Not validated: pass the pair to `check_limits` before using it.
        """
        return _largest_below(_message_ceiling(memory_bytes, self.message_overhead_percent))

    def check_limits(self, memory_bytes: int, max_message_bytes: int) -> None:
        """Validate an agent's own memory ceiling and message size against the same rules."""
        if memory_bytes < self.MIN_AGENT_MEMORY_BYTES:
            raise ConfigError(
                "memory_bytes",
                f"must be at least {self.MIN_AGENT_MEMORY_BYTES} bytes"
                f" ({_mib(self.MIN_AGENT_MEMORY_BYTES)}), got {memory_bytes}",
            )
        if memory_bytes > self.WASM32_MAX_MEMORY_BYTES:
            raise ConfigError(
                "memory_bytes",
                f"must be at most {self.WASM32_MAX_MEMORY_BYTES} bytes (4 GiB, the wasm32"
                f" address space), got {memory_bytes}",
            )
        if max_message_bytes < self.MIN_MESSAGE_BYTES:
            raise ConfigError(
                "max_message_bytes",
                f"must be at least {self.MIN_MESSAGE_BYTES} bytes, got {max_message_bytes}",
            )
        largest = self.largest_message_for(memory_bytes)
        if max_message_bytes > largest:
            raise ConfigError(
                "max_message_bytes",
                f"must be at most {largest} bytes (strictly less than memory_bytes"
                f" {memory_bytes} minus {self.message_overhead_percent:g}% overhead),"
                f" got {max_message_bytes}",
            )

    @classmethod
    def _read_percent(cls, env: Mapping[str, str], name: str, default: float) -> float:
        """The validated value of `name`, or `default` when it is not set at all."""
        text = env.get(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            # Fall through to the range check with NaN, which fails it and reports `text`.
            value = math.nan
        cls._check_percent(name, value, repr(text))
        return value

    @classmethod
    def _check_percent(cls, name: str, value: float, shown: str) -> None:
        # Written so that NaN fails every check.
        if name == cls.MESSAGE_OVERHEAD_PERCENT_VAR:
            if not 0 <= value < 100:
                raise ConfigError(
                    name, f"must be a number at least 0 and less than 100, got {shown}"
                )
        elif not 0 < value <= 100:
            raise ConfigError(name, f"must be a number greater than 0 and at most 100, got {shown}")

    def _log(self) -> None:
        _logger.info(
            "memory limits: system %s, caxton %s (%g%%), per agent %s (%g%%),"
            " max message %s (%g%% overhead)",
            _mib(self.system_memory_bytes),
            _mib(self.caxton_memory_bytes),
            self.max_memory_percent,
            _mib(self.agent_memory_bytes),
            self.agent_memory_percent,
            _mib(self.max_message_bytes),
            self.message_overhead_percent,
            extra={
                "system_memory_bytes": self.system_memory_bytes,
                "caxton_memory_bytes": self.caxton_memory_bytes,
                "agent_memory_bytes": self.agent_memory_bytes,
                "max_message_bytes": self.max_message_bytes,
                "max_memory_percent": self.max_memory_percent,
                "agent_memory_percent": self.agent_memory_percent,
                "message_overhead_percent": self.message_overhead_percent,
            },
        )
