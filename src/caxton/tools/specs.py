"""What an operator tells Caxton about an MCP server: its name and how to reach it.

A server is reached over `stdio` (a command Caxton starts and talks to on its
standard input and output) or `http` (MCP's streamable HTTP, at a URL). The
name is the `server` part of the `server/tool` names agents call tools by.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
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
    # Argument allow-lists: a string argument named here must match one of its glob
    # patterns (`*` matches anything, `/` included), checked before the call. This is how
    # a fetch tool is kept to some sites: {"url": ["https://docs.python.org/*"]}.
    allow: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
            found = cls.stdio(
                record.name, spec["command"], spec.get("args", []),
                env=spec.get("env") or {}, cwd=spec.get("cwd"),
            )  # fmt: skip
        else:
            found = cls.http(record.name, spec["url"], headers=spec.get("headers") or {})
        return found.allowing(spec.get("allow") or {})

    def allowing(self, allow: Mapping[str, Any]) -> ToolServerSpec:
        """This server with argument allow-lists; ConfigError naming `allow` if malformed."""
        checked: dict[str, tuple[str, ...]] = {}
        for argument, patterns in allow.items():
            if not isinstance(patterns, list | tuple) or not all(
                isinstance(pattern, str) and pattern for pattern in patterns
            ):
                raise ConfigError("allow", f"{argument}: must be a list of glob patterns")
            checked[argument] = tuple(patterns)
        return dataclasses.replace(self, allow=checked)

    def refusal(self, arguments: Mapping[str, Any]) -> str | None:
        """Why the allow-lists refuse `arguments`, or None when they pass.

        A glob sees the text, not what a server makes of it: `https://a/ok/../secret`
        matches `https://a/ok/*` and fetches /secret. So an allow-listed value must
        also be plain: no dot segments (also %-encoded), no backslashes, no user
        part in a URL (`https://a@b/` goes to b).
        """
        for argument, patterns in self.allow.items():
            value = arguments.get(argument)
            if value is None:
                continue
            if not isinstance(value, str) or not _plain(value):
                return f"{argument}: {value!r} is not allowed for {self.name} (not a plain value)"
            if not any(fnmatchcase(value, p) for p in patterns):
                return (
                    f"{argument}: {value!r} is not allowed for {self.name} ({', '.join(patterns)})"
                )
        return None

    def to_spec(self) -> dict[str, Any]:
        """The transport's part, and the allow-lists, as the store keeps them."""
        allow = {argument: list(patterns) for argument, patterns in self.allow.items()}
        if self.transport == "stdio":
            return {"command": self.command, "args": list(self.args), "env": self.env,
                    "cwd": self.cwd, "allow": allow}  # fmt: skip
        return {"url": self.url, "headers": self.headers, "allow": allow}

    @classmethod
    def declared(cls, name: str, table: Mapping[str, Any]) -> ToolServerSpec:
        """A `[tools.servers.NAME]` table of the config file; errors name the key."""
        try:
            allow = table.get("allow", {})
            if not isinstance(allow, dict):
                raise ConfigError("allow", "must be a table of argument = [patterns]")
            if "url" in table:
                http = cls.http(name, _text(table, "url"), headers=_texts(table, "headers"))
                return http.allowing(allow)
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
            stdio = cls.stdio(name, command, args, env=_texts(table, "env"), cwd=cwd)
            return stdio.allowing(allow)
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


def _plain(value: str) -> bool:
    """No dot segments (`.`, `..`, also %-encoded), backslashes or URL user parts."""
    if "\\" in value or "%2e" in value.lower() or "%5c" in value.lower():
        return False
    parts = urlsplit(value)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        return False
    path = parts.path if parts.scheme else value
    return not any(segment in (".", "..") for segment in path.split("/"))
