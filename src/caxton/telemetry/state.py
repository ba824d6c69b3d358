"""Spans for an agent's durable key-value state: the host calls worth seeing in a trace.

`kv_get`, `kv_set` and `kv_delete` reach SQLite, so their time shows in a
handler's; inside a sampled message's `handle` span each becomes a `kv get`,
`kv set` or `kv delete` span under it. Outside one (an unsampled message)
the wrapper costs one look at the current span. Keys and values stay out of
the spans, which are exported: their sizes go in.
"""

from __future__ import annotations

from opentelemetry import trace

from caxton.runtime import KeyValueStore


class TracedKeyValueStore:
    def __init__(self, inner: KeyValueStore, tracer: trace.Tracer, agent: str) -> None:
        self._inner = inner
        self._tracer = tracer
        self._agent = agent

    def get(self, key: bytes) -> bytes | None:
        if not trace.get_current_span().is_recording():
            return self._inner.get(key)
        with self._tracer.start_as_current_span("kv get", attributes=self._about(key)) as span:
            value = self._inner.get(key)
            span.set_attribute("caxton.kv.found", value is not None)
            if value is not None:
                span.set_attribute("caxton.kv.value_bytes", len(value))
            return value

    def set(self, key: bytes, value: bytes) -> bool:
        if not trace.get_current_span().is_recording():
            return self._inner.set(key, value)
        attributes = {**self._about(key), "caxton.kv.value_bytes": len(value)}
        with self._tracer.start_as_current_span("kv set", attributes=attributes) as span:
            stored = self._inner.set(key, value)
            span.set_attribute("caxton.kv.stored", stored)  # False: over the agent's quota
            return stored

    def delete(self, key: bytes) -> None:
        if not trace.get_current_span().is_recording():
            self._inner.delete(key)
            return
        with self._tracer.start_as_current_span("kv delete", attributes=self._about(key)):
            self._inner.delete(key)

    def _about(self, key: bytes) -> dict[str, str | int]:
        return {"caxton.agent": self._agent, "caxton.kv.key_bytes": len(key)}
