"""Authentication over a real socket: the admin key, API keys, JWTs, and failures."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from caxton.cli import main
from caxton.errors import ConfigError
from caxton.server.server import Server
from caxton.settings import AuthSettings, JwtSettings, RateLimitSettings, Settings
from live import Live, caxton, live_server

SECRET = "0123456789abcdef0123456789abcdef-hs256"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def whoami(live: Live, token: str) -> httpx.Response:
    return httpx.get(f"{live.api}/auth/whoami", headers=bearer(token))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "data") as server:
        yield server


# ---- the admin key made at first start ----


def test_first_start_writes_an_admin_key_only_its_owner_can_read(live: Live) -> None:
    path = Path(live.server.settings.data_dir) / "admin.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    answer = whoami(live, path.read_text().strip())
    assert answer.json() == {"subject": answer.json()["subject"], "role": "admin", "via": "key"}
    assert answer.json()["subject"].startswith("key:")


def test_a_second_start_keeps_the_keys_and_makes_none(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_server(data) as first:
        token = first.token
    with live_server(data) as second:
        assert second.token == token
        assert len(second.get("/auth/keys").json()["items"]) == 1


def test_the_cli_on_the_same_machine_finds_the_admin_key(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAXTON_TOKEN", raising=False)
    monkeypatch.setenv("CAXTON_DATA_DIR", str(live.server.settings.data_dir))
    done = CliRunner().invoke(main, ["--url", live.url, "auth", "whoami"])
    assert done.exit_code == 0, done.output
    assert "(admin, via key)" in done.output


def test_the_cli_without_credentials_says_how_to_give_them(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAXTON_TOKEN", raising=False)
    monkeypatch.setenv("CAXTON_DATA_DIR", str(tmp_path / "elsewhere"))
    done = CliRunner().invoke(main, ["--url", live.url, "agent", "list"])
    assert done.exit_code == 7
    assert "CAXTON_TOKEN" in done.output
    assert "[unauthenticated]" in done.output


# ---- API keys ----


def test_keys_are_made_listed_changed_and_revoked_at_once(live: Live) -> None:
    made = live.post("/auth/keys", json={"role": "viewer", "name": "grafana"})
    assert made.status_code == 201
    key, token = made.json()["key"], made.json()["token"]
    assert token.startswith(f"cxk_{key['id']}_")
    assert whoami(live, token).json()["role"] == "viewer"
    assert httpx.post(f"{live.api}/agents/x/stop", headers=bearer(token)).status_code == 403

    changed = live.client.patch(f"/auth/keys/{key['id']}", json={"role": "operator"})
    assert changed.json()["role"] == "operator"
    assert whoami(live, token).json()["role"] == "operator"  # no wait for the cache

    assert live.client.delete(f"/auth/keys/{key['id']}").status_code == 204
    refused = whoami(live, token)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    listed = {item["id"]: item for item in live.get("/auth/keys").json()["items"]}
    assert listed[key["id"]]["revoked_at"] is not None
    assert "hash" not in listed[key["id"]]
    assert "token" not in listed[key["id"]]


def test_only_the_hash_of_a_key_is_stored(live: Live) -> None:
    token = live.post("/auth/keys", json={"role": "viewer"}).json()["token"]
    secret = token[len("cxk_") + 13 :]
    data_dir = Path(live.server.settings.data_dir)
    files = [path for path in data_dir.glob("caxton.db*") if path.is_file()]
    assert files
    for path in files:  # the database, its WAL and shared memory
        assert secret.encode() not in path.read_bytes()


def test_bad_key_requests_name_the_field(live: Live) -> None:
    bad_role = live.post("/auth/keys", json={"role": "superuser"})
    assert bad_role.status_code == 422
    assert bad_role.json()["field"] == "role"
    long_name = live.post("/auth/keys", json={"role": "viewer", "name": "n" * 201})
    assert long_name.status_code == 422
    assert long_name.json()["field"] == "name"
    assert live.client.delete("/auth/keys/nosuchkey0000").status_code == 404


def test_the_cli_makes_lists_and_revokes_keys(live: Live) -> None:
    made = caxton(live, "auth", "key", "create", "--role", "developer", "--name", "ci")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert whoami(live, token).json()["role"] == "developer"
    listed = caxton(live, "auth", "key", "list", output="json")
    key = next(item for item in json.loads(listed.stdout)["items"] if item["name"] == "ci")
    assert caxton(live, "auth", "key", "set-role", key["id"], "viewer").exit_code == 0
    assert whoami(live, token).json()["role"] == "viewer"
    assert caxton(live, "auth", "key", "revoke", key["id"]).exit_code == 0
    assert whoami(live, token).status_code == 401
    assert caxton(live, "auth", "key", "revoke", "nosuchkey000").exit_code == 4


def test_a_key_given_by_token_or_environment_is_used(live: Live) -> None:
    token = live.post("/auth/keys", json={"role": "viewer"}).json()["token"]
    by_flag = CliRunner().invoke(main, ["--url", live.url, "--token", token, "auth", "whoami"])
    assert "(viewer, via key)" in by_flag.output
    by_env = CliRunner().invoke(
        main, ["--url", live.url, "auth", "whoami"], env={"CAXTON_TOKEN": token}
    )
    assert "(viewer, via key)" in by_env.output
    denied = CliRunner().invoke(main, ["--url", live.url, "--token", token, "agent", "stop", "x"])
    assert denied.exit_code == 7
    assert "[forbidden]" in denied.output


# ---- failed attempts ----


def test_failed_attempts_are_audited_and_then_refused_with_429(tmp_path: Path) -> None:
    limits = RateLimitSettings(failed_auth_burst=3, failed_auth_per_minute=1)
    with live_server(tmp_path / "data", rate_limits=limits) as live:
        answers = [whoami(live, "cxk_aaaaaaaaaaaa_guess").status_code for _ in range(5)]
        assert answers == [401, 401, 401, 429, 429]
        blocked = whoami(live, live.token)  # even the right key, while the address is blocked
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        records = live.server.store.audit.recent(100, action="auth.failed")
        assert len(records) == 3
        assert records[0].actor == "key:aaaaaaaaaaaa"
        assert records[0].outcome == "invalid-credentials"
        assert records[0].detail["address"] == "127.0.0.1"


# ---- JWTs ----


def _rsa() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, object]:
    document = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**document, "kid": kid, "alg": "RS256", "use": "sig"}


def test_hs256_tokens_are_checked_for_exp_nbf_aud_and_iss(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    settings = JwtSettings(secret_file=secret, audience="caxton", issuer="https://idp.test/")
    now = time.time()
    good = {"sub": "alice", "exp": now + 600, "aud": "caxton", "iss": "https://idp.test/",
            "role": "developer"}  # fmt: skip
    with live_server(tmp_path / "data", jwt=settings) as live:
        answer = whoami(live, jwt.encode(good, SECRET))
        assert answer.json() == {"subject": "jwt:alice", "role": "developer", "via": "jwt"}
        cases = {
            "the token has expired (exp)": {**good, "exp": now - 60},
            "the token is not valid yet (nbf)": {**good, "nbf": now + 600},
            "the token is for another audience (aud)": {**good, "aud": "billing"},
            "the token is from another issuer (iss)": {**good, "iss": "https://evil.test/"},
            "the token has no exp claim": {k: v for k, v in good.items() if k != "exp"},
            "the token has no aud claim": {k: v for k, v in good.items() if k != "aud"},
        }
        for reason, claims in cases.items():
            refused = whoami(live, jwt.encode(claims, SECRET))
            assert refused.status_code == 401, reason
            assert refused.json()["detail"] == reason


def test_rs256_tokens_from_a_jwks_file_follow_key_rotation(tmp_path: Path) -> None:
    first, _ = _rsa()
    second, _ = _rsa()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_jwk(first, "one")]}))
    claims = {"sub": "bob", "exp": time.time() + 600, "role": ["viewer", "operator"]}
    with live_server(tmp_path / "data", jwt=JwtSettings(jwks_file=jwks)) as live:
        token = jwt.encode(claims, first, algorithm="RS256", headers={"kid": "one"})
        answer = whoami(live, token)
        assert answer.json()["role"] == "operator"  # the strongest role claimed
        rotated = jwt.encode(claims, second, algorithm="RS256", headers={"kid": "two"})
        assert whoami(live, rotated).status_code == 401
        jwks.write_text(json.dumps({"keys": [_jwk(first, "one"), _jwk(second, "two")]}))
        os.utime(jwks, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
        assert whoami(live, rotated).status_code == 200
        # HS256 with the public key as the secret: the algorithm is not the token's choice.
        forged = jwt.encode(claims, "x" * 40, algorithm="HS256")
        assert "not accepted here" in whoami(live, forged).json()["detail"]


def test_rs256_with_a_public_key_and_a_role_set_for_the_identity(tmp_path: Path) -> None:
    key, public = _rsa()
    pem = tmp_path / "jwt.pem"
    pem.write_bytes(public)
    claims = {"sub": "carol", "exp": time.time() + 600}
    with live_server(tmp_path / "data", jwt=JwtSettings(public_key_file=pem)) as live:
        token = jwt.encode(claims, key, algorithm="RS256")
        assert whoami(live, token).json()["role"] is None  # authenticated, with no role
        assert httpx.get(f"{live.api}/agents", headers=bearer(token)).status_code == 403
        assert caxton(live, "auth", "identity", "set", "jwt:carol", "viewer").exit_code == 0
        assert whoami(live, token).json()["role"] == "viewer"
        assert httpx.get(f"{live.api}/agents", headers=bearer(token)).status_code == 200
        assert caxton(live, "auth", "identity", "remove", "jwt:carol").exit_code == 0
        assert whoami(live, token).json()["role"] is None
        bad = live.client.put("/auth/identities/alice", json={"role": "viewer"})
        assert bad.status_code == 422
        assert bad.json()["field"] == "subject"


def test_broken_jwt_settings_stop_the_start_naming_them(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("too short")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for settings, name in (
        (JwtSettings(secret_file=short), "jwt.secret_file"),
        (JwtSettings(secret_file=tmp_path / "missing"), "jwt.secret_file"),
        (JwtSettings(public_key_file=garbage), "jwt.public_key_file"),
        (JwtSettings(jwks_file=garbage), "jwt.jwks_file"),
    ):
        with pytest.raises(ConfigError, match=rf"^{name}: "):
            Server(Settings(data_dir=tmp_path / "data", jwt=settings))


# ---- authentication off ----


def test_no_auth_on_loopback_makes_everyone_local_admin_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="caxton.server")
    with live_server(tmp_path / "data", auth=AuthSettings(enabled=False)) as live:
        answer = httpx.get(f"{live.api}/auth/whoami")
        assert answer.json() == {"subject": "local", "role": "admin", "via": "none"}
        assert any("authentication is OFF" in r.getMessage() for r in caplog.records)
