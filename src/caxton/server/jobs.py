"""Asynchronous invocations: each job is an `invoke` run in the background, kept in the store.

A job is recorded `submitted`, moves to `running` when its request is sent,
and ends `complete` with the reply or `failed` with the reason. A timeout
is retried up to `retries` times. Jobs left unfinished by a restart are
run again when the server starts, so a result is never silently lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from caxton.errors import CaxtonError
from caxton.server.gateway import AgentBusy, Gateway, InvokeTimeout
from caxton.store import Store
from caxton.store.jobs import JobRecord

log = logging.getLogger("caxton.jobs")

# Answers that end a job as failed: the agent could not or would not do it.
_REFUSALS = frozenset({"failure", "refuse", "not-understood"})


class JobRunner:
    def __init__(self, store: Store, gateway: Gateway, *, retries: int) -> None:
        self._store = store
        self._gateway = gateway
        self._retries = retries
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, agent: str, request: dict[str, Any], timeout_s: float) -> JobRecord:
        job = self._store.jobs.create(agent, request, timeout_s)
        self._spawn(job)
        return job

    def resume(self) -> int:
        """Run again the jobs a restart interrupted; how many."""
        unfinished = self._store.jobs.unfinished()
        for job in unfinished:
            self._spawn(job)
        return len(unfinished)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, job: JobRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: JobRecord) -> None:
        error = "not run"
        for _ in range(self._retries + 1):
            self._store.jobs.set_running(job.id)
            try:
                answer = await self._gateway.invoke(
                    job.agent_name, dict(job.request), job.timeout_s
                )
            except (InvokeTimeout, AgentBusy) as failure:
                error = str(failure)
                continue
            except CaxtonError as failure:  # the request itself is wrong: no retry helps
                error = str(failure)
                break
            performative = answer.reply.get("performative")
            if performative in _REFUSALS:
                error = f"{job.agent_name} answered {performative}: {answer.reply.get('content')}"
                break
            self._store.jobs.complete(job.id, answer.reply)
            return
        log.info("job %s failed: %s", job.id, error)
        self._store.jobs.fail(job.id, error)
