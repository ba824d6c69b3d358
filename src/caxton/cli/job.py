"""`caxton job ...`: invocations that run in the background, kept by the server until read."""

from __future__ import annotations

import time

import click

from caxton.api.types import Job, JobList, JobRequest
from caxton.cli import render
from caxton.cli.agent import complete_agent_name
from caxton.cli.client import CliError
from caxton.cli.context import EXIT_FAILED, EXIT_TIMEOUT, context
from caxton.cli.invoke import content, request_options

JOB_STATES = ("submitted", "running", "complete", "failed")
PAGE = 1000  # jobs asked for per request (the server's maximum)
# `job wait` polls with a back-off: quick for jobs that end at once, gentle for long ones.
FIRST_POLL_S = 0.02
POLL_GROWTH = 1.5
LONGEST_POLL_S = 1.0


@click.group()
def job() -> None:
    """Submit invocations to run in the background, and collect their results."""


@job.command("submit")
@click.argument("name", shell_complete=complete_agent_name)
@request_options("Seconds the agent has to answer (default: the server's job_timeout_s).")
def submit(
    name: str, content_text: str | None, performative: str, protocol: str, timeout: float | None
) -> None:
    """Send agent NAME a request in the background; prints the job's id.

    Then `caxton job wait ID` waits for the answer. With --output json: the Job.
    """
    request = JobRequest(
        agent=name,
        performative=performative,
        content=content(content_text),
        protocol=protocol or None,
        timeout_s=timeout,
    )
    cli = context()
    submitted = cli.client().post(
        "/jobs",
        Job,
        body=request,
    )
    if cli.json:
        render.emit(submitted)
    else:
        click.echo(submitted.id)


@job.command("get")
@click.argument("job_id", metavar="ID")
def get(job_id: str) -> None:
    """Job ID: its state, attempts and result (or error). Exits 4 if unknown."""
    cli = context()
    found = cli.client().get(f"/jobs/{render.part(job_id)}", Job)
    if cli.json:
        render.emit(found)
        return
    _show(found)


def _show(item: Job) -> None:
    pairs: list[tuple[str, object]] = [
        ("job", item.id),
        ("agent", item.agent),
        ("state", item.state),
        ("attempts", item.attempts),
        ("created", render.when(item.created_at)),
        ("updated", render.when(item.updated_at)),
        ("request", render.brief(item.request, 100)),
    ]
    if item.error is not None:
        pairs.append(("error", item.error))
    render.fields(pairs, styles=render.STATE_STYLES)
    if item.result is not None:
        click.echo("result:")
        click.echo(render.pretty(item.result))


@job.command("wait")
@click.argument("job_id", metavar="ID")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Give up after this many seconds (default: wait until the job ends).",
)
@click.pass_context
def wait(ctx: click.Context, job_id: str, timeout: float | None) -> None:
    """Wait for job ID to end and print its result (the reply message).

    Exits 0 when it completed, 1 when it failed (the error on stderr), 6 when
    --timeout passes first (the job goes on: wait again later).
    """
    cli = context()
    client = cli.client()
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = FIRST_POLL_S
    while True:
        found = client.get(f"/jobs/{render.part(job_id)}", Job)
        if found.state in ("complete", "failed"):
            break
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise CliError(
                f"job {job_id} is still {found.state} after {timeout:g} s; "
                f"wait again with `caxton job wait {job_id}`",
                EXIT_TIMEOUT,
            )
        time.sleep(delay if left is None else min(delay, left))
        delay = min(delay * POLL_GROWTH, LONGEST_POLL_S)
    if cli.json:
        render.emit(found)
    elif found.result is not None:
        render.emit_json(found.result)
    if found.state == "failed":
        click.echo(f"caxton: job {job_id} failed: {found.error or 'no reason given'}", err=True)
        ctx.exit(EXIT_FAILED)


@job.command("list")
@click.option("--state", type=click.Choice(JOB_STATES), default=None, help="Only these.")
@click.option("--agent", default=None, help="Only jobs for this agent.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Newest N."
)
def list_jobs(state: str | None, agent: str | None, limit: int) -> None:
    """Jobs, newest first."""
    cli = context()
    client = cli.client()
    params = {key: value for key, value in (("state", state), ("agent", agent)) if value}
    items: list[Job] = []
    cursor: str | None = None
    while True:
        wanted = min(PAGE, limit - len(items))
        more = {"cursor": cursor} if cursor is not None else {}
        page = client.get("/jobs", JobList, params={**params, **more, "limit": wanted})
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or len(items) >= limit:
            break
    if cli.json:
        render.emit(JobList(items=items, next_cursor=cursor))
        return
    render.table(
        ("ID", "AGENT", "STATE", "ATTEMPTS", "CREATED", "UPDATED", "ERROR"),
        (
            (
                item.id,
                item.agent,
                item.state,
                item.attempts,
                render.when(item.created_at),
                render.when(item.updated_at),
                render.cut(item.error or "", 50),
            )
            for item in items
        ),
        styles={2: render.STATE_STYLES},
        empty="no jobs; submit one with `caxton job submit NAME --content JSON`",
    )
