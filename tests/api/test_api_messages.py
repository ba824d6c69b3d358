"""/api/v1/messages, /conversations and /dead-letters over a real socket, with real agents.

Messages sent here come from `gateway` (the default sender): the example echo
answers whoever sent a message, and the gateway takes answers it is not
waiting for quietly.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from live import Live

FIPA = {"content-type": "application/fipa-acl"}
STREAM_DEADLINE_S = 20.0


def settle(live: Live) -> None:
    """Wait until every mailbox is empty and no agent is in a turn."""
    assert live.server.dispatcher.wait_idle(10)


def messages(live: Live, **query: str) -> list[dict[str, Any]]:
    response = live.get("/messages", params=query)
    assert response.status_code == 200, response.text
    return [record["message"] for record in response.json()["items"]]


def test_a_json_message_is_routed_and_answered(live: Live) -> None:
    sent = live.post(
        "/messages",
        json={
            "performative": "request",
            "receiver": "echo",
            "content": {"n": 7},
            "conversation_id": "conv-json",
            "reply_with": "r-1",
        },
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["conversation_id"] == "conv-json"
    settle(live)
    request, answer = messages(live, conversation="conv-json")
    assert request["message_id"] == sent.json()["message_id"]
    assert (request["sender"], request["receiver"]) == ("gateway", "echo")
    assert (answer["performative"], answer["sender"], answer["receiver"]) == (
        "inform",
        "echo",
        "gateway",
    )
    assert (answer["content"], answer["in_reply_to"]) == ({"n": 7}, "r-1")


def test_a_fipa_message_is_routed_as_its_json_form(live: Live) -> None:
    text = (
        b'(request :receiver (set (agent-identifier :name echo)) :content "hello fipa"'
        b" :conversation-id conv-fipa :protocol fipa-request)"
    )
    sent = live.post("/messages", content=text, headers=FIPA)
    assert sent.status_code == 202, sent.text
    assert sent.json()["conversation_id"] == "conv-fipa"
    settle(live)
    request, answer = messages(live, conversation="conv-fipa")
    assert (request["performative"], request["receiver"], request["protocol"]) == (
        "request",
        "echo",
        "fipa-request",
    )
    assert request["content"] == "hello fipa"
    assert (answer["sender"], answer["content"]) == ("echo", "hello fipa")


def test_the_list_filters_by_agent_and_conversation(live: Live) -> None:
    kick = live.post("/messages", json={"performative": "request", "receiver": "ping"})
    assert kick.status_code == 202
    live.post("/agents/echo/invoke", json={"content": "unrelated"})
    settle(live)

    with_pong = messages(live, agent="pong")
    assert len(with_pong) == 6  # three rounds, a request and an answer each
    assert all("pong" in (m["sender"], m["receiver"]) for m in with_pong)
    assert [m["performative"] for m in with_pong[:2]] == ["request", "inform"]
    assert all(m["sender"] != "echo" and m["receiver"] != "echo" for m in with_pong)

    rally = with_pong[0]["conversation_id"]
    in_rally = messages(live, conversation=rally)
    assert in_rally == with_pong  # ping and pong talk in one conversation
    assert messages(live, agent="echo", conversation=rally) == []

    everything = live.get("/messages").json()
    newest = everything["items"][-1]["seq"]
    assert everything["last_seq"] == newest
    assert messages(live, after=str(newest)) == []
    assert len(messages(live, limit="2")) == 2


def test_a_conversation_shows_its_participants_and_messages(live: Live) -> None:
    answer = live.post("/agents/echo/invoke", json={"content": "c"})
    conversation_id = answer.json()["conversation_id"]
    settle(live)
    response = live.get(f"/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["id"] == conversation_id
    assert (view["initiator"], view["protocol"]) == ("gateway", "fipa-request")
    assert "echo" in view["participants"]
    assert [m["message"]["performative"] for m in view["messages"]] == ["request", "inform"]
    assert view["started"] <= view["last_activity"]

    unknown = live.get("/conversations/no-such-conversation")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "conversation-not-found"


def test_a_message_to_an_unknown_agent_becomes_a_dead_letter(live: Live) -> None:
    assert live.get("/dead-letters").json()["items"] == []
    sent = live.post("/messages", json={"performative": "inform", "receiver": "nobody"})
    assert sent.status_code == 202, sent.text
    [letter] = live.get("/dead-letters").json()["items"]
    assert letter["receiver"] == "nobody"
    assert letter["reason"] == "no agent named 'nobody'"
    assert letter["message"]["message_id"] == sent.json()["message_id"]


def test_followed_messages_stream_a_conversation_as_it_happens(live: Live) -> None:
    query = {"follow": "true", "conversation": "conv-live"}
    with live.client.stream("GET", "/messages", params=query) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        live.post("/messages", json={"performative": "inform", "receiver": "ping"})  # filtered out
        sent = live.post(
            "/messages",
            json={
                "performative": "request",
                "receiver": "echo",
                "content": 1,
                "conversation_id": "conv-live",
            },
        )
        assert sent.status_code == 202
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + STREAM_DEADLINE_S
        for line in stream.iter_lines():
            assert time.monotonic() < deadline, f"only {events} in time"
            if line.startswith("data: "):
                events.append(orjson.loads(line.removeprefix("data: ")))
                if len(events) == 2:
                    break
    assert [(e["sender"], e["performative"]) for e in events] == [
        ("gateway", "request"),
        ("echo", "inform"),
    ]
    assert events[0]["message_id"] == sent.json()["message_id"]
