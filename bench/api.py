"""Benchmark of the REST API: what `GET /api/v1/agents/{name}` and invoke cost, and the floor.

Prints one JSON object on stdout: p50 and p90 of per-request times in
milliseconds, so that a run today can be compared with a run tomorrow on the
same machine. The baseline, in the same run and measured the same ways, is a
minimal FastAPI app whose one route returns a constant: every `vs_baseline`
divides a p50 by the baseline's, so the ratios say what Caxton adds over
FastAPI itself wherever they are run. The requests are interleaved (a GET
agent, an invoke, a baseline request, and again), so a slow phase of the
machine, which on a small VM can double every figure for seconds at a time,
weighs on all of them alike.

    python bench/api.py            # 2000 requests per figure
    python bench/api.py --quick    # 50: a smoke run of a few seconds

What is measured, each against a real server with the example agents (a real
SQLite store, real wasm instances):

- `get_agent_ms.server`: the app's own time per request, from the call into
  `create_app(server, manage=False)` to its return, driven in process through
  `httpx.ASGITransport` (no socket): routing, the handler, the store reads,
  serialisation, the middleware. This is "at the server" for the target.
- `get_agent_ms.in_process`: the same requests as the httpx client saw them.
- `get_agent_ms.socket`: over 127.0.0.1 with a keep-alive `httpx.Client`
  against uvicorn in a thread of this process (client and server share the
  GIL, as a local CLI and its server do not: an upper bound).
- `invoke_ms`: `POST /api/v1/agents/echo/invoke`, HTTP in, the wasm echo agent
  through the router and a dispatcher thread, its reply, HTTP out; over the
  socket (the target), at the server and in process as above, and the
  gateway's own `elapsed_ms` (from the request routed to the reply matched).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

import timing
from caxton.api.app import create_app
from caxton.server.examples import deploy_examples
from caxton.server.main import build, in_background
from caxton.server.server import Server
from caxton.settings import RateLimitSettings, Settings
from timing import machine, summary

TARGET_GET_AGENT_P50_MS = 1.0
TARGET_INVOKE_P50_MS = 2.0
FULL = 2000  # requests per figure
QUICK = 50
WARMUP = 50

CONSTANT_PATH = "/constant"
INVOKE_BODY = {"content": {"n": 1}}
# What each figure requests: method, path, JSON body.
Probe = tuple[str, str, dict[str, Any] | None]
PROBES: dict[str, Probe] = {
    "get_agent": ("GET", "/api/v1/agents/echo", None),
    "invoke": ("POST", "/api/v1/agents/echo/invoke", INVOKE_BODY),
    "baseline": ("GET", CONSTANT_PATH, None),
}

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# Requests back to back, as fast as one client goes: past the default per-identity limit
# (500/s), which would answer 429. The latency measured is the same with any limit.
UNLIMITED = RateLimitSettings(global_per_s=0, identity_per_s=0)


def baseline_app() -> FastAPI:
    """The floor: FastAPI with one route that returns a constant."""
    app = FastAPI()

    @app.get(CONSTANT_PATH)
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


# In process


class Timed:
    """An ASGI app wrapped to time each call into it: the server's side of a request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.samples.append((time.perf_counter() - started) * 1000)


def _credentials(data_dir: Path) -> dict[str, str]:
    """The admin key the server made: each request is authenticated, as a user's would be."""
    return {"Authorization": f"Bearer {(data_dir / 'admin.key').read_text().strip()}"}


async def _timed_request(client: httpx.AsyncClient, probe: Probe) -> float:
    method, path, body = probe
    started = time.perf_counter()
    response = await client.request(method, path, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path} answered {response.status_code}")
    return elapsed


def in_process(data_dir: Path, runs: int) -> dict[str, list[float]]:
    """Each probe through httpx.ASGITransport: times at the client and inside the app."""
    server = Server(Settings(data_dir=data_dir, rate_limits=UNLIMITED))
    try:
        server.start()
        deploy_examples(server)
        app = create_app(server, manage=False)
        floor = baseline_app()
        timed = {"get_agent": Timed(app), "invoke": Timed(app), "baseline": Timed(floor)}

        async def measure() -> dict[str, list[float]]:
            clients = {
                name: httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=wrapped),
                    base_url="http://bench",
                    headers=_credentials(data_dir),
                )
                for name, wrapped in timed.items()
            }
            found: dict[str, list[float]] = {f"{name}_in_process": [] for name in timed}
            try:
                for number in range(WARMUP + runs):
                    for name, client in clients.items():
                        elapsed = await _timed_request(client, PROBES[name])
                        if number >= WARMUP:
                            found[f"{name}_in_process"].append(elapsed)
            finally:
                for client in clients.values():
                    await client.aclose()
            for name, wrapped in timed.items():
                found[f"{name}_server"] = wrapped.samples[WARMUP:]
            return found

        return asyncio.run(measure())
    finally:
        server.close()


