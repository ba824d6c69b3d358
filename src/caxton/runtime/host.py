"""The narrow interface between a sandbox and the rest of Caxton.

A sandbox knows nothing of routing, storage or tools: it validates what the
agent passes across the ABI, then calls one `AgentHost` bound to that agent.
The router implements it for the server; `caxton.local` implements it for the
local runner. `context` is whatever the caller passed to `Sandbox.handle`
(the message being handled), handed back so that sends can carry its trace.
"""

from __future__ import annotations

from typing import Any, Protocol

from caxton.runtime.abi import LogLevel


class AgentHost(Protocol):
    def send(self, message: dict[str, Any], context: object) -> int:
        """Route a validated message whose `sender` the sandbox has set.

        Answers an ABI status: 0 accepted, -3 receiver's mailbox full, -4 not permitted.
        """
        ...

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        """The agent tried to send `data`, refused as malformed for `reason` (send answered -1)."""
        ...

    def log(self, level: LogLevel, text: str, context: object) -> None: ...

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        """Start an MCP tool call; its answer arrives later as a message."""
        ...

    def register_capability(self, capability: dict[str, Any]) -> int: ...
