"""Answers threaded to the message they answer (FIPA SC00061G, message parameters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def reply(
    message: Mapping[str, Any], performative: str, sender: str, receiver: str
) -> dict[str, Any]:
    """An answer to `message`: its conversation and protocol, `in_reply_to` its `reply_with`.

    Only string values are carried over, so `message` may be anything an agent sent.
    """
    answer: dict[str, Any] = {"performative": performative, "sender": sender, "receiver": receiver}
    for key in ("conversation_id", "protocol"):
        value = message.get(key)
        if isinstance(value, str):
            answer[key] = value
    reply_with = message.get("reply_with")
    if isinstance(reply_with, str):
        answer["in_reply_to"] = reply_with
    return answer
