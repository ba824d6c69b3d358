"""TLS for the REST API, on real sockets: TLS 1.3 only, certificates rotated under load, client
certificates (and the ASGI TLS extension they fill in), the expiry gauge, errors at start.

A refused client sees its connection closed: asyncio drops the TLS alert
that would say why (it closes the transport without flushing it), so
refusals are asserted as "no HTTP response at all".
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
import uvicorn
from certs import Issued, authority, client, name, server
from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from caxton.errors import ConfigError
from caxton.security.tls import ServingCertificate, http_protocol
from caxton.server.main import build, in_background
from caxton.settings import AuthSettings, Settings, TlsSettings

DEADLINE_S = 20.0
TIMEOUT_S = 10.0
# Clients opening a new connection for each request during the rotation, besides one that
# keeps its connection.
FRESH_CLIENTS = 4
# Requests served with the new certificate before the rotation test stops its load.
AFTER_SWAP = 40
DAY_S = 86_400.0
GAUGE = "caxton_tls_certificate_expiry_days"


@dataclass(frozen=True)
class Pki:
    ca: Issued
    other_ca: Issued  # signs certificates the server must refuse


@dataclass(frozen=True)
class Files:
    """The server's certificate, key and client CAs on disk; client contexts that trust the CA."""

    cert: Path
    key: Path
    ca: Path
    root: Path

    def settings(self, client_certs: Literal["off", "optional", "required"] = "off") -> TlsSettings:
        return TlsSettings(
            enabled=True,
            cert_path=self.cert,
            key_path=self.key,
            client_ca_path=None if client_certs == "off" else self.ca,
            client_certs=client_certs,
        )

    def trusting(self, identity: Issued | None = None) -> ssl.SSLContext:
        """A client context that trusts the CA and presents `identity`, if given."""
        context = ssl.create_default_context(cafile=str(self.ca))
        if identity is not None:
            cert = self.root / f"client-{identity.serial}.pem"
            key = self.root / f"client-{identity.serial}.key"
            identity.write(cert, key)
            context.load_cert_chain(cert, key)
        return context


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki(authority(), authority("Some other CA"))


@pytest.fixture
def files(tmp_path: Path, pki: Pki) -> Files:
    found = Files(tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem", tmp_path)
    found.ca.write_bytes(pki.ca.cert_pem())
    return found


@contextmanager
def caxton_over_tls(data_dir: Path, tls: TlsSettings, **settings: Any) -> Iterator[str]:
    """The real Caxton server serving TLS on an ephemeral port; its https:// URL."""
    _, served = build(Settings(data_dir=data_dir, port=0, tls=tls, **settings))
    with in_background(served) as url:
        assert url.startswith("https://")
        yield url


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    serial: int  # of the certificate the server presented


def connect(url: str, context: ssl.SSLContext) -> http.client.HTTPSConnection:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return http.client.HTTPSConnection(
        parts.hostname, parts.port, context=context, timeout=TIMEOUT_S
    )


def request(connection: http.client.HTTPSConnection, path: str = "/health") -> Reply:
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    assert isinstance(connection.sock, ssl.SSLSocket)
    der = connection.sock.getpeercert(binary_form=True)
    assert der is not None
    return Reply(response.status, body, x509.load_der_x509_certificate(der).serial_number)


def get(url: str, context: ssl.SSLContext, path: str = "/health") -> Reply:
    """One request on a connection of its own."""
    connection = connect(url, context)
    try:
        return request(connection, path)
    finally:
        connection.close()


def assert_refused(url: str, context: ssl.SSLContext) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError)):
        get(url, context)


# TLS 1.3 only


def test_a_tls13_client_is_served_and_a_tls12_client_is_refused_at_the_handshake(
    tmp_path: Path, pki: Pki, files: Files
) -> None:
    certificate = server(pki.ca)
    certificate.write(files.cert, files.key)
    with caxton_over_tls(tmp_path / "data", files.settings()) as url:
        reply = get(url, files.trusting())
        assert (reply.status, reply.serial) == (200, certificate.serial)
        parts = urlsplit(url)
        address = (parts.hostname or "", parts.port or 0)
        with (
            socket.create_connection(address, timeout=TIMEOUT_S) as raw,
            files.trusting().wrap_socket(raw, server_hostname=address[0]) as modern,
        ):
            assert modern.version() == "TLSv1.3"
        old = files.trusting()
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with (
            socket.create_connection(address, timeout=TIMEOUT_S) as raw,
            pytest.raises(ssl.SSLError) as refused,
        ):
            old.wrap_socket(raw, server_hostname=address[0]).close()
        assert not isinstance(refused.value, ssl.SSLCertVerificationError)


