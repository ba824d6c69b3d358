"""Caxton's tool host against MCP servers it did not write: the reference servers from npm
(server-everything, server-filesystem; pinned in tests/tools/npm, installed by
scripts/install-tool-servers), and streamable HTTP against a Python MCP server on loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest
from npm_servers import everything, filesystem
from test_tool_calls import answer, run

from caxton.settings import ToolSettings
from caxton.tools import ToolArgumentsInvalid, ToolResult, ToolServerSpec
from caxton.tools.host import ToolHost
from live import live_server

DEADLINE_S = 20.0
CALL_TIMEOUT_S = 10.0
SECRET = "the secret outside the sandbox"


def stdio(name: str, command: list[str]) -> ToolServerSpec:
    return ToolServerSpec.stdio(name, command[0], command[1:])


def recorded(command: list[str], wire: Path) -> list[str]:
    """`command`, with every byte the client sends it copied to `wire` on the way in."""
    return ["/bin/sh", "-c", 'tee -a "$0" | "$@"', str(wire), *command]


@contextlib.contextmanager
def tool_host(log_dir: Path) -> Iterator[ToolHost]:
    host = ToolHost(log_dir=log_dir)  # each stdio server's stderr goes to a file there
    try:
        yield host
    finally:
        host.close()


def connect(host: ToolHost, spec: ToolServerSpec) -> None:
    host.add(spec)
    assert host.wait_ready(spec.name, DEADLINE_S), host.servers()


def called(host: ToolHost, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
    return host.call(server, tool, arguments, CALL_TIMEOUT_S).result(DEADLINE_S)


def texts(result: ToolResult) -> list[str]:
    return [block["text"] for block in result.content if block["type"] == "text"]


@pytest.fixture
def wire(tmp_path: Path) -> Path:
    """Where server-everything's standard input is recorded: what reached the server."""
    return tmp_path / "everything.stdin"


@pytest.fixture
def everything_host(tmp_path: Path, wire: Path) -> Iterator[ToolHost]:
    """server-everything over stdio, its input passing through `tee` (which changes nothing)."""
    with tool_host(tmp_path / "logs") as host:
        connect(host, stdio("everything", recorded(everything("stdio"), wire)))
        yield host


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """The directory server-filesystem may read; beside it a secret, and a link to it inside."""
    root = tmp_path / "sandbox"
    (root / "sub").mkdir(parents=True)
    (root / "inside.txt").write_text("hello from inside\n")
    (root / "sub" / "nested.md").write_text("nested\nsecond line\n")
    (tmp_path / "secret.txt").write_text(SECRET)
    (root / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def files_host(tmp_path: Path, sandbox: Path) -> Iterator[ToolHost]:
    with tool_host(tmp_path / "logs") as host:
        connect(host, stdio("files", filesystem(sandbox)))
        yield host


# ---- server-everything over stdio ----


def test_server_everything_lists_its_tools_with_their_schemas(everything_host: ToolHost) -> None:
    listed = {tool.name: tool for tool in everything_host.tools()}
    assert {"echo", "get-sum", "get-structured-content"} <= set(listed)
    assert {tool.qualified for tool in listed.values()} >= {"everything/echo"}
    echo = listed["echo"].input_schema
    assert echo["required"] == ["message"]
    assert echo["properties"]["message"]["type"] == "string"


def test_echo_answers_with_the_message(everything_host: ToolHost) -> None:
    result = called(everything_host, "everything", "echo", {"message": "hello from caxton"})
    assert not result.is_error
    assert texts(result) == ["Echo: hello from caxton"]
    summed = called(everything_host, "everything", "get-sum", {"a": 2, "b": 3.5})
    assert texts(summed) == ["The sum of 2 and 3.5 is 5.5."]


@pytest.mark.parametrize(
    ("tool", "arguments", "reason"),
    [
        ("echo", {}, "(the arguments): 'message' is a required property"),
        ("echo", {"message": 5}, "message: 5 is not of type 'string'"),
        ("get-sum", {"a": 2, "b": "3"}, "b: '3' is not of type 'number'"),
        ("get-structured-content", {"location": "Paris"}, "location: 'Paris' is not one of"),
    ],
    ids=["missing", "wrong-type", "string-for-number", "not-in-enum"],
)
def test_bad_arguments_are_refused_before_reaching_the_server(
    everything_host: ToolHost, wire: Path, tool: str, arguments: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ToolArgumentsInvalid, match="arguments of everything/"):
        everything_host.check("everything", tool, arguments)
    with pytest.raises(ToolArgumentsInvalid) as refused:
        everything_host.call("everything", tool, arguments, CALL_TIMEOUT_S).result(DEADLINE_S)
    assert reason in str(refused.value)
    # A good call after it: once it is answered, all that went before is in the record, and
    # the server got that call only (the server itself would have answered a bad call).
    assert texts(called(everything_host, "everything", "echo", {"message": "ok"})) == ["Echo: ok"]
    calls = [message for line in wire.read_bytes().splitlines()
             if (message := orjson.loads(line)).get("method") == "tools/call"]  # fmt: skip
    assert [call["params"] for call in calls] == [{"name": "echo", "arguments": {"message": "ok"}}]


# ---- server-filesystem, confined to a directory ----


def test_server_filesystem_reads_inside_its_directory(files_host: ToolHost, sandbox: Path) -> None:
    inside = called(files_host, "files", "read_text_file", {"path": str(sandbox / "inside.txt")})
    assert not inside.is_error
    assert inside.structured == {"content": "hello from inside\n"}
    relative = called(files_host, "files", "read_text_file", {"path": "sub/nested.md", "head": 1})
    assert relative.structured == {"content": "nested"}
    # Only the directory it was started with: Caxton offers no MCP roots that would replace it.
    allowed = called(files_host, "files", "list_allowed_directories", {})
    assert texts(allowed) == [f"Allowed directories:\n{sandbox}"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("read_text_file", {"path": "../secret.txt"}),
        ("read_text_file", {"path": "{sandbox}/../secret.txt"}),
        ("read_text_file", {"path": "{sandbox}/sub/../../secret.txt"}),
        ("read_text_file", {"path": "{outside}"}),
        ("read_text_file", {"path": "link-out.txt"}),
        ("read_file", {"path": "../secret.txt"}),
        ("list_directory", {"path": ".."}),
        ("get_file_info", {"path": "../secret.txt"}),
    ],
    ids=["relative", "dot-dot", "deeper-dot-dot", "absolute", "symlink-out", "read_file",
         "list-parent", "file-info"],
)  # fmt: skip
def test_server_filesystem_refuses_paths_outside_its_directory(
    files_host: ToolHost, sandbox: Path, tool: str, arguments: dict[str, str]
) -> None:
    outside = sandbox.parent / "secret.txt"
    path = arguments["path"].format(sandbox=sandbox, outside=outside)
    result = called(files_host, "files", tool, {**arguments, "path": path})
    assert result.is_error
    [said] = texts(result)
    assert "Access denied" in said
    assert result.structured is None
    assert SECRET not in repr(result)  # the refusal names the path, never the content


