"""The Rust SDK (src/caxton/sdk/rust), through agents built from source.

The example agents of examples/agents/rust are compiled once per session by
their Makefile (rustc alone, the wasm32-wasi target that
scripts/toolchains/rust installs), then driven with caxton.testing. The
SDK's own unit tests and documentation examples run natively with the same
rustc. A missing toolchain is an error, not a skip: these tests are the
proof that agents written in Rust work.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
import wasmtime

from caxton.errors import AgentInitFailed
from caxton.scaffold import new_project
from caxton.testing import Agent, Harness, ToolFailure

ROOT: Final = Path(__file__).resolve().parents[2]
SDK: Final = ROOT / "src" / "caxton" / "sdk" / "rust"
EXAMPLES: Final = ROOT / "examples" / "agents" / "rust"
AGENTS: Final = ("echo", "ping", "pong", "cnet_participant", "cnet_initiator", "sdk_probe")
INSTALL_HINT: Final = "run scripts/toolchains/rust (Debian: rustc libstd-rust-dev-wasm32 lld-14)"
BUILD_TIMEOUT_S: Final = 300.0
CNET: Final = "fipa-contract-net"

Message = dict[str, Any]


def run(command: list[str], cwd: Path | None = None) -> str:
    """Runs `command`; its output, or RuntimeError with the output and an install hint."""
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"could not run {' '.join(command)}: {error}; {INSTALL_HINT}") from error
    if result.returncode != 0:
        raise RuntimeError(
            f"$ {' '.join(command)} failed (exit {result.returncode}):\n"
            f"{result.stdout.strip()}\n{result.stderr.strip()}\n{INSTALL_HINT}"
        )
    return result.stdout


def find_rustc() -> tuple[str, str]:
    """The rustc the SDK's Makefiles pick, and its wasm32 WASI target name."""
    found = subprocess.run(
        ["sh", str(SDK / "find-rustc")], capture_output=True, text=True, check=False
    ).stdout.split()
    if len(found) != 2:
        raise RuntimeError(f"no rustc with the wasm32-wasi standard library: {INSTALL_HINT}")
    return found[0], found[1]


@pytest.fixture(scope="session")
def wasm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example agent, compiled from source into one directory for the session."""
    if shutil.which("make") is None:
        raise RuntimeError(f"make is not installed: {INSTALL_HINT}")
    out = tmp_path_factory.mktemp("rust")
    run(["make", "-C", str(EXAMPLES), "-j2", f"BUILD={out}"])
    return {name: out / f"{name}.wasm" for name in AGENTS}


def without(messages: list[Message], *keys: str) -> list[Message]:
    """Messages without `message_id` (random) and `keys`."""
    dropped = {"message_id", *keys}
    return [{k: v for k, v in m.items() if k not in dropped} for m in messages]


# The SDK itself, natively.


def native(tool: str, *arguments: str) -> str:
    """Runs rustc or rustdoc (`tool`) on the SDK's crate root for the build machine."""
    rustc, _ = find_rustc()
    program = rustc if tool == "rustc" else str(Path(rustc).with_name(tool))
    lib = str(SDK / "src" / "lib.rs")
    return run([program, "--edition", "2021", "--crate-name", "caxton", lib, *arguments])


def test_the_sdks_unit_tests_pass_natively(tmp_path: Path) -> None:
    binary = tmp_path / "caxton-tests"
    native("rustc", "--test", "-o", str(binary))
    output = run([str(binary)])
    summary = re.search(r"test result: ok\. (\d+) passed; 0 failed", output)
    assert summary is not None, output
    assert int(summary.group(1)) >= 30


def test_the_documentation_examples_compile_and_run(tmp_path: Path) -> None:
    native("rustc", "--crate-type", "rlib", "--out-dir", str(tmp_path))
    output = native("rustdoc", "--test", "--extern", f"caxton={tmp_path / 'libcaxton.rlib'}")
    assert re.search(r"test result: ok\. \d+ passed; 0 failed", output), output


