"""Checks on a message an agent sends, with errors that name the field (FIPA SC00061G)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from caxton.acl.names import is_agent_name
from caxton.acl.performatives import PERFORMATIVES

_STRING_FIELDS: Final = frozenset(
    {
        "language",
        "encoding",
        "ontology",
        "protocol",
        "conversation_id",
        "reply_with",
        "in_reply_to",
    }
)
# Set by the host whatever the agent wrote: an agent cannot forge them.
HOST_FIELDS: Final = frozenset({"sender", "message_id", "trace"})
_OTHER_FIELDS: Final = frozenset({"performative", "receiver", "reply_to", "content", "reply_by"})
KNOWN_FIELDS: Final = _STRING_FIELDS | HOST_FIELDS | _OTHER_FIELDS


def validate_outbound(message: dict[str, Any]) -> str | None:
    """The first problem with `message` as something to send, or None when it is valid."""
    performative = message.get("performative")
    if performative not in PERFORMATIVES:
        if performative is None:
            return "performative: required"
        return f"performative: unknown act {performative!r}"
    if "receiver" not in message:
        return "receiver: required"
    problem = _names_problem("receiver", message["receiver"])
    if problem is None and "reply_to" in message:
        problem = _names_problem("reply_to", message["reply_to"])
    if problem is not None:
        return problem
    for key, value in message.items():
        if key in _STRING_FIELDS and not isinstance(value, str):
            return f"{key}: must be a string"
        if key not in KNOWN_FIELDS and not key.startswith("x-"):
            return f"{key}: unknown parameter (user-defined parameters start with 'x-')"
    if "reply_by" in message:
        return _timestamp_problem("reply_by", message["reply_by"])
    return None


def _names_problem(field: str, value: object) -> str | None:
    names = value if isinstance(value, list) else [value]
    if not names:
        return f"{field}: must name at least one agent"
    for name in names:
        if not is_agent_name(name):
            return f"{field}: {name!r} is not an agent name (1-63 of a-z 0-9 -, starting a-z)"
    return None


def _timestamp_problem(field: str, value: object) -> str | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return None
    return f"{field}: must be an RFC 3339 timestamp with a time zone, got {value!r}"
