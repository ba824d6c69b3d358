"""Modules, agents, transitions, deployments, capabilities and routes."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.store import (
    REMOVED,
    AgentNameTaken,
    Capability,
    Store,
    UnknownModule,
)

WASM = b"\x00asm\x01\x00\x00\x00one"
OTHER = b"\x00asm\x01\x00\x00\x00two"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    ticks = itertools.count(1000)
    with Store.open(tmp_path, clock=lambda: float(next(ticks))) as opened:
        yield opened


def test_a_module_is_stored_once_however_many_agents_use_it(store: Store) -> None:
    first = store.modules.put(WASM)
    assert store.modules.put(WASM) == first == hashlib.sha256(WASM).hexdigest()
    for n in range(3):
        store.agents.create(f"a{n}", first, version="1", state="loaded")
    assert store.modules.hashes() == [first]
    assert store.modules.get(first) == WASM
    assert first in store.modules
    assert store.modules.get("0" * 64) is None


def test_an_agent_is_found_by_name_id_and_state(store: Store) -> None:
    sha = store.modules.put(WASM)
    made = store.agents.create(
        "echo",
        sha,
        version="1.2",
        state="loaded",
        desired_state="running",
        config={"a": [1, 2]},
        limits={"fuel": 10},
    )
    assert store.agents.by_name("echo") == made
    assert store.agents.by_id(made.id) == made
    assert made.config == {"a": [1, 2]}
    assert made.limits == {"fuel": 10}
    assert (made.desired_state, made.actual_state) == ("running", "loaded")
    assert made.created_at == made.updated_at
    assert store.agents.by_state("loaded") == [made]
    assert store.agents.by_state("running") == []
    assert store.agents.by_name("nobody") is None


def test_state_changes_are_recorded_as_append_only_transitions(store: Store) -> None:
    sha = store.modules.put(WASM)
    agent = store.agents.create("echo", sha, version="1", state="loaded")
    running = store.agents.set_state(agent.id, "running", "deployed")
    assert running.actual_state == "running"
    assert running.updated_at > agent.updated_at
    store.agents.set_state(agent.id, "failed", "3 handler errors in 10 s")
    history = store.agents.transitions(agent.id)
    assert [(t.from_state, t.to_state, t.reason) for t in history] == [
        (None, "loaded", "created"),
        ("loaded", "running", "deployed"),
        ("running", "failed", "3 handler errors in 10 s"),
    ]
    assert [t.at for t in history] == sorted(t.at for t in history)
    with store.db.write() as conn:
        for statement in ("UPDATE transitions SET reason = 'x'", "DELETE FROM transitions"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert len(store.agents.transitions(agent.id)) == 3
    with pytest.raises(KeyError, match="missing"):
        store.agents.set_state("missing", "running", "x")


def test_a_name_is_unique_and_a_module_must_exist(store: Store) -> None:
    sha = store.modules.put(WASM)
    store.agents.create("echo", sha, version="1", state="loaded")
    with pytest.raises(AgentNameTaken, match="'echo'"):
        store.agents.create("echo", sha, version="2", state="loaded")
    with pytest.raises(UnknownModule, match="f" * 64):
        store.agents.create("other", "f" * 64, version="1", state="loaded")
    assert store.agents.count() == 1
    # Nothing half-written by the refusals.
    assert store.db.read().execute("SELECT COUNT(*) FROM transitions").fetchone()[0] == 1


def test_deploy_switches_the_module_and_remembers_every_version(store: Store) -> None:
    one = store.modules.put(WASM)
    two = store.modules.put(OTHER)
    agent = store.agents.create("echo", one, version="1", state="running", config={"v": 1})
    updated = store.agents.deploy(agent.id, two, version="2")
    assert (updated.module_sha256, updated.version, updated.config) == (two, "2", {"v": 1})
    back = store.agents.deploy(agent.id, one, version="1", config={"v": 0})
    assert back.config == {"v": 0}
    assert [(d.seq, d.version, d.module_sha256) for d in store.agents.deployments(agent.id)] == [
        (1, "1", one),
        (2, "2", two),
        (3, "1", one),
    ]
    # Both modules stay: the agent runs one, its history remembers the other.
    assert store.modules.remove_unused() == []
    with pytest.raises(UnknownModule):
        store.agents.deploy(agent.id, "e" * 64, version="3")
    with pytest.raises(KeyError):
        store.agents.deploy("missing", one, version="3")


def test_remove_frees_everything_the_agent_held_but_keeps_its_history(store: Store) -> None:
    sha = store.modules.put(WASM)
    kept = store.agents.create("kept", store.modules.put(OTHER), version="1", state="running")
    agent = store.agents.create("gone", sha, version="1", state="running")
    for who in (agent, kept):
        assert store.kv(who.id, 1000).set(b"k", b"v")
        store.capabilities.add(who.id, Capability("echo", "1"))
        store.queued.save(who.name, [{"n": 1}])
        store.routes.register(who.name, "instance-1", "node-a")

    assert store.agents.remove(agent.id, "operator asked")
    assert not store.agents.remove(agent.id, "again")
    assert store.agents.by_name("gone") is None
    assert store.kv(agent.id, 1000).items() == {}
    assert store.kv(agent.id, 1000).used_bytes == 0
    assert store.capabilities.of(agent.id) == []
    assert store.queued.peek("gone") == []
    assert store.routes.lookup("gone") is None
    assert store.agents.deployments(agent.id) == []
    assert store.agents.transitions(agent.id)[-1].to_state == REMOVED
    assert store.modules.remove_unused() == [sha]
    assert sha not in store.modules
    # The other agent keeps all of its own.
    assert store.kv(kept.id, 1000).get(b"k") == b"v"
    assert [p.agent_name for p in store.capabilities.providers("echo")] == ["kept"]
    assert store.queued.peek("kept") == [{"n": 1}]
    assert store.routes.lookup("kept") is not None
    assert store.integrity_problems() == []


def test_a_module_in_use_cannot_be_deleted(store: Store) -> None:
    sha = store.modules.put(WASM)
    store.agents.create("echo", sha, version="1", state="loaded")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), store.db.write() as conn:
        conn.execute("DELETE FROM modules")
    assert store.modules.get(sha) == WASM


def test_capabilities_are_replaced_as_a_set_and_found_by_name(store: Store) -> None:
    sha = store.modules.put(WASM)
    a = store.agents.create("a", sha, version="1", state="running")
    b = store.agents.create("b", sha, version="1", state="running")
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    store.capabilities.replace(a.id, [Capability("search", "1", "finds", schema)])
    store.capabilities.replace(b.id, [Capability("search", "2"), Capability("sum", "1")])
    found = store.capabilities.providers("search")
    assert [(p.agent_name, p.capability.version) for p in found] == [("a", "1"), ("b", "2")]
    assert found[0].capability.input_schema == schema
    store.capabilities.replace(b.id, [Capability("sum", "1", "adds")])
    assert store.capabilities.of(b.id) == [Capability("sum", "1", "adds")]
    assert [p.agent_name for p in store.capabilities.providers("search")] == ["a"]


def test_routes_map_names_to_instances_and_nodes(store: Store) -> None:
    store.routes.register("a", "i-1", "node-a")
    store.routes.register("b", "i-1", "node-a")
    store.routes.register("a", "i-2", "node-b")
    route = store.routes.lookup("a")
    assert route is not None
    assert (route.instance, route.node) == ("i-2", "node-b")
    assert [r.agent_name for r in store.routes.on_node("node-a")] == ["b"]
    assert store.routes.unregister("b")
    assert not store.routes.unregister("b")
    assert store.routes.on_node("node-a") == []
