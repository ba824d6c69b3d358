"""Role-based access: every operation of the API, and the roles that may do it.

This table is the one place the mapping is written. The request guard looks
each request's route up in it; a route that is not in it is denied to every
role (default deny), and `tests/security/test_permissions.py` walks every
route of the OpenAPI document with each role, and with no credentials,
checking the answers against it. docs/security.md shows it as a table
(`caxton.security.permissions.markdown_table()` writes it).

The roles:

- viewer: reads state (agents, messages, jobs, tools, metrics);
- developer: also ships code: deploys, reloads, removes, runs and talks to agents;
- operator: also runs the platform: lifecycle, tool servers and grants, backups, audit;
  but does not change agents' code (deploy, reload, remove);
- admin: everything, including keys, identities' roles and rate limits.

`audited` marks management operations: the guard records each one, with
its outcome, in the audit trail. Traffic (messages, invocations, jobs) and
reads are not recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from caxton.api.types import API_PREFIX, ROLES, Role

ADMIN: Final = frozenset[Role]({"admin"})
OPERATORS: Final = frozenset[Role]({"admin", "operator"})
DEVELOPERS: Final = frozenset[Role]({"admin", "developer"})
RUNNERS: Final = frozenset[Role]({"admin", "operator", "developer"})
EVERYONE: Final = frozenset[Role](ROLES)


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    """Stable name, as recorded in the audit trail (`api.<name>`)"""
    method: str
    path: str
    """The route's template, from the server's root"""
    roles: frozenset[Role]
    audited: bool = False
    # Open to any authenticated caller, with a role or without (whoami).
    any_identity: bool = False

    def allows(self, role: Role | None) -> bool:
        return self.any_identity or (role is not None and role in self.roles)


def _api(name: str, method: str, path: str, roles: frozenset[Role], *, audited: bool = False,
         any_identity: bool = False) -> Operation:  # fmt: skip
    return Operation(name, method, API_PREFIX + path, roles, audited, any_identity)


OPERATIONS: Final[tuple[Operation, ...]] = (
    _api("server.get", "GET", "/server", EVERYONE),
    _api("backups.create", "POST", "/backups", OPERATORS, audited=True),
    _api("agents.deploy", "POST", "/agents", DEVELOPERS, audited=True),
    _api("agents.list", "GET", "/agents", EVERYONE),
    _api("agents.get", "GET", "/agents/{name}", EVERYONE),
    _api("agents.remove", "DELETE", "/agents/{name}", DEVELOPERS, audited=True),
    _api("agents.start", "POST", "/agents/{name}/start", RUNNERS, audited=True),
    _api("agents.stop", "POST", "/agents/{name}/stop", RUNNERS, audited=True),
    _api("agents.drain", "POST", "/agents/{name}/drain", RUNNERS, audited=True),
    _api("agents.reload", "POST", "/agents/{name}/reload", DEVELOPERS, audited=True),
    _api("agents.rollback", "POST", "/agents/{name}/rollback", RUNNERS, audited=True),
    _api("agents.logs", "GET", "/agents/{name}/logs", EVERYONE),
    _api("agents.invoke", "POST", "/agents/{name}/invoke", RUNNERS),
    _api("jobs.submit", "POST", "/jobs", RUNNERS),
    _api("jobs.list", "GET", "/jobs", EVERYONE),
    _api("jobs.get", "GET", "/jobs/{job_id}", EVERYONE),
    _api("messages.send", "POST", "/messages", RUNNERS),
    _api("messages.list", "GET", "/messages", EVERYONE),
    _api("conversations.get", "GET", "/conversations/{conversation_id}", EVERYONE),
    _api("events.list", "GET", "/events", EVERYONE),
    _api("dead-letters.list", "GET", "/dead-letters", EVERYONE),
    _api("capabilities.search", "GET", "/capabilities", EVERYONE),
    _api("tools.servers.list", "GET", "/tools/servers", EVERYONE),
    _api("tools.servers.add", "POST", "/tools/servers", OPERATORS, audited=True),
    _api("tools.servers.get", "GET", "/tools/servers/{name}", EVERYONE),
    _api("tools.servers.remove", "DELETE", "/tools/servers/{name}", OPERATORS, audited=True),
    _api("tools.list", "GET", "/tools", EVERYONE),
    _api("tools.grants.get", "GET", "/agents/{name}/tools", EVERYONE),
    _api("tools.grants.add", "POST", "/agents/{name}/tools", OPERATORS, audited=True),
    _api("tools.grants.remove", "DELETE", "/agents/{name}/tools", OPERATORS, audited=True),
    _api("audit.list", "GET", "/audit", OPERATORS),
    _api("audit.verify", "GET", "/audit/verify", OPERATORS),
    _api("audit.export", "GET", "/audit/export", OPERATORS),
    _api("auth.whoami", "GET", "/auth/whoami", EVERYONE, any_identity=True),
    _api("auth.keys.list", "GET", "/auth/keys", ADMIN),
    _api("auth.keys.create", "POST", "/auth/keys", ADMIN, audited=True),
    _api("auth.keys.change", "PATCH", "/auth/keys/{key_id}", ADMIN, audited=True),
    _api("auth.keys.revoke", "DELETE", "/auth/keys/{key_id}", ADMIN, audited=True),
    _api("auth.identities.list", "GET", "/auth/identities", ADMIN),
    _api("auth.identities.set", "PUT", "/auth/identities/{subject}", ADMIN, audited=True),
    _api("auth.identities.remove", "DELETE", "/auth/identities/{subject}", ADMIN, audited=True),
    _api("rate-limits.list", "GET", "/rate-limits", OPERATORS),
    _api("rate-limits.set", "PUT", "/rate-limits/{scope}", ADMIN, audited=True),
    _api("rate-limits.reset", "DELETE", "/rate-limits/{scope}", ADMIN, audited=True),
    # Outside the API prefix.
    Operation("metrics", "GET", "/metrics", EVERYONE),
    Operation("openapi", "GET", "/openapi.json", EVERYONE),
    Operation("docs", "GET", "/docs", EVERYONE),
    Operation("docs.oauth2-redirect", "GET", "/docs/oauth2-redirect", EVERYONE),
    Operation("redoc", "GET", "/redoc", EVERYONE),
)

# Answered to anyone, without credentials: probes must work before any key exists.
PUBLIC: Final = frozenset({("GET", "/health"), ("GET", "/ready")})


class Permissions:
    """The table, indexed by (method, route template)."""

    def __init__(self, operations: Iterable[Operation] = OPERATIONS) -> None:
        self._by_route: dict[tuple[str, str], Operation] = {}
        for operation in operations:
            key = (operation.method, operation.path)
            if key in self._by_route:
                raise ValueError(f"{operation.method} {operation.path} is in the table twice")
            self._by_route[key] = operation

    def operation(self, method: str, template: str) -> Operation | None:
        """The operation a route is, None for a route not in the table (denied to all)."""
        return self._by_route.get(("GET" if method == "HEAD" else method, template))


def markdown_table(operations: Iterable[Operation] = OPERATIONS) -> str:
    """The table as docs/security.md shows it: one row an operation, a column a role."""
    header = "| operation | method and path | " + " | ".join(ROLES) + " | audited |"
    lines = [header, "|---|---|" + "---|" * len(ROLES) + "---|"]
    for operation in operations:
        marks = " | ".join("✓" if operation.allows(role) else "" for role in ROLES)
        audited = "yes" if operation.audited else ""
        lines.append(
            f"| `{operation.name}` | `{operation.method} {operation.path}` | {marks} | {audited} |"
        )
    return "\n".join(lines) + "\n"
