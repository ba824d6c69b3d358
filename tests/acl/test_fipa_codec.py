"""The FIPA string codec (SC00070I): round trips, JADE's output, errors, and fuzzing.

The round trips use a writer of their own (`write_fipa`), built from
docs/acl.md rather than from the codec, in many styles: keyword case, spacing,
bare Words or quoted Strings, byte-length strings, agent-identifiers with
addresses and resolvers, parameters in any order.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caxton.acl import (
    DEFAULT_MAX_FIPA_BYTES,
    MAX_DEPTH,
    PERFORMATIVES,
    decode_fipa,
    decode_json,
    encode_fipa,
    encode_json,
    validate_message,
    validate_shape,
)
from caxton.errors import AclSyntaxError, InvalidMessage

# ---- strategies: messages of every shape ----

AGENT_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,62}", fullmatch=True)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Strings that stress quoting: quotes, backslashes, parentheses, whitespace, `#`, `:`.
TRICKY_TEXT = st.text(
    st.sampled_from('ab"\\() \n\t#:%-@?+.0Zx\x00é€😀') | st.characters(codec="utf-8"), max_size=24
)
TEXT = st.text(max_size=30) | TRICKY_TEXT


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339 timestamps in all their spellings: offsets, fractions, t and z, a space."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    fraction = draw(st.text("0123456789", max_size=9))
    minutes = draw(st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59))
    if minutes == 0:
        zone = draw(st.sampled_from(["Z", "z", "+00:00", "-00:00"]))
    else:
        sign = "+" if minutes > 0 else "-"
        zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    separator = draw(st.sampled_from("Tt "))
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        f"{'.' + fraction if fraction else ''}{zone}"
    )


def utc_millis(timestamp: str) -> str:
    """The RFC 3339 form decoding gives `timestamp`: UTC, milliseconds rounded down."""
    match = re.fullmatch(
        r"(.{10})[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", timestamp
    )
    assert match is not None
    date, hour, minute, second, fraction, zone = match.groups()
    micros = int(((fraction or "") + "000000")[:6])
    if zone in "Zz":
        offset = timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    year, month, day = (int(part) for part in date.split("-"))
    local = datetime(year, month, day, int(hour), int(minute), int(second), micros)
    instant = local.replace(tzinfo=timezone(offset)).astimezone(UTC)
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant.hour:02d}:"
        f"{instant.minute:02d}:{instant.second:02d}.{instant.microsecond // 1000:03d}Z"
    )


def message_strategy(
    names: st.SearchStrategy[str], *, valid: bool
) -> st.SearchStrategy[dict[str, Any]]:
    """Messages with any mix of parameters; `valid`: ABI v1's rules hold, receiver included."""
    receivers = names | st.lists(names, min_size=1 if valid else 0, max_size=4)
    trace = st.fixed_dictionaries({"traceparent": TEXT}, optional={"tracestate": TEXT})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "sender": names,
        "receiver": receivers,
        "reply_to": receivers,
        "content": JSON_VALUES | TEXT,
        "language": TEXT,
        "encoding": TEXT,
        "ontology": TEXT,
        "protocol": TEXT,
        "conversation_id": TEXT,
        "reply_with": TEXT,
        "in_reply_to": TEXT,
        "reply_by": timestamps(),
        "message_id": TEXT,
        "trace": trace,
    }
    required = {"performative": st.sampled_from(sorted(PERFORMATIVES))}
    if valid:
        required["receiver"] = optional.pop("receiver")
    fixed = st.fixed_dictionaries(required, optional=optional)
    user = st.dictionaries(TEXT.map("x-".__add__), JSON_VALUES, max_size=4)
    return st.builds(lambda message, extra: {**message, **extra}, fixed, user)


# What ABI v1 accepts (validate_message), and what the codecs can carry (validate_shape):
# names there may be any strings, as FIPA platforms' names are.
VALID_MESSAGES = message_strategy(AGENT_NAMES, valid=True)
SHAPED_MESSAGES = message_strategy(TEXT, valid=False)


def expected(message: dict[str, Any]) -> dict[str, Any]:
    """`message` as a FIPA round trip gives it back: reply_by in UTC to the millisecond."""
    if "reply_by" not in message:
        return message
    return {**message, "reply_by": utc_millis(message["reply_by"])}


# ---- a FIPA writer of the tests' own, in many styles ----


