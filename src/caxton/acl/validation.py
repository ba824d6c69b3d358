"""Checks on ACL messages, with errors that name the field (FIPA SC00061G, ABI v1 "Data").

Three entry points share one walk over the message:

- `validate_outbound`: what an agent sends, on the hot path (the sandbox's
  `send` and the router). It returns the problem as a string, and ignores the
  host fields, which the host overwrites anyway.
- `validate_message`: every rule, host fields, nesting and size included;
  raises `InvalidMessage`. For the API, the CLI and anything from outside.
- `validate_shape`: only types and keys, so that any string is accepted as an
  agent name. Every message the codecs can represent passes it, including
  those decoded from FIPA platforms, whose names (`a@host:1099/JADE`) are not
  Caxton agent names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from caxton.acl.names import is_agent_name
from caxton.acl.performatives import PERFORMATIVES
from caxton.errors import InvalidMessage

# Containers nested deeper than this are refused, the message object itself
# counting as one. Well below orjson's own ceiling for encoding (254), so that
# whatever decodes also encodes again, and the recursive walks stay shallow.
MAX_DEPTH: Final = 128
# The default ceiling for one message as JSON text.
DEFAULT_MAX_BYTES: Final = 1 << 20
# A tuple, not `dict | list | tuple`: isinstance is several times faster with one.
_CONTAINERS: Final = (dict, list, tuple)

# The parameters whose value is any string, in SC00061G's order.
STRING_PARAMETERS: Final = (
    "language",
    "encoding",
    "ontology",
    "protocol",
    "conversation_id",
    "reply_with",
    "in_reply_to",
)
_STRING_FIELDS: Final = frozenset(STRING_PARAMETERS)
# Set by the host whatever the agent wrote: an agent cannot forge them.
HOST_FIELDS: Final = frozenset({"sender", "message_id", "trace"})
_OTHER_FIELDS: Final = frozenset({"performative", "receiver", "reply_to", "content", "reply_by"})
KNOWN_FIELDS: Final = _STRING_FIELDS | HOST_FIELDS | _OTHER_FIELDS
# Checked before the walk over the keys, or free-form.
_CHECKED_FIRST: Final = frozenset({"performative", "receiver", "content"})
_CHECKED_IN_WALK: Final = HOST_FIELDS | {"reply_to", "reply_by"}
TRACE_KEYS: Final = ("traceparent", "tracestate")

# RFC 3339 section 5.6 date-time; the section's note allows a space for the T.
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_NAME_RULE: Final = "1-63 of a-z 0-9 -, starting a-z"
_MISSING: Final = object()

# (field, problem)
Problem = tuple[str, str]


def validate_outbound(message: dict[str, Any]) -> str | None:
    """The first problem with `message` as something to send, or None when it is valid."""
    problem = _problem(message, True, True, False)
    return None if problem is None else f"{problem[0]}: {problem[1]}"


def validate_message(
    message: Mapping[str, Any], *, require_receiver: bool = True, max_bytes: int | None = None
) -> None:
    """Raise `InvalidMessage` naming the first field of `message` that breaks a rule.

    `max_bytes` limits the message's size as compact JSON.
    """
    if type(message) is not dict and not isinstance(message, Mapping):
        raise InvalidMessage("message", f"must be a JSON object, got {json_kind(message)}")
    problem = _problem(message, require_receiver, True, True)
    if problem is not None:
        raise InvalidMessage(*problem)
    check_depth(message)
    if max_bytes is not None:
        size = len(_dumps(message))
        if size > max_bytes:
            raise InvalidMessage("message", f"too large: {size} bytes, the limit is {max_bytes}")


def validate_shape(message: Mapping[str, Any]) -> None:
    """Raise `InvalidMessage` unless `message` has the types and keys of an ACL message.

    Agent names may be any strings and `receiver` may be absent or empty:
    `validate_message` checks those.
    """
    if type(message) is not dict and not isinstance(message, Mapping):
        raise InvalidMessage("message", f"must be a JSON object, got {json_kind(message)}")
    problem = _problem(message, False, False, True)
    if problem is not None:
        raise InvalidMessage(*problem)
    check_depth(message)


def check_depth(message: Mapping[str, Any], limit: int = MAX_DEPTH) -> None:
    """Raise `InvalidMessage` naming the field whose value nests containers too deep."""
    for key, value in message.items():
        if isinstance(value, _CONTAINERS) and not within_depth(value, limit - 1):
            raise InvalidMessage(
                str(key), f"nested deeper than {limit} levels (counting the message itself)"
            )


def within_depth(value: object, budget: int) -> bool:
    """Whether `value` holds containers no more than `budget` deep (a scalar holds none)."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return True
    if budget <= 0:
        return False
    budget -= 1
    for item in items:
        if isinstance(item, _CONTAINERS) and not within_depth(item, budget):
            return False
    return True


