"""Rate limits changed at run time (`caxton limit set`), by scope.

The settings (`[rate_limits]`) give the limits a server starts with; a row
here is a change an operator made while it ran, and outlives a restart. A
scope is `global`, `identity`, `identity:<subject>` or `operation:<name>`:
checking that is `caxton.security.ratelimit`'s job. The table holds the
numbers' shape (`per_s >= 0`, `burst >= 1`, scopes of 1-300 characters) and
raises `sqlite3.IntegrityError` for a row that breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from caxton.store.database import Database


@dataclass(frozen=True, slots=True)
class RateLimitRecord:
    scope: str
    per_s: float
    burst: int
    updated_at: float
    updated_by: str


_COLUMNS: Final = "scope, per_s, burst, updated_at, updated_by"


class RateLimits:
    """Token-bucket numbers (`per_s`, `burst`) set at run time, one row per scope."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def set(self, scope: str, per_s: float, burst: int, by: str) -> RateLimitRecord:
        """Add the scope's numbers, or replace them; `by` is who changed them."""
        with self._db.write() as conn:
            row = conn.execute(
                f"INSERT INTO rate_limits ({_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (scope) DO UPDATE SET per_s = excluded.per_s, "
                "burst = excluded.burst, updated_at = excluded.updated_at, "
                f"updated_by = excluded.updated_by RETURNING {_COLUMNS}",
                (scope, float(per_s), burst, self._db.clock(), by),
            ).fetchone()
        return RateLimitRecord(*row)

    def get(self, scope: str) -> RateLimitRecord | None:
        rows = (
            self._db.read()
            .execute(f"SELECT {_COLUMNS} FROM rate_limits WHERE scope = ?", (scope,))
            .fetchall()
        )
        return RateLimitRecord(*rows[0]) if rows else None

    def all(self) -> list[RateLimitRecord]:
        """Every scope changed at run time, by scope."""
        rows = self._db.read().execute(f"SELECT {_COLUMNS} FROM rate_limits ORDER BY scope")
        return [RateLimitRecord(*row) for row in rows.fetchall()]

    def delete(self, scope: str) -> bool:
        """Forget the scope's change; False when there was none."""
        return self._db.write_one("DELETE FROM rate_limits WHERE scope = ?", (scope,)) > 0
