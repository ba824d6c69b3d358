"""W3C Trace Context for messages: every message carries a `traceparent`.

A message sent while another is handled joins that message's trace with a
span id of its own, so one trace follows a whole conversation across agents.
Ids come from a per-router `random.Random`: trace ids need to be unique, not
secret, and `getrandbits` is ten times cheaper than `os.urandom` here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, Final, Protocol

# version 00, 32 hex trace id (not all zero), 16 hex parent id, 2 hex flags.
_TRACEPARENT: Final = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_SAMPLED: Final = "01"


# What a child inherits from its parent's context: trace id, flags, tracestate.
_Inherited = tuple[str, str, str | None]


class MessageTracer(Protocol):
    """Spans for messages (`caxton.telemetry.tracing` has the OpenTelemetry one).

    The router and dispatcher call it only when one is set, so that without
    it a message costs no more than its trace ids.
    """

    def routed(self, message: dict[str, Any], cause: object, ids: TraceIds) -> dict[str, str]:
        """The trace context for `message`, caused by `cause`; records its span if sampled."""
        ...

    def samples(self, message: dict[str, Any]) -> bool:
        """Whether `message`'s handling is recorded: checked before any span work."""
        ...

    def handling(self, agent: str, messages: Sequence[dict[str, Any]]) -> object:
        """A handler starts on `messages`; returns a token for `handled`."""
        ...

    def handled(self, token: object, error: BaseException | None) -> None:
        """The handler that `token` stands for ended, with `error` if it failed."""
        ...


class TraceIds:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        # Parsed trace contexts: of the last parent seen (all sends made while
        # one message is handled share it) and of the last child made (most
        # often the next message handled). Each slot is replaced whole, so a
        # reader on another thread never sees a context paired with the wrong result.
        self._parent: tuple[object, _Inherited | None] = (None, None)
        self._child: tuple[object, _Inherited | None] = (None, None)

    def child_of(self, parent: object) -> dict[str, str]:
        """Trace context for a new message caused by `parent` (a message, or None)."""
        bits = self._random.getrandbits
        context = parent.get("trace") if isinstance(parent, dict) else None
        seen, inherited = self._parent
        if context is not seen or context is None:
            seen, inherited = self._child
            if context is not seen or context is None:
                inherited = _inherited(context)
            self._parent = (context, inherited)
        if inherited is None:
            trace_id = f"{bits(128) or 1:032x}"
            child = {"traceparent": f"00-{trace_id}-{bits(64) or 1:016x}-{_SAMPLED}"}
            self._child = (child, (trace_id, _SAMPLED, None))
            return child
        trace_id, flags, state = inherited
        child = {"traceparent": f"00-{trace_id}-{bits(64) or 1:016x}-{flags}"}
        if state:
            child["tracestate"] = state
        self._child = (child, inherited)
        return child


def _inherited(context: object) -> _Inherited | None:
    """Trace id, flags and tracestate that children of a `trace` object carry on, if any."""
    if not isinstance(context, dict):
        return None
    found = parse_traceparent(context.get("traceparent"))
    if found is None:
        return None
    state = context.get("tracestate")
    return found[0], found[2], state if isinstance(state, str) else None


def parse_traceparent(traceparent: object) -> tuple[str, str, str] | None:
    """(trace id, parent id, flags) in hex of a valid W3C traceparent, else None."""
    if not isinstance(traceparent, str):
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return match[1], match[2], match[3]


def log_context(message: object) -> dict[str, str]:
    """What a log line about `message` carries: its conversation, id, trace and span ids.

    The span is the message's own (the parent id of its traceparent): the one
    its handling span is a child of.
    """
    if not isinstance(message, dict):
        return {}
    found: dict[str, str] = {}
    for key in ("conversation_id", "message_id"):
        value = message.get(key)
        if isinstance(value, str):
            found[key] = value
    context = message.get("trace")
    ids = parse_traceparent(context.get("traceparent")) if isinstance(context, dict) else None
    if ids is not None:
        found["trace_id"], found["span_id"] = ids[0], ids[1]
    return found


def trace_id_of(message: dict[str, Any]) -> str | None:
    context = message.get("trace")
    found = parse_traceparent(context.get("traceparent")) if isinstance(context, dict) else None
    return found[0] if found else None
