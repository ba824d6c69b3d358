"""An agent's own key-value state, behind the ABI's `kv_get` / `kv_set` / `kv_delete`.

The runtime talks to `KeyValueStore` only; the durable SQLite store fills the
same interface. `InMemoryKeyValueStore` serves the local runner and tests.
"""

from __future__ import annotations

from typing import Protocol


class KeyValueStore(Protocol):
    """One agent's key-value data. Implementations enforce the agent's quota."""

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> bool:
        """Store `value`; False when that would exceed the agent's quota."""
        ...

    def delete(self, key: bytes) -> None: ...


class InMemoryKeyValueStore:
    """A dict with a quota counted as the bytes of every key and value held."""

    def __init__(self, quota_bytes: int) -> None:
        self._quota = quota_bytes
        self._used = 0
        self._data: dict[bytes, bytes] = {}

    @property
    def used_bytes(self) -> int:
        return self._used

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def set(self, key: bytes, value: bytes) -> bool:
        old = self._data.get(key)
        freed = 0 if old is None else len(key) + len(old)
        used = self._used - freed + len(key) + len(value)
        if used > self._quota:
            return False
        self._data[key] = value
        self._used = used
        return True

    def delete(self, key: bytes) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self._used -= len(key) + len(old)

    def items(self) -> dict[bytes, bytes]:
        return dict(self._data)
