"""The example agents, in C and in WAT, keep the behaviour their top comments promise.

Both languages run through a real `Runtime` and a `LocalNetwork`, and every
test asserts on the exact messages sent and log lines written, so the two
implementations cannot drift apart without a failure here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from caxton.errors import AgentInitFailed
from caxton.local import Event, LocalNetwork
from caxton.runtime import AgentModule, Runtime

# tests/ has no __init__.py, so pytest's default "prepend" import mode puts this
# directory on sys.path and `toolchain` (tests/toolchain.py) imports as a top-level module.

NAMES = ("echo", "ping", "pong")

Wasm = dict[str, bytes]


@pytest.fixture(scope="session")
def c_agents(c_examples: Path) -> Wasm:
    """The three C agents (a missing clang is an error)."""
    return {name: (c_examples / f"{name}.wasm").read_bytes() for name in NAMES}


@pytest.fixture(scope="session")
def wat_agents() -> Wasm:
    examples = resources.files("caxton.examples")
    return {
        name: bytes(wasmtime.wat2wasm(examples.joinpath(f"{name}.wat").read_text()))
        for name in NAMES
    }


@pytest.fixture(params=["c", "wat"])
def agents(request: pytest.FixtureRequest) -> Wasm:
    """The example agents in one language; tests using it run once per language."""
    fixture = "c_agents" if request.param == "c" else "wat_agents"
    wasm: Wasm = request.getfixturevalue(fixture)
    return wasm


class Recorder:
    """Collects a `LocalNetwork`'s events and answers questions about them."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event["event"] == kind]

    def messages(self) -> list[dict[str, Any]]:
        return [event["message"] for event in self.of("sent")]

    def sent(self) -> list[tuple[str, str, str, Any]]:
        """(sender, performative, receiver, content) of every message sent, in order."""
        return [
            (m["sender"], m["performative"], m["receiver"], m.get("content"))
            for m in self.messages()
        ]

    def logs(self) -> list[tuple[str, str, str]]:
        """(agent, level, text) of every log line, in order."""
        return [(e["agent"], e["level"], e["text"]) for e in self.of("log")]

    def handled_by(self) -> list[str]:
        return [event["agent"] for event in self.of("handled")]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def network(runtime: Runtime, recorder: Recorder) -> LocalNetwork:
    return LocalNetwork(runtime, recorder)


def load(runtime: Runtime, agents: Wasm, name: str) -> AgentModule:
    return runtime.load(agents[name])


def kick(receiver: str) -> dict[str, Any]:
    return {"performative": "request", "sender": "operator", "receiver": receiver, "content": "go"}


def rounds_of_ping_pong(ping: str, rounds: int) -> list[tuple[str, str, str, Any]]:
    exchange: list[tuple[str, str, str, Any]] = []
    for n in range(1, rounds + 1):
        exchange.append((ping, "request", "pong", {"ping": n}))
        exchange.append(("pong", "inform", ping, {"pong": n}))
    return exchange


def ping_pong_logs(ping: str, rounds: int) -> list[tuple[str, str, str]]:
    lines: list[tuple[str, str, str]] = []
    for n in range(1, rounds + 1):
        lines.append((ping, "info", f"ping {n}"))
        lines.append(("pong", "info", f"pong {n}"))
    lines.append((ping, "info", f"done after {rounds} rounds"))
    return lines


# echo


def test_echo_echoes_content_and_threading(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "echo"), "echo")
    content = {"hello": "world", "n": [1, 2.5, None, True], "nested": {"s": 'a"b'}}
    delivered = network.run(
        [
            {
                "performative": "request",
                "sender": "operator",
                "receiver": "echo",
                "content": content,
                "reply_with": "r1",
                "conversation_id": "c1",
            }
        ]
    )

    assert delivered == 1
    [reply] = recorder.messages()
    assert set(reply) == {
        "performative",
        "sender",
        "receiver",
        "content",
        "conversation_id",
        "in_reply_to",
        "message_id",
    }
    assert reply["performative"] == "inform"
    assert reply["sender"] == "echo"
    assert reply["receiver"] == "operator"
    assert reply["content"] == content
    assert reply["conversation_id"] == "c1"
    assert reply["in_reply_to"] == "r1"
    assert recorder.logs() == [("echo", "info", "echo ready")]
    assert recorder.handled_by() == ["echo"]
    assert recorder.of("error") == []


def test_echo_without_content_or_threading_sends_null(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "echo"), "echo")
    network.run([{"performative": "inform", "sender": "operator", "receiver": "echo"}])

    [reply] = recorder.messages()
    assert recorder.sent() == [("echo", "inform", "operator", None)]
    assert "content" in reply
    assert "in_reply_to" not in reply
    # The agent sent no conversation_id, so the host started a conversation.
    assert isinstance(reply["conversation_id"], str)
    assert reply["conversation_id"]


def test_echo_without_sender_warns_and_sends_nothing(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "echo"), "echo")
    network.run([{"performative": "inform", "receiver": "echo", "content": 1}])

    assert recorder.sent() == []
    assert recorder.logs() == [
        ("echo", "info", "echo ready"),
        ("echo", "warn", "echo: message has no sender"),
    ]
    assert recorder.handled_by() == ["echo"]


# ping and pong


