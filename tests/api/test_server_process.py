"""`caxton server start` as a real process: it serves, stops cleanly on SIGTERM, and comes back.

A separate process offers no event to wait on, so readiness is polled with a
deadline; everything else waits on the process itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import httpx
import wasmtime

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def environment(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without CAXTON_* settings, with a home of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAXTON_")}
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "share"),
        "CAXTON_LOG_FORMAT": "json",
    }
    return env | extra


def caxton(*args: str) -> list[str]:
    return [sys.executable, "-m", "caxton", *args]


@contextmanager
def server_process(data_dir: Path, home: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`caxton server start` on a free port, once /health answers; killed if still running."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = caxton(
        "server", "start", "--data-dir", str(data_dir), "--port", str(port), "--examples"
    )
    log = (home / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, env=environment(home), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            assert process.poll() is None, (home / f"server-{port}.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /health in time"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(STOP_DEADLINE_S)


def states(url: str, admin: dict[str, str]) -> dict[str, str]:
    items = httpx.get(f"{url}/api/v1/agents", headers=admin).json()["items"]
    return {item["name"]: item["state"] for item in items}


def admin_of(data: Path) -> dict[str, str]:
    """Credentials from the admin key the server made at first start."""
    return {"Authorization": f"Bearer {(data / 'admin.key').read_text().strip()}"}


def test_the_server_serves_stops_on_sigterm_and_comes_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    echo = resources.files("caxton.examples").joinpath("echo.wat").read_text()
    with server_process(data, tmp_path) as (process, url):
        api = f"{url}/api/v1"
        admin = admin_of(data)
        answer = httpx.post(
            f"{api}/agents/echo/invoke", json={"content": "over a socket"}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["reply"]["content"] == "over a socket"
        deployed = httpx.post(
            f"{api}/agents",
            params={"name": "extra"},
            content=bytes(wasmtime.wat2wasm(echo)),
            headers={"content-type": "application/wasm", **admin},
        )
        assert deployed.status_code == 201, deployed.text
        assert httpx.post(f"{api}/agents/pong/stop", headers=admin).json()["state"] == "Stopped"
        before = states(url, admin)
        assert stop(process) == 0

    assert before == {"echo": "Running", "extra": "Running", "ping": "Running", "pong": "Stopped"}
    with server_process(data, tmp_path) as (process, url):
        assert states(url, admin) == before
        answer = httpx.post(
            f"{url}/api/v1/agents/extra/invoke", json={"content": "again"}, headers=admin
        )
        assert answer.json()["reply"]["content"] == "again"
        assert stop(process) == 0


def test_sigint_stops_it_cleanly_too(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", tmp_path) as (process, _):
        process.send_signal(signal.SIGINT)
        assert process.wait(STOP_DEADLINE_S) == 0


def test_a_bad_setting_exits_2_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        caxton("server", "start", "--data-dir", str(tmp_path / "data")),
        env=environment(tmp_path, CAXTON_PORT="abc"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "CAXTON_PORT" in done.stderr
    assert "'abc' is not an integer" in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was created