@dataclass(frozen=True)
class Style:
    upper: bool  # keywords in upper case (JADE writes INFORM)
    gaps: tuple[str, ...]  # whitespace between tokens, used in turn
    byte_strings: bool  # Strings as #N"... instead of "..."
    bare: bool  # safe Words unquoted
    rich_agents: bool  # agent-identifiers with :addresses, :resolvers and user parameters
    bare_set_of_one: bool  # a lone receiver without (set ...)
    lower_x: bool  # user-defined parameters as :x-... rather than :X-...
    seed: int  # parameter order


STYLES = st.builds(
    Style,
    upper=st.booleans(),
    gaps=st.lists(
        st.sampled_from([" ", "  ", "\n", "\t", "\r\n ", " \n  "]), min_size=1, max_size=3
    ).map(tuple),
    byte_strings=st.booleans(),
    bare=st.booleans(),
    rich_agents=st.booleans(),
    bare_set_of_one=st.booleans(),
    lower_x=st.booleans(),
    seed=st.integers(0, 2**16),
)
SAFE_WORD = re.compile(r'[^\x00-\x20()#0-9\-@":+.?][^\x00-\x20()]*')


class Writer:
    def __init__(self, style: Style) -> None:
        self.style = style
        self.turn = 0

    def gap(self) -> str:
        self.turn += 1
        return self.style.gaps[self.turn % len(self.style.gaps)]

    def keyword(self, word: str) -> str:
        return word.upper() if self.style.upper else word

    def string(self, text: str) -> str:
        if self.style.byte_strings:
            return f'#{len(text.encode())}"{text}'
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def word(self, text: str) -> str:
        return text if self.style.bare and SAFE_WORD.fullmatch(text) else self.string(text)

    def agent(self, name: str) -> str:
        parts = ["(", self.keyword("agent-identifier"), self.keyword(":name"), self.word(name)]
        if self.style.rich_agents:
            parts += [
                self.keyword(":addresses"),
                "(sequence http://host:7778/acc iiop://host:900/acc)",
                self.keyword(":resolvers"),
                "(sequence (agent-identifier :name df@host :addresses (sequence http://h/)))",
                ":X-JADE-thing",
                '"(a b)"',
            ]
        return " ".join(parts[:2]) + self.gap() + self.gap().join(parts[2:]) + ")"

    def agents(self, names: str | list[str]) -> str:
        if isinstance(names, str):
            if self.style.bare_set_of_one:
                return self.agent(names)
            names = [names]
        return "(" + self.keyword("set") + "".join(self.gap() + self.agent(n) for n in names) + ")"

    def user_name(self, key: str) -> str:
        rest = re.sub(r'[\x00-\x20()"%]', lambda m: f"%{ord(m[0]):02X}", key[2:])
        if rest.lower().startswith("caxton-"):
            rest = f"%{ord(rest[0]):02X}{rest[1:]}"
        return ("x-" if self.style.lower_x else "X-") + rest


def write_fipa(message: dict[str, Any], style: Style) -> str:
    """`message` as FIPA text following docs/acl.md, written independently of the codec."""
    out = Writer(style)
    params: list[tuple[str, str]] = []
    marked: list[str] = []
    for key, value in message.items():
        if key != "performative":
            params += parameters(out, key, value, marked)
    if marked:
        params.append((out.keyword("X-caxton-json"), out.string(" ".join(marked))))
    random.Random(style.seed).shuffle(params)
    body = "".join(f"{out.gap()}:{name}{out.gap()}{value}" for name, value in params)
    return f"{out.gap()}({out.keyword(message['performative'])}{body}{out.gap()}){out.gap()}"


def parameters(out: Writer, key: str, value: Any, marked: list[str]) -> list[tuple[str, str]]:
    """(name, value) of the FIPA parameters for one key; user-defined names keep their case."""
    fipa = out.keyword(key.replace("_", "-"))
    if key == "sender":
        return [(fipa, out.agent(value))]
    if key in ("receiver", "reply_to"):
        if isinstance(value, list) and len(value) == 1:
            marked.append(fipa)
        return [(fipa, out.agents(value))]
    if key == "content" or key.startswith("x-"):
        name = fipa if key == "content" else out.user_name(key)
        if isinstance(value, str):
            return [(name, out.string(value) if key == "content" else out.word(value))]
        marked.append(name)
        return [(name, out.string(orjson.dumps(value).decode()))]
    if key == "reply_by":
        return [(fipa, fipa_datetime(value, out.style))]
    if key == "message_id":
        return [(out.keyword("X-caxton-message-id"), out.word(value))]
    if key == "trace":
        return [(out.keyword(f"X-caxton-{part}"), out.word(text)) for part, text in value.items()]
    return [(fipa, out.word(value))]


