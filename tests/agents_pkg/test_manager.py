"""The agent manager on a real SQLite store, real wasm agents and the real router."""

from __future__ import annotations

import gc
import select
import signal
import subprocess
import sys
import weakref
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import wasmtime

from caxton.agents import AgentManager, StateName, UnknownAgent
from caxton.errors import ConfigError, LifecycleError
from caxton.router import Dispatcher, Router
from caxton.runtime import Runtime, RuntimeConfig
from caxton.store import Store
from conftest import ALLOC, MEMORY, wat
from routing import Inbox, inbox


def example(name: str) -> str:
    return resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()


ECHO = bytes(wasmtime.wat2wasm(example("echo")))
# The same agent answering `confirm` instead of `inform`: a second version to reload to.
ECHO_V2 = bytes(
    wasmtime.wat2wasm(
        example("echo").replace(
            '"{\\"performative\\":\\"inform\\",\\"receiver\\":"',
            '"{\\"performative\\":\\"cancel\\",\\"receiver\\":"',
        )
    )
)
BAD_INIT = wat(
    f"""(module (memory (export "memory") 1) {ALLOC}
  (func (export "caxton_init") (param i32 i32) (result i32) (i32.const 7))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""
)


class Server:
    """What a server holds for one data directory: store, runtime, router, manager."""

    def __init__(self, data_dir: Path) -> None:
        self.store = Store.open(data_dir)
        self.runtime = Runtime(RuntimeConfig(memory=MEMORY))
        self.router = Router()
        self.dispatcher = Dispatcher(self.router, workers=0)
        self.manager = AgentManager(
            store=self.store, runtime=self.runtime, router=self.router, dispatcher=self.dispatcher
        )
        self.client: Inbox = inbox(self.router, "client")

    def ask(self, receiver: str, content: object, **fields: object) -> None:
        message = {"performative": "request", "sender": "client", "receiver": receiver}
        self.router.post({**message, "content": content, **fields})

    def close(self) -> None:
        self.runtime.close()
        self.store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data")
    yield running
    running.close()


def test_a_deployed_agent_runs_and_answers(server: Server) -> None:
    view = server.manager.deploy("echo", ECHO, version="1.0")
    assert view.state is StateName.RUNNING
    server.ask("echo", {"n": 1})
    server.dispatcher.run_until_idle()
    assert [m["content"] for m in server.client.messages] == [{"n": 1}]
    record = server.store.agents.by_name("echo")
    assert record is not None
    assert (record.actual_state, record.desired_state, record.version) == (
        "Running",
        "Running",
        "1.0",
    )
    assert [t.to_state for t in server.store.agents.transitions(record.id)] == [
        "Unloaded",
        "Loaded",
        "Running",
    ]


def test_an_invalid_module_never_runs_and_the_reason_is_kept(server: Server) -> None:
    view = server.manager.deploy("broken", b"\0asm\x01\0\0\0garbage")
    assert view.state is StateName.FAILED
    assert "broken" not in server.router.names()
    record = server.store.agents.by_name("broken")
    assert record is not None
    history = server.store.agents.transitions(record.id)
    assert "Running" not in [t.to_state for t in history]
    assert history[-1].to_state == "Failed"
    assert history[-1].reason == view.reason != ""


def test_a_failing_init_never_runs_and_the_reason_is_kept(server: Server) -> None:
    view = server.manager.deploy("bad", BAD_INIT)
    assert view.state is StateName.FAILED
    assert "caxton_init returned 7" in view.reason
    assert server.runtime.running == 0
    assert "bad" not in server.router.names()


def test_stop_delivers_what_waits_then_refuses(server: Server) -> None:
    server.manager.deploy("echo", ECHO)
    for n in range(3):
        server.ask("echo", n)
    assert server.manager.stop("echo").state is StateName.STOPPED
    server.ask("echo", "late", reply_with="r1")
    server.dispatcher.run_until_idle()
    assert [m["content"] for m in server.client.of("inform")] == [0, 1, 2]
    [failure] = server.client.of("failure")
    assert failure["in_reply_to"] == "r1"
    assert server.runtime.running == 0
    with pytest.raises(LifecycleError, match="cannot stop agent 'echo': it is Stopped"):
        server.manager.stop("echo")
    assert server.manager.start("echo").state is StateName.RUNNING


def test_remove_frees_everything_the_agent_held(server: Server) -> None:
    server.manager.deploy("echo", ECHO)
    sandbox = server.manager.sandbox("echo")
    assert sandbox is not None
    freed = weakref.ref(sandbox)
    agent_id = server.manager.get("echo").id
    server.store.kv(agent_id, 1024).set(b"k", b"v")
    server.ask("echo", "waiting")
    del sandbox

    server.manager.remove("echo")
    gc.collect()

    assert freed() is None
    assert server.runtime.running == 0
    assert server.router.names() == ["client"]
    assert server.store.agents.by_name("echo") is None
    assert server.store.kv(agent_id, 1024).get(b"k") is None
    assert server.store.modules.hashes() == []
    assert [letter.message["content"] for letter in server.router.dead_letters.recent()] == [
        "waiting"
    ]
    [kept] = server.store.dead_letters.recent()  # and durably, in the store
    assert (kept.receiver, kept.message["content"]) == ("echo", "waiting")
    assert "stopped before delivery" in kept.reason
    with pytest.raises(UnknownAgent):
        server.manager.get("echo")


def test_after_a_graceful_restart_agents_state_and_queued_messages_are_back(
    tmp_path: Path,
) -> None:
    first = Server(tmp_path / "data")
    first.manager.deploy("ping", bytes(wasmtime.wat2wasm(example("ping"))), version="7")
    first.manager.deploy("pong", bytes(wasmtime.wat2wasm(example("pong"))))
    first.manager.deploy("echo", ECHO)
    first.manager.stop("echo")
    before = {view.name: view for view in first.manager.all()}
    first.ask("ping", "start")
    first.dispatcher.run_until_idle()
    first.ask("pong", {"ping": 41})  # still queued at shutdown
    assert first.manager.shutdown() == 1
    first.close()

    second = Server(tmp_path / "data")
    assert second.manager.recover() == ["ping", "pong"]
    after = {view.name: view for view in second.manager.all()}
    assert {name: (v.id, v.version) for name, v in after.items()} == {
        name: (v.id, v.version) for name, v in before.items()
    }
    assert [after[name].state for name in ("ping", "pong", "echo")] == [
        StateName.RUNNING,
        StateName.RUNNING,
        StateName.STOPPED,
    ]
    assert before["echo"].state is StateName.STOPPED
    ping_id = after["ping"].id
    assert second.store.kv(ping_id, 1024).get(b"rounds_done") == b"3"
    second.dispatcher.run_until_idle()
    assert [m["content"] for m in second.client.messages] == [{"pong": 41}]
    second.close()


def test_saved_messages_are_forgotten_only_once_handled(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    first.manager.deploy("echo", ECHO)
    for n in range(3):
        first.ask("echo", n)
    assert first.manager.shutdown() == 3
    first.close()

    # Recovered, then killed before any turn ran: nothing handled, nothing forgotten.
    crashed = Server(tmp_path / "data")
    crashed.manager.recover()
    assert [m["content"] for m in crashed.store.queued.peek("echo")] == [0, 1, 2]
    crashed.close()

    third = Server(tmp_path / "data")
    third.manager.recover()
    third.dispatcher.run_until_idle(max_turns=1)  # echo's turn: all three, handled
    assert third.store.queued.peek("echo") == []
    third.dispatcher.run_until_idle()
    assert [m["content"] for m in third.client.messages] == [0, 1, 2]
    third.close()

    fourth = Server(tmp_path / "data")  # after a crash now, nothing is delivered twice
    fourth.manager.recover()
    fourth.dispatcher.run_until_idle()
    assert fourth.client.messages == []
    fourth.close()


def test_a_shutdown_before_saved_messages_are_handled_saves_them_once(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    first.manager.deploy("echo", ECHO)
    first.ask("echo", "old")
    first.manager.shutdown()
    first.close()
    second = Server(tmp_path / "data")
    second.manager.recover()
    second.ask("echo", "new")
    assert second.manager.shutdown() == 2  # the saved one again, and the new one
    second.close()
    third = Server(tmp_path / "data")
    third.manager.recover()
    third.dispatcher.run_until_idle()
    assert [m["content"] for m in third.client.messages] == ["old", "new"]
    third.close()


def test_a_failed_agent_comes_back_failed_with_its_reason(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    view = first.manager.deploy("broken", BAD_INIT)
    assert view.state is StateName.FAILED
    first.manager.shutdown()
    first.close()
    second = Server(tmp_path / "data")
    assert second.manager.recover() == []
    again = second.manager.get("broken")
    assert again.state is StateName.FAILED
    assert again.reason == view.reason
    assert "caxton_init returned 7" in again.reason
    second.close()


def test_a_loaded_agent_stops_without_draining(server: Server) -> None:
    assert server.manager.deploy("echo", ECHO, start=False).state is StateName.LOADED
    assert server.manager.stop("echo").state is StateName.STOPPED
    assert server.manager.start("echo").state is StateName.RUNNING


def test_live_conversations_are_kept_at_shutdown(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    first.manager.deploy("echo", ECHO)
    first.ask("echo", "hi", conversation_id="c-1", protocol="fipa-request")
    first.dispatcher.run_until_idle()
    first.manager.shutdown()
    first.close()
    with Store.open(tmp_path / "data") as store:
        kept = store.conversations.get("c-1")
    assert kept is not None
    assert (kept.initiator, kept.protocol) == ("client", "fipa-request")


def capable(version: str, fail: bool = False) -> bytes:
    """An agent declaring capability `sum` at `version` in caxton_init, then failing if `fail`."""
    declared = f'{{"name":"sum","version":"{version}","description":"adds"}}'
    escaped = declared.replace('"', '\\"')
    return wat(
        f"""(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1) {ALLOC}
  (data (i32.const 64) "{escaped}")
  (func (export "caxton_init") (param i32 i32) (result i32)
    (drop (call $reg (i32.const 64) (i32.const {len(declared)})))
    (i32.const {7 if fail else 0}))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""
    )


