"""Jobs: the REST API's asynchronous invocations, kept across restarts.

`POST /jobs` sends a request to an agent and answers with a job id at once;
the reply (or the reason there is none) is recorded here, and `GET /jobs/{id}`
reads it back, after a restart too. A job moves

    submitted ──> running ──> complete
        │            │
        └────────────┴──────> failed

`set_running` marks the request sent and counts an attempt; it may run again
on a running job (a retry after a restart). `complete` and `failed` are final:
any move out of them, or `complete` before `set_running`, raises
`JobStateError`. Each check and its update run in one write transaction, so
two threads finishing the same job cannot both succeed.
"""

from __future__ import annotations

import builtins
import math
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from caxton.store.database import Database

JsonObject = dict[str, Any]

JobState = Literal["submitted", "running", "complete", "failed"]
SUBMITTED: Final = "submitted"
RUNNING: Final = "running"
COMPLETE: Final = "complete"
FAILED: Final = "failed"
JOB_STATES: Final[tuple[JobState, ...]] = (SUBMITTED, RUNNING, COMPLETE, FAILED)
UNFINISHED: Final = (SUBMITTED, RUNNING)

# The states each move may start from.
_ALLOWED_FROM: Final[dict[str, tuple[str, ...]]] = {
    SUBMITTED: (),
    RUNNING: (SUBMITTED, RUNNING),
    COMPLETE: (RUNNING,),
    FAILED: (SUBMITTED, RUNNING),
}


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    agent_name: str
    request: JsonObject
    state: JobState
    attempts: int
    result: JsonObject | None
    error: str | None
    timeout_s: float
    created_at: float
    updated_at: float

    @property
    def finished(self) -> bool:
        return self.state in (COMPLETE, FAILED)


class JobStateError(ValueError):
    """A move the job's state does not allow; names the job and both states."""

    def __init__(self, job_id: str, from_state: str, to_state: str) -> None:
        allowed = [s for s in JOB_STATES if from_state in _ALLOWED_FROM[s]]
        hint = f"it can move to {', '.join(allowed)}" if allowed else "it is finished"
        super().__init__(f"job {job_id!r} cannot move from {from_state!r} to {to_state!r}: {hint}")
        self.job_id = job_id
        self.from_state = from_state
        self.to_state = to_state


class UnknownJob(KeyError):
    """No job has this id (never created, or pruned)."""

    def __str__(self) -> str:
        # KeyError's own str() quotes the message like a key.
        return str(self.args[0]) if self.args else ""


_COLUMNS: Final = (
    "id, agent_name, request, state, attempts, result, error, timeout_s, created_at, updated_at"
)
_BY_ID: Final = f"SELECT {_COLUMNS} FROM jobs WHERE id = ?"
# Newest first; `id` breaks ties between jobs created at the same instant, so
# that a page boundary is exact. The cursor is the last job id of a page.
_NEWEST_FIRST: Final = " ORDER BY created_at DESC, id DESC LIMIT ?"
_BEFORE_CURSOR: Final = "(created_at, id) < (SELECT created_at, id FROM jobs WHERE id = ?)"