def test_ping_pong_play_three_rounds(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "ping"), "ping")
    network.start(load(runtime, agents, "pong"), "pong")
    delivered = network.run([kick("ping")])

    assert recorder.sent() == rounds_of_ping_pong("ping", 3)
    # One conversation throughout: ping and pong both carry the id forward.
    assert len({m["conversation_id"] for m in recorder.messages()}) == 1
    assert recorder.logs() == [
        ("ping", "info", "ping ready"),
        ("pong", "info", "pong ready"),
        *ping_pong_logs("ping", 3),
    ]
    assert delivered == 7
    assert recorder.handled_by() == ["ping", *["pong", "ping"] * 3]
    assert recorder.of("error") == []
    assert network.state["ping"].get(b"rounds_done") == b"3"
    assert network.state["pong"].get(b"rounds_done") is None


def test_ping_restarts_its_count_on_a_second_kick(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "ping"), "ping")
    network.start(load(runtime, agents, "pong"), "pong")
    network.run([kick("ping")])
    network.run([kick("ping")])

    assert recorder.sent() == rounds_of_ping_pong("ping", 3) * 2
    assert network.state["ping"].get(b"rounds_done") == b"3"


def test_pong_answers_other_content_with_not_understood(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    network.start(load(runtime, agents, "pong"), "pong")
    network.run(
        [
            {
                "performative": "request",
                "sender": "operator",
                "receiver": "pong",
                "content": {"ping": "x"},
                "reply_with": "q7",
                "conversation_id": "c9",
            }
        ]
    )

    [reply] = recorder.messages()
    assert recorder.sent() == [("pong", "not-understood", "operator", {"ping": "x"})]
    assert reply["in_reply_to"] == "q7"
    assert reply["conversation_id"] == "c9"
    assert recorder.logs()[1:] == [("pong", "warn", 'pong: expected content {"ping":N}')]


def test_c_ping_honours_rounds_from_config(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, c_agents: Wasm
) -> None:
    network.start(load(runtime, c_agents, "ping"), "ping", config={"rounds": 5})
    network.start(load(runtime, c_agents, "pong"), "pong")
    network.run([kick("ping")])

    assert recorder.sent() == rounds_of_ping_pong("ping", 5)
    assert recorder.logs()[2:] == ping_pong_logs("ping", 5)
    assert network.state["ping"].get(b"rounds_done") == b"5"


def test_c_ping_honours_peer_from_config(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, c_agents: Wasm
) -> None:
    network.start(load(runtime, c_agents, "ping"), "ping", config={"peer": "other", "rounds": 1})
    network.run([kick("ping")])

    assert recorder.sent() == [("ping", "request", "other", {"ping": 1})]


@pytest.mark.parametrize("config", [{"rounds": 0}, {"rounds": "3"}, {"peer": 7}])
def test_c_ping_refuses_a_bad_config(
    runtime: Runtime, network: LocalNetwork, c_agents: Wasm, config: dict[str, Any]
) -> None:
    with pytest.raises(AgentInitFailed, match="starting ping"):
        network.start(load(runtime, c_agents, "ping"), "ping", config=config)
    assert runtime.running == 0


def test_wat_ping_ignores_config(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, wat_agents: Wasm
) -> None:
    network.start(load(runtime, wat_agents, "ping"), "ping", config={"rounds": 5, "peer": "x"})
    network.start(load(runtime, wat_agents, "pong"), "pong")
    network.run([kick("ping")])

    assert recorder.sent() == rounds_of_ping_pong("ping", 3)
    assert network.state["ping"].get(b"rounds_done") == b"3"


# isolation between instances of one module


def test_instances_of_one_module_do_not_share_state(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, agents: Wasm
) -> None:
    ping = load(runtime, agents, "ping")
    assert load(runtime, agents, "ping") is ping  # compiled once, instantiated twice
    network.start(ping, "p1")
    network.start(ping, "p2")
    network.start(load(runtime, agents, "pong"), "pong")

    network.run([kick("p1")])

    assert recorder.sent() == rounds_of_ping_pong("p1", 3)
    assert network.state["p1"].get(b"rounds_done") == b"3"
    assert network.state["p2"].get(b"rounds_done") is None
    assert "p2" not in recorder.handled_by()

    # p2 starts its own game from round 1 when it is kicked in turn.
    recorder.events.clear()
    network.run([kick("p2")])
    assert recorder.sent() == rounds_of_ping_pong("p2", 3)
    assert network.state["p2"].get(b"rounds_done") == b"3"
    # The kick and three pongs each; caxton_init is not a message and is not counted.
    assert network.agents["p1"].messages_handled == network.agents["p2"].messages_handled == 4


def test_c_instances_keep_their_own_config(
    runtime: Runtime, network: LocalNetwork, recorder: Recorder, c_agents: Wasm
) -> None:
    """`rounds` lives in each instance's linear memory: p2's start must not overwrite p1's."""
    ping = load(runtime, c_agents, "ping")
    network.start(ping, "p1", config={"rounds": 4})
    network.start(ping, "p2", config={"rounds": 2})
    network.start(load(runtime, c_agents, "pong"), "pong")

    network.run([kick("p1"), kick("p2")])

    sent = recorder.sent()
    assert [m for m in sent if "p1" in (m[0], m[2])] == rounds_of_ping_pong("p1", 4)
    assert [m for m in sent if "p2" in (m[0], m[2])] == rounds_of_ping_pong("p2", 2)
    assert network.state["p1"].get(b"rounds_done") == b"4"
    assert network.state["p2"].get(b"rounds_done") == b"2"
