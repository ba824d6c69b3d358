"""Jobs: the REST API's asynchronous invocations, their states, pages and durability."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from caxton.store import JOB_STATES, JobRecord, JobStateError, Store, UnknownJob
from clocks import Clock

REQUEST: dict[str, Any] = {
    "performative": "request",
    "sender": "api",
    "receiver": "echo",
    "content": {"text": "hi", "n": [1, 2.5, None]},
}
REPLY: dict[str, Any] = {"performative": "inform", "sender": "echo", "content": {"text": "hi"}}


def test_a_job_is_created_submitted_and_read_back(store: Store) -> None:
    job = store.jobs.create("echo", REQUEST, timeout_s=30.0)
    assert len(job.id) == 32
    assert job == JobRecord(
        job.id, "echo", REQUEST, "submitted", 0, None, None, 30.0, 1000.0, 1000.0
    )
    assert not job.finished
    assert store.jobs.get(job.id) == job
    assert store.jobs.get("nope") is None
    given = store.jobs.create("echo", REQUEST, 1.0, job_id="mine")
    assert given.id == "mine"
    with pytest.raises(ValueError, match="'mine' exists already"):
        store.jobs.create("echo", REQUEST, 1.0, job_id="mine")


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_a_timeout_must_be_a_positive_number(store: Store, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout_s must be a positive number"):
        store.jobs.create("echo", REQUEST, timeout)
    assert store.jobs.count() == 0


def test_a_job_runs_then_completes_with_the_reply(store: Store, clock: Clock) -> None:
    job = store.jobs.create("echo", REQUEST, 5.0)
    clock.now = 1001.0
    running = store.jobs.set_running(job.id)
    assert (running.state, running.attempts, running.updated_at) == ("running", 1, 1001.0)
    clock.now = 1002.0
    retried = store.jobs.set_running(job.id)  # sent again after a restart
    assert (retried.state, retried.attempts) == ("running", 2)
    clock.now = 1003.0
    done = store.jobs.complete(job.id, REPLY)
    assert (done.state, done.result, done.error, done.attempts) == ("complete", REPLY, None, 2)
    assert (done.created_at, done.updated_at) == (1000.0, 1003.0)
    assert done.finished
    assert store.jobs.get(job.id) == done


def test_a_job_fails_whether_sent_or_not(store: Store) -> None:
    unsent = store.jobs.create("ghost", REQUEST, 5.0)
    failed = store.jobs.fail(unsent.id, "no agent named 'ghost'")
    assert (failed.state, failed.error, failed.attempts) == ("failed", "no agent named 'ghost'", 0)
    sent = store.jobs.create("echo", REQUEST, 5.0)
    store.jobs.set_running(sent.id)
    assert store.jobs.fail(sent.id, "timed out after 5.0 s").state == "failed"


@pytest.mark.parametrize(
    ("path", "move", "from_state"),
    [
        ([], "complete", "submitted"),
        (["complete"], "complete", "complete"),
        (["complete"], "fail", "complete"),
        (["complete"], "set_running", "complete"),
        (["fail"], "complete", "failed"),
        (["fail"], "fail", "failed"),
        (["fail"], "set_running", "failed"),
    ],
)
def test_illegal_moves_name_the_job_and_both_states(
    store: Store, path: list[str], move: str, from_state: str
) -> None:
    job = store.jobs.create("echo", REQUEST, 5.0)
    if path:
        store.jobs.set_running(job.id)
    for step in path:
        _move(store, job.id, step)
    before = store.jobs.get(job.id)
    to_state = {"complete": "complete", "fail": "failed", "set_running": "running"}[move]
    with pytest.raises(JobStateError) as caught:
        _move(store, job.id, move)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.job_id, error.from_state, error.to_state) == (job.id, from_state, to_state)
    assert f"job {job.id!r} cannot move from {from_state!r} to {to_state!r}" in str(error)
    assert store.jobs.get(job.id) == before  # nothing changed


def _move(store: Store, job_id: str, move: str) -> JobRecord:
    if move == "complete":
        return store.jobs.complete(job_id, REPLY)
    if move == "fail":
        return store.jobs.fail(job_id, "boom")
    return store.jobs.set_running(job_id)


def test_moves_on_an_unknown_job_raise_unknown_job(store: Store) -> None:
    for move in ("complete", "fail", "set_running"):
        with pytest.raises(UnknownJob, match="no job with id 'nope'") as caught:
            _move(store, "nope", move)
        assert isinstance(caught.value, KeyError)
        assert str(caught.value) == "no job with id 'nope'"


def test_lists_are_newest_first_filtered_and_paged_by_cursor(store: Store, clock: Clock) -> None:
    made: list[JobRecord] = []
    for n in range(7):
        clock.now = 1000.0 + n
        made.append(store.jobs.create("echo" if n % 2 else "other", {"n": n}, 5.0))
    store.jobs.set_running(made[3].id)
    newest_first = [j.id for j in reversed(made)]
    assert [j.id for j in store.jobs.list()] == newest_first
    assert [j.id for j in store.jobs.list(agent_name="echo")] == newest_first[1::2]
    assert [j.id for j in store.jobs.list(state="running")] == [made[3].id]
    assert [j.id for j in store.jobs.list(state="submitted", agent_name="echo")] == [
        made[5].id,
        made[1].id,
    ]
    pages: list[list[str]] = []
    cursor: str | None = None
    while page := store.jobs.list(limit=3, after=cursor):
        pages.append([j.id for j in page])
        cursor = page[-1].id
    assert pages == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    assert store.jobs.list(limit=0) == []
    assert store.jobs.list(agent_name="nobody") == []


def test_pages_are_exact_when_jobs_share_a_creation_time(store: Store) -> None:
    # The fixture's clock never moves: every job is created at the same instant.
    ids = {store.jobs.create("echo", {"n": n}, 5.0).id for n in range(10)}
    seen: list[str] = []
    cursor: str | None = None
    while page := store.jobs.list(state="submitted", limit=3, after=cursor):
        seen.extend(j.id for j in page)
        cursor = page[-1].id
    assert seen == sorted(ids, reverse=True)


def test_list_refuses_an_unknown_state_limit_or_cursor(store: Store) -> None:
    store.jobs.create("echo", REQUEST, 5.0)
    with pytest.raises(ValueError, match="unknown job state 'done': use one of submitted"):
        store.jobs.list(state="done")
    with pytest.raises(ValueError, match="unknown job state"):
        store.jobs.count("done")
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        store.jobs.list(limit=-1)
    with pytest.raises(UnknownJob, match="no job with id 'gone' to continue the list after"):
        store.jobs.list(after="gone")


def test_unfinished_jobs_come_oldest_first(store: Store, clock: Clock) -> None:
    jobs = []
    for n in range(5):
        clock.now = 2000.0 - n * 10  # created in falling clock order: oldest last
        jobs.append(store.jobs.create("echo", {"n": n}, 5.0))
    store.jobs.set_running(jobs[1].id)
    store.jobs.set_running(jobs[2].id)
    store.jobs.complete(jobs[2].id, REPLY)
    store.jobs.fail(jobs[3].id, "boom")
    assert [j.id for j in store.jobs.unfinished()] == [jobs[4].id, jobs[1].id, jobs[0].id]
    assert {j.state for j in store.jobs.unfinished()} == {"submitted", "running"}


def test_prune_forgets_only_jobs_finished_before_the_cutoff(store: Store, clock: Clock) -> None:
    old_done = store.jobs.create("echo", REQUEST, 5.0)
    old_failed = store.jobs.create("echo", REQUEST, 5.0)
    old_waiting = store.jobs.create("echo", REQUEST, 5.0)
    old_running = store.jobs.create("echo", REQUEST, 5.0)
    store.jobs.set_running(old_done.id)
    store.jobs.set_running(old_running.id)
    store.jobs.complete(old_done.id, REPLY)
    store.jobs.fail(old_failed.id, "boom")
    clock.now = 5000.0
    recent = store.jobs.create("echo", REQUEST, 5.0)
    store.jobs.fail(recent.id, "boom")
    assert store.jobs.prune(older_than=4000.0) == 2
    assert {j.id for j in store.jobs.list()} == {old_waiting.id, old_running.id, recent.id}
    assert store.jobs.prune(older_than=4000.0) == 0
    assert store.jobs.count() == 3
    assert store.jobs.count("failed") == 1


def test_jobs_and_their_results_survive_reopening(tmp_path: Path) -> None:
    ticks = itertools.count(1)
    with Store.open(tmp_path, clock=lambda: float(next(ticks))) as store:
        done = store.jobs.create("echo", REQUEST, 30.0)
        store.jobs.set_running(done.id)
        done = store.jobs.complete(done.id, REPLY)
        waiting = store.jobs.create("echo", REQUEST, 30.0)
        running = store.jobs.set_running(store.jobs.create("slow", REQUEST, 60.0).id)
    with Store.open(tmp_path) as again:
        assert again.jobs.get(done.id) == done
        assert again.jobs.unfinished() == [waiting, running]
        # The restarted server fails what it will not resend.
        again.jobs.fail(running.id, "the server restarted while the job was running")
        assert [j.id for j in again.jobs.unfinished()] == [waiting.id]
        assert again.integrity_problems() == []


def test_threads_create_and_finish_jobs_at_once(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        per_thread = 60
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                barrier.wait(timeout=10)
                for n in range(per_thread):
                    job = store.jobs.create(name, {"n": n}, 5.0)
                    store.jobs.set_running(job.id)
                    if n % 3:
                        store.jobs.complete(job.id, {"n": n})
                    else:
                        store.jobs.fail(job.id, f"failed {n}")
                    assert store.jobs.get(job.id) is not None
            except BaseException as exc:  # reported to the main thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
        assert errors == []
        for name in ("a", "b"):
            jobs = store.jobs.list(agent_name=name, limit=1000)
            assert sorted(j.request["n"] for j in jobs) == list(range(per_thread))
            for job in jobs:
                n = job.request["n"]
                assert job.state == ("complete" if n % 3 else "failed")
                assert job.attempts == 1
                assert job.result == ({"n": n} if n % 3 else None)
        assert store.jobs.unfinished() == []
        assert store.integrity_problems() == []


def test_two_threads_finishing_one_job_cannot_both_win(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        rounds = 40
        barrier = threading.Barrier(2)
        jobs = [store.jobs.create("echo", REQUEST, 5.0) for _ in range(rounds)]
        for job in jobs:
            store.jobs.set_running(job.id)
        outcomes: list[list[str]] = [[], []]

        def finisher(index: int) -> None:
            for job in jobs:
                barrier.wait(timeout=10)
                try:
                    if index:
                        store.jobs.fail(job.id, "timed out")
                    else:
                        store.jobs.complete(job.id, REPLY)
                    outcomes[index].append("won")
                except JobStateError:
                    outcomes[index].append("lost")

        threads = [threading.Thread(target=finisher, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
        for n, job in enumerate(jobs):
            assert sorted([outcomes[0][n], outcomes[1][n]]) == ["lost", "won"]
            final = store.jobs.get(job.id)
            assert final is not None
            assert final.state == ("complete" if outcomes[0][n] == "won" else "failed")


def test_the_table_refuses_states_it_does_not_know(store: Store) -> None:
    assert JOB_STATES == ("submitted", "running", "complete", "failed")
    job = store.jobs.create("echo", REQUEST, 5.0)
    with (
        pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"),
        store.db.write() as conn,
    ):
        conn.execute("UPDATE jobs SET state = 'done' WHERE id = ?", (job.id,))
    assert store.jobs.get(job.id) == job
