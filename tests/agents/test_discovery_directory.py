"""The built-in `directory` agent, asked by a real wasm agent (tests/agents/seeker.c, built
with clang) on a real server: providers by SemVer range, not-understood for what it cannot
read, and the name `directory` kept from deploys."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from caxton.agents import Catalogue, Directory, StateName
from caxton.router import Router
from caxton.server.server import Server
from caxton.settings import Settings
from caxton.store import Capability
from live import Live, caxton
from providers import WASM, deploy, provider
from routing import inbox
from toolchain import build_c_agent

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def seeker_wasm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("seeker")
    return build_c_agent(HERE / "seeker.c", out).read_bytes()


@pytest.fixture
def seeker(live: Live, seeker_wasm: bytes) -> Live:
    """The live server with the seeker and a few providers of `translate`."""
    deploy(live, "seeker", seeker_wasm)
    deploy(live, "alpha", provider(("translate", "1.4.2"), ("translate", "1.0.0")))
    deploy(live, "beta", provider(("translate", "2.0.0-rc.1"), ("sum", "1.0.0")))
    deploy(live, "gamma", provider(("translate", "1.9.0")))
    deploy(live, "omega", provider(("translate", "1.5.0")))
    assert live.post("/agents/omega/stop").status_code == 200
    return live


def ask(live: Live, content: Any) -> dict[str, Any]:
    """What the directory answered the seeker, as the seeker passed it on."""
    response = live.post("/agents/seeker/invoke", json={"content": content, "timeout_s": 10})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()["reply"]
    assert (reply["performative"], reply["sender"]) == ("inform", "seeker")
    passed_on: dict[str, Any] = reply["content"]
    return passed_on


def entry(agent: str, version: str, name: str = "translate") -> dict[str, Any]:
    return {
        "agent": agent,
        "capability": name,
        "version": version,
        "description": f"{name} at {version}",
        "input_schema": {"type": "object"},
    }


def test_a_query_ref_is_answered_with_the_running_providers_in_range(seeker: Live) -> None:
    answer = ask(seeker, {"capability": "translate", "version": "^1.2"})
    assert answer["performative"] == "inform"
    assert answer["content"] == [entry("alpha", "1.4.2"), entry("gamma", "1.9.0")]
    # A FIPA reply: to the query's reply_with, in its conversation and protocol.
    assert answer["in_reply_to"] == "seek-1"
    assert answer["protocol"] == "fipa-query"
    conversation = seeker.get(f"/conversations/{answer['conversation_id']}").json()
    assert conversation["protocol"] == "fipa-query"
    assert conversation["state"] == "done"
    routed = [
        (m["message"]["performative"], m["message"]["sender"], m["message"]["receiver"])
        for m in seeker.get("/messages", params={"conversation": answer["conversation_id"]}).json()[
            "items"
        ]
    ]
    assert routed == [("query-ref", "seeker", "directory"), ("inform", "directory", "seeker")]
    logs = [line["text"] for line in seeker.get("/agents/seeker/logs").json()["items"]]
    assert logs[-2:] == ["asked the directory", "directory answered inform"]


def test_without_a_range_every_version_and_none_is_an_empty_list(seeker: Live) -> None:
    assert ask(seeker, {"capability": "translate"})["content"] == [
        entry("alpha", "1.0.0"),
        entry("alpha", "1.4.2"),
        entry("beta", "2.0.0-rc.1"),
        entry("gamma", "1.9.0"),
    ]
    assert ask(seeker, {"capability": "translate", "version": ">=2.0.0-rc.1"})["content"] == [
        entry("beta", "2.0.0-rc.1")
    ]
    assert ask(seeker, {"capability": "juggle"})["content"] == []
    assert ask(seeker, {"capability": "sum", "version": "=1.0.0"})["content"] == [
        entry("beta", "1.0.0", "sum")
    ]


def test_the_answers_follow_the_lifecycle(seeker: Live) -> None:
    assert seeker.post("/agents/omega/start").status_code == 200
    found = ask(seeker, {"capability": "translate", "version": "~1.5"})["content"]
    assert found == [entry("omega", "1.5.0")]
    assert seeker.client.delete("/agents/omega").status_code == 204
    assert ask(seeker, {"capability": "translate", "version": "~1.5"})["content"] == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("translate", "content: expected an object"),
        ({"version": "^1"}, "content.capability: expected the capability's name"),
        ({"capability": 7}, "content.capability: expected the capability's name"),
        ({"capability": ""}, "content.capability: expected the capability's name"),
        ({"capability": "translate", "version": "~>1"}, "content.version: version range '~>1'"),
        ({"capability": "translate", "version": 1}, "content.version: expected a version range"),
        ({"capability": "translate", "versions": "^1"}, "content.versions: not a query key"),
    ],
)
def test_a_malformed_query_is_not_understood_naming_the_problem(
    seeker: Live, content: Any, reason: str
) -> None:
    answer = ask(seeker, {"send": "query-ref", "protocol": "fipa-query", "content": content})
    assert answer["performative"] == "not-understood"
    assert answer["content"]["error"] == "malformed-query"
    assert answer["content"]["reason"].startswith(reason)
    assert (answer["in_reply_to"], answer["protocol"]) == ("seek-1", "fipa-query")


@pytest.mark.parametrize("performative", ["request", "subscribe", "query-if", "inform", "cfp"])
def test_other_performatives_are_not_understood(seeker: Live, performative: str) -> None:
    answer = ask(seeker, {"send": performative, "content": {"capability": "translate"}})
    assert answer["performative"] == "not-understood"
    assert answer["content"]["error"] == "unsupported-act"
    assert f"not {performative}" in answer["content"]["reason"]


def test_an_agent_named_directory_cannot_be_deployed(live: Live, tmp_path: Path) -> None:
    refused = live.post("/agents", params={"name": "directory"}, content=provider(), headers=WASM)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "'directory' is reserved for the built-in directory agent" in detail
    assert "another name" in detail

    source = tmp_path / "directory.wat"
    source.write_text("(module)")
    result = caxton(live, "agent", "deploy", str(source), "--name", "directory")
    assert result.exit_code == 5, result.output
    assert "reserved for the built-in directory agent" in result.output
    assert [a["name"] for a in live.get("/agents").json()["items"]] == ["echo", "ping", "pong"]


# ---- in process ----


def test_an_agent_stored_under_a_name_reserved_later_fails_at_start(
    tmp_path: Path,
) -> None:
    # An old data directory: the agent was stored under a name a newer release reserves.
    older = Server(Settings(data_dir=tmp_path))
    try:
        older.manager.deploy("legacy", provider(("sum", "1.0.0")))
    finally:
        older.close()
    server = Server(Settings(data_dir=tmp_path))
    try:
        server.manager.reserve("legacy", "a built-in agent of a newer release")
        server.start()
        view = server.manager.get("legacy")
        assert view.state is StateName.FAILED
        assert (
            view.reason == "the name 'legacy' is reserved for a built-in agent of a newer release"
        )
    finally:
        server.close()


def test_the_directory_reads_no_sqlite_on_a_dispatcher_thread(tmp_path: Path) -> None:
    server = Server(Settings(data_dir=tmp_path))
    try:
        server.start()
        server.manager.deploy("alpha", provider(("translate", "1.4.2")))
        asker = inbox(server.router, "asker")
        readers: list[str] = []
        read = server.store.db.read

        def recorded() -> Any:
            readers.append(threading.current_thread().name)
            return read()

        server.store.db.read = recorded  # type: ignore[method-assign]  # a spy, for this test
        # The writer is busy meanwhile: an answer that needed SQLite would wait for it.
        with server.store.db.write():
            server.router.post(
                {
                    "performative": "query-ref",
                    "sender": "asker",
                    "receiver": "directory",
                    "reply_with": "q",
                    "content": {"capability": "translate", "version": "1.x"},
                }
            )
            assert server.dispatcher.wait_idle(10)
        [answer] = asker.messages
        assert answer["content"] == [entry("alpha", "1.4.2")]
        assert not [name for name in readers if name.startswith("caxton-dispatch")]
    finally:
        server.close()


def test_failure_and_not_understood_are_never_answered() -> None:
    catalogue = Catalogue()
    catalogue.replace("alpha", [Capability("sum", "1.0.0")])
    catalogue.set_state("alpha", StateName.RUNNING)
    directory = Directory(Router(), catalogue)
    for performative in ("failure", "not-understood"):
        assert directory.answer({"performative": performative, "sender": "a"}) is None
    query = {"performative": "query-ref", "sender": "caxton", "content": {"capability": "sum"}}
    assert directory.answer(query) is None  # the platform's notices want no answer
    answer = directory.answer({**query, "sender": "a", "conversation_id": "c", "reply_with": "r"})
    assert answer is not None
    assert answer["content"][0]["agent"] == "alpha"
    assert (answer["receiver"], answer["conversation_id"], answer["in_reply_to"]) == ("a", "c", "r")
