"""W3C Trace Context for messages: every message carries a `traceparent`.

A message sent while another is handled joins that message's trace with a
span id of its own, so one trace follows a whole conversation across agents.
Ids come from a per-router `random.Random`: trace ids need to be unique, not
secret, and `getrandbits` is ten times cheaper than `os.urandom` here.
"""

from __future__ import annotations

import random
import re
from typing import Any, Final

# version 00, 32 hex trace id (not all zero), 16 hex parent id, 2 hex flags.
_TRACEPARENT: Final = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_SAMPLED: Final = "01"


class TraceIds:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def child_of(self, parent: object) -> dict[str, str]:
        """Trace context for a new message caused by `parent` (a message, or None)."""
        bits = self._random.getrandbits
        context = parent.get("trace") if isinstance(parent, dict) else None
        if isinstance(context, dict):
            found = _parse(context.get("traceparent"))
            if found is not None:
                trace_id, flags = found
                child = {"traceparent": f"00-{trace_id}-{bits(64) or 1:016x}-{flags}"}
                state = context.get("tracestate")
                if isinstance(state, str) and state:
                    child["tracestate"] = state
                return child
        return {"traceparent": f"00-{bits(128) or 1:032x}-{bits(64) or 1:016x}-{_SAMPLED}"}


def _parse(traceparent: Any) -> tuple[str, str] | None:
    if not isinstance(traceparent, str):
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return match[1], match[3]


def trace_id_of(message: dict[str, Any]) -> str | None:
    context = message.get("trace")
    found = _parse(context.get("traceparent")) if isinstance(context, dict) else None
    return found[0] if found else None
