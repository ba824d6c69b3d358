"""`caxton demo`, the main job: ping-pong through the router, then a 100-bidder contract net."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from caxton.cli import main


def test_the_demo_shows_ping_pong_and_a_contract_net(c_examples: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--agents", str(c_examples)], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert 'operator got inform {"hello":"world"}' in out
    assert out.count("pong -> ping     inform") == 3
    assert "rounds_done = 3" in out
    outcome = re.search(r"outcome (\{.*\})", out)
    assert outcome is not None
    assert '"result":500500' in outcome[1]
    assert '"proposals":99' in outcome[1]  # the late bidder's proposal is not counted
    assert "proposal arrived after the deadline" in out


def test_the_demo_runs_without_the_c_agents() -> None:
    result = CliRunner().invoke(main, ["demo", "--workers", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "rounds_done = 3" in result.output
    assert "contract net" not in result.output