def test_a_missing_rustc_fails_the_build_with_a_hint(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-C", str(EXAMPLES), f"BUILD={tmp_path}", "RUSTC=/nonexistent/rustc"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "no rustc with the wasm32-wasi standard library found" in result.stderr
    assert "libstd-rust-dev-wasm32" in result.stderr
    assert not list(tmp_path.glob("*.wasm"))


def test_modules_have_the_abi_v1_exports_and_imports_only(wasm: dict[str, Path]) -> None:
    engine = wasmtime.Engine()
    for name, path in wasm.items():
        module = wasmtime.Module(engine, path.read_bytes())
        exports = {export.name for export in module.exports}
        assert {"memory", "caxton_alloc", "caxton_init", "caxton_handle"} <= exports, name
        modules = {item.module for item in module.imports}
        assert modules <= {"caxton", "wasi_snapshot_preview1"}, (name, modules)


# echo


def test_echo_answers_with_the_same_content(caxton: Harness, wasm: dict[str, Path]) -> None:
    echo = caxton.load(wasm["echo"], name="echo")
    content = {"hello": "wörld ✓ 😀", "n": [1, 2.5, None, True], "nested": {"s": 'a"b\\c\n'}}
    turn = echo.request(content, conversation_id="c1", protocol="fipa-request")

    reply = turn.reply()
    assert turn.ok, turn.error
    assert without([reply]) == [
        {
            "performative": "inform",
            "sender": "echo",
            "receiver": "tester",
            "in_reply_to": turn.message["reply_with"],
            "conversation_id": "c1",
            "protocol": "fipa-request",
            "content": content,
        }
    ]
    assert echo.logs == [("info", "echo ready")]


def test_echo_without_content_sends_null_and_without_sender_nothing(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    echo = caxton.load(wasm["echo"], name="echo")
    reply = echo.handle({"performative": "inform"}).reply()
    assert "content" in reply
    assert reply["content"] is None
    assert "in_reply_to" not in reply

    # An absent sender: the harness fills in "tester" unless the key is there.
    turn = echo.handle({"performative": "inform", "sender": None, "content": 1})
    assert turn.sent == []
    assert turn.logs == [("warn", "echo: message has no sender")]


# ping and pong


def ping_pong(rounds: int) -> list[Message]:
    messages: list[Message] = [
        {"performative": "request", "sender": "tester", "receiver": "ping", "content": "go"}
    ]
    for n in range(1, rounds + 1):
        messages.append(
            {
                "performative": "request",
                "sender": "ping",
                "receiver": "pong",
                "content": {"ping": n},
            }
        )
        messages.append(
            {"performative": "inform", "sender": "pong", "receiver": "ping", "content": {"pong": n}}
        )
    return messages


def ping_pong_logs(rounds: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ping = [("info", "ping ready")]
    pong = [("info", "pong ready")]
    for n in range(1, rounds + 1):
        ping.append(("info", f"ping {n}"))
        pong.append(("info", f"pong {n}"))
    ping.append(("info", f"done after {rounds} rounds"))
    return ping, pong


def test_ping_and_pong_play_three_rounds(caxton: Harness, wasm: dict[str, Path]) -> None:
    ping = caxton.load(wasm["ping"], name="ping")
    pong = caxton.load(wasm["pong"], name="pong")

    conversation = caxton.run({"performative": "request", "receiver": "ping", "content": "go"})

    assert conversation.errors == []
    assert conversation.deliveries == 7
    assert without(conversation.messages, "conversation_id") == ping_pong(3)
    # Pings after the first carry the conversation on; pong threads its answers to them.
    assert len({m["conversation_id"] for m in conversation.messages[1:]}) == 1
    assert (ping.logs, pong.logs) == ping_pong_logs(3)
    assert ping.kv["rounds_done"] == b"3"
    assert "rounds_done" not in pong.kv


def test_ping_honours_its_config(caxton: Harness, wasm: dict[str, Path]) -> None:
    ping = caxton.load(wasm["ping"], name="ping", config={"rounds": 5, "peer": "partner"})
    caxton.load(wasm["pong"], name="partner")

    conversation = caxton.run({"performative": "request", "receiver": "ping"})

    assert conversation.performatives() == ["request"] + ["request", "inform"] * 5
    assert conversation.to("partner")[0]["content"] == {"ping": 1}
    assert ping.kv["rounds_done"] == b"5"
    assert ping.logs[-1] == ("info", "done after 5 rounds")


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"rounds": 0}, "ping: config.rounds must be an integer >= 1"),
        ({"rounds": "3"}, "ping: config.rounds must be an integer >= 1"),
        ({"rounds": 2.5}, "ping: config.rounds must be an integer >= 1"),
        ({"peer": 7}, "ping: config.peer must be a string"),
    ],
)
def test_ping_refuses_a_bad_config(
    caxton: Harness, wasm: dict[str, Path], config: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AgentInitFailed, match="ping"):
        caxton.load(wasm["ping"], name="ping", config=config)
    assert caxton.agents["ping"].logs == [("error", f"init failed: {reason}")]


