"""Benchmark: what authentication and role checks cost (the issue's target: a check < 1 ms).

Prints one JSON object; single calls timed with `perf_counter_ns`, the
collector off, p50 and p99 in microseconds:

- `authenticate_key_cached_us`: an API key seen within `auth.cache_s` (the steady state);
- `authenticate_key_uncached_us`: an API key checked afresh (a SQLite read and a sha256);
- `authenticate_hs256_uncached_us`, `authenticate_rs256_uncached_us`: a JWT checked afresh;
- `authorize_us`: the permissions table's answer for a role and a route;
- `request_ms`: `GET /api/v1/agents/{name}` through the whole app (httpx.ASGITransport, no
  socket), with authentication on (`auth_on`) and off (`auth_off`, the baseline), the two
  interleaved in the same process; `guard_ms` is the difference of their medians.

    python bench/auth.py            # full runs
    python bench/auth.py --quick    # a smoke run
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import timing
from caxton.api.app import create_app
from caxton.security.authenticator import Authenticator
from caxton.security.keys import KeyRing
from caxton.security.permissions import Permissions
from caxton.security.tokens import JwtVerifier
from caxton.server.examples import deploy_examples
from caxton.server.server import Server
from caxton.settings import AuthSettings, JwtSettings, RateLimitSettings, Settings
from caxton.store import Store

SECRET = "b" * 48
# The request figures measure the guard, not the limiter's refusals.
ROOMY = RateLimitSettings(global_per_s=0, identity_per_s=0)


@dataclass(frozen=True)
class Plan:
    calls: int
    requests: int


FULL = Plan(calls=20_000, requests=2_000)
QUICK = Plan(calls=500, requests=50)


def summary_us(samples_ns: list[int]) -> dict[str, Any]:
    ordered = sorted(samples_ns)
    return {
        "p50": round(ordered[len(ordered) // 2] / 1000, 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000, 2),
        "runs": len(ordered),
    }


def timed(call: Callable[[], object], runs: int) -> list[int]:
    clock = time.perf_counter_ns
    samples = []
    with timing.no_gc():
        for _ in range(runs):
            began = clock()
            call()
            samples.append(clock() - began)
    return samples


def micro(folder: Path, calls: int) -> dict[str, Any]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = folder / "jwt.pem"
    public.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    secret = folder / "jwt.secret"
    secret.write_text(SECRET)
    claims = {"sub": "bench", "exp": time.time() + 3600, "role": "viewer"}
    with Store.open(folder / "store") as store:
        keys = KeyRing(store)
        _, token = keys.create("operator", "bench", "bench")
        verifier = JwtVerifier(JwtSettings(secret_file=secret, public_key_file=public))
        authenticator = Authenticator(keys, verifier, cache_s=3600)
        hs256 = f"Bearer {jwt.encode(claims, SECRET)}"
        rs256 = f"Bearer {jwt.encode(claims, rsa_key, algorithm='RS256')}"
        bearer = f"Bearer {token}"
        permissions = Permissions()

        def afresh(header: str) -> Callable[[], object]:
            def call() -> object:
                authenticator.forget()
                return authenticator.authenticate(header, None)

            return call

        def authorize() -> object:
            operation = permissions.operation("GET", "/api/v1/agents/{name}")
            return operation is not None and operation.allows("viewer")

        authenticator.authenticate(bearer, None)
        return {
            "authenticate_key_cached_us": summary_us(
                timed(lambda: authenticator.authenticate(bearer, None), calls)
            ),
            "authenticate_key_uncached_us": summary_us(timed(afresh(bearer), calls)),
            "authenticate_hs256_uncached_us": summary_us(timed(afresh(hs256), calls)),
            "authenticate_rs256_uncached_us": summary_us(timed(afresh(rs256), calls)),
            "authorize_us": summary_us(timed(authorize, calls)),
        }


def requests(folder: Path, runs: int) -> dict[str, Any]:
    """The same GET through two apps, one guarded and one open, interleaved."""
    servers = {
        "auth_on": Server(Settings(data_dir=folder / "on", rate_limits=ROOMY)),
        "auth_off": Server(
            Settings(data_dir=folder / "off", rate_limits=ROOMY, auth=AuthSettings(enabled=False))
        ),
    }
    try:
        for server in servers.values():
            server.start()
            deploy_examples(server)
        token = (folder / "on" / "admin.key").read_text().strip()
        return asyncio.run(_interleaved(servers, token, runs))
    finally:
        for server in servers.values():
            server.close()


async def _interleaved(servers: dict[str, Server], token: str, runs: int) -> dict[str, Any]:
    clients = {
        name: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(server, manage=False)),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"} if name == "auth_on" else {},
        )
        for name, server in servers.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in clients}
    warmup = max(10, runs // 10)
    try:
        for number in range(warmup + runs):
            for name, client in clients.items():
                began = time.perf_counter()
                answer = await client.get("/api/v1/agents/echo")
                elapsed = (time.perf_counter() - began) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{name}: {answer.status_code} {answer.text}")
                if number >= warmup:
                    samples[name].append(elapsed)
    finally:
        for client in clients.values():
            await client.aclose()
    figures = {name: timing.summary(values) for name, values in samples.items()}
    guard = float(figures["auth_on"]["p50"]) - float(figures["auth_off"]["p50"])
    return {
        "request_ms": figures,
        "guard_ms": round(guard, 3),
        "ratio_on_to_off": round(
            float(figures["auth_on"]["p50"]) / float(figures["auth_off"]["p50"]), 3
        ),
    }


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        results = micro(folder, plan.calls) | requests(folder, plan.requests)
    return {
        **results,
        "machine": timing.machine("pyjwt", "cryptography", "fastapi"),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
