"""`caxton invoke` and `caxton job submit|get|wait|list` against a real server."""

from __future__ import annotations

import orjson

from caxton.api.types import InvokeResult, Job, JobList
from live import Live, caxton, decode_as

# The example ping answers a request by starting rounds with pong, never by answering
# the caller: an invocation of ping always times out.
SILENT = "ping"


# ---- invoke ----


def test_invoke_prints_the_reply_message(live: Live) -> None:
    result = caxton(live, "invoke", "echo", "--content", '{"hello": "world"}')
    assert result.exit_code == 0, result.output
    reply = orjson.loads(result.stdout)
    assert reply["performative"] == "inform"
    assert reply["sender"] == "echo"
    assert reply["content"] == {"hello": "world"}
    assert reply["conversation_id"] in result.stderr

    args = ("invoke", "pong", "-p", "request", "--content", '{"ping": 3}', "--timeout", "5")
    full = caxton(live, *args, output="json")
    answer = decode_as(InvokeResult, full.stdout)
    assert answer.reply["content"] == {"pong": 3}
    assert answer.reply["conversation_id"] == answer.conversation_id
    assert answer.elapsed_ms > 0


def test_invoke_exit_codes(live: Live) -> None:
    late = caxton(live, "invoke", SILENT, "--content", "1", "--timeout", "0.2")
    assert late.exit_code == 6
    assert "did not answer within 0.2 s" in late.stderr

    assert caxton(live, "invoke", "nobody", "--content", "1").exit_code == 4
    too_long = caxton(live, "invoke", "echo", "--content", "1", "--timeout", "100000")
    assert too_long.exit_code == 2
    assert "invoke_max_timeout_s" in too_long.stderr
    assert caxton(live, "invoke", "echo", "--timeout", "0").exit_code == 2
    assert caxton(live, "invoke", "echo", "--content", "{").exit_code == 2


# ---- jobs ----


def test_submit_wait_get_and_list(live: Live) -> None:
    submitted = caxton(live, "job", "submit", "echo", "--content", '{"n": 7}')
    assert submitted.exit_code == 0, submitted.output
    job_id = submitted.stdout.strip()

    waited = caxton(live, "job", "wait", job_id, "--timeout", "30")
    assert waited.exit_code == 0, waited.output
    assert orjson.loads(waited.stdout)["content"] == {"n": 7}

    done = decode_as(Job, caxton(live, "job", "get", job_id, output="json").stdout)
    assert (done.id, done.agent, done.state) == (job_id, "echo", "complete")
    assert done.result is not None
    assert done.result["content"] == {"n": 7}

    shown = caxton(live, "job", "get", job_id)
    assert shown.exit_code == 0
    assert [line.split() for line in shown.stdout.splitlines()[:3]] == [
        ["job", job_id],
        ["agent", "echo"],
        ["state", "complete"],
    ]
    assert "result:" in shown.stdout

    second = decode_as(
        Job, caxton(live, "job", "submit", "pong", "--content", '{"ping": 1}', output="json").stdout
    )
    assert second.state in ("submitted", "running", "complete")
    listed = decode_as(JobList, caxton(live, "job", "list", output="json").stdout)
    assert [item.id for item in listed.items] == [second.id, job_id]  # newest first
    of_echo = caxton(live, "job", "list", "--agent", "echo", output="json")
    assert [item.id for item in decode_as(JobList, of_echo.stdout).items] == [job_id]
    table = caxton(live, "job", "list", "--limit", "1")
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "AGENT", "STATE"]
    assert len(table.stdout.splitlines()) == 3


def test_wait_for_a_failed_job_exits_1_with_its_error(live: Live) -> None:
    job_id = caxton(live, "job", "submit", SILENT, "--timeout", "0.2").stdout.strip()
    waited = caxton(live, "job", "wait", job_id)
    assert waited.exit_code == 1
    assert f"job {job_id} failed" in waited.stderr
    assert "did not answer" in waited.stderr

    as_json = caxton(live, "job", "wait", job_id, output="json")
    assert as_json.exit_code == 1
    assert decode_as(Job, as_json.stdout).state == "failed"


def test_a_wait_that_times_out_exits_6_and_the_job_goes_on(live: Live) -> None:
    job_id = caxton(live, "job", "submit", SILENT, "--timeout", "30").stdout.strip()
    waited = caxton(live, "job", "wait", job_id, "--timeout", "0.1")
    assert waited.exit_code == 6
    assert f"caxton job wait {job_id}" in waited.stderr
    assert live.get(f"/jobs/{job_id}").json()["state"] in ("submitted", "running")


def test_unknown_jobs_and_agents(live: Live) -> None:
    for command in ("get", "wait"):
        unknown = caxton(live, "job", command, "f" * 32)
        assert unknown.exit_code == 4, command
        assert "[job-not-found]" in unknown.stderr
    assert caxton(live, "job", "submit", "nobody", "--content", "1").exit_code == 4
    assert caxton(live, "job", "list", "--state", "lost").exit_code == 2