def parse_rfc3339(value: object) -> datetime | None:
    """The instant, in UTC, of an RFC 3339 timestamp with a zone, or None when it is not one.

    Refused as well: a leap second (`:60`, which `datetime` cannot hold) and an
    instant outside years 1-9999 once moved to UTC.
    """
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _problem(
    message: Mapping[str, Any], require_receiver: bool, names: bool, host: bool
) -> Problem | None:
    """The first (field, problem) of `message`, or None.

    `names`: agent names must be ABI names, not just strings. `host`: check the
    host fields too. Positional flags: this runs for every message sent.
    """
    performative = message.get("performative")
    if not isinstance(performative, str) or performative not in PERFORMATIVES:
        if performative is None:
            return "performative", "required"
        return "performative", f"unknown act {performative!r}"
    receiver = message.get("receiver", _MISSING)
    if receiver is not _MISSING:
        problem = _names_problem(receiver, names)
        if problem is not None:
            return "receiver", problem
    elif require_receiver:
        return "receiver", "required"
    for key, value in message.items():
        if key in _STRING_FIELDS:
            if not isinstance(value, str):
                return key, "must be a string"
        elif key in _CHECKED_FIRST:
            continue
        elif key in _CHECKED_IN_WALK:
            problem = _field_problem(key, value, names, host)
            if problem is not None:
                return key, problem
        elif not (isinstance(key, str) and key.startswith("x-")):
            return str(key), "unknown parameter (user-defined parameters start with 'x-')"
    return None


def _field_problem(key: str, value: object, names: bool, host: bool) -> str | None:
    if key == "reply_to":
        return _names_problem(value, names)
    if key == "reply_by":
        if parse_rfc3339(value) is None:
            return f"must be an RFC 3339 timestamp with a time zone, got {value!r}"
        return None
    if not host:
        return None
    if key == "sender":
        return _name_problem(value, names)
    if key == "message_id":
        return None if isinstance(value, str) else "must be a string"
    return _trace_problem(value)


def _names_problem(value: object, names: bool) -> str | None:
    if not isinstance(value, list):
        return _name_problem(value, names)
    if not value and names:
        return "must name at least one agent"
    for name in value:
        problem = _name_problem(name, names)
        if problem is not None:
            return problem
    return None


def _name_problem(name: object, names: bool) -> str | None:
    if names:
        if is_agent_name(name):
            return None
        return f"{name!r} is not an agent name ({_NAME_RULE})"
    return None if isinstance(name, str) else f"{name!r} is not a string"


def _trace_problem(value: object) -> str | None:
    """W3C Trace Context as the host writes it: a traceparent and perhaps a tracestate."""
    if not isinstance(value, dict):
        return "must be an object with a traceparent string and an optional tracestate"
    if "traceparent" not in value:
        return "traceparent: required"
    for key, item in value.items():
        if key not in TRACE_KEYS:
            return f"{key!r}: unknown key (traceparent and tracestate only)"
        if not isinstance(item, str):
            return f"{key}: must be a string"
    return None


def _dumps(message: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(message if isinstance(message, dict) else dict(message))
    except TypeError as error:  # orjson.JSONEncodeError is a TypeError
        raise InvalidMessage("message", f"not representable as JSON: {error}") from None


_JSON_KINDS: Final = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def json_kind(value: object) -> str:
    """What `value` is called in JSON (`object`, `array`...), or its Python type's name."""
    return _JSON_KINDS.get(type(value), type(value).__name__)