def _job(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        row[0],
        row[1],
        orjson.loads(row[2]),
        _stored_state(row[3]),
        row[4],
        None if row[5] is None else orjson.loads(row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
    )


def _stored_state(text: str) -> JobState:
    for state in JOB_STATES:  # the table's CHECK allows no other
        if state == text:
            return state
    raise ValueError(f"job state {text!r} in the database is none of {', '.join(JOB_STATES)}")


def _check_state(state: str) -> None:
    if state not in JOB_STATES:
        raise ValueError(f"unknown job state {state!r}: use one of {', '.join(JOB_STATES)}")


class Jobs:
    """Asynchronous invocations by id: their request, state, attempts and outcome."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writes --

    def create(
        self,
        agent_name: str,
        request: JsonObject,
        timeout_s: float,
        *,
        job_id: str | None = None,
    ) -> JobRecord:
        """Record a new job in `submitted`, before its request is sent.

        `job_id` defaults to a fresh uuid4 hex; give one to put the id in the
        request itself (as `reply_with`, say). Raises ValueError for a
        timeout that is not a positive number, or an id already taken.
        """
        if not (timeout_s > 0 and math.isfinite(timeout_s)):
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        job_id = job_id or uuid.uuid4().hex
        now = self._db.clock()
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, 0, NULL, NULL, ?, ?, ?)",
                    (
                        job_id,
                        agent_name,
                        orjson.dumps(request).decode(),
                        SUBMITTED,
                        timeout_s,
                        now,
                        now,
                    ),
                )
                return _job(conn.execute(_BY_ID, (job_id,)).fetchone())
        except sqlite3.IntegrityError as exc:
            if "jobs.id" in str(exc):
                raise ValueError(f"a job with id {job_id!r} exists already") from exc
            raise

    def set_running(self, job_id: str) -> JobRecord:
        """Mark the request sent (again, on a retry), counting one more attempt.

        Call it before sending, so that a quick reply finds the job running.
        """
        return self._move(job_id, RUNNING, "attempts = attempts + 1", ())

    def complete(self, job_id: str, result: JsonObject) -> JobRecord:
        """The agent replied: keep `result` (the reply message). The job must be running."""
        return self._move(job_id, COMPLETE, "result = ?", (orjson.dumps(result).decode(),))

    def fail(self, job_id: str, error: str) -> JobRecord:
        """No result will come (timeout, failure reply, agent gone, restart): why."""
        return self._move(job_id, FAILED, "error = ?", (error,))

    def _move(
        self,
        job_id: str,
        to_state: str,
        assignment: str,
        parameters: tuple[object, ...],
    ) -> JobRecord:
        allowed = _ALLOWED_FROM[to_state]
        marks = ", ".join("?" * len(allowed))
        with self._db.write() as conn:
            rows = conn.execute(
                f"UPDATE jobs SET state = ?, {assignment}, updated_at = ? "
                f"WHERE id = ? AND state IN ({marks}) RETURNING {_COLUMNS}",
                (to_state, *parameters, self._db.clock(), job_id, *allowed),
            ).fetchall()
            if rows:
                return _job(rows[0])
            found = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchall()
        if not found:
            raise UnknownJob(f"no job with id {job_id!r}")
        raise JobStateError(job_id, found[0][0], to_state)

    def prune(self, older_than: float) -> int:
        """Forget finished jobs (complete or failed) that finished before `older_than`.

        Unfinished jobs stay whatever their age: the server resumes or fails
        them. Returns how many were forgotten.
        """
        return self._db.write_one(
            "DELETE FROM jobs WHERE state IN (?, ?) AND updated_at < ?",
            (COMPLETE, FAILED, older_than),
        )

    # -- reads --

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._db.read().execute(_BY_ID, (job_id,)).fetchall()
        return _job(rows[0]) if rows else None

    def list(
        self,
        state: str | None = None,
        agent_name: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> builtins.list[JobRecord]:
        """Up to `limit` jobs, newest first, optionally only in `state` or for `agent_name`.

        `after` is a cursor: the id of the last job of the previous page; the
        page then starts with the next older job. Raises `UnknownJob` when the
        cursor's job is gone (pruned meanwhile), ValueError for an unknown
        state or a negative limit.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        conditions: builtins.list[str] = []
        parameters: builtins.list[object] = []
        if state is not None:
            _check_state(state)
            conditions.append("state = ?")
            parameters.append(state)
        if agent_name is not None:
            conditions.append("agent_name = ?")
            parameters.append(agent_name)
        if after is not None:
            conditions.append(_BEFORE_CURSOR)
            parameters.append(after)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        reader = self._db.read()
        rows = reader.execute(
            f"SELECT {_COLUMNS} FROM jobs{where}{_NEWEST_FIRST}", (*parameters, limit)
        ).fetchall()
        # An unknown cursor matches nothing (the comparison with NULL is never
        # true): tell that apart from the end of the list.
        if not rows and after is not None and self.get(after) is None:
            raise UnknownJob(f"no job with id {after!r} to continue the list after")
        return [_job(row) for row in rows]

    def unfinished(self) -> builtins.list[JobRecord]:
        """Jobs submitted or running, oldest first: what a restarted server resumes or fails."""
        rows = (
            self._db.read()
            .execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN (?, ?) ORDER BY created_at, id",
                UNFINISHED,
            )
            .fetchall()
        )
        return [_job(row) for row in rows]

    def count(self, state: str | None = None) -> int:
        """How many jobs there are (in `state`, if given)."""
        if state is None:
            cursor = self._db.read().execute("SELECT COUNT(*) FROM jobs")
        else:
            _check_state(state)
            cursor = self._db.read().execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,))
        return int(cursor.fetchone()[0])