def test_pong_does_not_understand_other_content(caxton: Harness, wasm: dict[str, Path]) -> None:
    pong = caxton.load(wasm["pong"], name="pong")
    for content in ({"ping": "x"}, {"ping": 1.5}, None):
        turn = pong.request(content, conversation_id="c9")
        reply = turn.reply()
        assert reply["performative"] == "not-understood"
        assert reply["content"] == content
        assert reply["in_reply_to"] == turn.message["reply_with"]
        assert reply["conversation_id"] == "c9"
        assert turn.logs == [("warn", 'pong: expected content {"ping":N}')]
    assert pong.handle({"performative": "inform", "content": {"ping": 1}}).sent == []


# The contract-net participant


def cfp(receiver: str | list[str], content: Any, conversation: str = "conv-1") -> Message:
    return {
        "performative": "cfp",
        "sender": "initiator",
        "receiver": receiver,
        "protocol": CNET,
        "conversation_id": conversation,
        "reply_with": f"{conversation}-cfp",
        "content": content,
    }


def award(performative: str, receiver: str, conversation: str = "conv-1") -> Message:
    return {
        "performative": performative,
        "sender": "initiator",
        "receiver": receiver,
        "protocol": CNET,
        "conversation_id": conversation,
        "in_reply_to": f"{receiver}/{conversation}",
        "reply_with": f"{conversation}-accept",
        "content": {"cost": 4},
    }


def answer(performative: str, sender: str, content: Any, in_reply_to: str) -> Message:
    return {
        "performative": performative,
        "sender": sender,
        "receiver": "initiator",
        "protocol": CNET,
        "conversation_id": "conv-1",
        "in_reply_to": in_reply_to,
        "content": content,
    }


def test_participant_proposes_then_works(caxton: Harness, wasm: dict[str, Path]) -> None:
    p = caxton.load(wasm["cnet_participant"], name="p-000", config={"cost": 4})

    proposal = p.handle(cfp("p-000", {"numbers": [1, 2, 3]})).reply()

    assert without([proposal]) == [
        {
            **answer("propose", "p-000", {"cost": 4}, "conv-1-cfp"),
            "reply_with": "p-000/conv-1",
        }
    ]
    assert p.kv.json("task/conv-1") == {"numbers": [1, 2, 3]}

    result = p.handle(award("accept-proposal", "p-000")).reply()

    assert without([result]) == [answer("inform", "p-000", {"result": 6}, "conv-1-accept")]
    assert "task/conv-1" not in p.kv
    assert p.logs == [
        ("info", "cnet-participant ready"),
        ("info", "proposed 4 in conv-1"),
        ("info", "did the work in conv-1: 6"),
    ]


def test_participant_refuses_and_forgets(caxton: Harness, wasm: dict[str, Path]) -> None:
    refuser = caxton.load(wasm["cnet_participant"], name="p-r", config={"refuse": True})
    p = caxton.load(wasm["cnet_participant"], name="p-000", config={"cost": 4})

    assert refuser.handle(cfp("p-r", {"numbers": [1]})).reply()["content"] == {
        "reason": "not taking work"
    }
    refusal = p.handle(cfp("p-000", {"numbers": [1.5]})).reply()
    assert refusal["performative"] == "refuse"
    assert refusal["content"] == {"reason": "task needs numbers: an array of integers"}
    assert len(p.kv) == 0

    p.handle(cfp("p-000", {"numbers": [1]}))
    turn = p.handle(award("reject-proposal", "p-000"))
    assert turn.sent == []
    assert turn.logs == [("info", "rejected in conv-1")]
    assert len(p.kv) == 0

    failure = p.handle(award("accept-proposal", "p-000")).reply()
    assert failure["performative"] == "failure"
    assert failure["content"] == {"reason": "no task in this conversation"}

    overflow = p.handle(cfp("p-000", {"numbers": [2**62, 2**62]}, "big")).reply()
    assert overflow["performative"] == "refuse"

    assert p.handle({"performative": "inform", "conversation_id": "x"}).logs == [
        ("warn", "cnet-participant: ignoring inform")
    ]


