"""`caxton tool ...` against a real server and the real mcp-server-time: tables for people,
JSON for scripts, and the exit codes of docs/cli.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from caxton.api.types import ToolGrant, ToolGrants, ToolList, ToolServer, ToolServerList
from live import Live, caxton, decode_as

TIME_SERVER = Path(sys.prefix) / "bin" / "mcp-server-time"
DEADLINE_S = 20.0
NOWHERE = "http://127.0.0.1:9/mcp"  # nothing listens there


def add_time(live: Live) -> None:
    added = caxton(live, "tool", "server", "add", "time", "--", str(TIME_SERVER),
                   "--local-timezone", "UTC")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("added tool server time (")
    assert f"{TIME_SERVER} --local-timezone UTC" in added.stdout
    assert "caxton tool server list" in added.stderr


def until_ready(live: Live, name: str) -> ToolServer:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        listed = caxton(live, "tool", "server", "list", output="json")
        assert listed.exit_code == 0, listed.output
        [found] = [item for item in decode_as(ToolServerList, listed.stdout).items
                   if item.name == name]  # fmt: skip
        if found.state == "ready":
            return found
        assert time.monotonic() < deadline, f"{name} is still {found.state}"
        time.sleep(0.05)  # the server connects in the background


def test_add_list_and_remove_a_server_and_list_its_tools(live: Live) -> None:
    empty = caxton(live, "tool", "server", "list")
    assert (empty.exit_code, empty.stdout) == (
        0,
        "no tool servers; add one with `caxton tool server add NAME -- COMMAND`\n",
    )
    add_time(live)
    ready = until_ready(live, "time")
    assert (ready.transport, ready.tools, ready.args) == ("stdio", 2, ["--local-timezone", "UTC"])

    table = caxton(live, "tool", "server", "list")
    assert table.exit_code == 0, table.output
    header, _rule, row = table.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "TOOLS", "CONNECTS", "COMMAND/URL", "LAST-ERROR"]
    assert row.split() == ["time", "ready", "2", "1", str(TIME_SERVER), "--local-timezone", "UTC"]

    tools = caxton(live, "tool", "list")
    assert tools.exit_code == 0, tools.output
    header, _rule, *rows = tools.stdout.splitlines()
    assert header.split() == ["TOOL", "DESCRIPTION"]
    assert [line.split()[0] for line in rows] == ["time/convert_time", "time/get_current_time"]
    assert "Convert time between timezones" in rows[0]

    schemas = decode_as(
        ToolList, caxton(live, "tool", "list", "--server", "time", output="json").stdout
    )
    [current] = [tool for tool in schemas.items if tool.tool == "get_current_time"]
    assert current.name == "time/get_current_time"
    assert "timezone" in current.input_schema["properties"]

    removed = caxton(live, "tool", "server", "remove", "time")
    assert (removed.exit_code, removed.stdout) == (0, "removed tool server time\n")
    assert caxton(live, "tool", "list").stdout.startswith("no tools (no tool server is ready?")
    assert caxton(live, "tool", "server", "remove", "time").exit_code == 4
    assert caxton(live, "tool", "list", "--server", "time").exit_code == 4


def test_an_http_server_and_env_as_json(live: Live) -> None:
    added = caxton(live, "tool", "server", "add", "remote", "--url", NOWHERE, output="json")
    assert added.exit_code == 0, added.output
    remote = decode_as(ToolServer, added.stdout)
    assert (remote.name, remote.transport, remote.url, remote.command) == (
        "remote", "http", NOWHERE, None,
    )  # fmt: skip

    with_env = caxton(live, "tool", "server", "add", "clock", "--env", "TZ=UTC", "--env",
                      "TOKEN=a=b", "--", str(TIME_SERVER), output="json")  # fmt: skip
    assert with_env.exit_code == 0, with_env.output
    assert decode_as(ToolServer, with_env.stdout).env_names == ["TOKEN", "TZ"]
    until_ready(live, "clock")
    listed = caxton(live, "tool", "server", "list")
    assert [line.split()[0] for line in listed.stdout.splitlines()[2:]] == ["clock", "remote"]
    assert NOWHERE in listed.stdout
    assert caxton(live, "tool", "list", "--server", "remote").stdout.startswith(
        "no tools (remote is not ready?"
    )


def test_exit_codes_of_bad_server_input(live: Live) -> None:
    assert caxton(live, "tool", "server", "add", "remote", "--url", NOWHERE).exit_code == 0
    taken = caxton(live, "tool", "server", "add", "remote", "--", str(TIME_SERVER))
    assert taken.exit_code == 5
    assert "exists; remove it first" in taken.stderr
    assert "[tool-server-exists]" in taken.stderr

    bad_name = caxton(live, "tool", "server", "add", "Bad", "--", "x")
    assert bad_name.exit_code == 2
    assert "name: 'Bad' is not a tool server name" in bad_name.stderr
    bad_url = caxton(live, "tool", "server", "add", "web", "--url", "ftp://h")
    assert (bad_url.exit_code, "url: " in bad_url.stderr) == (2, True)

    for usage in (
        ("web",),  # neither
        ("web", "--url", NOWHERE, "--", "x"),  # both
        ("web", "--url", NOWHERE, "--env", "A=1"),  # env for a url
        ("web", "--env", "NOEQUALS", "--", "x"),
        ("web", "--env", "=1", "--", "x"),
    ):
        refused = caxton(live, "tool", "server", "add", *usage)
        assert refused.exit_code == 2, (usage, refused.output)
    assert [item.name for item in decode_as(
        ToolServerList, caxton(live, "tool", "server", "list", output="json").stdout
    ).items] == ["remote"]  # fmt: skip


def test_grant_list_and_revoke(live: Live) -> None:
    none = caxton(live, "tool", "grants", "echo")
    assert none.exit_code == 0, none.output
    assert none.stdout.startswith("echo may call no tools; grant some with")

    granted = caxton(live, "tool", "grant", "echo", "time/*")
    assert (granted.exit_code, granted.stdout) == (0, "echo may now call time/*\n")
    again = caxton(live, "tool", "grant", "echo", "time/*")
    assert (again.exit_code, again.stdout) == (0, "echo may call time/* already\n")
    as_json = caxton(live, "tool", "grant", "not-deployed", "time/get_current_time", output="json")
    assert as_json.exit_code == 0, as_json.output
    assert decode_as(ToolGrant, as_json.stdout) == ToolGrant(
        agent="not-deployed", pattern="time/get_current_time"
    )
    assert caxton(live, "tool", "grant", "echo", "web/fetch").exit_code == 0

    table = caxton(live, "tool", "grants", "echo")
    assert table.stdout.splitlines() == ["PATTERN", "─" * 9, "time/*", "web/fetch"]
    listed = decode_as(ToolGrants, caxton(live, "tool", "grants", "echo", output="json").stdout)
    assert listed == ToolGrants(agent="echo", patterns=["time/*", "web/fetch"])
    assert live.server.tools.grants.allowed("echo", "time/get_current_time")

    revoked = caxton(live, "tool", "revoke", "echo", "time/*")
    assert (revoked.exit_code, revoked.stdout) == (0, "echo may no longer call time/*\n")
    assert not live.server.tools.grants.allowed("echo", "time/get_current_time")
    absent = caxton(live, "tool", "revoke", "echo", "time/*")
    assert absent.exit_code == 4
    assert "[tool-grant-not-found]" in absent.stderr
    assert caxton(live, "tool", "revoke", "echo", "web/fetch", output="json").stdout == ""

    bad = caxton(live, "tool", "grant", "echo", "time")
    assert bad.exit_code == 2
    assert "pattern: 'time' is not a tool pattern" in bad.stderr
    assert caxton(live, "tool", "grant", "Not-An-Agent", "time/*").exit_code == 2
    assert caxton(live, "tool", "grants", "echo", output="json").stdout.count("time") == 0
