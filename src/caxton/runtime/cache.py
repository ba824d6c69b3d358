"""Compiled modules, keyed by the sha256 of their bytes.

Two levels: a bounded in-memory map of ready-to-instantiate modules, and an
optional directory of `Module.serialize` artefacts that survives restarts.
A file name carries a fingerprint of the engine settings that produced it;
wasmtime also refuses an artefact from another version or configuration, in
which case the module is simply compiled again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Generic, TypeVar

import wasmtime

T = TypeVar("T")


def content_hash(wasm: bytes) -> str:
    return hashlib.sha256(wasm).hexdigest()


class MemoryCache(Generic[T]):
    """A least-recently-used map with a fixed number of entries."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str) -> T | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: T) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class DiskCache:
    """Serialized compiled modules in one directory, written atomically."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self._directory = directory
        self._fingerprint = fingerprint
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, sha256: str) -> Path:
        return self._directory / f"{sha256}-{self._fingerprint}.cwasm"

    def load(self, engine: wasmtime.Engine, sha256: str) -> wasmtime.Module | None:
        path = self._path(sha256)
        if not path.exists():
            return None
        try:
            return wasmtime.Module.deserialize_file(engine, str(path))
        except wasmtime.WasmtimeError:
            path.unlink(missing_ok=True)
            return None

    def store(self, sha256: str, module: wasmtime.Module) -> None:
        data = bytes(module.serialize())
        fd, temporary = tempfile.mkstemp(dir=self._directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            Path(temporary).replace(self._path(sha256))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
