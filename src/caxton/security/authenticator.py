"""Who is calling: an API key, a JWT or a client certificate turned into an `Identity`.

    identity = authenticator.authenticate(authorization_header, client_cert_name)

Credentials come as `Authorization: Bearer <token>`, where the token is an
API key (`cxk_...`) or a JWT; or as a client certificate that TLS verified
(its subject, `cert:<RFC 4514 name>`). A bearer token wins over a certificate.

Results are cached for `auth.cache_s` seconds (a JWT no longer than its
`exp`): a cached check is one dictionary lookup, where an uncached key costs a
SQLite read and a hash, and a JWT a signature check. Any change to keys or
roles (`KeyRing.on_change`) empties the cache, so revocation is immediate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from caxton.api.types import ROLES, Role, role_named
from caxton.security.keys import KeyRing, matches, parse_key
from caxton.security.tokens import JwtVerifier, TokenRejected

Via = Literal["key", "jwt", "cert", "none"]
_CACHE_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    role: Role | None
    via: Via


# Who calls when authentication is off (`--insecure-no-auth`, loopback only).
LOCAL: Final = Identity("local", "admin", "none")


class AuthenticationFailed(Exception):
    """Credentials missing or refused. `code` is the problem code; `detail` is for people."""

    def __init__(self, code: str, detail: str, *, claimed: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.claimed = claimed  # the identity the caller claimed to be, when known


class Authenticator:
    def __init__(
        self,
        keys: KeyRing,
        tokens: JwtVerifier,
        *,
        role_claim: str = "role",
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._tokens = tokens
        self._role_claim = role_claim
        self._cache_s = cache_s
        self._clock = clock
        self._wall = wall
        self._cache: dict[str, tuple[Identity, float]] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        # Told of an identity the first time it is accepted after the server starts.
        self.on_first_use: Callable[[Identity], None] | None = None
        keys.on_change = self.forget

    def authenticate(self, authorization: str | None, cert_name: str | None) -> Identity:
        """The caller's identity; raises AuthenticationFailed."""
        if authorization:
            credential = _bearer(authorization)
        elif cert_name:
            credential = "cert:" + cert_name
        else:
            raise AuthenticationFailed(
                "unauthenticated",
                "credentials needed: send `Authorization: Bearer <API key or JWT>` "
                "(the CLI reads --token or CAXTON_TOKEN)",
            )
        cached = self._cache.get(credential)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        identity, lifetime = self._check(credential)
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[credential] = (identity, self._clock() + lifetime)
            first = identity.subject not in self._seen and len(self._seen) < _CACHE_LIMIT
            self._seen.add(identity.subject)
        if first and self.on_first_use is not None:
            self.on_first_use(identity)
        return identity

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _check(self, credential: str) -> tuple[Identity, float]:
        """The identity behind an uncached credential, and how long to trust the answer."""
        if credential.startswith("cert:"):
            return Identity(credential, self._keys.role_of(credential), "cert"), self._cache_s
        key = parse_key(credential)
        if key is not None:
            return self._check_key(*key), self._cache_s
        if credential.count(".") == 2 and self._tokens.configured:
            return self._check_jwt(credential)
        raise AuthenticationFailed(
            "invalid-credentials",
            "the bearer token is neither an API key (cxk_...) nor a JWT this server accepts",
        )

    def _check_key(self, key_id: str, secret: str) -> Identity:
        subject = f"key:{key_id}"
        record = self._keys.get(key_id)
        if record is None or not matches(record, secret):
            raise AuthenticationFailed(
                "invalid-credentials", "the API key is not valid", claimed=subject
            )
        if record.revoked_at is not None:
            raise AuthenticationFailed(
                "invalid-credentials", f"API key {key_id} was revoked", claimed=subject
            )
        return Identity(subject, role_named(record.role), "key")

    def _check_jwt(self, token: str) -> tuple[Identity, float]:
        try:
            claims = self._tokens.verify(token)
        except TokenRejected as error:
            code = "token-expired" if error.expired else "invalid-credentials"
            raise AuthenticationFailed(code, error.reason) from None
        subject = "jwt:" + claims.subject
        role = self._keys.role_of(subject) or _strongest(claims.claims.get(self._role_claim))
        lifetime = min(self._cache_s, max(0.0, claims.expires_at - self._wall()))
        return Identity(subject, role, "jwt"), lifetime


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "invalid-credentials",
            f"the Authorization header must be `Bearer <token>`, not {scheme[:20]!r}",
        )
    return token.strip()


def _strongest(claimed: object) -> Role | None:
    """The first of ROLES (strongest first) that the claim names: a string or a list."""
    if isinstance(claimed, str):
        names = {claimed}
    elif isinstance(claimed, list):
        names = {name for name in claimed if isinstance(name, str)}
    else:
        return None
    return next((role for role in ROLES if role in names), None)