def test_participant_that_panics_gets_a_failure_sent_in_its_name(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    p = caxton.load(wasm["cnet_participant"], name="p-000", config={"cost": 1, "fail": True})

    turn = p.handle(cfp("p-000", {"numbers": [1]}))

    assert not turn.ok
    assert turn.error is not None
    assert "unreachable" in turn.error
    failure = turn.reply()
    assert failure["performative"] == "failure"
    assert failure["in_reply_to"] == "conv-1-cfp"
    level, text = turn.logs[-1]
    assert level == "error"
    assert text.startswith("panic: ")
    assert "failing on cfp as configured" in text


@pytest.mark.parametrize(
    "config",
    [{}, {"cost": "3"}, {"cost": 3, "refuse": 1}, {"cost": 3, "late_ms": -1}, {"cost": 3.5}],
)
def test_participant_refuses_a_bad_config(
    caxton: Harness, wasm: dict[str, Path], config: dict[str, Any]
) -> None:
    with pytest.raises(AgentInitFailed, match="p-000"):
        caxton.load(wasm["cnet_participant"], name="p-000", config=config)


# Whole contract nets, Rust with C


@pytest.fixture(scope="session")
def c_cnet(c_examples: Path) -> dict[str, Path]:
    return {name: c_examples / f"{name}.wasm" for name in ("cnet_initiator", "cnet_participant")}


def test_rust_participants_bid_to_the_c_initiator(
    caxton: Harness, wasm: dict[str, Path], c_cnet: dict[str, Path]
) -> None:
    """The C initiator's tests expect exactly these messages of the C participant."""
    initiator = caxton.load(c_cnet["cnet_initiator"], name="initiator")
    for name, cost in (("p-000", 5), ("p-001", 3)):
        caxton.load(wasm["cnet_participant"], name=name, config={"cost": cost})
    caxton.load(wasm["cnet_participant"], name="p-002", config={"refuse": True})

    names = ["p-000", "p-001", "p-002"]
    conversation = caxton.run(
        {
            "performative": "request",
            "receiver": "initiator",
            "content": {"participants": names, "task": {"numbers": [1, 2, 3]}, "deadline_ms": 5000},
        }
    )

    assert conversation.errors == []
    sent = without(conversation.messages[1:])
    sent[0].pop("reply_by")
    conv = "initiator-1"

    def from_participant(performative: str, sender: str, content: Any, **more: str) -> Message:
        return {
            "performative": performative,
            "sender": sender,
            "receiver": "initiator",
            "protocol": CNET,
            "conversation_id": conv,
            "in_reply_to": f"{conv}-cfp",
            "content": content,
            **more,
        }

    def from_initiator(performative: str, receiver: str | list[str], **more: Any) -> Message:
        return {
            "performative": performative,
            "sender": "initiator",
            "receiver": receiver,
            "protocol": CNET,
            "conversation_id": conv,
            **more,
        }

    assert sent == [
        from_initiator("cfp", names, reply_with=f"{conv}-cfp", content={"numbers": [1, 2, 3]}),
        from_participant("propose", "p-000", {"cost": 5}, reply_with=f"p-000/{conv}"),
        from_participant("propose", "p-001", {"cost": 3}, reply_with=f"p-001/{conv}"),
        from_participant("refuse", "p-002", {"reason": "not taking work"}),
        from_initiator(
            "accept-proposal",
            "p-001",
            in_reply_to=f"p-001/{conv}",
            reply_with=f"{conv}-accept",
            content={"cost": 3},
        ),
        from_initiator(
            "reject-proposal",
            ["p-000"],
            in_reply_to=f"{conv}-cfp",
            content={"reason": "another proposal was chosen"},
        ),
        {**from_participant("inform", "p-001", {"result": 6}), "in_reply_to": f"{conv}-accept"},
    ]
    assert initiator.kv.json("outcome") == {
        "winner": "p-001",
        "cost": 3,
        "result": 6,
        "proposals": 2,
    }
    assert all(len(caxton.agents[name].kv) == 0 for name in names)


def start_rust_initiator(caxton: Harness, wasm: dict[str, Path], c_cnet: dict[str, Path]) -> Agent:
    boss = caxton.load(wasm["cnet_initiator"], name="boss")
    caxton.load(wasm["cnet_participant"], name="p-rust", config={"cost": 7})
    caxton.load(c_cnet["cnet_participant"], name="p-c", config={"cost": 4})
    caxton.load(wasm["cnet_participant"], name="p-refuse", config={"refuse": True})
    return boss


def kick(participants: list[str], deadline_ms: int = 5000) -> Message:
    return {
        "performative": "request",
        "receiver": "boss",
        "reply_with": "kick-1",
        "content": {
            "participants": participants,
            "task": {"numbers": [1, 2, 3]},
            "deadline_ms": deadline_ms,
        },
    }


def test_the_rust_initiator_awards_a_c_participant_and_answers_the_request(
    caxton: Harness, wasm: dict[str, Path], c_cnet: dict[str, Path]
) -> None:
    boss = start_rust_initiator(caxton, wasm, c_cnet)

    conversation = caxton.run(kick(["p-rust", "p-c", "p-refuse"]))

    assert conversation.errors == []
    flow = [(m["sender"], m["performative"], m["receiver"]) for m in conversation.messages[1:]]
    assert flow == [
        ("boss", "cfp", ["p-rust", "p-c", "p-refuse"]),
        ("p-rust", "propose", "boss"),
        ("p-c", "propose", "boss"),
        ("p-refuse", "refuse", "boss"),
        ("boss", "accept-proposal", "p-c"),
        ("boss", "reject-proposal", "p-rust"),
        ("p-c", "inform", "boss"),
        ("boss", "inform", "tester"),
    ]
    cfp_message = conversation.messages[1]
    conv = cfp_message["conversation_id"]
    assert cfp_message["protocol"] == CNET
    assert cfp_message["reply_with"] == f"{conv}-cfp"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", cfp_message["reply_by"])
    accept, reject = conversation.messages[5], conversation.messages[6]
    assert accept["in_reply_to"] == f"p-c/{conv}"
    assert accept["content"] == {"cost": 4}
    assert reject["in_reply_to"] == f"p-rust/{conv}"
    [done] = conversation.to("tester")
    assert done["in_reply_to"] == "kick-1"
    assert done["content"] == {"winner": "p-c", "cost": 4, "result": 6}
    assert boss.kv.json("outcome") == done["content"]
    assert boss.logs[1:] == [
        ("info", f"cfp {conv} to 3 participants"),
        ("info", f"awarded {conv} to p-c at cost 4: 2 proposals, 1 refusals, 0 failures of 3"),
        ("info", '{"winner":"p-c","cost":4,"result":6}'),
    ]


def test_the_rust_initiator_decides_at_the_platforms_deadline_notice(
    caxton: Harness, wasm: dict[str, Path], c_cnet: dict[str, Path]
) -> None:
    boss = start_rust_initiator(caxton, wasm, c_cnet)
    # p-silent is not loaded: its copy of the cfp goes nowhere and it never answers.
    first = caxton.run(kick(["p-rust", "p-silent"]))
    assert first.performatives() == ["request", "cfp", "propose"]
    conv = first.messages[1]["conversation_id"]

    notice = {
        "performative": "inform",
        "sender": "caxton",
        "receiver": "boss",
        "conversation_id": conv,
        "protocol": CNET,
        "x-caxton-event": "deadline",
        "in_reply_to": f"{conv}-cfp",
        "content": {"proposals": 1, "refusals": 0, "failures": 0, "silent": 1},
    }
    second = caxton.run(notice)

    assert second.performatives() == ["inform", "accept-proposal", "inform", "inform"]
    [done] = second.to("tester")
    assert done["content"] == {"winner": "p-rust", "cost": 7, "result": 6}
    assert boss.logs[2] == (
        "info",
        f"awarded {conv} to p-rust at cost 7: 1 proposals, 0 refusals, 0 failures of 2",
    )


def test_the_rust_initiator_reports_no_proposals_and_bad_requests(
    caxton: Harness, wasm: dict[str, Path], c_cnet: dict[str, Path]
) -> None:
    start_rust_initiator(caxton, wasm, c_cnet)
    conversation = caxton.run(kick(["p-refuse"]))
    [answer_] = conversation.to("tester")
    assert answer_["performative"] == "failure"
    assert answer_["content"] == {"reason": "no proposals"}

    bad = caxton.run({**kick(["p-c"]), "content": {"participants": [], "task": {}}})
    [refusal] = bad.to("tester")
    assert refusal["performative"] == "not-understood"
    assert refusal["content"] == {"reason": "participants must be a non-empty array of agent names"}


def test_the_rust_initiator_reports_a_winner_that_fails(
    caxton: Harness, wasm: dict[str, Path]
) -> None:
    caxton.load(wasm["cnet_initiator"], name="boss")
    caxton.load(wasm["cnet_participant"], name="p-bad", config={"cost": 1, "fail_work": True})

    conversation = caxton.run(kick(["p-bad"]))

    assert conversation.performatives() == [
        "request",
        "cfp",
        "propose",
        "accept-proposal",
        "failure",
        "failure",
    ]
    [failed] = conversation.to("tester")
    assert failed["content"] == {"reason": "the winner p-bad failed"}


# Everything else, through the probe


@pytest.fixture
def probe(caxton: Harness, wasm: dict[str, Path]) -> Agent:
    return caxton.load(wasm["sdk_probe"], name="probe", config={"mode": "test", "n": [1]})


TRICKY_TEXT: Final = 'quote " backslash \\ slash / \b\f\n\r\t \x01\x1f \x7f é ✓ 😀 \u2028 \u0000'


def test_a_tricky_message_survives_parsing_and_serialising(probe: Agent) -> None:
    message: Message = {
        "performative": "request",
        "sender": "tester",
        "receiver": ["probe", "someone-else"],
        "reply_to": "tester",
        "content": {
            "op": "inspect",
            "text": TRICKY_TEXT,
            "nested": {"a": [1, -2, 2.5, 1e300, -1.5e-300, None, True, False, {"b": [[], {}]}]},
            "big": 2**63 - 1,
            "small": -(2**63),
            "émoji 😀": "key with unicode",
        },
        "language": "json",
        "encoding": "utf-8",
        "ontology": "sums",
        "protocol": "fipa-request",
        "conversation_id": "c-1",
        "reply_with": "r-1",
        "in_reply_to": "r-0",
        "reply_by": "2026-11-25T10:15:00.123Z",
        "trace": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        "x-priority": 3,
        "x-tags": ["a", {"b": "c"}],
    }

    turn = probe.handle(message)

    reply = turn.reply()
    delivered = turn.message
    assert reply["content"]["message"] == delivered
    assert json.loads(reply["content"]["json"]) == delivered
    # Keys stay in the order they came in.
    assert list(json.loads(reply["content"]["json"])) == list(delivered)
    assert reply["x-priority"] == 3
    assert reply["x-tags"] == ["a", {"b": "c"}]
    assert reply["in_reply_to"] == "r-1"
    assert reply["conversation_id"] == "c-1"
    assert reply["protocol"] == "fipa-request"
    content_json = json.dumps(message["content"], ensure_ascii=False, separators=(",", ":"))
    assert reply["content"]["accessors"] == {
        "performative": "request",
        "performative_str": "request",
        "sender": "tester",
        "receivers": ["probe", "someone-else"],
        "reply_to": ["tester"],
        "content_json": reply["content"]["accessors"]["content_json"],
        "has_content": True,
        "conversation_id": "c-1",
        "reply_with": "r-1",
        "in_reply_to": "r-0",
        "protocol": "fipa-request",
        "ontology": "sums",
        "language": "json",
        "encoding": "utf-8",
        "reply_by": "2026-11-25T10:15:00.123Z",
        "message_id": delivered["message_id"],
        "x": ["x-priority", "x-tags"],
    }
    assert json.loads(reply["content"]["accessors"]["content_json"]) == message["content"]
    assert json.loads(content_json) == message["content"]


@pytest.mark.parametrize(
    "text",
    [
        r'{"a":"\u00e9\ud83d\ude00\n\"","b":[1,-2.5e3,true,null,0.1],"c":{},"d":[]}',
        ' [ 1 , "x" , { "k" : [ ] } ] ',
        r'"\/\b\f\n\r\t\\"',
        "-0",
        '{"k":1,"k":2}',
        json.dumps(TRICKY_TEXT),
        "[" * 128 + "]" * 128,
    ],
)
def test_the_parser_reads_what_python_reads(probe: Agent, text: str) -> None:
    reply = probe.request({"op": "parse", "text": text}).reply()
    assert reply["performative"] == "inform", reply
    expected = json.loads(text)
    assert reply["content"]["value"] == expected
    assert json.loads(reply["content"]["json"]) == expected


def test_an_integer_beyond_64_bits_becomes_a_float(probe: Agent) -> None:
    reply = probe.request({"op": "parse", "text": "123456789012345678901234567890"}).reply()
    assert reply["content"] == {"value": 1.2345678901234568e29, "json": "1.2345678901234568e29"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a":1,}', "invalid JSON at byte 7: expected a string key"),
        ("[1 2]", "invalid JSON at byte 3: expected ',' or ']'"),
        (r'"\ud800"', "invalid JSON at byte 1: lone high surrogate in \\u escape"),
        (r'"\udc00x"', "invalid JSON at byte 1: lone low surrogate in \\u escape"),
        ('"tab\tinside"', "invalid JSON at byte 4: control character in string"),
        ("01", "invalid JSON at byte 1: unexpected text after the value"),
        ("NaN", "invalid JSON at byte 0: unexpected character"),
        ("[" * 129 + "]" * 129, "invalid JSON at byte 128: nested too deeply"),
        ("", "invalid JSON at byte 0: unexpected end of text"),
    ],
)
def test_the_parser_refuses_what_is_not_json(probe: Agent, text: str, reason: str) -> None:
    reply = probe.request({"op": "parse", "text": text}).reply()
    assert reply["performative"] == "failure"
    assert reply["content"] == {"reason": reason}


