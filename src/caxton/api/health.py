"""Liveness and readiness, Kubernetes style, and what the server is."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from caxton.api.deps import ServerDep
from caxton.api.problems import ApiProblem
from caxton.api.types import (
    API_PREFIX,
    BACKUP_NAME_PATTERN,
    Backup,
    BackupRequest,
    Check,
    Health,
    Readiness,
    ServerInfo,
)
from caxton.store import verify_backup

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
    return JSONResponse(asdict(body), status_code=200 if ok else 503)


@router.get("/server", response_model=ServerInfo, summary="Version, data directory, uptime")
def info(server: ServerDep) -> ServerInfo:
    return ServerInfo(
        version=server.version,
        api=API_PREFIX,
        data_dir=str(server.settings.data_dir),
        agents=len(server.manager.all()),
        uptime_s=time.time() - server.started_at,
    )


@router.post("/backups", status_code=201, response_model=Backup, summary="Online backup, verified")
async def backup(request: BackupRequest, server: ServerDep) -> Backup:
    if request.name is not None and not re.fullmatch(BACKUP_NAME_PATTERN, request.name):
        raise ApiProblem(
            422,
            "invalid-request",
            f"name: {request.name!r} is not a plain file name (letters, digits, '.', '_' "
            "and '-', starting with a letter or digit, at most 128 characters)",
            field="name",
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(server.settings.data_dir) / "backups"
    folder.mkdir(exist_ok=True)
    written = await asyncio.to_thread(
        server.store.backup, folder / (request.name or f"caxton-{stamp}.db")
    )
    version = await asyncio.to_thread(verify_backup, written)
    return Backup(path=str(written), size_bytes=written.stat().st_size, schema_version=version)