# Rotation


@dataclass(frozen=True)
class Outcome:
    kind: str  # "fresh": a connection of its own; "kept": the connection kept open
    started: float  # before connecting, for a fresh one
    ended: float
    reply: Reply


@dataclass
class Load:
    """Clients that keep making requests until stopped: most on a new connection each time,
    one on a single connection kept open."""

    url: str
    context: ssl.SSLContext
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._fresh) for _ in range(FRESH_CLIENTS)]
        self._threads.append(threading.Thread(target=self._kept))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(DEADLINE_S)
            assert not thread.is_alive()

    def wait_for(self, condition: Callable[[list[Outcome]], bool]) -> None:
        with self._changed:
            met = self._changed.wait_for(
                lambda: bool(self.failures) or condition(self.outcomes), DEADLINE_S
            )
        assert met, f"not met within {DEADLINE_S} s; {len(self.outcomes)} replies"
        assert not self.failures, self.failures

    def _record(self, kind: str, call: Callable[[], Reply]) -> None:
        started = time.monotonic()
        try:
            reply = call()
        except Exception as error:
            with self._changed:
                self.failures.append((kind, error))
                self._changed.notify_all()
            return
        with self._changed:
            self.outcomes.append(Outcome(kind, started, time.monotonic(), reply))
            self._changed.notify_all()

    def _fresh(self) -> None:
        while not self._stop.is_set() and not self.failures:
            self._record("fresh", lambda: get(self.url, self.context))

    def _kept(self) -> None:
        connection = connect(self.url, self.context)
        try:
            while not self._stop.is_set() and not self.failures:
                self._record("kept", lambda: request(connection))
        finally:
            connection.close()


def test_rotation_under_load_fails_no_request_and_gives_new_connections_the_new_certificate(
    tmp_path: Path, pki: Pki, files: Files
) -> None:
    first, second = server(pki.ca), server(pki.ca)
    assert first.serial != second.serial
    first.write(files.cert, files.key)
    with caxton_over_tls(tmp_path / "data", files.settings()) as url:
        load = Load(url, files.trusting())
        load.start()
        try:
            load.wait_for(lambda outcomes: {o.kind for o in outcomes} == {"fresh", "kept"})
            swapped = time.monotonic()
            # In place, one file then the other: handshakes meanwhile find half-written files,
            # or a key that is not the certificate's, and must be served the first pair.
            second.write(files.cert, files.key)
            load.wait_for(
                lambda outcomes: (
                    sum(o.reply.serial == second.serial for o in outcomes) >= AFTER_SWAP
                    and any(o.kind == "kept" and o.started > swapped for o in outcomes)
                )
            )
        finally:
            load.stop()
    assert not load.failures, load.failures
    assert all(o.reply.status == 200 for o in load.outcomes)
    kept = {o.reply.serial for o in load.outcomes if o.kind == "kept"}
    assert kept == {first.serial}, "an open connection changed certificate"
    fresh = [o for o in load.outcomes if o.kind == "fresh"]
    assert {o.reply.serial for o in fresh} == {first.serial, second.serial}
    # Once a connection has been served the new certificate, every one opened later is too.
    first_new = min(o.ended for o in fresh if o.reply.serial == second.serial)
    later = {o.reply.serial for o in fresh if o.started > first_new}
    assert later == {second.serial}