def test_kv_set_get_delete(probe: Agent) -> None:
    reply = probe.request({"op": "kv", "set": {"a": "1", "b": "é 😀"}, "get": ["a", "b", "zz"]})
    assert reply.reply()["content"] == {"got": {"a": "1", "b": "é 😀", "zz": None}}
    assert probe.kv["b"] == "é 😀".encode()

    probe.kv["from-python"] = b"hello"
    reply = probe.request({"op": "kv", "delete": ["a", "never-set"], "get": ["a", "from-python"]})
    assert reply.reply()["content"] == {"got": {"a": None, "from-python": "hello"}}
    assert sorted(probe.kv) == ["b", "from-python"]


def test_a_large_kv_value_is_read_in_full(probe: Agent) -> None:
    # Larger than the SDK's first buffer: kv_get answers the length, the SDK asks again.
    value = "x" * 10_000 + "é"
    probe.kv["big"] = value.encode()
    reply = probe.request({"op": "kv", "get": ["big"]}).reply()
    assert reply["content"] == {"got": {"big": value}}


def test_a_tool_call_and_its_answer(caxton: Harness, probe: Agent) -> None:
    caxton.tools.stub(
        "time/now",
        {
            "content": [{"type": "text", "text": "12:00"}, {"type": "text", "text": "UTC"}],
            "structured": {"h": 12},
        },
    )

    turn = probe.request({"op": "tool", "tool": "time/now", "arguments": {"zone": "UTC"}})

    assert turn.ok, turn.error
    assert turn.tool_calls == [
        {"tool": "time/now", "arguments": {"zone": "UTC"}, "reply_with": "probe-tool-1"}
    ]
    reply = turn.reply()
    assert reply["performative"] == "inform"
    assert reply["in_reply_to"] == turn.message["reply_with"]
    assert reply["content"] == {
        "tool": "time/now",
        "text": "12:00\nUTC",
        "structured": {"h": 12},
        "reply_with": "probe-tool-1",
    }


