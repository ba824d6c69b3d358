"""A real Prometheus on 127.0.0.1 (ephemeral port) that scrapes one target every second.

It is the Debian package's binary (`scripts/install-toolchain` installs it). A missing
binary is an error, not a skip, as for the C toolchain (tests/toolchain.py): the tests
that use it are the proof that a real Prometheus can read what Caxton exposes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit

import httpx
import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
RULES: Final = ROOT / "deploy" / "prometheus" / "caxton-alerts.yml"
INSTALL_HINT: Final = (
    "scripts/install-toolchain (apt-get install --no-install-recommends prometheus)"
)

READY_DEADLINE_S: Final = 30.0
STOP_DEADLINE_S: Final = 10.0
POLL_INTERVAL_S: Final = 0.1
# The port is free when chosen but not held, so another process may take it before
# Prometheus binds it: try again with another port a few times.
BIND_ATTEMPTS: Final = 3


class PrometheusError(RuntimeError):
    """Prometheus refused a query (bad PromQL, say): polling again would not help."""


def find_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found on PATH; install it with {INSTALL_HINT}")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return cast(int, sock.getsockname()[1])


def scrape_config(
    target_url: str, job: str, rules: Path | None, token_file: Path | None = None
) -> dict[str, Any]:
    """A configuration that scrapes `target_url` (its path is the metrics path) every 1 s,
    sending the bearer token in `token_file` if given."""
    parts = urlsplit(target_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(
            f"target must be an absolute URL like http://127.0.0.1:8080/metrics: {target_url!r}"
        )
    config: dict[str, Any] = {
        # Evaluating rules every second too, so that a test sees alerts go pending quickly.
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {
                "job_name": job,
                "scheme": parts.scheme,
                "metrics_path": parts.path or "/metrics",
                "static_configs": [{"targets": [parts.netloc]}],
            }
        ],
    }
    if rules is not None:
        config["rule_files"] = [str(rules.resolve())]
    if token_file is not None:
        config["scrape_configs"][0]["authorization"] = {
            "type": "Bearer",
            "credentials_file": str(token_file.resolve()),
        }
    return config


class Prometheus:
    """A running Prometheus: its URL and a client of its HTTP API."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log
        self.client = httpx.Client(base_url=url, timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result of an instant query: for a vector, one {"metric", "value"} per series.

        A scalar or string result comes back as one item with empty `metric`.
        """
        response = self.client.get("/api/v1/query", params={"query": promql})
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusError(
                f"{promql!r}: {body.get('errorType', response.status_code)}: {body.get('error')}"
            )
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return cast(list[dict[str, Any]], data["result"])

    def wait_for(self, promql: str, deadline_s: float = 30.0) -> list[dict[str, Any]]:
        """Polls `promql` until its result is not empty; fails with the targets' health.

        Prometheus hands new targets to its scraper on a 5 s tick, so the first sample
        of a fresh server comes about 5 s after it is ready: keep deadlines well above.
        """
        deadline = time.monotonic() + deadline_s
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{promql!r} still empty after {deadline_s} s; targets: {self.targets()}"
                )
            time.sleep(POLL_INTERVAL_S)

    def targets(self) -> list[dict[str, Any]]:
        """Each active target's scrape URL, health and last error: why a query may be empty."""
        active = self.client.get("/api/v1/targets").json()["data"]["activeTargets"]
        return [
            {key: target.get(key) for key in ("scrapeUrl", "health", "lastError")}
            for target in active
        ]

    def value(self, promql: str, deadline_s: float = 30.0) -> float:
        """The value of the one series `promql` gives, once it gives one."""
        result = self.wait_for(promql, deadline_s)
        assert len(result) == 1, f"{promql!r} gave {len(result)} series: {result}"
        return float(result[0]["value"][1])


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    """True when /-/ready answers 200; False when Prometheus could not bind its port."""
    deadline = time.monotonic() + READY_DEADLINE_S
    with httpx.Client(timeout=1) as client:
        while True:
            if process.poll() is not None:
                text = log.read_text(errors="replace")
                if "address already in use" in text:
                    return False
                raise RuntimeError(f"prometheus exited with {process.returncode}:\n{text}")
            try:
                if client.get(f"{url}/-/ready").status_code == 200:
                    return True
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"prometheus not ready within {READY_DEADLINE_S} s:\n{log.read_text()}"
                )
            time.sleep(POLL_INTERVAL_S)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def prometheus_server(
    target_url: str,
    directory: Path | None = None,
    *,
    job: str = "caxton",
    rules: Path | None = RULES,
    token_file: Path | None = None,
) -> Iterator[Prometheus]:
    """Prometheus scraping `target_url` every second as `job`, with `rules` loaded (and the
    bearer token in `token_file`, for a Caxton that requires authentication).

    Its configuration, database and log go in `directory` (a temporary one, removed on
    exit, when None). The process is stopped when the block ends, however it ends.
    """
    binary = find_binary("prometheus")
    with ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prom-")))
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "prometheus.yml"
        # JSON is YAML: no YAML library needed to write it.
        config.write_text(json.dumps(scrape_config(target_url, job, rules, token_file), indent=2))
        log = directory / "prometheus.log"
        for _ in range(BIND_ATTEMPTS):
            url = f"http://127.0.0.1:{free_port()}"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={directory / 'data'}",
                        f"--web.listen-address={url.removeprefix('http://')}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            stack.callback(_stop, process)
            if _wait_ready(process, url, log):
                break
        else:
            raise RuntimeError(f"prometheus could not bind a port in {BIND_ATTEMPTS} tries")
        prometheus = Prometheus(process, url, log)
        stack.callback(prometheus.client.close)
        yield prometheus
