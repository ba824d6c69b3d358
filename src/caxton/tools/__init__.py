"""MCP tools for agents: servers, grants, limits, and the calls between them.

`ToolCalls` is the whole of it as the server uses it; `ToolHost` (imported
only once a server is configured: the SDK is heavy) keeps the sessions.
"""

from caxton.tools.calls import ToolCalls, ToolLimits
from caxton.tools.grants import Grants, check_pattern
from caxton.tools.results import (
    ServerStatus,
    ToolArgumentsInvalid,
    ToolError,
    ToolInfo,
    ToolNotFound,
    ToolResult,
    ToolServerExists,
    ToolTimeout,
    ToolUnavailable,
)
from caxton.tools.specs import ToolServerSpec

__all__ = [
    "Grants",
    "ServerStatus",
    "ToolArgumentsInvalid",
    "ToolCalls",
    "ToolError",
    "ToolInfo",
    "ToolLimits",
    "ToolNotFound",
    "ToolResult",
    "ToolServerExists",
    "ToolServerSpec",
    "ToolTimeout",
    "ToolUnavailable",
    "check_pattern",
]
