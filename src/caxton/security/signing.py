"""Ed25519 signatures on agent modules: keys, signatures, trusted keys, and the deploy policy.

A signature covers the module's exact bytes (Ed25519 of RFC 8032, no
prehash), so what is verified is what is deployed: a `.wat` is compiled and
the `.wasm` signed. The signature file, `<module>.sig`, holds the 64-byte
signature in base64 (RFC 4648) and a newline. Keys are PEM (RFC 8410): the
private key PKCS #8, unencrypted; the public key SubjectPublicKeyInfo. A key's
id is the first 16 hex digits of the sha256 of its 32 raw bytes, and names
the signer wherever one is shown.

`signing.policy` decides what a deploy or an update needs:

    off      signatures are ignored
    verify   a signature given must be a trusted key's; unsigned modules pass
    require  every module must be signed by a trusted key

Rejected: a key id inside the signature file (as minisign does). It would
name an unknown signer in the error and spare trying each trusted key, but
the bare base64 file is what every ed25519 tool can write and read. So a
signature by an untrusted key and a corrupt one get the same answer,
`signature-invalid`, and each trusted key is tried in turn (about 70 µs each).
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from caxton.errors import ConfigError, SignatureRefused
from caxton.settings import SigningSettings

__all__ = [
    "SIGNATURE_SUFFIX",
    "KeyFiles",
    "Policy",
    "SigningPolicy",
    "TrustedKeys",
    "decode_signature",
    "key_id",
    "load_private_key",
    "load_public_key",
    "sign",
    "signature_path",
    "verifies",
    "write_key_pair",
]

log = logging.getLogger("caxton.signing")

SIGNATURE_SUFFIX: Final = ".sig"
SIGNATURE_BYTES: Final = 64
KEY_ID_DIGITS: Final = 16
TRUSTED_KEYS: Final = "signing.trusted_keys"
_SHOWN_IDS: Final = 5  # trusted key ids named in a refusal, at most

Policy = Literal["off", "verify", "require"]


def key_id(key: Ed25519PublicKey) -> str:
    """The key's id: the first 16 hex digits of the sha256 of its raw 32 bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_DIGITS]


def signature_path(module: Path) -> Path:
    """Where a module's signature is by default: `<module>.sig`, beside it."""
    return module.with_name(module.name + SIGNATURE_SUFFIX)


# ---- keys ----


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """A key pair written by `write_key_pair`."""

    private: Path
    public: Path
    key_id: str