def fipa_datetime(timestamp: str, style: Style) -> str:
    text = re.sub(r"[-:.Z]", "", utc_millis(timestamp))  # 20261125T101500000
    if style.bare:
        return text.lower() + "z"
    # No type designator reads as UTC too (docs/acl.md).
    return text if style.upper else text + "Z"


# ---- round trips ----


@settings(database=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPED_MESSAGES)
@example({"performative": "inform", "receiver": ["b"]})
@example({"performative": "inform", "receiver": [], "reply_to": ["a", "b"]})
@example({"performative": "inform", "content": None})
@example({"performative": "inform", "content": ""})
@example({"performative": "inform", "content": "null"})
@example({"performative": "inform", "x-caxton-json": "content", "content": "1"})
@example({"performative": "inform", "x-CAXTON-message-id": 1, "x-%63axton-json": [1]})
@example({"performative": "inform", "x-": "", 'x-a b(c)"%': {"k": ["v"]}})
@example({"performative": "inform", "sender": ":name", "conversation_id": '#3"abc'})
@example({"performative": "inform", "language": "a\\", "ontology": '\\"', "protocol": 'a"b'})
@example({"performative": "inform", "reply_by": "0001-01-01T23:59:59.9999999+23:59"})
@example({"performative": "inform", "trace": {"traceparent": "00-ab-cd-01", "tracestate": ""}})
def test_json_to_fipa_to_json_gives_the_message_back(message: dict[str, Any]) -> None:
    text = encode_fipa(message)
    assert decode_fipa(text) == expected(message)
    assert decode_fipa(encode_fipa(message, pretty=True)) == expected(message)
    # Through bytes too, as the CLI and transports carry it.
    assert decode_fipa(text.encode()) == expected(message)


@settings(database=None, max_examples=200)
@given(VALID_MESSAGES)
def test_every_valid_message_survives_json_and_fipa(message: dict[str, Any]) -> None:
    validate_message(message)
    via_json = decode_json(encode_json(message))
    assert via_json == message
    back = decode_fipa(encode_fipa(via_json))
    assert back == expected(message)
    validate_message(back)


@settings(database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPED_MESSAGES, STYLES)
def test_fipa_in_any_style_decodes_to_the_message(message: dict[str, Any], style: Style) -> None:
    text = write_fipa(message, style)
    assert decode_fipa(text) == expected(message), text


@settings(database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPED_MESSAGES, STYLES)
def test_fipa_to_json_to_fipa_is_stable(message: dict[str, Any], style: Style) -> None:
    decoded = decode_fipa(write_fipa(message, style))
    canonical = encode_fipa(decoded)
    assert decode_fipa(canonical) == decoded
    assert encode_fipa(decode_fipa(canonical)) == canonical
    assert decode_json(encode_json(decoded)) == decoded


# ---- the encoder's output ----


def test_the_encoding_reads_like_fipa() -> None:
    message = {
        "performative": "inform",
        "sender": "a",
        "receiver": "b",
        "content": 'it\'s 20°C "inside"',
        "conversation_id": "c1",
        "reply_by": "2026-11-25T11:15:00+01:00",
        "x-my-param": "v",
    }
    assert encode_fipa(message) == (
        "(inform :sender (agent-identifier :name a) :receiver (set (agent-identifier :name b))"
        ' :content "it\'s 20°C \\"inside\\"" :conversation-id c1 :reply-by 20261125T101500000Z'
        " :X-my-param v)"
    )


def test_pretty_puts_one_parameter_a_line() -> None:
    text = encode_fipa(
        {"performative": "request", "receiver": ["b", "c"], "content": {"n": 1}}, pretty=True
    )
    assert text.splitlines() == [
        "(request",
        " :receiver (set (agent-identifier :name b) (agent-identifier :name c))",
        ' :content "{\\"n\\":1}"',
        ' :X-caxton-json "content")',
    ]


