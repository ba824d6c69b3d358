"""`caxton agent deploy|list|get|start|stop|drain|reload|rollback|remove|logs`, on a real server."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import wasmtime
from click.testing import CliRunner

from caxton.api.types import Agent, AgentList, AgentLogLine, AgentLogs
from caxton.cli import agent as agent_cli
from caxton.cli import main
from live import Follower, Live, caxton, decode_as


def example_wat(name: str) -> str:
    return resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()


def compiled(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.wasm"
    path.write_bytes(bytes(wasmtime.wat2wasm(text)))
    return path


def echo_wasm(tmp_path: Path, ready: str = "echo ready") -> Path:
    """The example echo agent; `ready` (10 characters) changes its module and start-up line."""
    assert len(ready) == len("echo ready")  # the agent logs exactly that many bytes
    return compiled(
        tmp_path,
        f"echo-{ready.replace(' ', '-')}",
        example_wat("echo").replace("echo ready", ready),
    )


def kick_pong(live: Live, number: int) -> None:
    """Send pong a request it answers and logs as "pong <number>"."""
    request = {"performative": "request", "receiver": "pong", "content": {"ping": number}}
    response = live.post("/messages", json=request)
    assert response.status_code == 202, response.text


# ---- deploy ----


def test_deploy_a_wasm_file_with_its_options(live: Live, tmp_path: Path) -> None:
    module = echo_wasm(tmp_path)
    result = caxton(
        live, "agent", "deploy", str(module), "--name", "parrot", "--version", "2.1",
        "--config", '{"greeting": "hi"}', "--limits", '{"deadline_ms": 500}',
        "--memory", str(4 << 20), "--fuel", "5000000",
        output="json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    deployed = decode_as(Agent, result.stdout)
    assert (deployed.name, deployed.version, deployed.state) == ("parrot", "2.1", "Running")
    assert deployed.config == {"greeting": "hi"}
    assert deployed.limits == {
        "deadline_ms": 500,
        "memory_bytes": 4 << 20,
        "fuel_per_message": 5_000_000,
    }
    assert live.get("/agents/parrot").json()["version"] == "2.1"


def test_deploy_compiles_webassembly_text_here_and_can_leave_it_loaded(
    live: Live, tmp_path: Path
) -> None:
    source = tmp_path / "talker.wat"
    source.write_text(example_wat("echo"))
    result = caxton(live, "agent", "deploy", str(source), "--name", "talker", "--no-start")

    assert result.exit_code == 0, result.output
    assert result.stdout == "deployed talker 1: Loaded\n"
    assert live.get("/agents/talker").json()["state"] == "Loaded"


def test_deploy_refuses_what_is_wrong_with_the_exit_code_that_says_why(
    live: Live, tmp_path: Path
) -> None:
    module = echo_wasm(tmp_path)
    taken = caxton(live, "agent", "deploy", str(module), "--name", "echo")
    assert taken.exit_code == 5
    assert "echo" in taken.stderr
    assert "[agent-exists]" in taken.stderr

    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\x00asm but not really")
    refused = caxton(live, "agent", "deploy", str(junk), "--name", "junk")
    assert refused.exit_code == 1  # deployed, but Failed: the reason says why
    assert refused.stdout == "deployed junk 1: Failed\n"
    assert "agent junk failed: " in refused.stderr
    assert "caxton agent remove junk" in refused.stderr

    bad_text = tmp_path / "bad.wat"
    bad_text.write_text("(module (fnuc))")
    not_wat = caxton(live, "agent", "deploy", str(bad_text), "--name", "bad")
    assert not_wat.exit_code == 2
    assert "not valid WebAssembly text" in not_wat.stderr

    for option, value in (("--config", "{oops"), ("--config", "[1]"), ("--limits", "3")):
        bad = caxton(live, "agent", "deploy", str(module), "--name", "x", option, value)
        assert bad.exit_code == 2, (option, value)
        assert option in bad.stderr
    assert caxton(live, "agent", "deploy", str(module)).exit_code == 2  # --name is required
    names = {item["name"] for item in live.get("/agents").json()["items"]}
    assert names == {"echo", "ping", "pong", "junk"}


# ---- list, get ----


def test_list_shows_a_table_and_json_parses_as_the_api_type(live: Live) -> None:
    table = caxton(live, "agent", "list")
    assert table.exit_code == 0, table.output
    header, _rule, *rows = table.stdout.splitlines()
    columns = ["NAME", "STATE", "VERSION", "IN", "OUT", "HANDLED", "ERRORS", "CAPABILITIES"]
    assert header.split() == columns
    assert [row.split()[:3] for row in rows] == [
        ["echo", "Running", "1.0.0"],
        ["ping", "Running", "1.0.0"],
        ["pong", "Running", "1.0.0"],
    ]

    listed = decode_as(AgentList, caxton(live, "agent", "list", output="json").stdout)
    assert [item.name for item in listed.items] == ["echo", "ping", "pong"]
    assert listed.next_cursor is None
    assert all(item.counters is not None for item in listed.items)


def test_list_follows_every_page_unless_limited(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_cli, "PAGE", 2)  # three agents: two pages
    every = decode_as(AgentList, caxton(live, "agent", "list", output="json").stdout)
    assert [item.name for item in every.items] == ["echo", "ping", "pong"]
    assert every.next_cursor is None

    two = decode_as(AgentList, caxton(live, "agent", "list", "--limit", "2", output="json").stdout)
    assert [item.name for item in two.items] == ["echo", "ping"]
    assert two.next_cursor == "ping"


def test_list_filters_by_state_and_capability(live: Live) -> None:
    assert caxton(live, "agent", "stop", "ping").exit_code == 0
    stopped = caxton(live, "agent", "list", "--state", "stopped", output="json")
    assert [item.name for item in decode_as(AgentList, stopped.stdout).items] == ["ping"]

    nobody = caxton(live, "agent", "list", "--capability", "translate")
    assert nobody.exit_code == 0
    assert "no agents" in nobody.stdout

    assert caxton(live, "agent", "list", "--state", "Sleeping").exit_code == 2


def test_get_shows_every_field_with_the_counters(live: Live) -> None:
    assert live.post("/agents/echo/invoke", json={"content": 1}).status_code == 200
    table = caxton(live, "agent", "get", "echo")
    assert table.exit_code == 0, table.output
    shown = dict(line.split(maxsplit=1) for line in table.stdout.splitlines() if "  " in line)
    assert shown["state"].strip() == "Running"
    assert shown["version"].strip() == "1.0.0"
    lines = table.stdout.splitlines()
    assert any(line.split()[:3] == ["messages", "in", "1"] for line in lines)
    assert any(line.split()[:2] == ["handled", "1"] for line in lines)
    assert any(line.startswith("fuel used") for line in lines)

    got = decode_as(Agent, caxton(live, "agent", "get", "echo", output="json").stdout)
    assert got.counters is not None
    assert got.counters.messages_in == 1
    assert got.counters.messages_out == 1
    assert got.counters.fuel_used > 0


def test_an_unknown_agent_exits_4_and_names_it(live: Live) -> None:
    for command in (("get",), ("start",), ("stop",), ("remove",), ("logs",)):
        result = caxton(live, "agent", *command, "nobody")
        assert result.exit_code == 4, command
        assert "'nobody'" in result.stderr
        assert "[agent-not-found]" in result.stderr


# ---- actions ----


def test_stop_start_drain_and_illegal_moves(live: Live) -> None:
    stopped = caxton(live, "agent", "stop", "pong")
    assert (stopped.exit_code, stopped.stdout) == (0, "pong: Stopped (1.0.0)\n")
    again = caxton(live, "agent", "stop", "pong")
    assert again.exit_code == 5
    assert "[illegal-transition]" in again.stderr

    started = caxton(live, "agent", "start", "pong", output="json")
    assert decode_as(Agent, started.stdout).state == "Running"
    drained = caxton(live, "agent", "drain", "pong", output="json")
    assert decode_as(Agent, drained.stdout).state == "Stopped"


def test_reload_then_rollback(live: Live, tmp_path: Path) -> None:
    newer = echo_wasm(tmp_path, "echo again")
    reloaded = caxton(live, "agent", "reload", "echo", str(newer), "--version", "2.0.0")
    assert reloaded.exit_code == 0, reloaded.output
    assert reloaded.stdout == "reloaded echo: now 2.0.0, Running\n"

    back = decode_as(Agent, caxton(live, "agent", "rollback", "echo", output="json").stdout)
    assert back.version == "1.0.0"
    assert back.state == "Running"

    assert caxton(live, "agent", "reload", "echo", str(newer)).exit_code == 2  # --version
    nothing_before = caxton(live, "agent", "rollback", "ping")
    assert nothing_before.exit_code == 5


def test_remove(live: Live) -> None:
    removed = caxton(live, "agent", "remove", "ping")
    assert (removed.exit_code, removed.stdout) == (0, "removed ping\n")
    assert live.get("/agents/ping").status_code == 404
    quiet = caxton(live, "agent", "remove", "pong", output="json")
    assert (quiet.exit_code, quiet.stdout) == (0, "")


# ---- logs ----


def test_logs_prints_time_level_agent_and_text(live: Live) -> None:
    result = caxton(live, "agent", "logs", "echo")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    day, clock, level, rest = line.split(" ", 3)
    assert (level, rest) == ("info", "echo: echo ready")
    assert len(day) == 10
    assert len(clock) == 12

    page = decode_as(AgentLogs, caxton(live, "agent", "logs", "echo", output="json").stdout)
    assert [(item.level, item.text) for item in page.items] == [("info", "echo ready")]
    newer = caxton(live, "agent", "logs", "echo", "--after", str(page.items[0].seq))
    assert newer.stdout == ""


def test_logs_follow_prints_a_line_logged_after_it_started_and_ctrl_c_ends_it(
    live: Live,
) -> None:
    with Follower(["--url", live.url, "agent", "logs", "pong", "--follow"]) as follower:
        # The history comes first: once "pong ready" is out, anything logged from now on follows.
        follower.expect(lambda line: line.endswith("info pong: pong ready"))
        kick_pong(live, 41)
        follower.expect(lambda line: line.endswith("info pong: pong 41"))
        code, stderr = follower.interrupt()
    assert code == 0
    assert "Traceback" not in stderr
    assert "Aborted" not in stderr


def test_logs_follow_as_json_lines(live: Live) -> None:
    args = ["--url", live.url, "-o", "json", "agent", "logs", "pong", "--follow"]
    with Follower(args) as follower:
        first = decode_as(AgentLogLine, follower.expect(lambda line: "pong ready" in line))
        assert (first.agent, first.level) == ("pong", "info")
        kick_pong(live, 42)
        later = follower.expect(lambda line: "pong 42" in line)
        assert decode_as(AgentLogLine, later).seq > first.seq
        assert follower.interrupt()[0] == 0


def test_run_is_still_here_and_list_never_imports_wasmtime(live: Live) -> None:
    code = (
        "import sys\n"
        "from caxton.cli import main\n"
        f"main(['--url', {live.url!r}, 'agent', 'list'], standalone_mode=False)\n"
        "heavy = ('wasmtime', 'fastapi', 'uvicorn', 'caxton.runtime', 'caxton.local')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
    assert "echo" in done.stdout

    run = CliRunner().invoke(main, ["agent", "run", "--help"])
    assert run.exit_code == 0
    assert "--message" in run.stdout


def test_json_output_comes_from_caxton_output_too(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAXTON_OUTPUT", "json")
    result = CliRunner().invoke(main, ["--url", live.url, "agent", "get", "pong"])
    assert decode_as(Agent, result.stdout).name == "pong"