# ---- streamable HTTP ----

# server-everything's streamableHttp mode (this version) cannot be limited to loopback: it
# calls `app.listen(process.env.PORT)` with no host, so it listens on every interface, and
# has no HOST variable or flag. Its HTTP mode is therefore not run here; the transport is
# tested against an MCP server of ours (the Python SDK's MCPServer), bound to 127.0.0.1.
HTTP_SERVER = """
import sys
from mcp.server.mcpserver import MCPServer

server = MCPServer("caxton-http-test", version="1.0.0")


@server.tool()
async def echo(text: str) -> str:
    '''Answers with the text it was given.'''
    return f"echo: {text}"


@server.tool()
async def add(a: int, b: int) -> int:
    '''Adds two integers.'''
    return a + b


server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def http_server(log: Path) -> Iterator[tuple[str, int]]:
    """The Python MCP server above on a free loopback port: its URL and pid, until the end."""
    port = free_port()
    command = [sys.executable, "-c", HTTP_SERVER, str(port)]
    with (
        log.open("wb") as out,
        subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        ) as process,
    ):
        try:
            deadline = time.monotonic() + DEADLINE_S
            while not accepts(port):
                assert process.poll() is None, f"the server exited: {log.read_text()}"
                assert time.monotonic() < deadline, f"not listening: {log.read_text()}"
                time.sleep(0.05)  # polling for the server's socket
            yield f"http://127.0.0.1:{port}/mcp", process.pid
        finally:
            process.terminate()
            try:
                process.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                process.kill()


def test_streamable_http_to_a_server_on_loopback(tmp_path: Path) -> None:
    with http_server(tmp_path / "http.log") as (url, pid), tool_host(tmp_path / "logs") as host:
        listening = [connection.laddr for connection in psutil.Process(pid).net_connections()
                     if connection.status == psutil.CONN_LISTEN]  # fmt: skip
        assert listening
        assert all(address.ip == "127.0.0.1" for address in listening), listening
        connect(host, ToolServerSpec.http("web", url))
        assert {tool.qualified for tool in host.tools()} == {"web/echo", "web/add"}
        assert texts(called(host, "web", "echo", {"text": "over http"})) == ["echo: over http"]
        assert called(host, "web", "add", {"a": 2, "b": 3}).structured == {"result": 5}
        with pytest.raises(ToolArgumentsInvalid, match="b: 'three' is not of type 'integer'"):
            called(host, "web", "add", {"a": 2, "b": "three"})


# ---- through a real Caxton server, from wasm agents ----


def test_wasm_agents_call_the_npm_servers(tmp_path: Path, sandbox: Path) -> None:
    with live_server(tmp_path / "data", tools=ToolSettings(timeout_s=CALL_TIMEOUT_S)) as live:
        tools = live.server.tools
        tools.add_server(stdio("everything", everything("stdio")))
        tools.add_server(stdio("files", filesystem(sandbox)))
        assert tools.wait_ready("everything", DEADLINE_S)
        assert tools.wait_ready("files", DEADLINE_S)
        echo = {"tool": "everything/echo", "arguments": {"message": "from wasm"},
                "reply_with": "e-1"}  # fmt: skip
        run(live, "echoer", echo, grant="everything/echo")
        snoop = {"tool": "files/read_text_file", "arguments": {"path": "../secret.txt"},
                 "reply_with": "s-1"}  # fmt: skip
        run(live, "snoop", snoop, grant="files/read_text_file")

        echoed = answer(live, "echoer")
        assert (echoed["performative"], echoed["in_reply_to"]) == ("inform", "e-1")
        assert echoed["content"]["content"] == [{"type": "text", "text": "Echo: from wasm"}]
        refused = answer(live, "snoop")
        assert (refused["performative"], refused["in_reply_to"]) == ("failure", "s-1")
        assert refused["content"]["error"] == "tool-error"
        assert "Access denied" in refused["content"]["reason"]
        assert SECRET not in orjson.dumps(refused).decode()
