"""API keys and the roles of identities: made, listed, revoked and changed at run time.

A key reads `cxk_<id>_<secret>`: the id (12 characters of [a-z0-9]) names it
in lists, logs and the audit trail; the secret is 256 random bits, of which
the store keeps only the sha256. The whole key is shown once, when it is
made.

On first start (no key at all in the store) the server makes an admin key
and writes it to `<data_dir>/admin.key`, readable by its owner only (0600),
where a `caxton` CLI on the same machine finds it by itself.

Every change calls `on_change`, so that the authenticator forgets what it
had cached: a revoked key or a lowered role takes effect at the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import string
from collections.abc import Callable
from pathlib import Path
from typing import Final

from caxton.api.types import ROLES, Role, role_named
from caxton.errors import CaxtonError, ErrorClass
from caxton.settings import ADMIN_KEY_FILE
from caxton.store import IdentityRoleRecord, KeyRecord, Store

KEY_PREFIX: Final = "cxk_"
_ID_LENGTH: Final = 12  # parse_key's slices follow it
_ID_ALPHABET: Final = string.ascii_lowercase + string.digits
SUBJECT_PREFIXES: Final = ("jwt:", "cert:")

log = logging.getLogger("caxton.auth")


class UnknownKey(CaxtonError):
    error_class = ErrorClass.VALIDATION

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key {key_id!r}")
        self.key_id = key_id


class InvalidRole(CaxtonError):
    error_class = ErrorClass.VALIDATION

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(token: str) -> tuple[str, str] | None:
    """(id, secret) of a token shaped like an API key, else None."""
    if not token.startswith(KEY_PREFIX):
        return None
    rest = token[len(KEY_PREFIX) :]
    key_id, separator, secret = (
        rest[:_ID_LENGTH],
        rest[_ID_LENGTH : _ID_LENGTH + 1],
        rest[_ID_LENGTH + 1 :],
    )
    if separator != "_" or not secret or any(c not in _ID_ALPHABET for c in key_id):
        return None
    return key_id, secret


def matches(record: KeyRecord, secret: str) -> bool:
    return hmac.compare_digest(record.hash, digest(secret))


def check_role(role: str, field: str = "role") -> Role:
    named = role_named(role)
    if named is None:
        raise InvalidRole(field, f"{role!r} is not a role; use one of {', '.join(ROLES)}")
    return named


def check_subject(subject: str) -> str:
    if not subject.startswith(SUBJECT_PREFIXES) or len(subject) > 1000:
        raise InvalidRole(
            "subject",
            f"{subject[:80]!r} is not an identity: use jwt:<sub> or cert:<subject> "
            "(API keys have their role set with PATCH /auth/keys/{id})",
        )
    return subject


class KeyRing:
    def __init__(self, store: Store) -> None:
        self._keys = store.api_keys
        self._roles = store.identity_roles
        self.on_change: Callable[[], None] | None = None

    def create(self, role: str, name: str, by: str) -> tuple[KeyRecord, str]:
        """A new key for `role`: its record and the whole key, to be shown once."""
        checked = check_role(role)
        if len(name) > 200:
            raise InvalidRole("name", f"{len(name)} characters; 200 at most")
        key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
        secret = secrets.token_urlsafe(32)
        record = self._keys.create(key_id, name or key_id, checked, digest(secret), by)
        return record, f"{KEY_PREFIX}{key_id}_{secret}"

    def get(self, key_id: str) -> KeyRecord | None:
        return self._keys.get(key_id)

    def all(self) -> list[KeyRecord]:
        return self._keys.all()

    def revoke(self, key_id: str) -> KeyRecord:
        record = self._keys.revoke(key_id)
        if record is None:
            raise UnknownKey(key_id)
        self._changed()
        return record

    def set_role(self, key_id: str, role: str) -> KeyRecord:
        record = self._keys.set_role(key_id, check_role(role))
        if record is None:
            raise UnknownKey(key_id)
        self._changed()
        return record

    def role_of(self, subject: str) -> Role | None:
        record = self._roles.get(subject)
        return None if record is None else check_role(record.role)

    def identities(self) -> list[IdentityRoleRecord]:
        return self._roles.all()

    def set_identity_role(self, subject: str, role: str, by: str) -> IdentityRoleRecord:
        record = self._roles.set(check_subject(subject), check_role(role), by)
        self._changed()
        return record

    def remove_identity_role(self, subject: str) -> bool:
        removed = self._roles.remove(subject)
        self._changed()
        return removed

    def bootstrap(self, data_dir: Path) -> Path | None:
        """On a store without keys: an admin key, written to `data_dir/admin.key` (0600)."""
        if self._keys.count():
            return None
        record, token = self.create("admin", "admin (made at first start)", "caxton")
        path = data_dir / ADMIN_KEY_FILE
        path.unlink(missing_ok=True)  # a file left from another store: its mode is not ours
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(token + "\n")
        log.info("made admin API key %s in %s (readable by its owner only)", record.id, path)
        return path

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
