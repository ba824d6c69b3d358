"""What `caxton` loads to start: the one-line help of lazy commands, and no heavy imports."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from caxton.cli import COMMANDS, main
from live import Live

# Each costs tens of milliseconds to import; none belongs on the path of a remote command.
HEAVY = (
    "pydantic", "httpx", "rich", "fastapi", "starlette", "uvicorn", "wasmtime",
    "opentelemetry", "prometheus_client", "grpc",
)  # fmt: skip

_PROBE = """
import sys
from caxton.cli import main
heavy, args = sys.argv[1].split(","), sys.argv[2:]
try:
    main(args, prog_name="caxton")
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
print("\\nLOADED:" + ",".join(heavy))
"""


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_lazy_summary_is_the_commands_own(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert COMMANDS[name].summary == command.get_short_help_str(limit=200)


def loaded(*args: str) -> list[str]:
    """The heavy modules a real `caxton args...` process imported by the time it ended."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    _, _, names = done.stdout.rpartition("\nLOADED:")
    return [name for name in names.strip().split(",") if name]


def test_help_and_version_import_no_command_and_nothing_heavy() -> None:
    assert loaded("--help") == []
    assert loaded("--version") == []


def test_remote_commands_import_nothing_heavy(live: Live) -> None:
    assert loaded("--url", live.url, "agent", "list") == []
    assert loaded("--url", live.url, "-o", "json", "agent", "get", "echo") == []
    assert loaded("--url", live.url, "message", "list") == []