def test_capabilities_follow_the_running_version(server: Server) -> None:
    view = server.manager.deploy("adder", capable("1.0"))
    [declared] = server.store.capabilities.of(view.id)
    assert (declared.name, declared.version, declared.description) == ("sum", "1.0", "adds")
    assert [p.agent_name for p in server.store.capabilities.providers("sum")] == ["adder"]

    with pytest.raises(Exception, match="caxton_init returned 7"):
        server.manager.reload("adder", capable("2.0", fail=True), version="2")
    assert [c.version for c in server.store.capabilities.of(view.id)] == ["1.0"]

    server.manager.reload("adder", capable("2.0"), version="2")
    assert [c.version for c in server.store.capabilities.of(view.id)] == ["2.0"]


def test_reload_swaps_versions_without_losing_or_reordering(server: Server) -> None:
    server.manager.deploy("svc", ECHO, version="1")
    for n in range(3):
        server.ask("svc", n)
    server.manager.reload("svc", ECHO_V2, version="2")
    server.ask("svc", 3)
    server.dispatcher.run_until_idle()
    answers = [(m["performative"], m["content"]) for m in server.client.messages]
    # Waiting messages are handled by the new version after the swap, in order.
    assert answers == [("cancel", 0), ("cancel", 1), ("cancel", 2), ("cancel", 3)]
    assert server.manager.get("svc").version == "2"
    assert server.runtime.running == 1


