"""ACL messages in FIPA's string representation (SC00070I), to and from ABI v1's JSON form.

The grammar (SC00070I section 2; keywords are case-insensitive):

    Message            = "(" MessageType MessageParameter* ")"
    MessageParameter   = ":sender" AgentIdentifier | ":receiver" AgentIdentifierSet
                       | ":content" String | ":reply-with" Expression
                       | ":reply-by" DateTime | ":in-reply-to" Expression
                       | ":reply-to" AgentIdentifierSet | ":language" Expression
                       | ":encoding" Expression | ":ontology" Expression
                       | ":protocol" Word | ":conversation-id" Expression
                       | UserDefinedParameter Expression
    AgentIdentifier    = "(" "agent-identifier" ":name" Word [":addresses" URLSequence]
                         [":resolvers" AgentIdentifierSequence]
                         (UserDefinedParameter Expression)* ")"
    AgentIdentifierSet = "(" "set" AgentIdentifier* ")"
    Expression         = Word | String | Number | DateTime | "(" Expression* ")"
    Word               = [~ 0x00-0x20 "(" ")" "#" "0"-"9" "-" "@"] [~ 0x00-0x20 "(" ")"]*
    String             = StringLiteral | ByteLengthEncodedString
    StringLiteral      = '"' ([~ '"'] | '\\"')* '"'
    ByteLengthEncodedString = "#" Digit+ '"' <that many bytes>
    DateTime           = [Sign] YYYYMMDD "T" HHMMSSmmm [TypeDesignator]

docs/acl.md has the mapping to JSON in a table. What needs a convention,
because FIPA's form has no place for it: non-string `content` and `x-*`
values (JSON text, listed in `:X-caxton-json`), a one-name array `receiver` or
`reply_to` (listed there too), `message_id` and `trace` (`:X-caxton-message-id`,
`:X-caxton-traceparent`, `:X-caxton-tracestate`). Every parameter stays
readable by a FIPA platform such as JADE: they are all user-defined parameters
with string values, which a platform keeps without understanding them.

Decoding is lenient where platforms differ (any case for keywords, Words or
Strings anywhere a value goes, JADE's `a@host:1099/JADE` names, a bare
agent-identifier for a set) and keeps agent names as they are: checking them
is `validate_message`'s job. It is bounded: input size, nesting depth and the
work per character are all limited, and the only exception it raises is
`InvalidMessage` (`AclSyntaxError` with a position for malformed text).

Rejected design: a generated or combinator parser. A regular expression that
matches one token at a time does the lexing in C; inside a nested expression,
whose text is kept as it is, one match skips a whole run of Words, so long
expressions stay cheap; and the usual `(agent-identifier :name x)` is one
match too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote

import orjson

from caxton.acl.performatives import PERFORMATIVES
from caxton.acl.validation import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    parse_rfc3339,
    validate_shape,
    within_depth,
)
from caxton.errors import AclSyntaxError, InvalidMessage

# A message within the JSON limit stays within this one as FIPA text: quoting
# at most doubles strings, and a one-letter receiver grows from 4 bytes
# (`"a",`) to 27 (`(agent-identifier :name a) `).
DEFAULT_MAX_FIPA_BYTES: Final = 8 * DEFAULT_MAX_BYTES

# Caxton's own user-defined parameters (compared in any case).
JSON_PARAMETER: Final = "X-caxton-json"
MESSAGE_ID_PARAMETER: Final = "X-caxton-message-id"
TRACEPARENT_PARAMETER: Final = "X-caxton-traceparent"
TRACESTATE_PARAMETER: Final = "X-caxton-tracestate"
_RESERVED_PREFIX: Final = "caxton-"

# JSON key -> FIPA parameter name, in the order parameters are written.
_NAMES: Final = (
    ("sender", "sender"),
    ("receiver", "receiver"),
    ("reply_to", "reply-to"),
    ("content", "content"),
    ("language", "language"),
    ("encoding", "encoding"),
    ("ontology", "ontology"),
    ("protocol", "protocol"),
    ("conversation_id", "conversation-id"),
    ("reply_with", "reply-with"),
    ("in_reply_to", "in-reply-to"),
    ("reply_by", "reply-by"),
)
_KEYS: Final = {fipa: key for key, fipa in _NAMES}
_LISTS: Final = frozenset({"receiver", "reply_to"})
# What :X-caxton-json may list, besides user-defined parameters.
_MARKABLE: Final = frozenset({"content", "receiver", "reply_to"})

# Tokens: the group that matched says which kind. The string rule is the
# "unrolled loop", linear even when the closing quote is missing.
_TOKEN: Final = re.compile(
    r"[\x00-\x20]*(?:"
    r"(\()"  # 1
    r"|(\))"  # 2
    r'|("[^"\\]*(?:\\.[^"\\]*)*")'  # 3: StringLiteral
    r'|(#[0-9]+")'  # 4: the header of a ByteLengthEncodedString
    r'|([^\x00-\x20()"][^\x00-\x20()]*)'  # 5: Word, Number, DateTime, :parameter
    r"|(\Z))",  # 6
    re.DOTALL,
)
_OPEN: Final = 1
_CLOSE: Final = 2
_STRING: Final = 3
_BYTES: Final = 4
_ATOM: Final = 5
_END: Final = 6
# Inside a nested expression: a run of whitespace and Words up to the next
# character that may start or end something (`skip_nested` says which).
_RUN: Final = re.compile(r'[^()"#]*')
_WORD_TAIL: Final = re.compile(r"[^\x00-\x20()]*")
_STRING_LITERAL: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# The agent-identifier nearly every message holds, matched in one call.
_SIMPLE_AGENT: Final = re.compile(
    r"[\x00-\x20]*\([\x00-\x20]*(?i:agent-identifier)[\x00-\x20]+(?i::name)[\x00-\x20]+"
    r'(?:("[^"\\]*(?:\\.[^"\\]*)*")|([^\x00-\x20()"#:][^\x00-\x20()]*))[\x00-\x20]*\)',
    re.DOTALL,
)
_UNESCAPE: Final = re.compile(r'\\([\\"])')
# Strings written bare: FIPA Words that no reader mistakes for something else
# (a number, a DateTime, a :parameter, an SL variable) and without quotes.
_BARE: Final = re.compile(r'[^\x00-\x20()#0-9\-@":+.?][^\x00-\x20()"]*')
_NAME_UNSAFE: Final = re.compile(r'[\x00-\x20()"%]')
_WHITESPACE: Final = re.compile(r"[\x00-\x20]*")


def _end_of(run: re.Pattern[str], text: str, pos: int) -> int:
    """Where a run of `run` (a pattern that also matches nothing) starting at `pos` ends."""
    found = run.match(text, pos)
    return pos if found is None else found.end()


_ITEMS: Final = re.compile(r"[^\x00-\x20]+")
_DATETIME: Final = re.compile(
    r"([+-])?([0-9]{4})([0-9]{2})([0-9]{2})[Tt]([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})([A-Za-z])?"
)
_MAX_LENGTH_DIGITS: Final = 12


def encode_fipa(message: Mapping[str, Any], *, pretty: bool = False) -> str:
    """`message` (ABI v1's JSON form) as a FIPA string; one parameter a line when `pretty`.

    `reply_by` is written in UTC to the millisecond, which is all FIPA's DateTime holds.
    """
    validate_shape(message)
    parts = [message["performative"]]
    marked: list[str] = []
    for key, fipa in _NAMES:
        if key in message:
            parts.append(f":{fipa} {_encode_value(key, fipa, message[key], marked)}")
    if "message_id" in message:
        parts.append(f":{MESSAGE_ID_PARAMETER} {_word_or_string(message['message_id'])}")
    if "trace" in message:
        trace = message["trace"]
        parts.append(f":{TRACEPARENT_PARAMETER} {_word_or_string(trace['traceparent'])}")
        if "tracestate" in trace:
            parts.append(f":{TRACESTATE_PARAMETER} {_word_or_string(trace['tracestate'])}")
    for key, value in message.items():
        if key.startswith("x-"):
            name = _encode_user_name(key[2:])
            parts.append(f":{name} {_encode_json_or_text(name, key, value, marked)}")
    if marked:
        parts.append(f":{JSON_PARAMETER} {_string(' '.join(marked))}")
    return "(" + ("\n " if pretty else " ").join(parts) + ")"


def decode_fipa(
    data: str | bytes | bytearray, *, max_bytes: int | None = DEFAULT_MAX_FIPA_BYTES
) -> dict[str, Any]:
    """The JSON form of the FIPA string `data`; `InvalidMessage` says what is wrong, and where."""
    text = _text(data, max_bytes)
    return _Reader(text).message()


# ---- encoding ----


def _encode_value(key: str, fipa: str, value: Any, marked: list[str]) -> str:
    if key == "sender":
        return _aid(value)
    if key in _LISTS:
        if isinstance(value, str):
            return f"(set {_aid(value)})"
        if len(value) == 1:
            marked.append(fipa)  # an array of one, not a plain string
        return "(set" + "".join(" " + _aid(name) for name in value) + ")"
    if key == "content":
        return _encode_json_or_text(fipa, key, value, marked)
    if key == "reply_by":
        return _fipa_datetime(value)
    return _word_or_string(value)


def _aid(name: str) -> str:
    return f"(agent-identifier :name {_word_or_string(name)})"


def _encode_json_or_text(fipa: str, key: str, value: Any, marked: list[str]) -> str:
    if isinstance(value, str):
        return _string(value) if key == "content" else _word_or_string(value)
    marked.append(fipa)
    try:
        return _string(orjson.dumps(value).decode())
    except TypeError as error:  # orjson.JSONEncodeError is a TypeError
        raise InvalidMessage(key, f"not representable as JSON: {error}") from None


def _word_or_string(value: str) -> str:
    return value if _BARE.fullmatch(value) else _string(value)


def _string(value: str) -> str:
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def _encode_user_name(rest: str) -> str:
    """The FIPA name of the JSON key `x-<rest>`, percent-escaping what a Word cannot hold.

    A name in Caxton's own `X-caxton-` space gets its first letter escaped, so
    that no user parameter is mistaken for one of Caxton's.
    """
    if _NAME_UNSAFE.search(rest):
        rest = _NAME_UNSAFE.sub(lambda match: f"%{ord(match[0]):02X}", rest)
    if rest[:7].lower() == _RESERVED_PREFIX:
        rest = f"%{ord(rest[0]):02X}{rest[1:]}"
    return "X-" + rest


def _fipa_datetime(value: str) -> str:
    instant = parse_rfc3339(value)
    if instant is None:  # validate_shape has refused it already
        raise InvalidMessage("reply_by", f"not an RFC 3339 timestamp: {value!r}")
    return (
        f"{instant.year:04d}{instant.month:02d}{instant.day:02d}T"
        f"{instant.hour:02d}{instant.minute:02d}{instant.second:02d}"
        f"{instant.microsecond // 1000:03d}Z"
    )


# ---- decoding ----


def _text(data: str | bytes | bytearray, max_bytes: int | None) -> str:
    if isinstance(data, str):
        size = len(data)
        if max_bytes is not None and size * 4 > max_bytes:
            size = len(data.encode("utf-8", "surrogatepass"))
    else:
        size = len(data)
    if max_bytes is not None and size > max_bytes:
        raise InvalidMessage("message", f"too large: {size} bytes, the limit is {max_bytes}")
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as error:
        text = bytes(data)[: error.start].decode("utf-8")
        byte = bytes(data)[error.start]
        raise AclSyntaxError.at(
            text, len(text), f"not valid UTF-8 (byte {error.start} is {byte:#04x})"
        ) from None


class _Reader:
    """A recursive-descent parser over `_TOKEN`.

    Its recursion is only as deep as the grammar (message, agent-identifier,
    value): nested expressions and resolvers are skipped in a loop whose
    nesting count stops at MAX_DEPTH.
    """

    __slots__ = ("marked", "marked_at", "pos", "text", "trace", "trace_at")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        # Caxton's own parameters, applied once the whole message is read.
        self.marked: str | None = None
        self.marked_at = 0
        self.trace: dict[str, str] = {}
        self.trace_at = 0

    # Tokens.

    def next(self, field: str = "message") -> tuple[int, str, int]:
        """The next token as (kind, value, start); strings come unescaped, as _STRING.

        `field` is what an error names.
        """
        match = _TOKEN.match(self.text, self.pos)
        if match is None:  # only an unterminated StringLiteral matches no rule
            start = _end_of(_WHITESPACE, self.text, self.pos)
            raise self.error(start, "unterminated string: no closing '\"'", field)
        kind = match.lastindex or _END
        self.pos = match.end()
        value = match[kind]
        start = match.start(kind)
        if kind == _STRING:
            value = value[1:-1]
            if "\\" in value:
                value = _UNESCAPE.sub(r"\1", value)
        elif kind == _BYTES:
            return _STRING, self.byte_string(value[1:-1], start, field), start
        return kind, value, start

    def byte_string(self, digits: str, start: int, field: str) -> str:
        if len(digits) > _MAX_LENGTH_DIGITS:
            problem = f"byte-length string of {len(digits)} digits is too long"
            raise self.error(start, problem, field)
        length = int(digits)
        text, begin = self.text, self.pos
        raw = text[begin : begin + length].encode("utf-8", "surrogatepass")[:length]
        if len(raw) < length:
            problem = f"byte-length string wants {length} bytes, {len(raw)} remain"
            raise self.error(start, problem, field)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            problem = f"byte-length string of {length} bytes ends inside a character"
            raise self.error(start, problem, field) from None
        self.pos = begin + len(value)
        return value

    def error(self, position: int, problem: str, field: str = "message") -> AclSyntaxError:
        return AclSyntaxError.at(self.text, position, problem, field=field)

    def unexpected(
        self, kind: int, value: str, start: int, expected: str, field: str
    ) -> AclSyntaxError:
        return self.error(start, f"expected {expected}, found {_describe(kind, value)}", field)

    # Grammar.

    def message(self) -> dict[str, Any]:
        kind, value, start = self.next()
        if kind != _OPEN:
            raise self.unexpected(kind, value, start, "'(' to open a message", "message")
        kind, value, start = self.next()
        if kind != _ATOM or value.lower() not in PERFORMATIVES:
            what = "a performative (inform, request, ...)"
            raise self.unexpected(kind, value, start, what, "performative")
        message: dict[str, Any] = {"performative": value.lower()}
        while True:
            kind, value, start = self.next()
            if kind == _CLOSE:
                break
            if kind != _ATOM or value[0] != ":":
                what = "a parameter (:receiver, :content, ...) or ')' to close the message"
                raise self.unexpected(kind, value, start, what, "message")
            self.parameter(value[1:], start, message)
        kind, value, start = self.next()
        if kind != _END:
            raise self.unexpected(
                kind, value, start, "the end of input after the message", "message"
            )
        return self.finish(message)

    def parameter(self, name: str, start: int, message: dict[str, Any]) -> None:
        lowered = name.lower()
        key = _KEYS.get(lowered)
        if key is None:
            if lowered[:2] != "x-":
                raise self.error(
                    start,
                    f"unknown parameter :{name} (user-defined parameters start with :X-)",
                    name,
                )
            if self.caxton_parameter(name, lowered, start, message):
                return
            rest = name[2:]
            key = "x-" + (unquote(rest) if "%" in rest else rest)
        if key in message:
            raise self.error(start, f"duplicate parameter :{name}", key)
        if key == "sender":
            message[key] = self.agent(key)
        elif key in _LISTS:
            names = self.agents(key)
            message[key] = names[0] if len(names) == 1 else names
        elif key == "reply_by":
            at = _end_of(_WHITESPACE, self.text, self.pos)
            message[key] = self.reply_by(self.value(key), at)
        else:
            message[key] = self.value(key)

    def caxton_parameter(
        self, name: str, lowered: str, start: int, message: dict[str, Any]
    ) -> bool:
        """Read one of Caxton's own parameters; False when `name` is not one."""
        if lowered == JSON_PARAMETER.lower():
            if self.marked is not None:
                raise self.error(start, f"duplicate parameter :{name}", "message")
            self.marked_at = start
            self.marked = self.value("message")
        elif lowered == MESSAGE_ID_PARAMETER.lower():
            if "message_id" in message:
                raise self.error(start, f"duplicate parameter :{name}", "message_id")
            message["message_id"] = self.value("message_id")
        elif lowered in (TRACEPARENT_PARAMETER.lower(), TRACESTATE_PARAMETER.lower()):
            part = lowered[9:]
            if part in self.trace:
                raise self.error(start, f"duplicate parameter :{name}", "trace")
            self.trace_at = start
            self.trace[part] = self.value("trace")
        else:
            return False
        return True

    def value(self, field: str, depth: int = 1) -> str:
        """One Expression as text: a Word, Number or DateTime as written, a String
        unescaped, a parenthesised expression as its source text."""
        kind, value, start = self.next(field)
        if kind == _STRING or (kind == _ATOM and value[0] != ":"):
            return value
        if kind == _OPEN:
            self.skip_nested(start, depth + 1, field)
            return self.text[start : self.pos]
        raise self.unexpected(kind, value, start, "a value", field)

    def skip_nested(self, start: int, depth: int, field: str) -> None:
        """Move past the ')' that closes the '(' at `start`, at nesting `depth`.

        Tokens are told apart as `next` does, but a run of Words and whitespace
        costs one regular-expression call rather than one per token.
        """
        text = self.text
        pos = self.pos
        level = 0
        while True:
            run_start = pos
            pos = _end_of(_RUN, text, pos)
            char = text[pos : pos + 1]
            if char == "(":
                level += 1
                if depth + level > MAX_DEPTH:
                    raise self.error(pos, f"nested deeper than {MAX_DEPTH} levels", field)
                pos += 1
            elif char == ")":
                pos += 1
                if level == 0:
                    self.pos = pos
                    return
                level -= 1
            elif not char:
                raise self.error(start, "unclosed '(': input ends inside it", field)
            elif pos > run_start and text[pos - 1] > " ":
                # A '"' or '#' inside a Word belongs to it (SC00070's Word rule).
                pos = _end_of(_WORD_TAIL, text, pos)
            elif char == '"':
                match = _STRING_LITERAL.match(text, pos)
                if match is None:
                    raise self.error(pos, "unterminated string: no closing '\"'", field)
                pos = match.end()
            else:  # '#' starting a token: a ByteLengthEncodedString or a Word
                self.pos = pos
                self.next(field)
                pos = self.pos

    def agent(self, field: str, depth: int = 1) -> str:
        simple = self.simple_agent()
        if simple is not None:
            return simple
        kind, value, start = self.next(field)
        if kind != _OPEN:
            raise self.unexpected(kind, value, start, "'(agent-identifier ...)'", field)
        kind, value, start = self.next(field)
        if kind != _ATOM or value.lower() != "agent-identifier":
            raise self.unexpected(kind, value, start, "'agent-identifier'", field)
        return self.agent_body(start, depth + 1, field)

    def agents(self, field: str, depth: int = 1) -> list[str]:
        kind, value, start = self.next(field)
        if kind != _OPEN:
            raise self.unexpected(kind, value, start, "'(set (agent-identifier ...) ...)'", field)
        kind, value, start = self.next(field)
        keyword = value.lower() if kind == _ATOM else ""
        if keyword == "agent-identifier":  # a bare identifier for a set of one
            return [self.agent_body(start, depth + 1, field)]
        if keyword not in ("set", "sequence"):
            raise self.unexpected(kind, value, start, "'set'", field)
        names: list[str] = []
        while True:
            simple = self.simple_agent()
            if simple is not None:
                names.append(simple)
                continue
            kind, value, start = self.next(field)
            if kind == _CLOSE:
                return names
            if kind != _OPEN:
                raise self.unexpected(kind, value, start, "'(agent-identifier ...)' or ')'", field)
            kind, value, start = self.next(field)
            if kind != _ATOM or value.lower() != "agent-identifier":
                raise self.unexpected(kind, value, start, "'agent-identifier'", field)
            names.append(self.agent_body(start, depth + 2, field))

    def simple_agent(self) -> str | None:
        """The name in a next `(agent-identifier :name x)` with nothing else, or None."""
        match = _SIMPLE_AGENT.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        name = match[2]
        if name is None:
            name = match[1][1:-1]
            if "\\" in name:
                name = _UNESCAPE.sub(r"\1", name)
        return name

    def agent_body(self, start: int, depth: int, field: str) -> str:
        """An agent-identifier's parameters after the keyword at `start`: its :name.

        :addresses, :resolvers and user-defined parameters are read and dropped.
        """
        name: str | None = None
        while True:
            kind, value, at = self.next(field)
            if kind == _CLOSE:
                break
            if kind != _ATOM or value[0] != ":":
                raise self.unexpected(
                    kind, value, at, "':name', ':addresses', ':resolvers' or ')'", field
                )
            parameter = value[1:].lower()
            if parameter == "name":
                if name is not None:
                    raise self.error(at, "duplicate :name in agent-identifier", field)
                name = self.name(field)
            elif parameter in ("addresses", "resolvers") or parameter[:2] == "x-":
                self.value(field, depth)
            else:
                raise self.error(at, f"unknown agent-identifier parameter {value}", field)
        if name is None:
            raise self.error(start, "agent-identifier without :name", field)
        return name

    def name(self, field: str) -> str:
        kind, value, start = self.next(field)
        if kind == _STRING or (kind == _ATOM and value[0] != ":"):
            return value
        raise self.unexpected(kind, value, start, "an agent name", field)

    def reply_by(self, value: str, start: int) -> str:
        """A FIPA DateTime (or, leniently, RFC 3339) as RFC 3339 in UTC to the millisecond.

        Without a type designator the time is read as UTC: SC00070 makes it the
        sender's local time, which a receiver cannot know.
        """
        match = _DATETIME.fullmatch(value)
        if match is None:
            instant = parse_rfc3339(value)
            if instant is None:
                problem = f"expected a DateTime like 20261125T101500000Z, found {value!r}"
                raise self.error(start, problem, "reply_by")
            return _rfc3339(instant)
        sign, zone = match[1], match[9]
        if sign is not None:
            problem = f"relative time {value!r} is not supported: this layer has no clock"
            raise self.error(start, problem, "reply_by")
        if zone is not None and zone not in "Zz":
            raise self.error(
                start, f"time zone {zone!r} is not supported, only Z (UTC)", "reply_by"
            )
        year, month, day, hour, minute, second, millis = map(int, match.groups()[1:8])
        try:
            instant = datetime(year, month, day, hour, minute, second, millis * 1000, UTC)
        except ValueError as error:
            problem = f"{value!r} is not a valid date and time: {error}"
            raise self.error(start, problem, "reply_by") from None
        return _rfc3339(instant)

    def finish(self, message: dict[str, Any]) -> dict[str, Any]:
        """Apply Caxton's own parameters, read in any order, to the message."""
        if self.trace:
            if "traceparent" not in self.trace:
                problem = f":{TRACESTATE_PARAMETER} without :{TRACEPARENT_PARAMETER}"
                raise self.error(self.trace_at, problem, "trace")
            message["trace"] = self.trace
        if self.marked is not None:
            done: set[str] = set()
            # Split on FIPA's whitespace only: str.split() would cut at U+00A0 too.
            for item in _ITEMS.findall(self.marked):
                self.apply_mark(item, message, done)
        return message

    def apply_mark(self, item: str, message: dict[str, Any], done: set[str]) -> None:
        """Make the parameter `item`, listed in :X-caxton-json, JSON again."""
        lowered = item.lower()
        key = _KEYS.get(lowered)
        if lowered[:2] == "x-":
            rest = item[2:]
            key = "x-" + (unquote(rest) if "%" in rest else rest)
        elif key not in _MARKABLE:
            key = None
        if key is None or key not in message:
            problem = f":{JSON_PARAMETER} names {item!r}, which this message does not have"
            raise self.error(self.marked_at, problem, "message")
        if key in done:  # its value is no longer text
            raise self.error(self.marked_at, f":{JSON_PARAMETER} names {item!r} twice", "message")
        done.add(key)
        value = message[key]
        if key in _LISTS:
            message[key] = [value] if isinstance(value, str) else value
            return
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError as error:
            problem = f"marked as JSON by :{JSON_PARAMETER} but is not JSON: {error}"
            raise self.error(self.marked_at, problem, key) from None
        if not within_depth(parsed, MAX_DEPTH - 1):
            problem = f"nested deeper than {MAX_DEPTH} levels (counting the message itself)"
            raise self.error(self.marked_at, problem, key)
        message[key] = parsed


def _rfc3339(instant: datetime) -> str:
    # strftime's %Y does not pad years before 1000 on every platform.
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T"
        f"{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}"
        f".{instant.microsecond // 1000:03d}Z"
    )


def _describe(kind: int, value: str) -> str:
    if kind == _OPEN:
        return "'('"
    if kind == _CLOSE:
        return "')'"
    if kind == _END:
        return "the end of input"
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"string {shown!r}" if kind == _STRING else repr(shown)
