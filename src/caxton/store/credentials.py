"""Who may call the API: API keys (hashed) and the roles of other identities.

An API key row holds the sha256 of the key's secret, never the secret; a
revoked key keeps its row (`revoked_at` set) so the audit trail's references
to it stay meaningful. `identity_roles` gives a role to identities that are
not keys: `jwt:<sub>` for a JWT's subject, `cert:<subject>` for a client
certificate. The tables' CHECKs refuse unknown roles (`sqlite3.IntegrityError`);
the security layer checks input first and answers people with better messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from caxton.store.database import Database


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    name: str
    role: str
    hash: str
    created_at: float
    created_by: str
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class IdentityRoleRecord:
    subject: str
    role: str
    updated_at: float
    updated_by: str


_KEY_COLUMNS: Final = "id, name, role, hash, created_at, created_by, revoked_at"


def _key(row: tuple[Any, ...]) -> KeyRecord:
    return KeyRecord(*row)


class ApiKeys:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, key_id: str, name: str, role: str, digest: str, by: str) -> KeyRecord:
        """Store a new key; `digest` is the sha256 (hex) of its secret."""
        with self._db.write() as conn:
            row = conn.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL) "
                f"RETURNING {_KEY_COLUMNS}",
                (key_id, name, role, digest, self._db.clock(), by),
            ).fetchone()
        return _key(row)

    def get(self, key_id: str) -> KeyRecord | None:
        rows = (
            self._db.read()
            .execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
            .fetchall()
        )
        return _key(rows[0]) if rows else None

    def all(self) -> list[KeyRecord]:
        """Every key, revoked ones too, oldest first."""
        rows = (
            self._db.read()
            .execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")
            .fetchall()
        )
        return [_key(row) for row in rows]

    def count(self) -> int:
        return int(self._db.read().execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])

    def revoke(self, key_id: str) -> KeyRecord | None:
        """Mark the key revoked (a second revoke keeps the first time); None if unknown."""
        with self._db.write() as conn:
            row = conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? "
                f"RETURNING {_KEY_COLUMNS}",
                (self._db.clock(), key_id),
            ).fetchone()
        return None if row is None else _key(row)

    def set_role(self, key_id: str, role: str) -> KeyRecord | None:
        with self._db.write() as conn:
            row = conn.execute(
                f"UPDATE api_keys SET role = ? WHERE id = ? RETURNING {_KEY_COLUMNS}",
                (role, key_id),
            ).fetchone()
        return None if row is None else _key(row)


class IdentityRoles:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, subject: str) -> IdentityRoleRecord | None:
        rows = (
            self._db.read()
            .execute(
                "SELECT subject, role, updated_at, updated_by FROM identity_roles "
                "WHERE subject = ?",
                (subject,),
            )
            .fetchall()
        )
        return IdentityRoleRecord(*rows[0]) if rows else None

    def set(self, subject: str, role: str, by: str) -> IdentityRoleRecord:
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO identity_roles (subject, role, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET role = excluded.role, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by "
                "RETURNING subject, role, updated_at, updated_by",
                (subject, role, self._db.clock(), by),
            ).fetchone()
        return IdentityRoleRecord(*row)

    def remove(self, subject: str) -> bool:
        return self._db.write_one("DELETE FROM identity_roles WHERE subject = ?", (subject,)) > 0

    def all(self) -> list[IdentityRoleRecord]:
        rows = (
            self._db.read()
            .execute(
                "SELECT subject, role, updated_at, updated_by FROM identity_roles ORDER BY subject"
            )
            .fetchall()
        )
        return [IdentityRoleRecord(*row) for row in rows]
