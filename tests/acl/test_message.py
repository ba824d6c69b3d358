"""`AclMessage`: the typed form of a message, and its conversions."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from test_fipa_codec import SHAPED_MESSAGES, VALID_MESSAGES, expected

from caxton.acl import ABSENT, AclMessage
from caxton.errors import InvalidMessage

FIELDS = [
    "performative",
    "sender",
    "receiver",
    "reply_to",
    "content",
    "language",
    "encoding",
    "ontology",
    "protocol",
    "conversation_id",
    "reply_with",
    "in_reply_to",
    "reply_by",
    "message_id",
    "trace",
    "user",
]


def test_it_has_the_13_fipa_parameters_and_caxtons_own() -> None:
    assert [f.name for f in dataclasses.fields(AclMessage)] == FIELDS


def test_from_dict_reads_every_field() -> None:
    message = AclMessage.from_dict(
        {
            "performative": "request",
            "sender": "a",
            "receiver": ["b", "c"],
            "reply_to": "a",
            "content": {"do": "it"},
            "language": "json",
            "encoding": "utf-8",
            "ontology": "o",
            "protocol": "fipa-request",
            "conversation_id": "c1",
            "reply_with": "r1",
            "in_reply_to": "r0",
            "reply_by": "2026-11-25T10:15:00Z",
            "message_id": "m1",
            "trace": {"traceparent": "00-1-2-01"},
            "x-priority": 3,
        }
    )
    assert message.performative == "request"
    assert message.receiver == ("b", "c")
    assert message.receivers == ("b", "c")
    assert message.reply_to == "a"
    assert message.content == {"do": "it"}
    assert message.conversation_id == "c1"
    assert message.reply_by == "2026-11-25T10:15:00Z"
    assert message.trace == {"traceparent": "00-1-2-01"}
    assert message.user == {"x-priority": 3}


def test_absent_content_differs_from_null_content() -> None:
    without = AclMessage.from_dict({"performative": "inform"})
    null = AclMessage.from_dict({"performative": "inform", "content": None})
    assert without.content is ABSENT
    assert null.content is None
    assert without != null
    assert without.to_dict() == {"performative": "inform"}
    assert null.to_dict() == {"performative": "inform", "content": None}
    assert repr(ABSENT) == "ABSENT"


def test_the_receivers_shape_is_kept() -> None:
    one = AclMessage.from_dict({"performative": "inform", "receiver": "b"})
    listed = AclMessage.from_dict({"performative": "inform", "receiver": ["b"]})
    assert one.receivers == listed.receivers == ("b",)
    assert one.to_dict()["receiver"] == "b"
    assert listed.to_dict()["receiver"] == ["b"]
    assert AclMessage("inform").receivers == ()


def test_it_is_immutable_and_does_not_share_the_callers_containers() -> None:
    source: dict[str, Any] = {"performative": "inform", "receiver": ["b"], "x-a": 1}
    message = AclMessage.from_dict(source)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.performative = "agree"  # type: ignore[misc]  # frozen: must raise
    with pytest.raises(TypeError):
        message.user["x-b"] = 2  # type: ignore[index]  # read-only: must raise
    source["receiver"].append("c")
    source["x-a"] = 5
    assert message.receiver == ("b",)
    assert message.user == {"x-a": 1}


def test_user_parameters_must_start_with_x() -> None:
    with pytest.raises(InvalidMessage, match=r"^colour: user-defined parameters start with 'x-'"):
        AclMessage("inform", user={"colour": "red"})
    with pytest.raises(InvalidMessage, match=r"^performative: "):
        AclMessage("inform", user={"performative": "agree"})


def test_from_dict_refuses_a_wrong_shape() -> None:
    with pytest.raises(InvalidMessage, match=r"^receiver: 5 is not a string"):
        AclMessage.from_dict({"performative": "inform", "receiver": 5})
    with pytest.raises(InvalidMessage, match=r"^colour: unknown parameter"):
        AclMessage.from_dict({"performative": "inform", "colour": 1})
    with pytest.raises(InvalidMessage, match=r"^message: must be a JSON object, got array"):
        AclMessage.from_dict([])  # type: ignore[arg-type]  # wrong on purpose


def test_validate_applies_abi_rules_that_the_shape_does_not() -> None:
    jade = AclMessage.from_dict({"performative": "inform", "receiver": "b@host:1099/JADE"})
    with pytest.raises(InvalidMessage, match=r"^receiver: 'b@host:1099/JADE' is not an agent"):
        jade.validate()
    AclMessage("inform").validate(require_receiver=False)
    with pytest.raises(InvalidMessage, match=r"^receiver: required"):
        AclMessage("inform").validate()
    with pytest.raises(InvalidMessage, match="too large"):
        AclMessage("inform", receiver="b", content="x" * 100).validate(max_bytes=64)


def test_json_and_fipa_conversions() -> None:
    message = AclMessage("request", sender="a", receiver=("b",), content=[1, "two"])
    assert AclMessage.from_json(message.to_json()) == message
    assert AclMessage.from_json(message.to_json(pretty=True).decode()) == message
    assert AclMessage.from_fipa(message.to_fipa()) == message
    assert AclMessage.from_fipa(message.to_fipa(pretty=True).encode()) == message
    assert message.to_fipa() == (
        "(request :sender (agent-identifier :name a) :receiver (set (agent-identifier :name b))"
        ' :content "[1,\\"two\\"]" :X-caxton-json "receiver content")'
    )


@settings(database=None, max_examples=300)
@given(SHAPED_MESSAGES)
def test_dict_round_trip_is_exact(message: dict[str, Any]) -> None:
    typed = AclMessage.from_dict(message)
    assert typed.to_dict() == message
    assert AclMessage.from_dict(typed.to_dict()) == typed
    assert AclMessage.from_json(typed.to_json()) == typed
    assert AclMessage.from_fipa(typed.to_fipa()).to_dict() == expected(message)


@settings(database=None, max_examples=200)
@given(VALID_MESSAGES)
def test_valid_messages_stay_valid(message: dict[str, Any]) -> None:
    AclMessage.from_dict(message).validate()
