"""Per-agent resource limits: defaults from `MemoryConfiguration`, overridable per deploy."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from caxton.errors import ConfigError
from caxton.runtime.memory import MemoryConfiguration


@dataclass(frozen=True, slots=True)
class Limits:
    """What one agent instance may use. Memory sizes come only from `MemoryConfiguration`."""

    memory_bytes: int
    max_inbound_bytes: int
    max_outbound_bytes: int
    # A C agent's function table rarely holds more than a few hundred entries.
    table_elements: int = 10_000
    # Fuel is roughly one unit per wasm instruction: 100M is ~0.1 s of busy CPU.
    fuel_per_message: int = 100_000_000
    deadline_ms: int = 1_000
    sends_per_message: int = 1_000
    # Messages waiting for this agent; a full mailbox answers `send` with -3.
    mailbox_capacity: int = 1_024

    @classmethod
    def defaults(cls, memory: MemoryConfiguration) -> Limits:
        return cls(
            memory_bytes=memory.agent_memory_bytes,
            max_inbound_bytes=memory.max_message_bytes,
            max_outbound_bytes=memory.max_message_bytes,
        )

    def override(self, memory: MemoryConfiguration, **changes: Any) -> Limits:
        """A copy with `changes` applied, checked as a whole; errors name the limit."""
        for name, value in changes.items():
            if name not in _FIELDS:
                raise ConfigError(name, f"unknown limit (known: {', '.join(sorted(_FIELDS))})")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        limits = dataclasses.replace(self, **changes)
        if "memory_bytes" in changes and not {"max_inbound_bytes", "max_outbound_bytes"} & set(
            changes
        ):
            # A smaller ceiling brings the message sizes down with it.
            largest = memory.largest_message_for(limits.memory_bytes)
            limits = dataclasses.replace(
                limits,
                max_inbound_bytes=min(limits.max_inbound_bytes, largest),
                max_outbound_bytes=min(limits.max_outbound_bytes, largest),
            )
        memory.check_limits(limits.memory_bytes, limits.max_inbound_bytes)
        memory.check_limits(limits.memory_bytes, limits.max_outbound_bytes)
        return limits


_FIELDS = frozenset(f.name for f in dataclasses.fields(Limits))
