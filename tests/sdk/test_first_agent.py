"""docs/first-agent.md as a test: a new C project, built, deployed on a real server, invoked,
changed and reloaded."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from caxton.cli import main
from live import Live, caxton


def _make(project: Path) -> None:
    done = subprocess.run(
        ["make", "-s"], cwd=project, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def _greeting(live: Live) -> object:
    answer = caxton(live, "invoke", "greeter", "--content", '{"name": "Ada"}', output="json")
    assert answer.exit_code == 0, answer.output
    return json.loads(answer.stdout)["reply"]["content"]


def test_a_new_agent_is_built_deployed_answers_and_is_reloaded(live: Live, tmp_path: Path) -> None:
    project = tmp_path / "greeter"
    made = CliRunner().invoke(
        main, ["agent", "new", "greeter", "--lang", "c", "--dir", str(project)]
    )
    assert made.exit_code == 0, made.output
    _make(project)

    module = str(project / "build" / "greeter.wasm")
    deployed = caxton(live, "agent", "deploy", module, "--name", "greeter")
    assert deployed.exit_code == 0, deployed.output
    assert _greeting(live) == {"greeting": "Hello, Ada!"}
    found = caxton(live, "capability", "search", "greet", output="json")
    assert "greeter" in found.stdout

    source = project / "src" / "greeter.c"
    source.write_text(
        source.read_text()
        .replace('"Hello, %s!"', '"Welcome, %s!"')
        .replace('sizeof "Hello, !"', 'sizeof "Welcome, !"')
    )
    _make(project)
    reloaded = caxton(live, "agent", "reload", "greeter", module, "--version", "0.2.0")
    assert reloaded.exit_code == 0, reloaded.output
    assert _greeting(live) == {"greeting": "Welcome, Ada!"}