def write_key_pair(prefix: Path) -> KeyFiles:
    """A new key pair in `PREFIX.key` (mode 0600) and `PREFIX.pub`.

    Raises FileExistsError, before writing anything, when either file exists.
    """
    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(private_path, private_pem, 0o600)
    try:
        _create(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink()  # half a pair is of no use, and a secret left lying about
        raise
    return KeyFiles(private_path, public_path, key_id(key.public_key()))


def _create(path: Path, data: bytes, mode: int) -> None:
    # Created with its mode, not chmod-ed after: the private key is never readable by others,
    # not even for a moment. O_EXCL follows no symlink and replaces nothing put there since.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def load_private_key(path: Path, *, label: str = "--key") -> Ed25519PrivateKey:
    """The ed25519 private key in PEM file `path`; ConfigError naming `label` if it is not one."""
    data = _read(path, label)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's way of saying that a password is needed
        raise ConfigError(
            label, f"{path}: the key is encrypted; caxton signs with unencrypted PKCS #8 keys"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(label, f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(label, f"{path}: {_kind(key)}, not an ed25519 one")
    return key


def load_public_key(path: Path, *, label: str = TRUSTED_KEYS) -> Ed25519PublicKey:
    """The ed25519 public key in PEM file `path`; ConfigError naming `label` if it is not one."""
    data = _read(path, label)
    if b"PRIVATE KEY-----" in data:
        raise ConfigError(
            label, f"{path} holds a private key; trust its public key (the .pub) instead"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(label, f"{path}: not a PEM public key (SubjectPublicKeyInfo)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(label, f"{path}: {_kind(key)}, not an ed25519 one")
    return key


def _read(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(label, f"{path} does not exist") from None
    except OSError as error:
        raise ConfigError(label, f"cannot read {path}: {error.strerror}") from None


def _kind(key: object) -> str:
    """`a key of type RSAPublicKey`: what a key file held instead of an ed25519 key."""
    return f"a key of type {type(key).__name__}"


# ---- signatures ----


def sign(module: bytes, key: Ed25519PrivateKey) -> bytes:
    """The signature file's content for `module`: base64 of the 64-byte signature, a newline."""
    return base64.b64encode(key.sign(module)) + b"\n"


def decode_signature(text: bytes | str) -> bytes:
    """The 64 bytes of a signature file's content, whitespace around it ignored.

    Raises SignatureRefused (`signature-malformed`) when it is not base64 of 64 bytes.
    """
    try:
        encoded = text.encode("ascii") if isinstance(text, str) else text
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise SignatureRefused(
            "signature-malformed",
            "the signature is not base64; send the content of the .sig file "
            "that `caxton signing sign` wrote",
        ) from None
    if len(raw) != SIGNATURE_BYTES:
        raise SignatureRefused(
            "signature-malformed",
            f"the signature is {len(raw)} bytes; an ed25519 signature is {SIGNATURE_BYTES}",
        )
    return raw


def verifies(module: bytes, signature: bytes, key: Ed25519PublicKey) -> bool:
    """True when `signature` (64 bytes) is `key`'s over exactly `module`."""
    try:
        key.verify(signature, module)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """The public keys whose signatures are accepted, by key id."""

    keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, label: str = TRUSTED_KEYS) -> TrustedKeys:
        """One PEM public key file, or every `*.pem` and `*.pub` file of a directory (not below
        it): `caxton signing keygen` writes `.pub`, and a copy keeps its name.

        A missing path, an empty directory or a file that is not an ed25519
        public key is a ConfigError naming `label` and the file.
        """
        if path.is_dir():
            files = sorted(
                item
                for item in path.iterdir()
                if item.suffix in (".pem", ".pub") and item.is_file()
            )
            if not files:
                raise ConfigError(
                    label, f"the directory {path} holds no *.pem or *.pub public keys"
                )
        else:
            files = [path]
        keys = (load_public_key(file, label=label) for file in files)
        return cls({key_id(key): key for key in keys})

    def signer(self, module: bytes, signature: bytes) -> str | None:
        """The id of the trusted key that made `signature` over `module`, or None."""
        return next(
            (ident for ident, key in self.keys.items() if verifies(module, signature, key)), None
        )

    def describe(self) -> str:
        """The trusted keys, for a message: `key 0123...` or `any of 3 trusted keys (...)`."""
        ids = list(self.keys)
        if len(ids) == 1:
            return f"the trusted key {ids[0]}"
        shown = ", ".join(ids[:_SHOWN_IDS]) + (", ..." if len(ids) > _SHOWN_IDS else "")
        return f"any of the {len(ids)} trusted keys ({shown})"


# ---- the policy ----


@dataclass(frozen=True, slots=True)
class SigningPolicy:
    """What a deployed or updated module's signature must be; `check` is the one gate."""

    policy: Policy = "verify"
    trusted: TrustedKeys = field(default_factory=TrustedKeys)

    @classmethod
    def from_settings(cls, settings: SigningSettings) -> SigningPolicy:
        """The policy of `signing.*`, its trusted keys loaded now.

        The keys are loaded even when the policy is off, so that a broken key
        file is reported at start, not on the day the policy is turned on.
        """
        path = settings.trusted_keys
        trusted = TrustedKeys() if path is None else TrustedKeys.load(path)
        return cls(settings.policy, trusted)

    def check(self, module: bytes, signature: bytes | str | None, *, agent: str = "") -> str | None:
        """The id of the trusted key that signed `module`, or None for an unsigned one allowed.

        `signature` is the signature file's content, None when none was given.
        Raises SignatureRefused; a refusal is logged on `caxton.signing`.
        """
        try:
            signer = self._signer(module, signature)
        except SignatureRefused as error:
            log.warning(
                "module for agent %r refused (%s): %s [sha256 %s]",
                agent,
                error.code,
                error.reason,
                hashlib.sha256(module).hexdigest(),
            )
            raise
        if signer is not None:
            log.info("module for agent %r signed by key %s", agent, signer)
        return signer

    def _signer(self, module: bytes, signature: bytes | str | None) -> str | None:
        if self.policy == "off":
            return None
        if signature is None:
            if self.policy == "require":
                raise SignatureRefused(
                    "signature-required",
                    "the module is not signed, and signing.policy is require; sign it "
                    "(`caxton signing sign MODULE --key KEY`) and send the signature",
                )
            return None
        raw = decode_signature(signature)
        if not self.trusted.keys:
            raise SignatureRefused(
                "signature-invalid",
                "no key is trusted here (signing.trusted_keys is not set), so no signature can "
                "be verified; send the module unsigned, or have the signer's public key trusted",
            )
        signer = self.trusted.signer(module, raw)
        if signer is None:
            raise SignatureRefused(
                "signature-invalid",
                f"the signature is not one made over this module by {self.trusted.describe()}; "
                "sign the exact .wasm sent, with a trusted key",
            )
        return signer
