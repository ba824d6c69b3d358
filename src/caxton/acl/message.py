"""`AclMessage`: one FIPA-ACL message (SC00061G) as a typed, immutable value.

The router works on plain dicts, the JSON form of ABI v1; this type is for
the API, the CLI and the codecs, where named fields and a type checker help
more than the few microseconds a dict saves. `from_dict` and `to_dict` convert
between the two without loss: `AclMessage.from_dict(d).to_dict() == d` for
every message that `validate_shape` accepts.

`receiver` and `reply_to` keep the shape they came in (a string, or a tuple
for a JSON array) because a FIPA round trip must give back the same JSON.
Content is any JSON value, `null` included, so its absence is `ABSENT`.
Containers inside `content` and user-defined values are not copied, so a
message is not hashable.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from caxton.acl.fipa_codec import decode_fipa, encode_fipa
from caxton.acl.json_codec import decode_json, encode_json
from caxton.acl.validation import STRING_PARAMETERS, validate_message, validate_shape
from caxton.errors import InvalidMessage


class _Absent(enum.Enum):
    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent.ABSENT
"""`AclMessage.content` when the message has none (JSON `null` is content)."""

Names = str | tuple[str, ...]

# The optional parameters held as strings: a timestamp and the host's id among them.
_STRINGS: Final = (*STRING_PARAMETERS, "reply_by", "message_id")
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AclMessage:
    """A FIPA-ACL message: the 13 parameters of SC00061G and Caxton's own.

    `reply_by` is an RFC 3339 timestamp string, kept as written. `user` holds
    the user-defined parameters, keys with their `x-` prefix.
    """

    performative: str
    sender: str | None = None
    receiver: Names | None = None
    reply_to: Names | None = None
    content: Any = ABSENT
    language: str | None = None
    encoding: str | None = None
    ontology: str | None = None
    protocol: str | None = None
    conversation_id: str | None = None
    reply_with: str | None = None
    in_reply_to: str | None = None
    reply_by: str | None = None
    message_id: str | None = None
    trace: Mapping[str, str] | None = None
    user: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        for key in self.user:
            if not (isinstance(key, str) and key.startswith("x-")):
                raise InvalidMessage(str(key), "user-defined parameters start with 'x-'")

    @property
    def receivers(self) -> tuple[str, ...]:
        """The receivers' names, whatever the shape of `receiver`."""
        return _as_tuple(self.receiver)

    # Conversions.

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> AclMessage:
        """The message in ABI v1's JSON form; `InvalidMessage` if its types or keys are wrong."""
        validate_shape(message)
        get = message.get
        trace = get("trace")
        return cls(
            performative=message["performative"],
            sender=get("sender"),
            receiver=_names(get("receiver")),
            reply_to=_names(get("reply_to")),
            content=get("content", ABSENT),
            language=get("language"),
            encoding=get("encoding"),
            ontology=get("ontology"),
            protocol=get("protocol"),
            conversation_id=get("conversation_id"),
            reply_with=get("reply_with"),
            in_reply_to=get("in_reply_to"),
            reply_by=get("reply_by"),
            message_id=get("message_id"),
            trace=None if trace is None else MappingProxyType(dict(trace)),
            user=MappingProxyType({k: v for k, v in message.items() if k.startswith("x-")}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The message in ABI v1's JSON form, with only the parameters it has."""
        message: dict[str, Any] = {"performative": self.performative}
        if self.sender is not None:
            message["sender"] = self.sender
        if self.receiver is not None:
            message["receiver"] = _json_names(self.receiver)
        if self.reply_to is not None:
            message["reply_to"] = _json_names(self.reply_to)
        if self.content is not ABSENT:
            message["content"] = self.content
        for name in _STRINGS:
            value = getattr(self, name)
            if value is not None:
                message[name] = value
        if self.trace is not None:
            message["trace"] = dict(self.trace)
        message.update(self.user)
        return message

    @classmethod
    def from_json(cls, data: bytes | str) -> AclMessage:
        return cls.from_dict(decode_json(data))

    def to_json(self, *, pretty: bool = False) -> bytes:
        return encode_json(self.to_dict(), pretty=pretty)

    @classmethod
    def from_fipa(cls, text: str | bytes) -> AclMessage:
        return cls.from_dict(decode_fipa(text))

    def to_fipa(self, *, pretty: bool = False) -> str:
        return encode_fipa(self.to_dict(), pretty=pretty)

    def validate(self, *, require_receiver: bool = True, max_bytes: int | None = None) -> None:
        """Raise `InvalidMessage` unless this message obeys every rule of ABI v1."""
        validate_message(self.to_dict(), require_receiver=require_receiver, max_bytes=max_bytes)


def _names(value: str | list[str] | None) -> Names | None:
    return tuple(value) if isinstance(value, list) else value


def _json_names(value: Names) -> str | list[str]:
    return value if isinstance(value, str) else list(value)


def _as_tuple(value: Names | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value
