"""The security audit trail: what the platform records, and whether it records at all.

Every layer that records an event (the API's management operations and
authentication, tool calls and grants, agents' limit and sandbox violations)
writes through one `AuditTrail`, so `security.audit` (CAXTON_SECURITY_AUDIT)
turns all of it on or off in one place. The records themselves are kept by
`caxton.store.audit.AuditLog`: append-only and hash-chained.
"""

from __future__ import annotations

from typing import Any

from caxton.store.audit import AuditLog


class AuditTrail:
    def __init__(self, log: AuditLog, *, enabled: bool = True) -> None:
        self.log = log
        self.enabled = enabled

    def append(
        self, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any]
    ) -> int | None:
        """Record one event (see `AuditLog.append`); its seq, or None when the trail is off."""
        if not self.enabled:
            return None
        return self.log.append(actor, action, target, outcome, detail)
