"""Running a benchmark script the way `scripts/bench` does, for smoke tests (a top-level module)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run_quick(script: str, timeout_s: float = 300) -> dict[str, Any]:
    """The JSON that `bench/<script> --quick` prints; fails the test if it exits non-zero."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads(done.stdout)
    return results