def test_a_failed_tool_call(caxton: Harness, probe: Agent) -> None:
    def broken(arguments: dict[str, Any]) -> dict[str, Any]:
        raise ToolFailure(f"no clock in {arguments['zone']}", error="unavailable")

    caxton.tools.stub("time/now", broken)

    reply = probe.request({"op": "tool", "tool": "time/now", "arguments": {"zone": "Mars"}}).reply()

    assert reply["performative"] == "failure"
    assert reply["content"] == {
        "reason": "no clock in Mars",
        "error": "unavailable",
        "tool": "time/now",
        "reply_with": "probe-tool-1",
    }


def test_a_refused_tool_call_fails_the_handler(probe: Agent) -> None:
    turn = probe.request({"op": "tool", "tool": "not/granted", "arguments": {}})
    assert not turn.ok
    assert turn.reply()["performative"] == "failure"
    assert turn.logs == [
        ("error", "handler failed: tool_call refused by the host: not permitted (-4)")
    ]


def test_init_registers_the_capability_and_reads_the_config(probe: Agent) -> None:
    assert probe.capabilities == [
        {
            "name": "sum",
            "version": "1.0.0",
            "description": "adds up integers",
            "input_schema": {
                "type": "object",
                "properties": {"numbers": {"type": "array", "items": {"type": "integer"}}},
                "required": ["numbers"],
            },
        }
    ]
    [(level, text)] = probe.logs
    assert level == "info"
    assert re.fullmatch(r'probe ready: probe \S+ \{"mode":"test","n":\[1\]\}', text), text


