"""What an operator tells Caxton about an MCP server: its name and how to reach it.

A server is reached over `stdio` (a command Caxton starts and talks to on its
standard input and output) or `http` (MCP's streamable HTTP, at a URL). The
name is the `server` part of the `server/tool` names agents call tools by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from caxton.errors import ConfigError
from caxton.store.tools import ToolServerRecord, Transport

SERVER_NAME: Final = re.compile(r"[a-z][a-z0-9-]{0,62}")
# A tool's own name, as MCP servers spell them (letters, digits, _ - .).
TOOL_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@dataclass(frozen=True, slots=True)
class ToolServerSpec:
    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not SERVER_NAME.fullmatch(self.name):
            raise ConfigError(
                "name",
                f"{self.name!r} is not a tool server name (a-z first, then a-z 0-9 -, <= 63)",
            )
        if self.transport == "stdio":
            if not self.command:
                raise ConfigError("command", f"tool server {self.name!r} needs a command to run")
            if self.url is not None:
                raise ConfigError("url", f"tool server {self.name!r} has a command; drop the url")
        else:
            parts = urlsplit(self.url or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(
                    "url", f"tool server {self.name!r}: {self.url!r} is not an http(s) URL"
                )
            if self.command is not None:
                raise ConfigError(
                    "command", f"tool server {self.name!r} has a url; drop the command"
                )

    @classmethod
    def stdio(
        cls,
        name: str,
        command: str,
        args: tuple[str, ...] | list[str] = (),
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> ToolServerSpec:
        return cls(name, "stdio", command=command, args=tuple(args), env=dict(env or {}), cwd=cwd)

    @classmethod
    def http(cls, name: str, url: str, *, headers: dict[str, str] | None = None) -> ToolServerSpec:
        return cls(name, "http", url=url, headers=dict(headers or {}))

    @classmethod
    def from_record(cls, record: ToolServerRecord) -> ToolServerSpec:
        spec = record.spec
        if record.transport == "stdio":
            return cls.stdio(
                record.name, spec["command"], spec.get("args", []),
                env=spec.get("env") or {}, cwd=spec.get("cwd"),
            )  # fmt: skip
        return cls.http(record.name, spec["url"], headers=spec.get("headers") or {})

    def to_spec(self) -> dict[str, Any]:
        """The transport's part, as the store keeps it."""
        if self.transport == "stdio":
            return {"command": self.command, "args": list(self.args), "env": self.env,
                    "cwd": self.cwd}  # fmt: skip
        return {"url": self.url, "headers": self.headers}

    @classmethod
    def declared(cls, name: str, table: Mapping[str, Any]) -> ToolServerSpec:
        """A `[tools.servers.NAME]` table of the config file; errors name the key."""
        try:
            if "url" in table:
                return cls.http(name, _text(table, "url"), headers=_texts(table, "headers"))
            command = table.get("command")
            # A command may be a list: ["mcp-server-time", "--local-timezone", "UTC"].
            if isinstance(command, list):
                if not command or not all(isinstance(part, str) for part in command):
                    raise ConfigError("command", "must be a string or a list of strings")
                command, args = command[0], [*command[1:], *table.get("args", [])]
            else:
                command, args = _text(table, "command"), table.get("args", [])
            if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
                raise ConfigError("args", "must be a list of strings")
            cwd = table.get("cwd")
            if cwd is not None and not isinstance(cwd, str):
                raise ConfigError("cwd", "must be a string")
            return cls.stdio(name, command, args, env=_texts(table, "env"), cwd=cwd)
        except ConfigError as error:
            problem = str(error).split(": ", 1)[1]
            raise ConfigError(f"tools.servers.{name}.{error.setting}", problem) from None

    def describe(self) -> str:
        """One line for people: the command line, or the URL."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args])
        return self.url or ""


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(key, "must be a non-empty string")
    return value


def _texts(table: Mapping[str, Any], key: str) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(key, "must be a table of strings")
    return dict(value)
