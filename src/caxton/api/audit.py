"""/audit: the security audit trail, read, checked and exported.

What it holds (caxton.security.trail): tool calls and grants, agents' limit
and sandbox violations, management operations and authentication, and
retention's prunes. The log is append-only and hash-chained
(caxton.store.audit): these routes only read it. `GET /audit` gives the
newest records, or with `after` the records after a seq, oldest first (page
forward; `after=0&limit=1` is the oldest record left, where the chain starts
after a prune). `GET /audit/verify` walks the chain and says what is wrong,
answering 200 either way; `GET /audit/export` gives every record left as
JSON lines, for keeping a copy (and its newest hash) somewhere else.
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
        "description": "Every record left, all fields (prev_hash too), one JSON object a "
        "line, in seq order; after a prune the first line's seq and prev_hash say where "
        "the chain starts",
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


_MAX_SEQ = 2**63 - 1  # SQLite's INTEGER
_AFTER = (
    "Only records after this seq, and the first `limit` of them instead of the newest: "
    "for reading the log forward"
)


@router.get("/audit", response_model=AuditList, summary="Audit records, filtered, newest last")
def recent(
    server: ServerDep,
    action: Annotated[str | None, Query(description="Only records of this action")] = None,
    actor: Annotated[str | None, Query(description="Only records by this actor")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    after: Annotated[int | None, Query(ge=0, le=_MAX_SEQ, description=_AFTER)] = None,
) -> AuditList:
    audit = server.store.audit
    if after is None:
        records = audit.recent(limit, action=action, actor=actor)
    else:
        records = audit.after(after, limit, action=action, actor=actor)
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
    # Read whole into memory: ~300 bytes a record, so fine up to a few hundred thousand;
    # retention (security.audit_retention_days) keeps the log that size. Stream beyond.
    buffer = io.BytesIO()
    server.store.audit.export(buffer)
    return _JsonLines(buffer.getvalue())
