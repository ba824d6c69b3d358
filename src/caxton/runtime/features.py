"""Which WebAssembly proposals an agent may use.

Refused features are switched off in the engine, so wasmtime's own validator
rejects a module that uses one; `refused_feature` reads that validator's
message back into the feature's name. Reference types stay on whatever the
policy says: turning them off aborts the process in wasmtime 50 (its
component-model-async support needs them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import wasmtime

from caxton.errors import ConfigError


class Feature(StrEnum):
    SIMD = "simd"
    RELAXED_SIMD = "relaxed-simd"
    THREADS = "threads"
    MEMORY64 = "memory64"
    MULTI_MEMORY = "multi-memory"
    GC = "gc"
    EXCEPTIONS = "exceptions"


# Fragments of wasmtime's validator messages, most specific first.
_VALIDATOR_WORDS: Final = (
    ("relaxed simd", Feature.RELAXED_SIMD),
    ("simd", Feature.SIMD),
    ("threads", Feature.THREADS),
    ("shared memor", Feature.THREADS),
    ("memory64", Feature.MEMORY64),
    ("64-bit memor", Feature.MEMORY64),
    ("multiple memories", Feature.MULTI_MEMORY),
    ("multi-memory", Feature.MULTI_MEMORY),
    ("gc feature", Feature.GC),
    ("gc proposal", Feature.GC),
    ("heap types", Feature.GC),
    ("reference types support", Feature.GC),
    ("exceptions", Feature.EXCEPTIONS),
    ("exception", Feature.EXCEPTIONS),
)


@dataclass(frozen=True, slots=True)
class FeaturePolicy:
    """The proposals agents may use; everything listed in `Feature` is refused by default."""

    allowed: frozenset[Feature] = frozenset()

    @classmethod
    def parse(cls, text: str, setting: str = "CAXTON_WASM_FEATURES") -> FeaturePolicy:
        """From a comma-separated list such as "simd,threads"."""
        names = [part.strip() for part in text.split(",") if part.strip()]
        allowed: set[Feature] = set()
        for name in names:
            try:
                allowed.add(Feature(name))
            except ValueError:
                known = ", ".join(f.value for f in Feature)
                raise ConfigError(setting, f"unknown feature {name!r} (known: {known})") from None
        if Feature.RELAXED_SIMD in allowed and Feature.SIMD not in allowed:
            raise ConfigError(setting, "relaxed-simd needs simd allowed too")
        return cls(frozenset(allowed))

    def configure(self, config: wasmtime.Config) -> None:
        allowed = self.allowed
        config.wasm_simd = Feature.SIMD in allowed
        config.wasm_relaxed_simd = Feature.RELAXED_SIMD in allowed
        config.wasm_threads = Feature.THREADS in allowed
        config.shared_memory = Feature.THREADS in allowed
        config.wasm_memory64 = Feature.MEMORY64 in allowed
        config.wasm_multi_memory = Feature.MULTI_MEMORY in allowed
        config.wasm_gc = Feature.GC in allowed
        config.wasm_function_references = Feature.GC in allowed
        config.wasm_exceptions = Feature.EXCEPTIONS in allowed

    def refused_feature(self, validator_message: str) -> Feature | None:
        """The refused feature that a compile error is about, if it is about one."""
        text = validator_message.lower()
        for words, feature in _VALIDATOR_WORDS:
            if words in text and feature not in self.allowed:
                return feature
        return None
