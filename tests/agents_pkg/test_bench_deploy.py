"""bench/deploy.py runs and reports every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "deploy.py"


def test_the_quick_deploy_benchmark_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for kind in ("deploy_new_module_ms", "deploy_known_module_ms"):
        assert result[kind]["runs"] == 20
        assert 0 < result[kind]["p50"] <= result[kind]["p99"]
    assert result["meets_targets"] == {"deploy_p50_ms_max": True}