def test_an_init_error_fails_the_start(caxton: Harness, wasm: dict[str, Path]) -> None:
    with pytest.raises(AgentInitFailed):
        caxton.load(wasm["sdk_probe"], name="probe", config={"fail_init": True})
    assert caxton.agents["probe"].logs == [("error", "init failed: probe: asked to fail at init")]


def test_the_request_helper_serves(probe: Agent) -> None:
    turn = probe.request({"op": "sum", "numbers": [1, 2, 39]}, protocol="fipa-request")
    reply = turn.reply()
    assert reply["performative"] == "inform"
    assert reply["content"] == {"sum": 42}
    assert reply["protocol"] == "fipa-request"
    assert reply["in_reply_to"] == turn.message["reply_with"]

    failed = probe.request({"op": "sum", "numbers": [1, "2"]}).reply()
    assert failed["performative"] == "failure"
    assert failed["content"] == {"reason": "numbers must be integers"}

    unknown = probe.request({"op": "dance"}).reply()
    assert unknown["performative"] == "not-understood"
    assert unknown["content"] == {"reason": 'no op "dance"'}


@pytest.mark.parametrize(
    ("to", "content", "response", "answer_content"),
    [
        ("echo", {"x": 1}, "done", {"x": 1}),
        ("calc", {"op": "sum", "numbers": [2, 3]}, "done", {"sum": 5}),
        ("calc", {"op": "sum", "numbers": "no"}, "failed", {"reason": "numbers must be integers"}),
        ("pong", {"nope": 1}, "not-understood", {"nope": 1}),
    ],
)
def test_the_request_helper_asks(
    caxton: Harness,
    wasm: dict[str, Path],
    probe: Agent,
    to: str,
    content: Any,
    response: str,
    answer_content: Any,
) -> None:
    caxton.load(wasm["echo"], name="echo")
    caxton.load(wasm["pong"], name="pong")
    caxton.load(wasm["sdk_probe"], name="calc")

    conversation = caxton.run(
        {
            "performative": "request",
            "receiver": "probe",
            "reply_with": "ask-1",
            "content": {"op": "ask", "to": to, "content": content},
        }
    )

    assert conversation.errors == []
    request = conversation.messages[1]
    assert request["protocol"] == "fipa-request"
    assert request["conversation_id"] == request["reply_with"]
    assert conversation.messages[2]["in_reply_to"] == request["reply_with"]
    [reply] = conversation.to("tester")
    assert reply["in_reply_to"] == "ask-1"
    assert reply["content"] == {"response": response, "content": answer_content}


