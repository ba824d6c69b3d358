"""TLS for the REST API: TLS 1.3 only, certificates reread without a restart, client certificates.

`ServingCertificate` loads `tls.cert_path` and `tls.key_path` (and the CAs of
`tls.client_ca_path`) into an `ssl.SSLContext`. asyncio keeps the context it
was given when the socket started listening, so rotation happens inside it:
its `sni_callback`, which OpenSSL calls on every ClientHello (with or without
a server name), stats the files and, when their (device, inode, size, mtime,
ctime) changed, loads a new context and hands it to the connection being
set up (`ssl_object.context = ...`, which is OpenSSL's SSL_set_SSL_CTX). New
connections get the new certificate; established ones keep theirs. A new
pair that does not load (half written, garbage, a key of another
certificate) is logged, naming the file, and the last good pair goes on
serving; it is tried again when the files change again, or a second later.

Every context is built by the same function, because SSL_set_SSL_CTX swaps
the certificate, key and CA store but not the verify mode or the protocol
versions: those stay the listening context's.

Rejected designs: uvicorn's `ssl_certfile` (read once, so a rotation needs a
restart); a thread watching the files (a thread and platform code for what
two or three stat calls per handshake do, ~2 µs against a handshake's ~1 ms).

`http_protocol` makes a uvicorn HTTP protocol class that gives each request
the ASGI TLS extension (asgiref specs/tls.rst, version 0.2), which uvicorn
does not fill in: `scope["extensions"]["tls"]["client_cert_name"]` is the
verified client certificate's subject as RFC 4514 text, or None.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypedDict, cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from caxton.errors import ConfigError
from caxton.settings import TlsSettings

__all__ = ["ServingCertificate", "ServingContext", "TlsExtension", "extension", "http_protocol"]

log = logging.getLogger("caxton.security.tls")

# A pair that failed to load is tried again this often even if its files look unchanged:
# file times are only as fine as the kernel's clock tick.
RETRY_S: Final = 1.0
SECONDS_PER_DAY: Final = 86_400.0
# What ssl reports, as the ASGI extension's `tls_version` (the protocol's own numbers).
TLS_VERSIONS: Final = {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303}
# RFC 8446, appendix B.4: the TLS 1.3 cipher suites, by OpenSSL's names (the RFC's too).
CIPHER_SUITES: Final = {
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
    "TLS_AES_128_CCM_SHA256": 0x1304,
    "TLS_AES_128_CCM_8_SHA256": 0x1305,
}

# One file's identity and version; None while it cannot be stat'ed.
_FileStamp = tuple[int, int, int, int, int] | None
_Signature = tuple[_FileStamp, ...]


class TlsExtension(TypedDict):
    """`scope["extensions"]["tls"]`, as the ASGI TLS extension (version 0.2) defines it."""

    server_cert: str | None
    client_cert_chain: list[str]
    client_cert_name: str | None
    client_cert_error: str | None
    tls_version: int | None
    cipher_suite: int | None


class ServingContext(ssl.SSLContext):
    """An SSLContext that knows the certificate it serves (PEM), for the extension's server_cert."""

    certificate_pem: str