def test_a_reload_that_fails_init_keeps_the_old_version_running(server: Server) -> None:
    server.manager.deploy("svc", ECHO, version="1")
    with pytest.raises(Exception, match="caxton_init returned 7"):
        server.manager.reload("svc", BAD_INIT, version="2")
    server.ask("svc", "still here")
    server.dispatcher.run_until_idle()
    assert [(m["performative"], m["content"]) for m in server.client.messages] == [
        ("inform", "still here")
    ]
    view = server.manager.get("svc")
    assert (view.version, view.state) == ("1", StateName.RUNNING)


# Traps on any message containing an "X"; otherwise logs "ok".
FRAGILE = wat(
    f"""(module (import "caxton" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1) {ALLOC}
  (data (i32.const 64) "ok")
  (func (export "caxton_handle") (param $p i32) (param $n i32) (result i32) (local $i i32)
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 88))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (global.set $bump (i32.const 4096))
    (call $log (i32.const 2) (i32.const 64) (i32.const 2))
    (i32.const 0)))"""
)
POLICY = {"max_errors": 2, "max_restarts": 1, "backoff_initial_s": 0.01, "backoff_max_s": 0.01}


def history(server: Server, name: str) -> list[str]:
    record = server.store.agents.by_name(name)
    assert record is not None
    return [t.to_state for t in server.store.agents.transitions(record.id)]