def test_caxton_fields_become_user_defined_parameters() -> None:
    message = {
        "performative": "request",
        "receiver": ["b"],
        "message_id": "m-7",
        "trace": {
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "k=v",
        },
        "x-n": 3,
        "x-caxton-json": "mine",
    }
    assert encode_fipa(message) == (
        "(request :receiver (set (agent-identifier :name b))"
        " :X-caxton-message-id m-7"
        ' :X-caxton-traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"'
        " :X-caxton-tracestate k=v"
        ' :X-n "3"'
        " :X-%63axton-json mine"
        ' :X-caxton-json "receiver X-n")'
    )


def test_strings_that_are_not_safe_words_are_quoted() -> None:
    for value in ["", "two words", "12", "-x", "#x", "@x", ":x", "+1", ".5", "?x", "a(b", 'a"b']:
        text = encode_fipa({"performative": "inform", "protocol": value})
        assert text.startswith('(inform :protocol "'), value
    assert encode_fipa({"performative": "inform", "protocol": "fipa-request"}) == (
        "(inform :protocol fipa-request)"
    )


def test_the_encoder_refuses_what_is_not_a_message() -> None:
    with pytest.raises(InvalidMessage, match=r"^performative: unknown act 'INFORM'") as caught:
        encode_fipa({"performative": "INFORM"})
    assert caught.value.field == "performative"
    with pytest.raises(InvalidMessage, match=r"^colour: unknown parameter"):
        encode_fipa({"performative": "inform", "colour": "red"})
    with pytest.raises(InvalidMessage, match=r"^receiver: 5 is not a string"):
        encode_fipa({"performative": "inform", "receiver": ["a", 5]})
    with pytest.raises(InvalidMessage, match=r"^content: not representable as JSON"):
        encode_fipa({"performative": "inform", "content": {1, 2}})
    with pytest.raises(InvalidMessage, match=r"^reply_by: must be an RFC 3339"):
        encode_fipa({"performative": "inform", "reply_by": "2026-11-25T10:15:00"})


# ---- what FIPA platforms write ----

# jade.lang.acl.StringACLCodec's layout: upper-case act, doubled spaces,
# addresses, user-defined parameters, reply-by without a designator.
JADE_REQUEST = """(REQUEST
 :sender  ( agent-identifier :name buyer@h:1099/JADE  :addresses (sequence http://h:7778/acc ))
 :receiver  (set ( agent-identifier :name seller@h:1099/JADE  :addresses (sequence http://h/ )) )
 :content  "((action (agent-identifier :name seller@h:1099/JADE) (sell (book :title \\"X\\"))))"
 :reply-with  R1732529700000_0  :language  fipa-sl  :ontology  book-trading
 :reply-by 20261125T101500000
 :protocol  fipa-request
 :conversation-id  C31415_1732529700000  :X-JADE-track "yes please" )"""


def test_a_jade_request_decodes() -> None:
    assert decode_fipa(JADE_REQUEST) == {
        "performative": "request",
        "sender": "buyer@h:1099/JADE",
        "receiver": "seller@h:1099/JADE",
        "content": (
            '((action (agent-identifier :name seller@h:1099/JADE) (sell (book :title "X"))))'
        ),
        "reply_with": "R1732529700000_0",
        "language": "fipa-sl",
        "ontology": "book-trading",
        "reply_by": "2026-11-25T10:15:00.000Z",
        "protocol": "fipa-request",
        "conversation_id": "C31415_1732529700000",
        "x-JADE-track": "yes please",
    }


def test_the_spec_example_decodes() -> None:
    # SC00061G section 2's example message.
    text = (
        "(inform :sender (agent-identifier :name i) :receiver (set (agent-identifier :name j))"
        ' :content "weather (today, raining)" :language Prolog)'
    )
    assert decode_fipa(text) == {
        "performative": "inform",
        "sender": "i",
        "receiver": "j",
        "content": "weather (today, raining)",
        "language": "Prolog",
    }


def test_jade_byte_sequence_content_is_kept_as_its_base64_text() -> None:
    # JADE writes byte content as Base64 in a StringLiteral and flags it.
    text = '(inform\n:X-JADE-Encoding Base64\n :content "aGVsbG8=" \n:receiver (set))'
    assert decode_fipa(text) == {
        "performative": "inform",
        "x-JADE-Encoding": "Base64",
        "content": "aGVsbG8=",
        "receiver": [],
    }


def test_byte_length_strings_count_utf8_bytes() -> None:
    text = '(inform :content #6"a"é)\n :language #0" :ontology #2"()'
    assert decode_fipa(text + ")") == {
        "performative": "inform",
        "content": 'a"é)\n',
        "language": "",
        "ontology": "()",
    }