# Over a socket


def over_socket(data_dir: Path, runs: int) -> dict[str, list[float]]:
    """Each probe with a keep-alive connection of its own; also the gateway's elapsed_ms."""
    _, http = build(Settings(data_dir=data_dir, port=0, examples=True, rate_limits=UNLIMITED))
    floor = uvicorn.Server(
        uvicorn.Config(baseline_app(), log_config=None, access_log=False, lifespan="off")
    )
    found: dict[str, list[float]] = {f"{name}_socket": [] for name in PROBES}
    found["invoke_gateway"] = []
    with in_background(http) as url, in_background(floor) as floor_url:
        bases = {"get_agent": url, "invoke": url, "baseline": floor_url}
        clients = {
            name: httpx.Client(base_url=base, timeout=30, headers=_credentials(data_dir))
            for name, base in bases.items()
        }
        try:
            for number in range(WARMUP + runs):
                for name, client in clients.items():
                    method, path, body = PROBES[name]
                    started = time.perf_counter()
                    response = client.request(method, path, json=body)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{method} {path} answered {response.status_code}")
                    if number < WARMUP:
                        continue
                    found[f"{name}_socket"].append(elapsed)
                    if name == "invoke":
                        answer = response.json()
                        if answer["reply"]["content"] != INVOKE_BODY["content"]:
                            raise RuntimeError(f"echo answered {answer['reply']}")
                        found["invoke_gateway"].append(answer["elapsed_ms"])
        finally:
            for client in clients.values():
                client.close()
    return found


# The report


def run(runs: int, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        samples = in_process(Path(folder) / "in-process", runs)
        samples |= over_socket(Path(folder) / "socket", runs)
    figures = {name: summary(values) for name, values in samples.items()}

    def ratio(name: str, baseline: str) -> float:
        return round(float(figures[name]["p50"]) / float(figures[baseline]["p50"]), 2)

    get_agent = figures["get_agent_server"]["p50"]
    invoke = figures["invoke_socket"]["p50"]
    return {
        "get_agent_ms": {
            "server": figures["get_agent_server"],
            "in_process": figures["get_agent_in_process"],
            "socket": figures["get_agent_socket"],
        },
        "invoke_ms": {
            "socket": figures["invoke_socket"],
            "server": figures["invoke_server"],
            "in_process": figures["invoke_in_process"],
            "gateway_elapsed": figures["invoke_gateway"],
        },
        "baseline_constant_ms": {
            "server": figures["baseline_server"],
            "in_process": figures["baseline_in_process"],
            "socket": figures["baseline_socket"],
        },
        "vs_baseline": {
            "get_agent_server": ratio("get_agent_server", "baseline_server"),
            "get_agent_in_process": ratio("get_agent_in_process", "baseline_in_process"),
            "get_agent_socket": ratio("get_agent_socket", "baseline_socket"),
            "invoke_server": ratio("invoke_server", "baseline_server"),
            "invoke_socket": ratio("invoke_socket", "baseline_socket"),
        },
        "targets": {
            "get_agent_p50_ms_max": TARGET_GET_AGENT_P50_MS,
            "invoke_p50_ms_max": TARGET_INVOKE_P50_MS,
        },
        "targets_checked_on": {
            "get_agent_p50_ms_max": "get_agent_ms.server",
            "invoke_p50_ms_max": "invoke_ms.socket",
        },
        "meets_targets": {
            "get_agent_p50_ms_max": get_agent <= TARGET_GET_AGENT_P50_MS,
            "invoke_p50_ms_max": invoke <= TARGET_INVOKE_P50_MS,
        },
        "machine": machine("fastapi", "uvicorn", "httpx", "wasmtime"),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
