"""The JSON codec: bytes to dict and back, and errors that say what is wrong with the bytes."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fipa_codec import JSON_VALUES, SHAPED_MESSAGES

from caxton.acl import DEFAULT_MAX_BYTES, MAX_DEPTH, decode_json, encode_json
from caxton.errors import AclSyntaxError, ErrorClass, InvalidMessage

SMALL = b'{"performative":"inform","sender":"a","receiver":"b","content":1}'


def test_a_message_decodes_and_encodes_compactly() -> None:
    message = decode_json(SMALL)
    assert message == {"performative": "inform", "sender": "a", "receiver": "b", "content": 1}
    assert encode_json(message) == SMALL


def test_text_bytearray_and_memoryview_decode_alike() -> None:
    expected = decode_json(SMALL)
    assert decode_json(SMALL.decode()) == expected
    assert decode_json(bytearray(SMALL)) == expected
    assert decode_json(memoryview(b"  " + SMALL)[2:]) == expected


def test_pretty_indents_by_two_spaces() -> None:
    assert encode_json({"performative": "inform", "receiver": ["a"]}, pretty=True) == (
        b'{\n  "performative": "inform",\n  "receiver": [\n    "a"\n  ]\n}'
    )


def test_the_decoder_checks_representation_not_rules() -> None:
    # Unknown keys and acts are validate_message's business.
    assert decode_json(b'{"performative":"shout","colour":1}') == {
        "performative": "shout",
        "colour": 1,
    }


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"[1, 2]", "array"),
        (b'"inform"', "string"),
        (b"42", "number"),
        (b"4.5", "number"),
        (b"true", "boolean"),
        (b"null", "null"),
    ],
)
def test_only_an_object_is_a_message(data: bytes, kind: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_json(data)
    assert str(caught.value) == f"message: must be a JSON object, got {kind}"
    assert caught.value.field == "message"
    assert caught.value.error_class is ErrorClass.VALIDATION
    assert not isinstance(caught.value, AclSyntaxError)


@pytest.mark.parametrize(
    ("data", "line", "column", "words"),
    [
        (b"", 1, 1, "empty document"),
        (b'{"performative":"inform"', 1, 25, "unexpected end of data"),
        (b'{"performative":"inform",\n "content": x}', 2, 13, "unexpected character"),
        (b'{"a":1} {"b":2}', 1, 9, "unexpected content after document"),
        (b'{"a":NaN}', 1, 6, ""),
        (b'{"a":1e999}', 1, 6, "infinity"),
        (b"\xef\xbb\xbf{}", 1, 1, "byte order mark"),
    ],
)
def test_syntax_errors_say_where(data: bytes, line: int, column: int, words: str) -> None:
    with pytest.raises(AclSyntaxError) as caught:
        decode_json(data)
    error = caught.value
    assert (error.field, error.line, error.column) == ("message", line, column), str(error)
    assert str(error).startswith(f"message: at line {line}, column {column}: ")
    assert words in str(error)


def test_bad_utf8_is_reported_at_its_byte_not_at_the_start() -> None:
    with pytest.raises(AclSyntaxError) as caught:
        decode_json(b'{"content":\n "caf\xc3\xa9 \xff"}')
    error = caught.value
    assert str(error) == "message: at line 2, column 8: not valid UTF-8 (byte 20 is 0xff)"
    assert error.position == 20 - 1  # "é" is two bytes but one character


def test_too_large_is_refused_before_parsing() -> None:
    data = b'{"content":"' + b"x" * DEFAULT_MAX_BYTES + b'"}'
    began = time.perf_counter()
    with pytest.raises(InvalidMessage) as caught:
        decode_json(data)
    assert time.perf_counter() - began < 0.1
    assert str(caught.value) == (
        f"message: too large: {len(data)} bytes, the limit is {DEFAULT_MAX_BYTES}"
    )
    assert decode_json(data, max_bytes=None)["content"] == "x" * DEFAULT_MAX_BYTES
    with pytest.raises(InvalidMessage, match=r"too large: 8 bytes, the limit is 7"):
        decode_json(b'{"a":""}', max_bytes=7)
    # Text is measured in UTF-8 bytes, not characters.
    with pytest.raises(InvalidMessage, match=r"too large: 12 bytes, the limit is 10"):
        decode_json('{"a":"éé"}', max_bytes=10)


def nested(depth: int) -> bytes:
    """A message whose content nests `depth` containers (the message itself is one more)."""
    inner = b"[" * (depth // 2) + b'{"k":' * (depth - depth // 2)
    inner += b"1" + b"}" * (depth - depth // 2) + b"]" * (depth // 2)
    return b'{"performative":"inform","content":' + inner + b"}"


def test_nesting_up_to_the_limit_is_accepted_and_beyond_it_refused() -> None:
    assert decode_json(nested(MAX_DEPTH - 1))["performative"] == "inform"
    with pytest.raises(InvalidMessage) as caught:
        decode_json(nested(MAX_DEPTH))
    assert str(caught.value) == (
        f"content: nested deeper than {MAX_DEPTH} levels (counting the message itself)"
    )
    assert decode_json(b'{"x-a":[[1]],"b":2}', max_depth=3)["x-a"] == [[1]]
    with pytest.raises(InvalidMessage, match=r"^x-a: nested deeper than 3 levels"):
        decode_json(b'{"b":2,"x-a":[[[1]]]}', max_depth=3)
    # Brackets inside strings are not nesting.
    assert decode_json(b'{"content":"' + b"[" * 500 + b'"}')["content"] == "[" * 500


def test_orjsons_own_depth_limit_is_an_error_too() -> None:
    began = time.perf_counter()
    with pytest.raises(AclSyntaxError, match="depth limit exceeded"):
        decode_json(b"[" * 100_000 + b"]" * 100_000)
    assert time.perf_counter() - began < 0.5


def test_whatever_decodes_encodes_again() -> None:
    # orjson refuses to encode past 254 levels: the limit keeps decode and encode in step.
    message = decode_json(nested(MAX_DEPTH - 1))
    assert decode_json(encode_json(message)) == message


def test_what_json_cannot_hold_is_refused_on_encoding() -> None:
    with pytest.raises(InvalidMessage, match=r"^message: not representable as JSON: "):
        encode_json({"performative": "inform", "content": {1, 2}})
    with pytest.raises(InvalidMessage, match="64-bit"):
        encode_json({"performative": "inform", "content": 2**64})
    with pytest.raises(InvalidMessage, match="surrogates"):
        encode_json({"performative": "inform", "content": "\ud800"})


@settings(database=None, max_examples=300)
@given(SHAPED_MESSAGES)
def test_messages_round_trip(message: dict[str, Any]) -> None:
    assert decode_json(encode_json(message)) == message
    assert decode_json(encode_json(message, pretty=True)) == message
    assert encode_json(decode_json(encode_json(message))) == encode_json(message)


@settings(database=None, max_examples=300)
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_any_json_object_round_trips(value: dict[str, Any]) -> None:
    assert decode_json(orjson.dumps(value)) == value


@settings(database=None, max_examples=500, deadline=timedelta(milliseconds=500))
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_input_raises_only_invalid_message(data: bytes | str) -> None:
    try:
        message = decode_json(data)
    except InvalidMessage:
        return
    assert isinstance(message, dict)
    assert decode_json(encode_json(message)) == message
