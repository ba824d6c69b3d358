"""Liveness and readiness, Kubernetes style, and what the server is."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from caxton.api.deps import ServerDep
from caxton.api.types import API_PREFIX, Check, Health, Readiness, ServerInfo

probes = APIRouter(tags=["health"])
router = APIRouter(tags=["server"])


@probes.get("/health", response_model=Health, summary="Liveness: the process answers")
def health(server: ServerDep) -> Health:
    return Health(status="ok", version=server.version)


@probes.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: storage, runtime and agents loaded",
    responses={503: {"model": Readiness}},
)
def ready(server: ServerDep) -> JSONResponse:
    checks = {name: Check(ok=c.ok, detail=c.detail) for name, c in server.readiness().items()}
    ok = all(check.ok for check in checks.values())
    body = Readiness(status="ready" if ok else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/server", response_model=ServerInfo, summary="Version, data directory, uptime")
def info(server: ServerDep) -> ServerInfo:
    return ServerInfo(
        version=server.version,
        api=API_PREFIX,
        data_dir=str(server.settings.data_dir),
        agents=len(server.manager.all()),
        uptime_s=time.time() - server.started_at,
    )