def test_numbers_nested_expressions_and_byte_strings_are_values() -> None:
    text = (
        '(query-ref :conversation-id 12345 :reply-with -5.5e3 :in-reply-to #6"héllo'
        ' :ontology (a "b)" (c #2")))) :X-n 42 :content ((iota ?x (p ?x))))'
    )
    assert decode_fipa(text) == {
        "performative": "query-ref",
        "conversation_id": "12345",
        "reply_with": "-5.5e3",
        "in_reply_to": "héllo",
        "ontology": '(a "b)" (c #2"))))',
        "x-n": "42",
        "content": "((iota ?x (p ?x)))",
    }


def test_nested_expressions_are_tokenized_as_words_and_strings_are() -> None:
    # A '"' inside a Word belongs to it; after a string, a '"' starts another;
    # `#1"` takes one byte, here a ')'.
    text = '(inform :content (a"b c "x)" "y"z #1")))'
    assert decode_fipa(text)["content"] == '(a"b c "x)" "y"z #1"))'


def test_agent_identifiers_with_resolvers_and_any_case_keep_the_name_only() -> None:
    text = (
        "(Inform :SENDER (Agent-Identifier :Name x@h :Resolvers (sequence"
        " (agent-identifier :name df@h :resolvers (sequence (agent-identifier :name r@h)))))"
        ' :Receiver (SEQUENCE (agent-identifier :addresses (sequence a) :name "b c" :X-y z)'
        " (agent-identifier :name d))"
        " :REPLY-TO (agent-identifier :name e))"
    )
    assert decode_fipa(text) == {
        "performative": "inform",
        "sender": "x@h",
        "receiver": ["b c", "d"],
        "reply_to": "e",
    }


def test_reply_by_spellings() -> None:
    def reply_by(value: str) -> str:
        return str(decode_fipa(f"(inform :reply-by {value})")["reply_by"])

    assert reply_by("20261125T101500123Z") == "2026-11-25T10:15:00.123Z"
    assert reply_by("20261125t101500123z") == "2026-11-25T10:15:00.123Z"
    assert reply_by("20261125T101500123") == "2026-11-25T10:15:00.123Z"
    assert reply_by('"20261125T101500123Z"') == "2026-11-25T10:15:00.123Z"
    # Leniently, RFC 3339 as well.
    assert reply_by("2026-11-25T11:15:00.1239+01:00") == "2026-11-25T10:15:00.123Z"
    assert reply_by("00010101T000000000Z") == "0001-01-01T00:00:00.000Z"


# ---- errors name the field and the place ----

