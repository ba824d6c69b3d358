"""`caxton message send|list` and `caxton conversation show` against a real server."""

from __future__ import annotations

from pathlib import Path

import orjson

from caxton.api.types import AclMessage, ConversationView, MessageList, SendResult
from live import Follower, Live, caxton, decode_as

FIPA_REQUEST = (
    '(request :receiver (set (agent-identifier :name pong)) :content "{\\"ping\\":5}"'
    ' :conversation-id fipa-1 :X-caxton-json "content")'
)


def invoke(live: Live, agent: str, content: object) -> str:
    """A request answered before this returns (so both are in history); its conversation."""
    response = live.post(f"/agents/{agent}/invoke", json={"content": content})
    assert response.status_code == 200, response.text
    conversation: str = response.json()["conversation_id"]
    return conversation


def history(live: Live, conversation: str) -> list[dict[str, object]]:
    items = live.get("/messages", params={"conversation": conversation}).json()["items"]
    return [item["message"] for item in items]


# ---- send ----


def test_send_builds_a_message_from_its_options(live: Live) -> None:
    result = caxton(
        live, "message", "send", "--to", "pong", "--performative", "query-ref",
        "--content", '{"q": [1, 2]}', "--conversation", "conv-1", "--protocol", "fipa-query",
        "--from", "tester",
        output="json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = decode_as(SendResult, result.stdout)
    assert sent.conversation_id == "conv-1"

    [message, *_] = history(live, "conv-1")
    assert message["message_id"] == sent.message_id
    assert message["performative"] == "query-ref"
    assert message["receiver"] == "pong"  # which ignores it: nothing to answer "tester"
    assert message["sender"] == "tester"
    assert message["content"] == {"q": [1, 2]}
    assert message["protocol"] == "fipa-query"


def test_send_says_what_it_sent_to_people(live: Live) -> None:
    result = caxton(live, "message", "send", "--to", "echo", "--content", '"hello"')
    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    assert words[0] == "sent"
    assert words[2] == "(conversation"
    assert history(live, words[3].rstrip(")"))[0]["content"] == "hello"


def test_send_fipa_text_a_file_or_stdin(live: Live, tmp_path: Path) -> None:
    fipa = caxton(live, "message", "send", "--fipa", FIPA_REQUEST, output="json")
    assert fipa.exit_code == 0, fipa.output
    assert decode_as(SendResult, fipa.stdout).conversation_id == "fipa-1"
    assert history(live, "fipa-1")[0]["content"] == {"ping": 5}

    as_json = tmp_path / "message.json"
    as_json.write_bytes(
        orjson.dumps({"performative": "inform", "receiver": "echo", "conversation_id": "file-1"})
    )
    assert caxton(live, "message", "send", "--file", str(as_json)).exit_code == 0
    assert history(live, "file-1")[0]["performative"] == "inform"

    as_fipa = FIPA_REQUEST.replace("fipa-1", "stdin-1").encode()
    assert caxton(live, "message", "send", "--file", "-", stdin=b"\n  " + as_fipa).exit_code == 0
    assert history(live, "stdin-1")[0]["receiver"] == "pong"


def test_send_refusals_exit_2_and_name_the_problem(live: Live) -> None:
    bad_act = caxton(live, "message", "send", "--to", "echo", "--performative", "shout")
    assert bad_act.exit_code == 2
    assert "[invalid-message]" in bad_act.stderr
    assert "performative" in bad_act.stderr

    malformed = caxton(live, "message", "send", "--fipa", "(inform :receiver")
    assert malformed.exit_code == 2
    assert "[malformed-message]" in malformed.stderr

    not_json = caxton(live, "message", "send", "--to", "echo", "--content", "hello")
    assert not_json.exit_code == 2
    assert "--content" in not_json.stderr
    assert "JSON quotes" in not_json.stderr

    nobody = caxton(live, "message", "send", "--content", "1")
    assert nobody.exit_code == 2
    assert "--to" in nobody.stderr

    both = caxton(live, "message", "send", "--fipa", FIPA_REQUEST, "--to", "echo")
    assert both.exit_code == 2
    assert "drop --to" in both.stderr


# ---- list ----


def test_list_shows_recent_messages_filtered(live: Live) -> None:
    first = invoke(live, "echo", {"n": 1})
    invoke(live, "pong", {"ping": 2})

    table = caxton(live, "message", "list", "--conversation", first)
    assert table.exit_code == 0, table.output
    header, _rule, *rows = table.stdout.splitlines()
    columns = ["SEQ", "TIME", "PERFORMATIVE", "FROM", "TO", "CONVERSATION", "CONTENT"]
    assert header.split() == columns
    assert [row.split()[3:6] for row in rows] == [
        ["request", "gateway", "echo"],
        ["inform", "echo", "gateway"],
    ]
    assert all(row.split()[-1] == '{"n":1}' for row in rows)

    page = decode_as(
        MessageList, caxton(live, "message", "list", "--agent", "pong", output="json").stdout
    )
    assert [record.message["content"] for record in page.items] == [{"ping": 2}, {"pong": 2}]
    assert page.last_seq >= page.items[-1].seq

    newest = decode_as(
        MessageList, caxton(live, "message", "list", "--limit", "1", output="json").stdout
    )
    assert [record.message["content"] for record in newest.items] == [{"pong": 2}]


def test_list_follow_prints_messages_routed_after_it_started(live: Live) -> None:
    invoke(live, "pong", {"ping": 1})
    args = ["--url", live.url, "-o", "json", "message", "list", "--agent", "pong", "--follow"]
    with Follower(args) as follower:
        # The recent history comes first; what is routed after it follows.
        follower.expect(lambda line: '"pong":1' in line)
        invoke(live, "echo", "not for pong")
        invoke(live, "pong", {"ping": 9})
        request = decode_as(AclMessage, follower.expect(lambda line: '"ping":9' in line))
        reply = decode_as(AclMessage, follower.next())
        code, stderr = follower.interrupt()
    assert not [line for line in follower.seen if "not for pong" in line]
    assert (request.performative, request.receiver) == ("request", "pong")
    assert (reply.performative, reply.sender, reply.content) == ("inform", "pong", {"pong": 9})
    assert code == 0, stderr


# ---- conversation show ----


def test_conversation_show(live: Live) -> None:
    conversation = invoke(live, "echo", "hi")
    table = caxton(live, "conversation", "show", conversation)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["conversation", conversation]
    assert lines[2].split() == ["protocol", "fipa-request"]
    assert lines[4].split() == ["participants", "echo"]
    assert [line.split()[3:6] for line in lines[-2:]] == [
        ["request", "gateway", "echo"],
        ["inform", "echo", "gateway"],
    ]

    view = decode_as(
        ConversationView, caxton(live, "conversation", "show", conversation, output="json").stdout
    )
    assert view.id == conversation
    assert [record.message["performative"] for record in view.messages] == ["request", "inform"]

    unknown = caxton(live, "conversation", "show", "no-such-conversation")
    assert unknown.exit_code == 4
    assert "[conversation-not-found]" in unknown.stderr