@dataclass(frozen=True, slots=True)
class _Files:
    cert: Path
    key: Path
    client_ca: Path | None
    verify_mode: ssl.VerifyMode

    @classmethod
    def of(cls, settings: TlsSettings) -> _Files:
        if settings.cert_path is None or settings.key_path is None:
            missing = "tls.cert_path" if settings.cert_path is None else "tls.key_path"
            raise ConfigError(missing, "must be set to serve TLS")
        modes = {"off": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
        client_ca = None if settings.client_certs == "off" else settings.client_ca_path
        return cls(settings.cert_path, settings.key_path, client_ca, modes[settings.client_certs])

    def signature(self) -> _Signature:
        paths = (
            (self.cert, self.key)
            if self.client_ca is None
            else (self.cert, self.key, self.client_ca)
        )
        return tuple(_stamp(path) for path in paths)


@dataclass(frozen=True, slots=True)
class _Loaded:
    context: ServingContext
    serial: int
    not_valid_after: datetime
    signature: _Signature


class ServingCertificate:
    """The API's certificate, key and client CAs, reloaded for new connections when they change.

    Raises ConfigError, naming the setting and the file, when they do not load at start.
    """

    def __init__(
        self, settings: TlsSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._files = _Files.of(settings)
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded = _load(self._files, self._files.signature())
        self._failed: _Signature | None = None
        self._retry_at = 0.0
        # The listening context: asyncio holds on to it, so this one asks for the current one.
        self.context: ssl.SSLContext = self._loaded.context
        self.context.sni_callback = self._choose

    def expiry_days(self) -> float:
        """Days until the certificate new connections get expires; negative once it has."""
        self.current()
        left = self._loaded.not_valid_after - datetime.now(UTC)
        return left.total_seconds() / SECONDS_PER_DAY

    def current(self) -> ServingContext:
        """The context for a new connection: reloaded first if the files changed and load."""
        signature = self._files.signature()
        loaded = self._loaded
        if signature == loaded.signature:
            return loaded.context
        with self._lock:
            return self._reload(signature).context

    def _reload(self, signature: _Signature) -> _Loaded:
        loaded = self._loaded
        now = self._clock()
        if signature == loaded.signature or (signature == self._failed and now < self._retry_at):
            return loaded
        try:
            fresh = _load(self._files, signature)
        except ConfigError as error:
            if signature != self._failed:  # once per version of the files, not per handshake
                log.error(
                    "TLS certificate not reloaded, still serving serial %x: %s",
                    loaded.serial,
                    error,
                )
            self._failed, self._retry_at = signature, now + RETRY_S
            return loaded
        self._loaded, self._failed = fresh, None
        log.info(
            "TLS certificate reloaded from %s: serial %x, valid until %s",
            self._files.cert,
            fresh.serial,
            fresh.not_valid_after.isoformat(),
        )
        return fresh

    def _choose(
        self, ssl_object: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext
    ) -> None:
        # OpenSSL calls this in the middle of a handshake: an exception here would only fail
        # the handshake, and print itself to stderr; the previous pair serves instead.
        try:
            current = self.current()
        except Exception:
            log.exception("TLS certificate check failed; the connection keeps the previous one")
            return
        if ssl_object.context is not current:
            ssl_object.context = current


def _stamp(path: Path) -> _FileStamp:
    try:
        st = os.stat(path)  # follows symbolic links: a swapped link counts as a change
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _load(files: _Files, signature: _Signature) -> _Loaded:
    """A context serving `files`, as they are now; `signature` is theirs from just before.

    The files are read by cryptography first, for errors that name the file and
    the problem (OpenSSL's say "PEM lib"), then by OpenSSL. Should they change in
    between, `signature` no longer matches and the next handshake loads them again.
    """
    chain = _certificates(files.cert, "tls.cert_path")
    _check_key(files.key, chain[0], files.cert)
    if files.client_ca is not None:
        _certificates(files.client_ca, "tls.client_ca_path")
    context = ServingContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        context.load_cert_chain(files.cert, files.key)
    except ssl.SSLError as error:
        raise ConfigError("tls.key_path", f"{files.key} and {files.cert}: {error}") from None
    context.verify_mode = files.verify_mode
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca)
        except (ssl.SSLError, OSError) as error:
            raise ConfigError("tls.client_ca_path", f"{files.client_ca}: {error}") from None
    leaf = chain[0]
    context.certificate_pem = leaf.public_bytes(Encoding.PEM).decode("ascii")
    _warn_if_out_of_date(leaf, files.cert)
    return _Loaded(context, leaf.serial_number, leaf.not_valid_after_utc, signature)


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(setting, f"{path}: {error.strerror or error}") from None


def _certificates(path: Path, setting: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(_read(path, setting))
    except ValueError:  # cryptography's reason is generic ("Unable to load PEM file")
        raise ConfigError(setting, f"{path} holds no valid PEM certificate") from None


def _check_key(path: Path, leaf: x509.Certificate, cert_path: Path) -> None:
    try:
        key = load_pem_private_key(_read(path, "tls.key_path"), password=None)
    except TypeError:
        raise ConfigError("tls.key_path", f"{path} is encrypted; give an unencrypted key") from None
    except UnsupportedAlgorithm as error:
        raise ConfigError("tls.key_path", f"{path}: {error}") from None
    except ValueError:  # cryptography's reason lists every possible cause
        raise ConfigError("tls.key_path", f"{path} holds no valid PEM private key") from None
    ours = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    theirs = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if ours != theirs:
        raise ConfigError(
            "tls.key_path", f"{path} is not the key of the certificate in {cert_path}"
        )


def _warn_if_out_of_date(leaf: x509.Certificate, path: Path) -> None:
    # Served all the same, as other servers do: refusing would turn an expiry into an outage.
    now = datetime.now(UTC)
    if leaf.not_valid_after_utc <= now:
        log.warning("TLS certificate in %s expired on %s", path, leaf.not_valid_after_utc)
    elif leaf.not_valid_before_utc > now:
        log.warning("TLS certificate in %s is not valid before %s", path, leaf.not_valid_before_utc)


# The ASGI TLS extension


def extension(ssl_object: ssl.SSLObject) -> TlsExtension:
    """The ASGI TLS extension of one established connection.

    With client certificates off, none is asked for, so `client_cert_name` is
    None. A certificate that does not verify fails the handshake, so
    `client_cert_error` is always None. Python's ssl gives the client's own
    certificate, not the chain it sent, so `client_cert_chain` holds that one.
    """
    der = ssl_object.getpeercert(binary_form=True)
    context = ssl_object.context
    cipher = ssl_object.cipher()
    return {
        "server_cert": context.certificate_pem if isinstance(context, ServingContext) else None,
        "client_cert_chain": [] if der is None else [ssl.DER_cert_to_PEM_cert(der)],
        "client_cert_name": None if der is None else _subject(der),
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None if cipher is None else CIPHER_SUITES.get(cipher[0]),
    }


def _subject(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


class _WithTls:
    """An ASGI app given one connection's TLS extension in each request's scope."""

    __slots__ = ("_app", "_tls")

    def __init__(self, app: ASGIApp, tls: TlsExtension) -> None:
        self._app = app
        self._tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("extensions", {})["tls"] = self._tls.copy()  # each request its own
        await self._app(scope, receive, send)


class _TlsScope(asyncio.Protocol):
    """Mixed into a uvicorn HTTP protocol: its app sees the connection's TLS extension.

    uvicorn makes a protocol for each connection, once its handshake is done, and
    calls `self.app` for each request: the extension is worked out once, there.
    """

    app: ASGIApp

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject):  # the spec forbids it on plain connections
            self.app = _WithTls(self.app, extension(ssl_object))


def http_protocol(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol `base` (h11's or httptools') giving apps the TLS extension.

    The class is made at run time because uvicorn picks `base` at run time
    (httptools when installed, else h11); mypy cannot check a class whose base
    is a variable, hence the cast.
    """
    made = types.new_class(f"Tls{base.__name__}", (_TlsScope, base))
    return cast("type[asyncio.Protocol]", made)