def test_a_broken_pair_keeps_the_last_good_one_serving_until_a_good_one_comes(
    tmp_path: Path,
    pki: Pki,
    files: Files,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, other, later = server(pki.ca), server(pki.ca), server(pki.ca)
    good.write(files.cert, files.key)
    caplog.set_level(logging.INFO, logger="caxton.security.tls")
    # Whatever an earlier configure() did, caplog listens at the root.
    monkeypatch.setattr(logging.getLogger("caxton"), "propagate", True)
    broken = {
        "garbage": (b"this is no certificate\n", good.key_pem(), "tls.cert_path", files.cert),
        "half written": (other.cert_pem()[:300], good.key_pem(), "tls.cert_path", files.cert),
        "another's key": (other.cert_pem(), good.key_pem(), "tls.key_path", files.key),
        "missing key": (later.cert_pem(), None, "tls.key_path", files.key),
    }
    with caxton_over_tls(tmp_path / "data", files.settings()) as url:
        for case, (cert, key, setting, culprit) in broken.items():
            caplog.clear()
            files.cert.write_bytes(cert)
            if key is None:
                files.key.unlink()
            else:
                files.key.write_bytes(key)
            for _ in range(3):
                reply = get(url, files.trusting())
                assert (reply.status, reply.serial) == (200, good.serial), case
            errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
            assert len(errors) == 1, (case, errors)  # once per version of the files
            assert f"{setting}: {culprit}" in errors[0], (case, errors)
        later.write(files.cert, files.key)
        assert get(url, files.trusting()).serial == later.serial


def test_the_client_ca_file_is_reread_too(tmp_path: Path, pki: Pki, files: Files) -> None:
    server(pki.ca).write(files.cert, files.key)
    outsider = files.trusting(client(pki.other_ca, name("outsider")))
    with caxton_over_tls(tmp_path / "data", files.settings("required")) as url:
        assert_refused(url, outsider)
        files.ca.write_bytes(pki.ca.cert_pem() + pki.other_ca.cert_pem())
        assert get(url, outsider).status == 200


# Client certificates


def test_required_client_certificates_admit_only_those_the_ca_signed(
    tmp_path: Path, pki: Pki, files: Files
) -> None:
    server(pki.ca).write(files.cert, files.key)
    with caxton_over_tls(tmp_path / "data", files.settings("required")) as url:
        assert get(url, files.trusting(client(pki.ca, name("alice")))).status == 200
        assert_refused(url, files.trusting())
        assert_refused(url, files.trusting(client(pki.other_ca, name("mallory"))))
        expired = client(pki.ca, name("alice"), days=-1)
        assert_refused(url, files.trusting(expired))


async def tls_of(request: Request) -> JSONResponse:
    """What an app reads: the request's TLS extension, or None."""
    return JSONResponse(request.scope.get("extensions", {}).get("tls"))


@contextmanager
def scope_app(certificate: ServingCertificate | None) -> Iterator[str]:
    """A tiny app behind uvicorn with Caxton's protocol class, over TLS if given a certificate."""
    app = Starlette(routes=[Route("/", tls_of)])
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan="off",
        http=http_protocol(AutoHTTPProtocol),
        ssl_context_factory=None if certificate is None else (lambda c, d: certificate.context),
    )
    with in_background(uvicorn.Server(config)) as url:
        yield url


def test_optional_client_certificates_reach_the_asgi_scope(pki: Pki, files: Files) -> None:
    serving = server(pki.ca)
    serving.write(files.cert, files.key)
    certificate = ServingCertificate(files.settings("optional"))
    with scope_app(certificate) as url:
        alice = get(url, files.trusting(client(pki.ca, name("alice", "Example"))), "/")
        anonymous = get(url, files.trusting(), "/")
        assert_refused(url, files.trusting(client(pki.other_ca, name("mallory"))))
    seen = x509.load_pem_x509_certificate
    extension = json.loads(alice.body)
    assert extension["client_cert_name"] == "CN=alice,O=Example"
    assert extension["client_cert_error"] is None
    assert extension["tls_version"] == 0x0304
    assert extension["cipher_suite"] in {0x1301, 0x1302, 0x1303}
    assert seen(extension["server_cert"].encode()).serial_number == serving.serial
    chain = extension["client_cert_chain"]
    assert [seen(pem.encode()).subject.rfc4514_string() for pem in chain] == ["CN=alice,O=Example"]
    nobody = json.loads(anonymous.body)
    assert (nobody["client_cert_name"], nobody["client_cert_chain"]) == (None, [])


def test_a_plain_connection_gets_no_tls_extension() -> None:
    # The ASGI TLS extension forbids it on connections without TLS.
    with scope_app(None) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
        try:
            connection.request("GET", "/")
            assert connection.getresponse().read() == b"null"
        finally:
            connection.close()


