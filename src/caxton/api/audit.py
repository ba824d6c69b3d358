"""/audit: the audit log of tool calls and permission changes, checked and exported.

The log is append-only and hash-chained (caxton.store.audit): these routes
only read it. `GET /audit/verify` walks the chain and says what is wrong,
answering 200 either way; `GET /audit/export` gives every record as JSON
lines, for keeping a copy (and its newest hash) somewhere else.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from caxton.api.deps import ServerDep
from caxton.api.types import AuditEntry, AuditList, AuditVerification

router = APIRouter(tags=["audit"])

NDJSON = "application/x-ndjson"


class _JsonLines(Response):
    media_type = NDJSON


_EXPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Every record, all fields (prev_hash too), one JSON object a line, "
        "in seq order",
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


@router.get("/audit", response_model=AuditList, summary="Audit records, filtered, newest last")
def recent(
    server: ServerDep,
    action: Annotated[str | None, Query(description="Only records of this action")] = None,
    actor: Annotated[str | None, Query(description="Only records by this actor")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> AuditList:
    records = server.store.audit.recent(limit, action=action, actor=actor)
    return AuditList(
        items=[
            AuditEntry(
                seq=record.seq,
                at=record.at,
                actor=record.actor,
                action=record.action,
                target=record.target,
                outcome=record.outcome,
                detail=record.detail,
                hash=record.hash,
            )
            for record in records
        ]
    )


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Walk the audit log's hash chain and say what is wrong, if anything",
)
def verify(server: ServerDep) -> AuditVerification:
    audit = server.store.audit
    problems = audit.verify()
    return AuditVerification(ok=not problems, records=audit.count(), problems=problems)


@router.get(
    "/audit/export",
    response_class=_JsonLines,
    responses=_EXPORT_RESPONSE,
    summary="Every audit record as JSON lines",
)
def export(server: ServerDep) -> Response:
    # Read whole into memory: fine for now. A streaming export comes with retention
    # (when the log can be trimmed, and exported before it is).
    buffer = io.BytesIO()
    server.store.audit.export(buffer)
    return _JsonLines(buffer.getvalue())
