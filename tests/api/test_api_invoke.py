"""External invocation over a real socket: invoke answered in the call, and jobs that last."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import LOGGER
from live import Live, live_server

WASM = {"content-type": "application/wasm"}
MAX_TIMEOUT_S = 2.0
JOB_DEADLINE_S = 20.0


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(
        tmp_path / "data", examples=True, invoke_timeout_s=1.0, invoke_max_timeout_s=MAX_TIMEOUT_S
    ) as running:
        deploy_mute(running)
        yield running


def deploy_mute(live: Live) -> None:
    """`mute`: handles every message (it logs it) and never answers."""
    response = live.post("/agents", params={"name": "mute"}, content=LOGGER, headers=WASM)
    assert response.status_code == 201, response.text


def wait_for_job(live: Live, job_id: str, states: tuple[str, ...]) -> dict[str, Any]:
    """Poll the job until it is in one of `states`: HTTP offers no event to wait on."""
    deadline = time.monotonic() + JOB_DEADLINE_S
    while True:
        response = live.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"job still {job['state']}"
        time.sleep(0.01)


# Invoke


def test_echo_answers_within_the_timeout(live: Live) -> None:
    response = live.post(
        "/agents/echo/invoke", json={"content": {"question": 42}, "timeout_s": MAX_TIMEOUT_S}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    reply = result["reply"]
    assert (reply["performative"], reply["sender"], reply["receiver"]) == (
        "inform",
        "echo",
        "gateway",
    )
    assert reply["content"] == {"question": 42}
    assert reply["conversation_id"] == result["conversation_id"]
    assert reply["in_reply_to"] == result["conversation_id"]
    assert 0 < result["elapsed_ms"] < MAX_TIMEOUT_S * 1000


def test_a_silent_agent_gives_504_after_the_timeout(live: Live) -> None:
    started = time.monotonic()
    response = live.post("/agents/mute/invoke", json={"content": "hello?", "timeout_s": 0.3})
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invoke-timeout"
    assert "0.3 s" in problem["detail"]
    assert elapsed >= 0.3
    # The request did reach it: it is silent, not absent.
    texts = [line["text"] for line in live.get("/agents/mute/logs").json()["items"]]
    assert any("hello?" in text for text in texts)


def test_a_timeout_above_the_servers_maximum_is_refused(live: Live) -> None:
    response = live.post("/agents/echo/invoke", json={"content": 1, "timeout_s": 2.5})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("timeout-too-long", "timeout_s")
    assert "invoke_max_timeout_s" in problem["detail"]


def test_a_timeout_must_be_positive(live: Live) -> None:
    response = live.post("/agents/echo/invoke", json={"content": 1, "timeout_s": 0})
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("invalid-request", "timeout_s")


# Jobs


def test_a_job_completes_with_the_reply(live: Live) -> None:
    submitted = live.post("/jobs", json={"agent": "echo", "content": {"job": 1}})
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert submitted.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert job["state"] in ("submitted", "running", "complete")
    done = wait_for_job(live, job["id"], ("complete", "failed"))
    assert done["state"] == "complete", done
    assert done["result"]["content"] == {"job": 1}
    assert done["result"]["sender"] == "echo"
    assert (done["attempts"], done["error"]) == (1, None)
    listed = live.get("/jobs", params={"agent": "echo", "state": "complete"}).json()["items"]
    assert [item["id"] for item in listed] == [job["id"]]


def test_a_job_against_a_silent_agent_fails_with_the_reason(live: Live) -> None:
    submitted = live.post("/jobs", json={"agent": "mute", "content": 1, "timeout_s": 0.2})
    assert submitted.status_code == 202, submitted.text
    done = wait_for_job(live, submitted.json()["id"], ("complete", "failed"))
    assert done["state"] == "failed"
    assert done["result"] is None
    assert "did not answer within 0.2 s" in done["error"]
    assert done["attempts"] == 1  # job_retries is 0 by default


def test_a_job_for_an_unknown_agent_is_refused(live: Live) -> None:
    response = live.post("/jobs", json={"agent": "nobody", "content": 1})
    assert response.status_code == 404
    assert response.json()["code"] == "agent-not-found"
    missing = live.get("/jobs/no-such-job")
    assert (missing.status_code, missing.json()["code"]) == (404, "job-not-found")


def test_failed_jobs_are_retried_as_configured(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", job_retries=2) as live:
        deploy_mute(live)
        submitted = live.post("/jobs", json={"agent": "mute", "content": 1, "timeout_s": 0.1})
        done = wait_for_job(live, submitted.json()["id"], ("complete", "failed"))
    assert done["state"] == "failed"
    assert done["attempts"] == 3


def test_job_results_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_server(data, examples=True) as first:
        job_id = first.post("/jobs", json={"agent": "echo", "content": "kept"}).json()["id"]
        before = wait_for_job(first, job_id, ("complete", "failed"))
    assert before["state"] == "complete"
    with live_server(data, examples=True) as second:
        response = second.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        assert response.json() == before
        assert [job["id"] for job in second.get("/jobs").json()["items"]] == [job_id]


def test_a_job_a_restart_interrupted_runs_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # No dispatcher threads: the request waits in echo's mailbox, unanswered.
    with live_server(data, examples=True, workers=0) as first:
        job_id = first.post("/jobs", json={"agent": "echo", "content": "again"}).json()["id"]
        assert wait_for_job(first, job_id, ("running",))["attempts"] == 1
    with live_server(data, examples=True) as second:
        done = wait_for_job(second, job_id, ("complete", "failed"))
    assert done["state"] == "complete", done
    assert done["result"]["content"] == "again"
    assert done["attempts"] == 2