# The expiry gauge


def gauge(reply: Reply) -> float:
    for line in reply.body.decode().splitlines():
        if line.startswith(GAUGE + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {GAUGE} on /metrics")


def days_left(certificate: Issued) -> float:
    return (certificate.cert.not_valid_after_utc.timestamp() - time.time()) / DAY_S


def test_the_expiry_gauge_counts_days_and_follows_a_rotation(
    tmp_path: Path, pki: Pki, files: Files
) -> None:
    month, quarter = server(pki.ca, days=30), server(pki.ca, days=90.5)
    month.write(files.cert, files.key)
    no_auth = AuthSettings(enabled=False)
    with caxton_over_tls(tmp_path / "data", files.settings(), auth=no_auth) as url:
        # One connection throughout: the gauge must follow the files, not the handshakes.
        connection = connect(url, files.trusting())
        try:
            before = request(connection, "/metrics")
            assert gauge(before) == pytest.approx(days_left(month), abs=1e-3)
            quarter.write(files.cert, files.key)
            after = request(connection, "/metrics")
            assert after.serial == month.serial  # the open connection kept its certificate
            assert gauge(after) == pytest.approx(days_left(quarter), abs=1e-3)
        finally:
            connection.close()


def test_no_expiry_gauge_without_tls(tmp_path: Path) -> None:
    _, served = build(
        Settings(data_dir=tmp_path / "data", port=0, auth=AuthSettings(enabled=False))
    )
    with in_background(served) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
        try:
            connection.request("GET", "/metrics")
            text = connection.getresponse().read().decode()
        finally:
            connection.close()
    assert url.startswith("http://")
    assert "caxton_build_info" in text
    assert GAUGE not in text


# Errors at start


def broken_start(pki: Pki, files: Files, case: str) -> tuple[TlsSettings, str, Path]:
    """Files broken as `case` says; the settings, and the setting and file the error must name."""
    good, other = server(pki.ca), server(pki.ca)
    good.write(files.cert, files.key)
    settings = files.settings()
    if case == "missing certificate":
        files.cert.unlink()
        return settings, "tls.cert_path", files.cert
    if case == "garbage certificate":
        files.cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
        return settings, "tls.cert_path", files.cert
    if case == "garbage key":
        files.key.write_bytes(b"\x00\x01 not a key")
        return settings, "tls.key_path", files.key
    if case == "another certificate's key":
        files.key.write_bytes(other.key_pem())
        return settings, "tls.key_path", files.key
    assert case == "garbage client CA"
    files.ca.write_bytes(b"nothing here")
    return files.settings("required"), "tls.client_ca_path", files.ca


@pytest.mark.parametrize(
    "case",
    [
        "missing certificate",
        "garbage certificate",
        "garbage key",
        "another certificate's key",
        "garbage client CA",
    ],
)
def test_files_that_do_not_load_at_start_are_a_config_error_naming_the_setting(
    tmp_path: Path, pki: Pki, files: Files, case: str
) -> None:
    tls, setting, culprit = broken_start(pki, files, case)
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as raised:
        build(Settings(data_dir=data_dir, port=0, tls=tls))
    assert raised.value.setting == setting
    assert str(raised.value).startswith(f"{setting}: ")
    assert str(culprit) in str(raised.value)
    assert not data_dir.exists(), "the server was built before the certificate was checked"


def test_server_start_says_https_and_reports_a_broken_certificate_without_a_traceback(
    tmp_path: Path, pki: Pki, files: Files
) -> None:
    server(pki.ca).write(files.cert, files.key)
    files.cert.write_bytes(b"garbage")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAXTON_")}
    env |= {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "CAXTON_TLS_ENABLED": "true",
        "CAXTON_TLS_CERT_PATH": str(files.cert),
        "CAXTON_TLS_KEY_PATH": str(files.key),
    }
    command = [sys.executable, "-m", "caxton", "server", "start", "--data-dir", str(tmp_path / "d")]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "caxton: serving https://127.0.0.1:8080" in done.stderr
    assert f"tls.cert_path: {files.cert} holds no valid PEM certificate" in done.stderr
    assert "Traceback" not in done.stderr