ERRORS = [
    ("", "message", 1, 1, "expected '(' to open a message, found the end of input"),
    ("inform", "message", 1, 1, "expected '(' to open a message, found 'inform'"),
    (
        "(shout)",
        "performative",
        1,
        2,
        "expected a performative (inform, request, ...), found 'shout'",
    ),
    ("(inform", "message", 1, 8, "expected a parameter (:receiver, :content, ...) or ')'"),
    ("(inform content)", "message", 1, 9, "found 'content'"),
    (
        "(inform :colour red)",
        "colour",
        1,
        9,
        "unknown parameter :colour (user-defined parameters start with :X-)",
    ),
    ("(inform :content a :content b)", "content", 1, 20, "duplicate parameter :content"),
    ("(inform :X-a 1 :x-a 2)", "x-a", 1, 16, "duplicate parameter :x-a"),
    ("(inform :content)", "content", 1, 17, "expected a value, found ')'"),
    ("(inform :content :language x)", "content", 1, 18, "expected a value, found ':language'"),
    ('(inform\n  :content "abc)', "content", 2, 12, "unterminated string"),
    ('(inform :content #5"ab)', "content", 1, 18, "byte-length string wants 5 bytes, 3 remain"),
    ('(inform :content #1"é)', "content", 1, 18, "ends inside a character"),
    ('(inform :content #1234567890123"x)', "content", 1, 18, "13 digits is too long"),
    ("(inform :content (a (b)", "content", 1, 18, "unclosed '(': input ends inside it"),
    (
        "(inform) (inform)",
        "message",
        1,
        10,
        "expected the end of input after the message, found '('",
    ),
    (
        "(inform :receiver b)",
        "receiver",
        1,
        19,
        "expected '(set (agent-identifier ...) ...)', found 'b'",
    ),
    ("(inform :receiver (bag))", "receiver", 1, 20, "expected 'set', found 'bag'"),
    (
        "(inform :receiver (set b))",
        "receiver",
        1,
        24,
        "expected '(agent-identifier ...)' or ')', found 'b'",
    ),
    ("(inform :sender (agent-identifier))", "sender", 1, 18, "agent-identifier without :name"),
    ("(inform :sender (agent-identifier :name a :name b))", "sender", 1, 43, "duplicate :name"),
    (
        "(inform :sender (agent-identifier :nick a))",
        "sender",
        1,
        35,
        "unknown agent-identifier parameter :nick",
    ),
    (
        "(inform :sender (agent-identifier :name (a)))",
        "sender",
        1,
        41,
        "expected an agent name, found '('",
    ),
    (
        "(inform :reply-by soon)",
        "reply_by",
        1,
        19,
        "expected a DateTime like 20261125T101500000Z, found 'soon'",
    ),
    ("(inform :reply-by +00000000T001000000)", "reply_by", 1, 19, "relative time"),
    ("(inform :reply-by 20261125T101500000A)", "reply_by", 1, 19, "time zone 'A' is not supported"),
    ("(inform :reply-by 20261325T101500000Z)", "reply_by", 1, 19, "month must be in 1..12"),
    ("(inform :content x :X-caxton-json content)", "content", 1, 20, "marked as JSON"),
    (
        "(inform :X-caxton-json content)",
        "message",
        1,
        9,
        "names 'content', which this message does not have",
    ),
    ("(inform :language x :X-caxton-json language)", "message", 1, 21, "names 'language'"),
    ('(inform :content "1" :X-caxton-json "content CONTENT")', "message", 1, 22, "twice"),
    ("(inform :X-caxton-json a :X-CAXTON-JSON b)", "message", 1, 26, "duplicate parameter"),
    ("(inform :X-caxton-tracestate a)", "trace", 1, 9, "without :X-caxton-traceparent"),
    ("(inform :X-caxton-message-id a :x-CAXTON-MESSAGE-ID b)", "message_id", 1, 32, "duplicate"),
]


@pytest.mark.parametrize(("text", "field", "line", "column", "words"), ERRORS)
def test_errors_say_where_and_what(
    text: str, field: str, line: int, column: int, words: str
) -> None:
    with pytest.raises(AclSyntaxError) as caught:
        decode_fipa(text)
    error = caught.value
    assert (error.field, error.line, error.column) == (field, line, column), str(error)
    assert words in str(error)
    assert str(error).startswith(f"{field}: at line {line}, column {column}: ")
    assert error.position == len("\n".join(text.splitlines()[: line - 1])) + (line > 1) + column - 1


def test_bad_utf8_is_reported_at_its_byte() -> None:
    with pytest.raises(AclSyntaxError, match=r"column 19: not valid UTF-8 \(byte 18 is 0xff\)"):
        decode_fipa(b'(inform :content "\xff")')


# ---- fuzzing: only InvalidMessage, never a crash, a hang or deep recursion ----

DEADLINE = timedelta(milliseconds=1500)


def decodes_or_refuses(data: str | bytes) -> dict[str, Any] | None:
    """The decoded message, or None when refused: nothing but InvalidMessage may escape."""
    try:
        decoded = decode_fipa(data)
    except InvalidMessage:
        return None
    # Whatever is accepted is a message the encoder can write, and that round trips.
    validate_shape(decoded)
    assert decode_fipa(encode_fipa(decoded)) == decoded
    return decoded


@settings(database=None, max_examples=500, deadline=DEADLINE)
@given(st.text() | st.binary())
def test_random_input_is_refused_cleanly(data: str | bytes) -> None:
    decodes_or_refuses(data)


@settings(database=None, max_examples=300, deadline=DEADLINE)
@given(
    st.lists(
        st.sampled_from(
            [
                "(",
                ")",
                '"',
                "\\",
                '#3"',
                "#",
                ":",
                " ",
                "inform",
                ":content",
                ":receiver",
                "set",
                "agent-identifier",
                ":name",
                "a",
                "X-caxton-json",
                '"content content"',
                "X-a",
                ":X-caxton-json",
                "9",
            ]
        ),
        max_size=60,
    )
)
def test_random_token_soup_is_refused_cleanly(tokens: list[str]) -> None:
    decodes_or_refuses("".join(tokens))


