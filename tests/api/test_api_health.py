"""Liveness and readiness: fast, Kubernetes-compatible, with diagnostics when not ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from caxton import __version__
from caxton.api.app import create_app
from caxton.server.server import Server
from caxton.settings import Settings
from live import Live

WASM = {"content-type": "application/wasm"}
# Kubernetes' default probe timeout is one second; answer well within it.
PROBE_BUDGET_S = 0.5


@pytest.fixture
async def unstarted(tmp_path: Path) -> AsyncIterator[tuple[Server, httpx.AsyncClient]]:
    """A server built but not started, behind its app, in process (no lifespan, no socket)."""
    server = Server(Settings(data_dir=tmp_path / "data"))
    transport = httpx.ASGITransport(app=create_app(server, manage=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://caxton") as client:
            yield server, client
    finally:
        server.close()


def test_health_answers_200_fast(live: Live) -> None:
    live.client.get(f"{live.url}/health")  # the connection is open: time the answer alone
    started = time.perf_counter()
    response = live.client.get(f"{live.url}/health")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    assert elapsed < PROBE_BUDGET_S


def test_ready_answers_200_with_every_check(live: Live) -> None:
    started = time.perf_counter()
    response = live.client.get(f"{live.url}/ready")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"storage", "runtime", "agents"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "SQLite" in body["checks"]["storage"]["detail"]
    assert body["checks"]["agents"]["detail"] == "3 agents, 0 failed"
    assert elapsed < PROBE_BUDGET_S


def test_ready_names_failed_agents_without_failing(live: Live) -> None:
    deployed = live.post("/agents", params={"name": "broken"}, content=b"\0asm", headers=WASM)
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["state"] == "Failed"
    response = live.client.get(f"{live.url}/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["agents"]["detail"] == "4 agents, 1 failed (broken)"


async def test_ready_is_503_with_diagnostics_until_started(
    unstarted: tuple[Server, httpx.AsyncClient],
) -> None:
    server, client = unstarted
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["storage"]["ok"] is True
    assert body["checks"]["runtime"] == {
        "ok": False,
        "detail": "agents are still being recovered",
    }
    assert body["checks"]["agents"]["ok"] is False
    assert response.headers["x-caxton-version"] == __version__
    # Alive all the while: liveness does not wait for readiness.
    assert (await client.get("/health")).status_code == 200

    await asyncio.to_thread(server.start)
    assert (await client.get("/ready")).status_code == 200


async def test_ready_is_503_once_shutting_down(
    unstarted: tuple[Server, httpx.AsyncClient],
) -> None:
    server, client = unstarted
    server.start()
    server.close()
    response = await client.get("/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["runtime"] == {"ok": False, "detail": "the server is shutting down"}
    assert checks["storage"]["ok"] is False  # the store is closed
    assert "store unusable" in checks["storage"]["detail"]


def test_server_info_says_what_is_running(live: Live) -> None:
    info = live.get("/server").json()
    assert info["version"] == __version__
    assert info["api"] == "/api/v1"
    assert info["data_dir"] == str(live.server.settings.data_dir)
    assert info["agents"] == 3
    assert info["uptime_s"] >= 0


@pytest.mark.parametrize("name", ["../escape.db", "a/b.db", ".hidden", ""])
def test_a_backup_name_that_is_not_a_plain_file_name_is_422(live: Live, name: str) -> None:
    answer = live.post("/backups", json={"name": name})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "invalid-request"
    assert "name" in problem["detail"]
    assert not (Path(live.server.settings.data_dir) / "escape.db").exists()
