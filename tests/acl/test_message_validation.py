"""Message validation: every rule, with errors that name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fipa_codec import JSON_VALUES, VALID_MESSAGES

from caxton.acl import (
    MAX_DEPTH,
    parse_rfc3339,
    validate_message,
    validate_outbound,
    validate_shape,
)
from caxton.errors import CaxtonError, ErrorClass, InvalidMessage

NAME_RULE = "(1-63 of a-z 0-9 -, starting a-z)"
# Not JSON, but a Python caller can build it.
INT_KEY: dict[Any, Any] = {"performative": "inform", "receiver": "b", 7: "seven"}


def msg(**fields: Any) -> dict[str, Any]:
    return {"performative": "inform", "receiver": "b", **fields}


def refused(message: object, **options: Any) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        validate_message(message, **options)  # type: ignore[arg-type]
    return caught.value


# ---- validate_message ----


def test_a_full_valid_message_passes() -> None:
    validate_message(
        {
            "performative": "cfp",
            "sender": "initiator",
            "receiver": ["p1", "p-2"],
            "reply_to": "initiator",
            "content": {"task": [1, 2.5, None, True]},
            "language": "json",
            "encoding": "utf-8",
            "ontology": "tasks",
            "protocol": "fipa-contract-net",
            "conversation_id": "c-1",
            "reply_with": "cfp-1",
            "in_reply_to": "x",
            "reply_by": "2026-11-25T10:15:00.250+01:00",
            "message_id": "m-1",
            "trace": {"traceparent": "00-4bf92f35-00f067aa-01", "tracestate": "k=v"},
            "x-anything": [{"at": "all"}],
        }
    )


@pytest.mark.parametrize(
    ("message", "field", "text"),
    [
        ({"receiver": "b"}, "performative", "performative: required"),
        (msg(performative="shout"), "performative", "performative: unknown act 'shout'"),
        (msg(performative="INFORM"), "performative", "performative: unknown act 'INFORM'"),
        (msg(performative=["inform"]), "performative", "performative: unknown act ['inform']"),
        ({"performative": "inform"}, "receiver", "receiver: required"),
        (msg(receiver=[]), "receiver", "receiver: must name at least one agent"),
        (msg(receiver="Bob"), "receiver", f"receiver: 'Bob' is not an agent name {NAME_RULE}"),
        (
            msg(receiver=["b", "a@h"]),
            "receiver",
            f"receiver: 'a@h' is not an agent name {NAME_RULE}",
        ),
        (msg(receiver="a" * 64), "receiver", f"receiver: '{'a' * 64}' is not an agent name"),
        (msg(receiver="1a"), "receiver", "receiver: '1a' is not an agent name"),
        (msg(receiver=None), "receiver", f"receiver: None is not an agent name {NAME_RULE}"),
        (msg(reply_to=["ok", 7]), "reply_to", f"reply_to: 7 is not an agent name {NAME_RULE}"),
        (msg(reply_to=[]), "reply_to", "reply_to: must name at least one agent"),
        (msg(sender="Alice"), "sender", f"sender: 'Alice' is not an agent name {NAME_RULE}"),
        (msg(language=1), "language", "language: must be a string"),
        (msg(encoding=None), "encoding", "encoding: must be a string"),
        (msg(ontology=[]), "ontology", "ontology: must be a string"),
        (msg(protocol={}), "protocol", "protocol: must be a string"),
        (msg(conversation_id=1.5), "conversation_id", "conversation_id: must be a string"),
        (msg(reply_with=True), "reply_with", "reply_with: must be a string"),
        (msg(in_reply_to=0), "in_reply_to", "in_reply_to: must be a string"),
        (msg(message_id=5), "message_id", "message_id: must be a string"),
        (msg(trace="00-ab"), "trace", "trace: must be an object with a traceparent"),
        (msg(trace={}), "trace", "trace: traceparent: required"),
        (msg(trace={"traceparent": 1}), "trace", "trace: traceparent: must be a string"),
        (
            msg(trace={"traceparent": "t", "baggage": "b"}),
            "trace",
            "trace: 'baggage': unknown key (traceparent and tracestate only)",
        ),
        (
            msg(colour="red"),
            "colour",
            "colour: unknown parameter (user-defined parameters start with 'x-')",
        ),
        (msg(**{"X-big": 1}), "X-big", "X-big: unknown parameter"),
        (INT_KEY, "7", "7: unknown parameter"),
        (
            msg(reply_by="soon"),
            "reply_by",
            "reply_by: must be an RFC 3339 timestamp with a time zone, got 'soon'",
        ),
    ],
)
def test_each_rule_names_its_field(message: dict[str, Any], field: str, text: str) -> None:
    error = refused(message)
    assert error.field == field
    assert str(error).startswith(text), str(error)
    assert error.error_class is ErrorClass.VALIDATION
    assert isinstance(error, CaxtonError)


def test_receiver_is_optional_when_not_asked_for() -> None:
    validate_message({"performative": "inform"}, require_receiver=False)
    # ...but a receiver that is there must still be right.
    assert refused({"performative": "inform", "receiver": "B"}, require_receiver=False).field == (
        "receiver"
    )


def test_user_defined_parameters_hold_anything() -> None:
    validate_message(msg(**{"x-": None, "x-a b": [1, {"k": "v"}], "x-Ü": "ü"}))


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-25T10:15:00Z",
        "2026-11-25t10:15:00z",
        "2026-11-25 10:15:00Z",
        "2026-11-25T10:15:00.5Z",
        "2026-11-25T10:15:00.123456789+05:30",
        "2026-11-25T10:15:00-00:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
    ],
)
def test_rfc3339_timestamps_with_a_zone_are_accepted(stamp: str) -> None:
    validate_message(msg(reply_by=stamp))


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-25T10:15:00",  # no zone
        "2026-11-25",
        "20261125T101500Z",  # ISO 8601 basic format, not RFC 3339
        "2026-11-25T10:15Z",
        "2026-11-25T10:15:00+0100",
        "2026-11-25T10:15:00+01",
        "2026-11-25T10:15:00.Z",
        "2026-11-25T10:15:60Z",  # a leap second: datetime cannot hold it
        "2026-02-30T10:15:00Z",
        "2026-11-25T10:15:00+24:00",
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "２０２６-11-25T10:15:00Z",  # noqa: RUF001 - fullwidth digits are not digits here
        1764065700,
    ],
)
def test_other_timestamps_are_refused(stamp: object) -> None:
    error = refused(msg(reply_by=stamp))
    assert error.field == "reply_by"
    assert f"got {stamp!r}" in str(error)


def test_parse_rfc3339_gives_the_instant_in_utc() -> None:
    assert parse_rfc3339("2026-11-25T11:15:00.5+01:00") == datetime(
        2026, 11, 25, 10, 15, 0, 500_000, tzinfo=UTC
    )
    assert parse_rfc3339("2026-11-25T10:15:00") is None
    assert parse_rfc3339(None) is None


def test_the_size_limit_counts_compact_json_bytes() -> None:
    message = msg(content="é" * 10)
    size = len(orjson.dumps(message))
    validate_message(message, max_bytes=size)
    error = refused(message, max_bytes=size - 1)
    assert str(error) == f"message: too large: {size} bytes, the limit is {size - 1}"


def test_nesting_is_limited() -> None:
    content: Any = 1
    for _ in range(MAX_DEPTH - 1):
        content = [content]
    validate_message(msg(content=content))
    error = refused(msg(content=[content]))
    assert str(error) == (
        f"content: nested deeper than {MAX_DEPTH} levels (counting the message itself)"
    )
    assert refused(msg(**{"x-deep": {"a": [content]}})).field == "x-deep"


@pytest.mark.parametrize(("value", "kind"), [([], "array"), ("inform", "string"), (None, "null")])
def test_only_an_object_is_a_message(value: object, kind: str) -> None:
    assert str(refused(value)) == f"message: must be a JSON object, got {kind}"
    with pytest.raises(InvalidMessage, match=f"got {kind}"):
        validate_shape(value)  # type: ignore[arg-type]


# ---- validate_shape: any string is a name ----


def test_the_shape_accepts_foreign_names_and_no_receiver() -> None:
    validate_shape(
        {
            "performative": "inform",
            "sender": "buyer@host:1099/JADE",
            "receiver": [],
            "reply_to": "Not A Dns Label",
        }
    )
    validate_shape({"performative": "inform"})


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ({"performative": "INFORM"}, "performative: unknown act 'INFORM'"),
        ({"performative": "inform", "receiver": ["a", 1]}, "receiver: 1 is not a string"),
        ({"performative": "inform", "sender": ["a"]}, "sender: ['a'] is not a string"),
        ({"performative": "inform", "trace": {"tracestate": "x"}}, "trace: traceparent: required"),
        ({"performative": "inform", "reply_by": "tomorrow"}, "reply_by: must be an RFC 3339"),
        ({"performative": "inform", "to": "b"}, "to: unknown parameter"),
    ],
)
def test_the_shape_still_checks_types_and_keys(message: dict[str, Any], text: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        validate_shape(message)
    assert str(caught.value).startswith(text)


# ---- validate_outbound: the hot path's view ----


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"performative": "inform", "receiver": "bob"}, None),
        ({"performative": "inform"}, "receiver: required"),
        ({"performative": "shout", "receiver": "bob"}, "performative: unknown act 'shout'"),
        (
            {"performative": "inform", "receiver": "Bob!"},
            f"receiver: 'Bob!' is not an agent name {NAME_RULE}",
        ),
        (
            {"performative": "inform", "receiver": "b", "colour": 1},
            "colour: unknown parameter (user-defined parameters start with 'x-')",
        ),
        (
            {"performative": "inform", "receiver": "b", "reply_by": "soon"},
            "reply_by: must be an RFC 3339 timestamp with a time zone, got 'soon'",
        ),
        ({"performative": {}, "receiver": "b"}, "performative: unknown act {}"),
        (
            {"performative": "inform", "receiver": "b", 3: 1},
            "3: unknown parameter (user-defined parameters start with 'x-')",
        ),
    ],
)
def test_outbound_returns_the_problem_as_text(message: dict[str, Any], problem: str | None) -> None:
    assert validate_outbound(message) == problem


def test_outbound_ignores_the_fields_the_host_overwrites() -> None:
    forged = msg(sender="Not Me", message_id=5, trace="forged")
    assert validate_outbound(forged) is None
    assert refused(forged).field == "sender"


@settings(database=None, max_examples=300)
@given(VALID_MESSAGES)
def test_valid_messages_pass_every_check(message: dict[str, Any]) -> None:
    validate_message(message)
    validate_shape(message)
    assert validate_outbound(message) is None


PERTURBATIONS = st.tuples(
    st.sampled_from(
        [
            "performative",
            "receiver",
            "reply_to",
            "sender",
            "content",
            "language",
            "protocol",
            "reply_by",
            "message_id",
            "trace",
            "x-n",
            "colour",
        ]
    ),
    JSON_VALUES | st.sampled_from(["Bob", "inform", "b", "2026-11-25T10:15:00Z", ""]),
)


@settings(database=None, max_examples=500)
@given(VALID_MESSAGES, st.lists(PERTURBATIONS, min_size=1, max_size=3))
def test_outbound_and_message_validation_agree(
    message: dict[str, Any], changes: list[tuple[str, Any]]
) -> None:
    for key, value in changes:
        message[key] = value
    outbound = validate_outbound(message)
    agent_written = {k: v for k, v in message.items() if k not in ("sender", "message_id", "trace")}
    if outbound is None:
        validate_message(agent_written)
    else:
        with pytest.raises(InvalidMessage) as caught:
            validate_message(agent_written)
        assert str(caught.value) == outbound