EDITS = st.tuples(
    st.sampled_from(["delete", "insert", "duplicate", "swap"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.text(
        st.sampled_from('()"\\#: a9\nXx-') | st.characters(codec="utf-8"), min_size=1, max_size=4
    ),
)


def mutate(text: str, edits: list[tuple[str, int, int, str]]) -> str:
    for action, first, second, insert in edits:
        if not text:
            return insert
        i, j = sorted((first % (len(text) + 1), second % (len(text) + 1)))
        if action == "delete":
            text = text[:i] + text[j:]
        elif action == "insert":
            text = text[:i] + insert + text[i:]
        elif action == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + text[j:] + text[i:j]
    return text


@settings(
    database=None, max_examples=500, deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow]
)
@given(SHAPED_MESSAGES, STYLES, st.lists(EDITS, min_size=1, max_size=4))
def test_mutated_fipa_is_refused_cleanly_or_round_trips(
    message: dict[str, Any], style: Style, edits: list[tuple[str, int, int, str]]
) -> None:
    decodes_or_refuses(mutate(write_fipa(message, style), edits))


@settings(
    database=None, max_examples=300, deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow]
)
@given(SHAPED_MESSAGES, st.lists(EDITS, min_size=1, max_size=4))
def test_mutated_json_is_refused_cleanly(
    message: dict[str, Any], edits: list[tuple[str, int, int, str]]
) -> None:
    data = mutate(encode_json(message).decode(), edits)
    try:
        decoded = decode_json(data)
        encoded = encode_fipa(decoded)
    except InvalidMessage:
        return
    assert decode_fipa(encoded) == expected(decoded)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 200_000,
        "(inform :content " + "(" * 200_000,
        "(inform :content " + "(" * 200_000 + ")" * 200_000 + ")",
        "(inform :sender " + "(agent-identifier :name a :resolvers (sequence " * 50_000,
        "(inform :X-a " + "((a) " * 100_000,
        "(inform :content " + '"' * 100_001 + ")",
        "(inform :content #" + "9" * 100_000 + '"x)',
        '(inform :X-caxton-json "content" :content "' + "[" * 10_000 + "]" * 10_000 + '")',
        '(inform :X-caxton-json "content" :content "' + '{\\"a\\":' * 200 + "1" + "}" * 200 + '")',
    ],
    ids=lambda text: text[:30],
)
def test_deep_nesting_is_refused_quickly(text: str) -> None:
    began = time.perf_counter()
    with pytest.raises(InvalidMessage):
        decode_fipa(text)
    assert time.perf_counter() - began < 2.0


def test_nesting_up_to_the_limit_is_accepted() -> None:
    depth = MAX_DEPTH - 1  # the message's own parenthesis is the first level
    text = "(inform :content " + "(" * depth + ")" * depth + ")"
    assert decode_fipa(text)["content"] == "(" * depth + ")" * depth
    with pytest.raises(AclSyntaxError, match=f"nested deeper than {MAX_DEPTH} levels"):
        decode_fipa("(inform :content " + "(" * (depth + 1) + ")" * (depth + 1) + ")")


def test_huge_input_is_refused_before_it_is_read() -> None:
    text = "(inform :content " + "a" * DEFAULT_MAX_FIPA_BYTES + ")"
    began = time.perf_counter()
    with pytest.raises(
        InvalidMessage, match=r"^message: too large: \d+ bytes, the limit is 8388608$"
    ):
        decode_fipa(text)
    with pytest.raises(InvalidMessage, match="too large"):
        decode_fipa(text.encode())
    # 40 characters, but 60 bytes.
    with pytest.raises(InvalidMessage, match=r"too large: 60 bytes, the limit is 50"):
        decode_fipa('(inform :content "' + "é" * 20 + '")', max_bytes=50)
    assert time.perf_counter() - began < 1.0


def test_large_messages_within_the_limit_decode_in_linear_time() -> None:
    names = [f"agent-{i}" for i in range(20_000)]
    message = {
        "performative": "inform",
        "receiver": names,
        "content": '"quoted" and \\ ' * 20_000,
        "x-list": list(range(20_000)),
        "x-text": "(a b) " * 20_000,
    }
    text = encode_fipa(message)
    assert len(text) < DEFAULT_MAX_FIPA_BYTES
    began = time.perf_counter()
    assert decode_fipa(text) == message
    assert time.perf_counter() - began < 2.0
