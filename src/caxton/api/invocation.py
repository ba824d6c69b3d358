"""External invocation: a request answered in the same HTTP call, or as a job to poll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from caxton.api import views
from caxton.api.deps import ServerDep
from caxton.api.problems import ApiProblem, not_found
from caxton.api.types import (
    API_PREFIX,
    InvokeRequest,
    InvokeResult,
    Job,
    JobList,
    JobRequest,
    JobState,
)
from caxton.server.server import Server
from caxton.store.jobs import UnknownJob

router = APIRouter(tags=["invocation"])


def _timeout(server: Server, requested: float | None) -> float:
    settings = server.settings
    if requested is None:
        return settings.invoke_timeout_s
    if requested <= 0:
        raise ApiProblem(
            422,
            "invalid-request",
            f"timeout_s: must be more than 0, not {requested:g}",
            field="timeout_s",
        )
    if requested > settings.invoke_max_timeout_s:
        raise ApiProblem(
            422,
            "timeout-too-long",
            f"timeout_s: {requested:g} s is more than the server allows "
            f"({settings.invoke_max_timeout_s:g} s, invoke_max_timeout_s)",
            field="timeout_s",
        )
    return requested


def _fields(request: InvokeRequest) -> dict[str, object]:
    """The message's fields: what the request sets, without the gateway's own."""
    chosen = ("performative", "content", "protocol", "ontology", "language")
    return {key: value for key in chosen if (value := getattr(request, key)) is not None}


@router.post(
    "/agents/{name}/invoke",
    response_model=InvokeResult,
    summary="Send a request and wait for the answer that ends it",
    tags=["agents"],
)
async def invoke(name: str, request: InvokeRequest, server: ServerDep) -> InvokeResult:
    server.manager.get(name)
    answer = await server.gateway.invoke(
        name, _fields(request), _timeout(server, request.timeout_s)
    )
    return InvokeResult(
        reply=answer.reply, conversation_id=answer.conversation_id, elapsed_ms=answer.elapsed_ms
    )


@router.post("/jobs", status_code=202, response_model=Job, summary="Invoke in the background")
async def submit(request: JobRequest, response: Response, server: ServerDep) -> Job:
    server.manager.get(request.agent)
    # The caller's timeout is held to invoke_max_timeout_s; the server's own default is not.
    if request.timeout_s is None:
        timeout = server.settings.job_timeout_s
    else:
        timeout = _timeout(server, request.timeout_s)
    job = server.jobs.submit(request.agent, _fields(request), timeout)
    response.headers["Location"] = f"{API_PREFIX}/jobs/{job.id}"
    return views.job(job)


@router.get("/jobs/{job_id}", response_model=Job, summary="A job: its state and result")
def get_job(job_id: str, server: ServerDep) -> Job:
    job = server.store.jobs.get(job_id)
    if job is None:
        raise not_found("job", job_id)
    return views.job(job)


@router.get("/jobs", response_model=JobList, summary="Jobs, newest first")
def list_jobs(
    server: ServerDep,
    state: JobState | None = None,
    agent: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> JobList:
    try:
        jobs = server.store.jobs.list(state=state, agent_name=agent, limit=limit + 1, after=cursor)
    except UnknownJob:
        raise ApiProblem(
            422, "invalid-cursor", f"cursor: no job {cursor!r}", field="cursor"
        ) from None
    page = jobs[:limit]
    return JobList(
        items=[views.job(job) for job in page],
        next_cursor=page[-1].id if len(jobs) > limit else None,
    )
