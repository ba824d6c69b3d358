"""MCP servers declared in the config file: loaded at start, kept in step with the file,
and refused with an error that names the key when they are malformed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from caxton.errors import ConfigError
from caxton.server.server import Server
from caxton.settings import Settings
from caxton.tools import ToolServerSpec

TIME_SERVER = Path(sys.prefix) / "bin" / "mcp-server-time"
DEADLINE_S = 20.0


def settings(tmp_path: Path, toml: str) -> Settings:
    config = tmp_path / "server.toml"
    config.write_text(toml)
    return Settings.load(env={"HOME": str(tmp_path)}, flags={"data_dir": tmp_path / "data"},
                         config_path=config)  # fmt: skip


def test_a_declared_server_is_connected_at_start_and_forgotten_when_the_file_drops_it(
    tmp_path: Path,
) -> None:
    declared = f"""
[tools.servers.time]
command = ["{TIME_SERVER}", "--local-timezone"]
args = ["UTC"]
"""
    server = Server(settings(tmp_path, declared))
    try:
        server.start()
        assert server.tools.wait_ready("time", DEADLINE_S)
        [record] = server.store.tool_servers.all()
        assert (record.name, record.source) == ("time", "config")
        assert record.spec["args"] == ["--local-timezone", "UTC"]
        assert "time/get_current_time" in {tool.qualified for tool in server.tools.tools()}
    finally:
        server.close()
    again = Server(settings(tmp_path, "# no servers any more\n"))
    try:
        again.start()
        assert again.store.tool_servers.all() == []
        [removed] = again.store.audit.recent(10, action="tool.server.remove")
        assert (removed.actor, removed.target) == ("config", "time")
    finally:
        again.close()


def test_servers_added_through_the_api_outlive_a_restart(tmp_path: Path) -> None:
    first = Server(Settings(data_dir=tmp_path / "data"))
    try:
        first.start()
        first.tools.add_server(ToolServerSpec.stdio("clock", str(TIME_SERVER)))
    finally:
        first.close()
    second = Server(Settings(data_dir=tmp_path / "data"))
    try:
        second.start()
        deadline = time.monotonic() + DEADLINE_S
        assert second.tools.wait_ready("clock", DEADLINE_S)
        assert time.monotonic() < deadline
        assert [s.spec.name for s in second.tools.servers()] == ["clock"]
    finally:
        second.close()


@pytest.mark.parametrize(
    ("toml", "setting"),
    [
        ("[tools.servers.x]\n", "tools.servers.x"),
        ('[tools.servers.x]\ncommand = "a"\nurl = "http://h"\n', "tools.servers.x"),
        ('[tools.servers.x]\ncommand = "a"\ncolour = "blue"\n', "tools.servers.x"),
        ("[tools]\nservers = 3\n", "tools.servers"),
    ],
)
def test_a_malformed_declaration_is_refused_when_the_settings_load(
    tmp_path: Path, toml: str, setting: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, toml)
    assert str(caught.value).startswith(setting)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[tools.servers.web]\nurl = "ftp://h"\n',
            "tools.servers.web.url: tool server 'web': 'ftp://h'",
        ),
        ('[tools.servers.x]\ncommand = ["a", 3]\n', "tools.servers.x.command: must be"),
        ('[tools.servers.x]\ncommand = "a"\nenv = {A = 1}\n', "tools.servers.x.env: must be"),
        ('[tools.servers.Bad]\ncommand = "a"\n', "tools.servers.Bad.name: 'Bad' is not"),
    ],
)
def test_a_bad_value_is_refused_when_the_server_is_built(
    tmp_path: Path, toml: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        Server(settings(tmp_path, toml))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://docs.python.org/3/library/", True),
        ("https://docs.python.org/3/../../etc", False),
        ("https://docs.python.org/%2e%2e/x", False),
        ("https://docs.python.org@evil.example/", False),
        ("https://docs.python.org.evil.example/", False),
        ("https://docs.python.org\\@evil.example/", False),
        ("http://docs.python.org/3/", False),
    ],
)
def test_an_allow_list_takes_plain_values_that_match_its_globs(url: str, allowed: bool) -> None:
    spec = ToolServerSpec.stdio("web", "mcp-server-fetch").allowing(
        {"url": ["https://docs.python.org/*"]}
    )
    assert (spec.refusal({"url": url}) is None) is allowed
    assert spec.refusal({"other": "anything"}) is None  # only the arguments it names


def test_an_allow_list_in_the_config_file_is_kept(tmp_path: Path) -> None:
    toml = """
[tools.servers.web]
command = "mcp-server-fetch"
allow = { url = ["https://docs.python.org/*"] }
"""
    server = Server(settings(tmp_path, toml))
    try:
        [spec] = server._declared_tools
        assert spec.allow == {"url": ("https://docs.python.org/*",)}
        assert (
            ToolServerSpec.from_record(
                server.store.tool_servers.put("web", "stdio", spec.to_spec(), "config")
            ).allow
            == spec.allow
        )
    finally:
        server.close()
