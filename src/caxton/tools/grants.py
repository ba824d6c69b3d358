"""Which agent may call which tool: deny by default, grants by name or by server.

A grant is a pattern: `server/tool` for one tool, `server/*` for all of a
server's tools. Grants live in the store and in memory here, so that the
check on every `tool_call` is two set lookups; granting and revoking update
both, at run time, with no restart.
"""

from __future__ import annotations

import threading

from caxton.errors import ConfigError
from caxton.store.tools import ToolGrants
from caxton.tools.specs import SERVER_NAME, TOOL_NAME


def check_pattern(pattern: str) -> str:
    """`pattern` if it is `server/tool` or `server/*`; else a ConfigError that says how."""
    server, slash, tool = pattern.partition("/")
    if (
        not slash
        or not SERVER_NAME.fullmatch(server)
        or not (tool == "*" or TOOL_NAME.fullmatch(tool))
    ):
        raise ConfigError(
            "pattern", f"{pattern!r} is not a tool pattern: write server/tool or server/*"
        )
    return pattern


class Grants:
    def __init__(self, stored: ToolGrants) -> None:
        self._stored = stored
        self._lock = threading.Lock()
        self._by_agent: dict[str, frozenset[str]] = {}
        for record in stored.all():
            self._by_agent[record.agent_name] = self._by_agent.get(
                record.agent_name, frozenset()
            ) | {record.pattern}

    def allowed(self, agent: str, tool: str) -> bool:
        """May `agent` call `tool` (`server/tool`)? No lock: each set is replaced whole."""
        patterns = self._by_agent.get(agent)
        if not patterns:
            return False
        return tool in patterns or tool.partition("/")[0] + "/*" in patterns

    def grant(self, agent: str, pattern: str, *, by: str) -> bool:
        """Allow it; False when it was already granted."""
        check_pattern(pattern)
        with self._lock:
            added = self._stored.grant(agent, pattern, by)
            self._by_agent[agent] = self._by_agent.get(agent, frozenset()) | {pattern}
        return added

    def revoke(self, agent: str, pattern: str) -> bool:
        """Take it back, from the next call on; False when there was no such grant."""
        with self._lock:
            removed = self._stored.revoke(agent, pattern)
            self._by_agent[agent] = self._by_agent.get(agent, frozenset()) - {pattern}
        return removed

    def of(self, agent: str) -> list[str]:
        return sorted(self._by_agent.get(agent, frozenset()))

    def all(self) -> dict[str, list[str]]:
        return {agent: sorted(patterns) for agent, patterns in self._by_agent.items() if patterns}
