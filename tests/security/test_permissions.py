"""Every route of the API, with no credentials, wrong ones, an expired token and each role.

The answers are checked against the one permissions table
(caxton.security.permissions): a role the table allows is never told 401 or
403, any other gets 403, and without valid credentials everything but the
probes is 401.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from caxton.api.types import ROLES
from caxton.security.keys import check_role
from caxton.security.permissions import (
    OPERATIONS,
    PUBLIC,
    Operation,
    Permissions,
    markdown_table,
)
from caxton.settings import JwtSettings, RateLimitSettings
from live import Live, live_server

SECRET = "s" * 40


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("permissions")
    secret = data / "jwt.secret"
    secret.write_text(SECRET)
    # The walk fails authentication hundreds of times from one address on purpose.
    limits = RateLimitSettings(failed_auth_burst=100_000, failed_auth_per_minute=100_000)
    with live_server(data, jwt=JwtSettings(secret_file=secret), rate_limits=limits) as server:
        yield server


@pytest.fixture(scope="module")
def tokens(live: Live) -> dict[str, str]:
    """A key of each role, made by the admin."""
    made: dict[str, str] = {}
    for role in ROLES:
        answer = live.post("/auth/keys", json={"role": role, "name": f"walk-{role}"})
        assert answer.status_code == 201, answer.text
        made[role] = answer.json()["token"]
    return made


def _routes(live: Live) -> list[tuple[str, str]]:
    """(method, template) of every operation in the OpenAPI document, and the docs routes."""
    document = httpx.get(f"{live.url}/openapi.json", headers=live.headers).json()
    found = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    ]
    outside = [(op.method, op.path) for op in OPERATIONS if not op.path.startswith("/api/")]
    return found + outside


def _concrete(template: str) -> str:
    """A path for a template: every parameter a name that exists nowhere."""
    return re.sub(r"\{[^}]+\}", "nothing-here", template)


def _call(live: Live, method: str, template: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.request(method, live.url + _concrete(template), headers=headers, timeout=30)


def test_the_table_and_the_api_name_the_same_routes(live: Live) -> None:
    routes = set(_routes(live))
    table = {(op.method, op.path) for op in OPERATIONS}
    assert routes - PUBLIC - table == set(), "routes the table does not map (denied to all)"
    assert table - routes == set(), "table entries for routes that do not exist"
    Permissions()  # no route twice


def _walk(live: Live) -> Iterator[tuple[str, str, Operation | None]]:
    permissions = Permissions()
    for method, template in _routes(live):
        yield method, template, permissions.operation(method, template)


def test_without_credentials_only_the_probes_answer(live: Live) -> None:
    for method, template, _ in _walk(live):
        answer = _call(live, method, template, {})
        if (method, template) in PUBLIC:
            assert answer.status_code in (200, 503), (method, template)
            continue
        assert answer.status_code == 401, (method, template, answer.text)
        assert answer.json()["code"] == "unauthenticated"
        assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        "cxk_aaaaaaaaaaaa_not-a-real-secret",
        "cxk_short",
        "just-some-text",
        jwt.encode({"sub": "mallory", "exp": time.time() + 600, "role": "admin"}, "x" * 40),
    ],
    ids=["unknown-key", "malformed-key", "not-a-token", "jwt-signed-with-another-secret"],
)
def test_wrong_credentials_are_refused_everywhere(live: Live, token: str) -> None:
    for method, template, _ in _walk(live):
        if (method, template) in PUBLIC:
            continue
        answer = _call(live, method, template, {"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, (method, template, answer.text)
        assert answer.json()["code"] == "invalid-credentials"


def test_an_expired_token_is_refused_everywhere(live: Live) -> None:
    expired = jwt.encode({"sub": "alice", "exp": time.time() - 60, "role": "admin"}, SECRET)
    for method, template, _ in _walk(live):
        if (method, template) in PUBLIC:
            continue
        answer = _call(live, method, template, {"Authorization": f"Bearer {expired}"})
        assert answer.status_code == 401, (method, template)
        assert answer.json()["code"] == "token-expired"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(live: Live, tokens: dict[str, str], role: str) -> None:
    checked = 0
    for method, template, operation in _walk(live):
        if (method, template) in PUBLIC:
            continue
        answer = _call(live, method, template, {"Authorization": f"Bearer {tokens[role]}"})
        assert operation is not None, (method, template)
        if operation.allows(check_role(role)):
            assert answer.status_code not in (401, 403), (role, method, template, answer.text)
        else:
            assert answer.status_code == 403, (role, method, template, answer.text)
            assert answer.json()["code"] == "forbidden"
        checked += 1
    assert checked == len(OPERATIONS)


def test_a_jwt_with_a_role_claim_gets_that_role(live: Live) -> None:
    token = jwt.encode({"sub": "vera", "exp": time.time() + 600, "role": "viewer"}, SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{live.api}/agents", headers=headers).status_code == 200
    denied = httpx.post(f"{live.api}/tools/servers", headers=headers, json={})
    assert denied.status_code == 403
    assert "jwt:vera (viewer) may not tools.servers.add" in denied.json()["detail"]


def test_denials_and_management_operations_are_audited(live: Live, tokens: dict[str, str]) -> None:
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert httpx.delete(f"{live.api}/agents/ghost", headers=viewer).status_code == 403
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    assert httpx.post(f"{live.api}/agents/ghost/stop", headers=operator).status_code == 404
    records = live.get("/audit", params={"limit": 1000}).json()["items"]
    denied = [r for r in records if r["action"] == "auth.denied" and r["target"] == "ghost"]
    assert denied, records[-5:]
    assert denied[-1]["outcome"] == "denied"
    assert denied[-1]["detail"]["role"] == "viewer"
    stopped = [r for r in records if r["action"] == "api.agents.stop" and r["target"] == "ghost"]
    assert stopped[-1]["outcome"] == "failed"
    assert stopped[-1]["detail"]["status"] == 404
    assert stopped[-1]["actor"].startswith("key:")


def test_answers_carry_security_headers(live: Live) -> None:
    answer = live.get("/agents")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # plain HTTP: HSTS means nothing
    refused = httpx.get(f"{live.api}/agents")
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_the_docs_table_is_the_code_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    assert markdown_table() in docs, "regenerate docs/security.md's table: markdown_table()"
