"""Benchmark: capability discovery with 1000 agents' capabilities registered.

Prints one JSON object. One real server, built as `caxton server start` builds
it and serving on 127.0.0.1 from a thread of this process (client and server
share the GIL, as in bench/api.py: an upper bound), with 1000 running wasm
agents, each declaring one capability in `caxton_init`: 100 offer
`translate` (versions 1.0.0 to 1.19.0, and pre-releases of 2.0.0), the
others one of 97 `skill-N`. Figures in milliseconds, p50/p90/p99:

- `api_search_ms`: `GET /api/v1/capabilities?name=translate&version=^1.2`
  (77 providers in range) over a keep-alive httpx client, authenticated;
  `api_search_few_ms`: `name=skill-5&version=>=1` (a handful);
  `api_baseline_ms`: `GET /api/v1/auth/whoami` on the same server, the floor
  of an authenticated request; the three are interleaved, so that a slow
  phase of the machine weighs on each alike.
- `directory_ms`: a wasm agent (`seeker`) sends `directory` a query-ref for
  `translate` `^1.2`; from its send until the directory's inform is routed
  into the seeker's mailbox (the router's `on_route` sees both, on the
  sending threads). `directory_baseline_ms`: the same wasm agent, the same
  query-ref, sent to `mirror`, a Python stand-in that answers at once with
  the very same content, precomputed: the router's round trip without the
  search. Interleaved too.

`added_ms` is each p50 minus its baseline's; `within_target` says whether
the p99 of each search stays within TARGET_MS.

    python bench/discovery.py            # 2000 of each
    python bench/discovery.py --quick    # 50 of each
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import wasmtime

import timing
from caxton.agents import VersionRange
from caxton.router import Router
from caxton.server.main import build, in_background
from caxton.server.server import Server
from caxton.settings import RateLimitSettings, Settings

TARGET_MS: Final = 10.0
AGENTS: Final = 1000
QUERY: Final = {"capability": "translate", "version": "^1.2"}
WARMUP: Final = 20
MIRROR: Final = "mirror"


@dataclass(frozen=True)
class Plan:
    runs: int


FULL = Plan(runs=2000)
QUICK = Plan(runs=50)

# Declares its config as its capability: `caxton_init` gets {"name":..,"id":..,"config":{..}},
# where names and ids hold no ':', so the config object starts after the third ':' and ends
# before the payload's closing brace. One module for all 1000 agents: compiled once.
DECLARER: Final = """(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  (func (export "caxton_init") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $colons i32)
    (block $found
      (loop $scan
        (br_if $found (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 58))
          (then (local.set $colons (i32.add (local.get $colons) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $found (i32.eq (local.get $colons) (i32.const 3)))
        (br $scan)))
    (i32.ne
      (call $reg (i32.add (local.get $ptr) (local.get $i))
                 (i32.sub (i32.sub (local.get $len) (local.get $i)) (i32.const 1)))
      (i32.const 0)))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""


def seeker(receiver: str) -> bytes:
    """A wasm agent that sends `receiver` the query-ref for QUERY when it gets a request.

    A message whose performative starts with `r` (request) is the kick; anything else
    (the answer) is only received. The host writes `performative` first in the messages
    this benchmark routes (dicts keep their order), so its value starts at byte 17.
    """
    query = orjson.dumps(
        {
            "performative": "query-ref",
            "receiver": receiver,
            "protocol": "fipa-query",
            "reply_with": "q",
            "content": QUERY,
        }
    )
    literal = query.decode().replace("\\", "\\\\").replace('"', '\\"')
    return bytes(
        wasmtime.wat2wasm(
            f"""(module
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{literal}")
  (global $bump (mut i32) (i32.const 1024))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (global.set $bump (i32.const 1024))
    (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (i32.const 17))) (i32.const 114))
      (then (drop (call $send (i32.const 64) (i32.const {len(query)})))))
    (i32.const 0)))"""
        )
    )


def declaration(number: int) -> dict[str, Any]:
    """Agent `number`'s capability: a tenth offer translate, the rest one of 97 skills."""
    if number % 10 == 0:
        n = number // 10
        name, version = "translate", f"1.{n % 20}.0" if n % 7 else f"2.0.0-rc.{n}"
    else:
        name, version = f"skill-{number % 97}", f"{number % 3}.{number % 5}.{number % 7}"
    return {
        "name": name,
        "version": version,
        "description": f"{name} by p-{number:04d}",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
    }


class Mirror:
    """The baseline's answerer: the directory's answer to QUERY, precomputed, sent at once."""

    accepts_batches = False

    def __init__(self, router: Router, content: list[dict[str, Any]]) -> None:
        self._router = router
        self._content = content
        self._endpoint = router.endpoint(MIRROR)
        router.register(self._endpoint, self)

    def handle(self, message: bytes, context: object = None) -> int:
        query = context if isinstance(context, dict) else orjson.loads(message)
        answer = {
            "performative": "inform",
            "sender": MIRROR,
            "receiver": query["sender"],
            "conversation_id": query["conversation_id"],
            "protocol": query["protocol"],
            "in_reply_to": query["reply_with"],
            "content": self._content,
        }
        self._endpoint.send(answer, query)
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        raise AssertionError("one at a time")


class RoundTrips:
    """Times, from the router's `on_route`, each query-ref sent to the inform that answers it."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._recorded = router.on_route
        self._sent = 0.0
        self.samples: dict[str, list[float]] = {}
        self._answered = threading.Event()
        self._asker = ""
        router.on_route = self._seen

    def _seen(self, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        if self._recorded is not None:
            self._recorded(message)
        if message["performative"] == "query-ref" and message["sender"] == self._asker:
            self._sent = now
        elif message["performative"] == "inform" and message["receiver"] == self._asker:
            self.samples.setdefault(self._asker, []).append((now - self._sent) * 1000)
            self._answered.set()

    def once(self, server: Server, asker: str) -> None:
        self._asker = asker
        self._answered.clear()
        server.gateway.post({"performative": "request", "receiver": asker, "content": 1})
        if not self._answered.wait(10):
            raise RuntimeError(f"{asker}'s query was not answered within 10 s")


def summary(samples: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 3),
        "p90": round(cuts[89], 3),
        "p99": round(cuts[98], 3),
        "runs": len(samples),
    }


def populate(server: Server) -> float:
    """Deploy the 1000 declaring agents; the seconds it took."""
    began = time.perf_counter()
    module = bytes(wasmtime.wat2wasm(DECLARER))
    for number in range(AGENTS):
        view = server.manager.deploy(f"p-{number:04d}", module, config=declaration(number))
        if view.state != "Running":
            raise RuntimeError(f"p-{number:04d} is {view.state}: {view.reason}")
    return time.perf_counter() - began


def measure(plan: Plan, data_dir: Path) -> dict[str, Any]:
    # Back-to-back requests from one key: past the default per-identity limit (500/s).
    unlimited = RateLimitSettings(global_per_s=0, identity_per_s=0)
    server, http = build(Settings(data_dir=data_dir, port=0, rate_limits=unlimited))
    with in_background(http) as url:
        deadline = time.monotonic() + 30
        while not server.started:  # the app starts the server in its lifespan
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 30 s")
            time.sleep(0.01)
        populate_s = populate(server)
        server.manager.deploy("seeker", seeker("directory"))
        server.manager.deploy("seeker-base", seeker(MIRROR))
        expected = server.directory.answer(
            {"performative": "query-ref", "sender": "seeker", "content": QUERY}
        )
        in_range = sum(
            declaration(n)["name"] == "translate"
            and VersionRange.parse(QUERY["version"]).admits(declaration(n)["version"])
            for n in range(AGENTS)
        )
        if expected is None or len(expected["content"]) != in_range:
            raise RuntimeError(f"expected {in_range} providers of translate ^1.2, got {expected}")
        Mirror(server.router, expected["content"])
        trips = RoundTrips(server.router)

        token = (data_dir / "admin.key").read_text().strip()
        probes: dict[str, Callable[[], None]] = {}
        found: dict[str, list[float]] = {}
        with httpx.Client(
            base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:

            def get(path: str, params: dict[str, str], items: int | None) -> Callable[[], None]:
                def probe() -> None:
                    response = client.get(path, params=params)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}")
                    if items is not None and len(response.json()["items"]) != items:
                        raise RuntimeError(f"{path} {params}: {response.text[:200]}")

                return probe

            few = len([n for n in range(AGENTS) if n % 10 and n % 97 == 5 and n % 3 >= 1])
            probes["api_search_ms"] = get(
                "/capabilities", {"name": "translate", "version": "^1.2"}, in_range
            )
            probes["api_search_few_ms"] = get(
                "/capabilities", {"name": "skill-5", "version": ">=1"}, few
            )
            probes["api_baseline_ms"] = get("/auth/whoami", {}, None)
            for number in range(WARMUP + plan.runs):
                for name, probe in probes.items():
                    began = time.perf_counter()
                    probe()
                    elapsed = (time.perf_counter() - began) * 1000
                    if number >= WARMUP:
                        found.setdefault(name, []).append(elapsed)
                for asker in ("seeker", "seeker-base"):
                    trips.once(server, asker)
        found["directory_ms"] = trips.samples["seeker"][WARMUP:]
        found["directory_baseline_ms"] = trips.samples["seeker-base"][WARMUP:]
        answered = server.directory.answered
    results: dict[str, Any] = {name: summary(samples) for name, samples in found.items()}
    results["agents"] = AGENTS
    results["providers_in_range"] = {"api_search": in_range, "api_search_few": few}
    results["populate_s"] = round(populate_s, 2)
    results["directory_answered"] = answered
    return results


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        results = measure(plan, Path(root))
    api_base = results["api_baseline_ms"]["p50"]
    directory_base = results["directory_baseline_ms"]["p50"]
    return {
        **results,
        "added_ms": {
            "api_search_p50": round(results["api_search_ms"]["p50"] - api_base, 3),
            "api_search_few_p50": round(results["api_search_few_ms"]["p50"] - api_base, 3),
            "directory_p50": round(results["directory_ms"]["p50"] - directory_base, 3),
        },
        "target_ms": TARGET_MS,
        "within_target": {
            "api_search_p99": results["api_search_ms"]["p99"] <= TARGET_MS,
            "directory_p99": results["directory_ms"]["p99"] <= TARGET_MS,
        },
        "machine": timing.machine("wasmtime", "fastapi"),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