def test_a_panic_is_logged_and_traps(probe: Agent) -> None:
    turn = probe.request({"op": "panic"})
    assert not turn.ok
    assert turn.reply()["performative"] == "failure"
    [(level, text)] = turn.logs
    assert level == "error"
    assert text.startswith("panic: ")
    assert "the probe was asked to panic" in text
    # The agent keeps running.
    assert probe.request({"op": "sum", "numbers": [1]}).reply()["content"] == {"sum": 1}


def test_a_handler_error_is_logged_and_reported(probe: Agent) -> None:
    turn = probe.request({"op": "fail"})
    assert not turn.ok
    assert turn.reply()["performative"] == "failure"
    assert turn.logs == [("error", "handler failed: the probe was asked to fail")]


# The project template


def test_the_template_builds_and_passes_its_own_tests(tmp_path: Path) -> None:
    project = tmp_path / "price-quoter"
    new_project("price-quoter", "rust", project)
    assert (project / "tests" / "test_price_quoter.py").is_file()
    assert (project / "caxton-sdk" / "src" / "lib.rs").is_file()

    run(["make"], cwd=project)
    assert (project / "build" / "price-quoter.wasm").is_file()
    output = run(["make", "test", f"PYTHON={sys.executable}"], cwd=project)
    assert re.search(r"\b3 passed\b", output), output
