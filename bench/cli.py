"""Benchmark of the command line's start-up: `caxton --version`, `--help` and `agent list`.

Prints one JSON object. Each command is a fresh process, timed wall-clock from
spawn to exit as a person would feel it; `agent list` asks a real server with
the example agents (echo, ping, pong), started in this process on an
ephemeral port. `python -c pass` runs in the same rounds as the baseline, and
the runs are interleaved so that a slower moment hurts every command alike.

The commands run with bytecode caching on (in a temporary PYTHONPYCACHEPREFIX,
filled by one unmeasured run of each), as an installed caxton has its .pyc
files, even where PYTHONDONTWRITEBYTECODE is set. `imports_ms` says where a
command's time goes: each import, in order, in a fresh process.

    python bench/cli.py            # 30 runs of each
    python bench/cli.py --quick    # 5 runs of each
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

import timing
from caxton.server.main import build, in_background
from caxton.settings import Settings
from timing import machine, summary

TARGET_P50_MS = 100.0  # issue 5, section 4: each <= 100 ms wall
FULL = 30
QUICK = 5
COMMAND_TIMEOUT_S = 60.0

# Each import on the way to `caxton agent list`, in the order the command makes them.
_IMPORTS = (
    ("click", "import click"),
    ("caxton.cli", "import caxton.cli"),
    ("caxton.api.types", "import caxton.api.types"),
    ("http.client", "import http.client"),
    ("msgspec", "import msgspec.json"),
    ("caxton.cli.agent", "import caxton.cli.agent, caxton.cli.client"),
)
_IMPORT_PROBE = """
import sys, time, orjson
found = {}
for name, statement in %r:
    started = time.perf_counter()
    exec(statement)
    found[name] = round((time.perf_counter() - started) * 1000, 1)
sys.stdout.write(orjson.dumps(found).decode())
"""


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """A server with the example agents on 127.0.0.1 (an ephemeral port); its URL."""
    _, http = build(Settings(data_dir=data_dir, port=0, examples=True))
    with in_background(http) as url:
        yield url


def caxton_command() -> list[str]:
    """The installed `caxton` script (what a user runs), beside this Python if it is there."""
    beside = Path(sys.executable).with_name("caxton")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("caxton")
    return [found] if found else [sys.executable, "-m", "caxton"]


def wall_ms(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed, done.stdout


def run(runs: int, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    caxton = caxton_command()
    with tempfile.TemporaryDirectory() as scratch, serving(Path(scratch) / "data") as url:
        dropped = ("PYTHONDONTWRITEBYTECODE", "CAXTON_URL", "CAXTON_OUTPUT", "CAXTON_TOKEN")
        env = {key: value for key, value in os.environ.items() if key not in dropped}
        # As on the server's own machine: the CLI reads the admin key from the data directory.
        env["CAXTON_DATA_DIR"] = str(Path(scratch) / "data")
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        env["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")  # no client config file
        commands = {
            "python_pass_ms": [sys.executable, "-c", "pass"],
            "caxton_version_ms": [*caxton, "--version"],
            "caxton_help_ms": [*caxton, "--help"],
            "caxton_agent_list_ms": [*caxton, "--url", url, "agent", "list"],
            "caxton_agent_list_json_ms": [*caxton, "--url", url, "-o", "json", "agent", "list"],
        }
        for name, command in commands.items():  # fills the bytecode cache; checks the output
            _, out = wall_ms(command, env)
            if "agent_list" in name and not all(agent in out for agent in ("echo", "ping")):
                raise RuntimeError(f"{command} did not list the example agents: {out!r}")
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(wall_ms(command, env)[0])
        _, probe = wall_ms([sys.executable, "-c", _IMPORT_PROBE % (_IMPORTS,)], env)
    result: dict[str, Any] = {name: summary(found, 1) for name, found in samples.items()}
    baseline = result["python_pass_ms"]["p50"]
    result["over_python_p50_ms"] = {
        name: round(result[name]["p50"] - baseline, 1)
        for name in commands
        if name.startswith("cax")
    }
    result["imports_ms"] = orjson.loads(probe)
    result["targets"] = {
        "version_p50_ms_max": TARGET_P50_MS,
        "agent_list_p50_ms_max": TARGET_P50_MS,
    }
    result["meets_targets"] = {
        "version_p50_ms_max": result["caxton_version_ms"]["p50"] <= TARGET_P50_MS,
        "agent_list_p50_ms_max": result["caxton_agent_list_ms"]["p50"] <= TARGET_P50_MS,
    }
    result["command"] = caxton
    result["machine"] = machine("click", "msgspec", "orjson")
    result["quick"] = quick
    result["elapsed_s"] = round(time.perf_counter() - began, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
