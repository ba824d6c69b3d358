"""What a tool call gives back: a result, or an error whose `outcome` names why.

Kept apart from the MCP host so that code handling results does not import
the SDK (it costs ~0.5 s to import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caxton.tools.specs import ToolServerSpec


class ToolError(Exception):
    """A tool call that did not produce a result; `outcome` names why, for audit and metrics."""

    outcome = "failed"


class ToolServerExists(ValueError):
    """A server of that name is configured already: remove it first to change it."""


class ToolUnavailable(ToolError):
    outcome = "unavailable"


class ToolNotFound(ToolError):
    outcome = "unknown-tool"


class ToolArgumentsInvalid(ToolError):
    outcome = "invalid"


class ToolTimeout(ToolError):
    outcome = "timeout"


@dataclass(frozen=True, slots=True)
class ToolInfo:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any]

    @property
    def qualified(self) -> str:
        return f"{self.server}/{self.name}"


@dataclass(frozen=True, slots=True)
class ToolResult:
    content: list[dict[str, Any]]  # MCP content blocks, as JSON
    structured: dict[str, Any] | None
    is_error: bool  # the tool ran and reported failure (MCP's isError)


@dataclass(frozen=True, slots=True)
class ServerStatus:
    spec: ToolServerSpec
    state: str  # connecting, ready, down
    tools: int
    connects: int
    last_error: str | None