def test_repeated_handler_errors_restart_the_agent_then_fail_it(server: Server) -> None:
    server.manager.deploy("fragile", FRAGILE, failure_policy=POLICY)
    first = server.manager.sandbox("fragile")
    server.ask("fragile", "X")
    server.ask("fragile", "X")  # the second error in the window trips the policy
    server.dispatcher.run_until_idle()
    server.ask("fragile", "fine")  # accepted while the agent waits for its restart
    server.dispatcher.run_until_idle()

    assert server.manager.wait(lambda: history(server, "fragile")[-2:] == ["Failed", "Running"], 10)
    second = server.manager.sandbox("fragile")
    assert second is not None
    assert second is not first
    server.dispatcher.run_until_idle()
    assert second.messages_handled == 1  # "fine", kept through the restart

    server.ask("fragile", "X")
    server.ask("fragile", "X")  # trips again: no restarts left
    server.dispatcher.run_until_idle()
    assert server.manager.wait(lambda: server.manager.get("fragile").state is StateName.FAILED, 10)
    view = server.manager.get("fragile")
    assert view.reason.startswith("2 handler errors in 60s")
    assert view.reason.endswith("gave up after 1 restarts")
    assert "fragile" not in server.router.names()
    assert server.runtime.running == 0


def test_a_bad_failure_policy_is_refused_naming_the_setting(server: Server) -> None:
    with pytest.raises(ConfigError, match=r"failure_policy\.max_errors"):
        server.manager.deploy("echo", ECHO, failure_policy={"max_errors": 0})
    assert server.store.agents.by_name("echo") is None


def test_rollback_returns_to_the_previous_version_even_after_a_restart(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    first.manager.deploy("svc", ECHO, version="1")
    with pytest.raises(LifecycleError, match="no previous version"):
        first.manager.rollback("svc")
    first.manager.reload("svc", ECHO_V2, version="2")
    assert first.manager.rollback("svc").version == "1"
    first.ask("svc", "a")
    first.dispatcher.run_until_idle()
    assert [m["performative"] for m in first.client.messages] == ["inform"]
    first.manager.reload("svc", ECHO_V2, version="2")
    first.manager.shutdown()
    first.close()

    second = Server(tmp_path / "data")
    second.manager.recover()
    assert second.manager.rollback("svc").version == "1"
    second.ask("svc", "b")
    second.dispatcher.run_until_idle()
    assert [(m["performative"], m["content"]) for m in second.client.messages] == [("inform", "b")]
    second.close()


def test_after_kill_9_under_load_the_store_is_sound_and_the_server_starts(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    script = Path(__file__).with_name("busy_server.py")
    with subprocess.Popen(
        [sys.executable, str(script), str(data)], stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 60)
            assert ready, "the busy server never got going"
            assert process.stdout.readline().strip() == "loaded"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
    assert process.returncode == -signal.SIGKILL

    server = Server(data)
    assert server.store.integrity_problems() == []
    records = server.store.agents.all()
    assert {"ping", "pong", "echo"} <= {record.name for record in records}
    assert all(record.module_sha256 in server.store.modules for record in records)
    started = server.manager.recover()
    assert {"ping", "pong", "echo"} <= set(started)
    assert all(view.state is StateName.RUNNING for view in server.manager.all())
    server.ask("echo", "after the crash")
    server.dispatcher.run_until_idle()
    assert {"after the crash"} <= {m["content"] for m in server.client.messages}
    server.close()
