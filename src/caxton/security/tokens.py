"""Bearer JWTs: HS256 with a shared secret, RS256 with a public key or an issuer's JWKS.

This is how tokens from an OAuth2 issuer are accepted: point `jwt.jwks_file`
at the issuer's keys (its `jwks_uri` document, fetched by whatever deploys
Caxton: the server reaches nothing outside), set `jwt.issuer` and
`jwt.audience`, and give identities roles with a claim or with
`caxton auth identity set jwt:<sub> ROLE`.

The algorithm is never the token's choice: HS256 is accepted only when a
secret is configured, RS256 only when public keys are, so a token cannot
trick the server into checking an RS256 key as an HMAC secret. `exp` and
`sub` are required; `nbf` is checked when present; `aud` and `iss` are
required and checked when configured.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from caxton.errors import ConfigError
from caxton.settings import JwtSettings

log = logging.getLogger("caxton.auth")


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    expires_at: float
    claims: dict[str, Any]


class TokenRejected(Exception):
    """Why a token was refused, in words fit for the caller (`expired` is told apart)."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


class JwtVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings
        self._secret = _read_secret(settings.secret_file) if settings.secret_file else None
        self._public_key = (
            _read_public_key(settings.public_key_file) if settings.public_key_file else None
        )
        self._jwks = _JwksFile(settings.jwks_file) if settings.jwks_file else None

    @property
    def configured(self) -> bool:
        return any(key is not None for key in (self._secret, self._public_key, self._jwks))

    def verify(self, token: str) -> Claims:
        """The token's claims once its signature and claims check out; raises TokenRejected."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("not a JWT") from None
        algorithm = header.get("alg")
        key = self._key_for(algorithm, header.get("kid"))
        settings = self._settings
        required = ["exp", "sub"] + [
            claim for claim, value in (("aud", settings.audience), ("iss", settings.issuer))
            if value is not None
        ]  # fmt: skip
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_s,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("the token has expired (exp)", expired=True) from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("the token is not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("the token is for another audience (aud)") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("the token is from another issuer (iss)") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenRejected(f"the token has no {error.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("the token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise TokenRejected(f"the token is invalid: {error}") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise TokenRejected("the token's sub claim is not a non-empty string")
        return Claims(subject, float(claims["exp"]), claims)

    def _key_for(self, algorithm: object, kid: object) -> Any:
        if algorithm == "HS256":
            if self._secret is None:
                raise TokenRejected("HS256 tokens are not accepted here (no jwt.secret_file)")
            return self._secret
        if algorithm == "RS256":
            if self._jwks is not None:
                found = self._jwks.key(kid)
                if found is not None:
                    return found
            if self._public_key is not None:
                return self._public_key
            raise TokenRejected(f"no trusted RS256 key has kid {kid!r}")
        raise TokenRejected(f"algorithm {algorithm!r} is not accepted (HS256 or RS256)")


class _JwksFile:
    """An issuer's JWKS, reread when the file changes (keys rotate without a restart)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str | None, Any] = {}
        self._load(strict=True)

    def key(self, kid: object) -> Any:
        self._load(strict=False)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid if isinstance(kid, str) else None)

    def _load(self, *, strict: bool) -> None:
        try:
            stat = os.stat(self._path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp:
                return
            keys = jwt.PyJWKSet.from_json(self._path.read_text()).keys
        except (OSError, jwt.PyJWKSetError, jwt.PyJWKError, ValueError) as error:
            if strict:
                raise ConfigError("jwt.jwks_file", f"{self._path}: {error}") from None
            log.error("jwt.jwks_file %s unusable, keeping the keys read before: %s",
                      self._path, error)  # fmt: skip
            return
        self._keys = {key.key_id: key for key in keys if key.algorithm_name in ("RS256", None)}
        self._stamp = stamp


def _read_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as error:
        raise ConfigError("jwt.secret_file", f"{path}: {error.strerror}") from None
    if len(secret) < 32:
        raise ConfigError(
            "jwt.secret_file", f"{path}: the secret has {len(secret)} bytes; use 32 or more"
        )
    return secret


def _read_public_key(path: Path) -> Any:
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise ConfigError("jwt.public_key_file", f"{path}: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(
            "jwt.public_key_file", f"{path}: not a PEM public key ({error})"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError("jwt.public_key_file", f"{path}: not an RSA public key (RS256)")
    return key
