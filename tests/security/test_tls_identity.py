"""Caxton over TLS: client certificates as identities, HSTS, and the CLI over https."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from certs import authority, client, name, server
from click.testing import CliRunner

from caxton.cli import main
from caxton.settings import TlsSettings
from live import Live, live_server


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = authority()
    paths = {key: tmp_path / f"{key}.pem" for key in ("ca", "cert", "key", "ci", "ci-key")}
    paths["ca"].write_bytes(ca.cert_pem())
    server(ca).write(paths["cert"], paths["key"])
    client(ca, name("ci", "Example")).write(paths["ci"], paths["ci-key"])
    return paths


@pytest.fixture
def live(tmp_path: Path, pki: dict[str, Path]) -> Iterator[Live]:
    tls = TlsSettings(
        enabled=True,
        cert_path=pki["cert"],
        key_path=pki["key"],
        client_ca_path=pki["ca"],
        client_certs="optional",
    )
    trusting = ssl.create_default_context(cafile=pki["ca"])
    with live_server(tmp_path / "data", tls=tls, verify=trusting) as running:
        yield running


def _context(pki: dict[str, Path], *, certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki["ca"])
    if certificate:
        context.load_cert_chain(pki["ci"], pki["ci-key"])
    return context


def test_a_client_certificate_is_an_identity_given_a_role_at_run_time(
    live: Live, pki: dict[str, Path]
) -> None:
    assert live.url.startswith("https://")
    with httpx.Client(base_url=live.api, verify=_context(pki, certificate=True)) as ci:
        answer = ci.get("/auth/whoami")
        assert answer.json() == {"subject": "cert:CN=ci,O=Example", "role": None, "via": "cert"}
        assert ci.get("/agents").status_code == 403
        given = live.client.put("/auth/identities/cert:CN=ci,O=Example", json={"role": "viewer"})
        assert given.status_code == 200, given.text
        assert ci.get("/agents").status_code == 200
        assert ci.post("/agents/echo/stop").status_code == 403
        # A bearer token, sent too, wins over the certificate.
        both = ci.get("/auth/whoami", headers=live.headers)
        assert both.json()["via"] == "key"
    with httpx.Client(base_url=live.api, verify=_context(pki, certificate=False)) as anonymous:
        assert anonymous.get("/agents").status_code == 401


def test_answers_over_tls_carry_hsts(live: Live) -> None:
    answer = live.get("/agents")
    assert answer.headers["strict-transport-security"] == "max-age=31536000"


def test_the_cli_speaks_tls_with_a_ca_and_a_client_certificate(
    live: Live, pki: dict[str, Path]
) -> None:
    live.client.put("/auth/identities/cert:CN=ci,O=Example", json={"role": "operator"})
    env = {
        "CAXTON_CA_CERT": str(pki["ca"]),
        "CAXTON_CLIENT_CERT": str(pki["ci"]),
        "CAXTON_CLIENT_KEY": str(pki["ci-key"]),
        "CAXTON_TOKEN": "",
        "CAXTON_DATA_DIR": str(pki["ca"].parent / "nowhere"),
    }
    done = CliRunner().invoke(main, ["--url", live.url, "auth", "whoami"], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "cert:CN=ci,O=Example (operator, via cert)"
    untrusted = CliRunner().invoke(
        main, ["--url", live.url, "auth", "whoami"], env={**env, "CAXTON_CA_CERT": ""}
    )
    assert untrusted.exit_code == 3
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.output
