"""`caxton capability search NAME [--version RANGE] [--all-states]` against a real server."""

from __future__ import annotations

import pytest

from caxton.api.types import CapabilityList
from live import Live, caxton, decode_as
from providers import deploy, provider


@pytest.fixture
def translators(live: Live) -> Live:
    deploy(live, "alpha", provider(("translate", "1.4.2"), ("translate", "1.0.0")))
    deploy(live, "beta", provider(("translate", "2.0.0-rc.1")))
    deploy(live, "gamma", provider(("translate", "1.9.0")))
    deploy(live, "omega", provider(("translate", "1.5.0")))
    assert live.post("/agents/omega/stop").status_code == 200
    return live


def rows(stdout: str) -> list[list[str]]:
    header, _rule, *lines = stdout.splitlines()
    assert header.split() == ["AGENT", "STATE", "CAPABILITY", "VERSION", "DESCRIPTION"]
    return [line.split()[:4] for line in lines]


def test_a_range_in_a_table(translators: Live) -> None:
    found = caxton(translators, "capability", "search", "translate", "--version", ">=1.4, <2")
    assert found.exit_code == 0, found.output
    assert rows(found.stdout) == [
        ["alpha", "Running", "translate", "1.4.2"],
        ["gamma", "Running", "translate", "1.9.0"],
    ]


def test_every_state_and_json(translators: Live) -> None:
    result = caxton(
        translators,
        "capability",
        "search",
        "translate",
        "--version",
        "^1.5",
        "--all-states",
        output="json",
    )
    assert result.exit_code == 0, result.output
    found = decode_as(CapabilityList, result.stdout)
    assert [(c.agent, c.agent_state, c.version) for c in found.items] == [
        ("gamma", "Running", "1.9.0"),
        ("omega", "Stopped", "1.5.0"),
    ]
    assert found.version_range == ">=1.5.0 <2.0.0-0"


def test_pre_releases_only_when_the_range_names_one(translators: Live) -> None:
    stable = caxton(translators, "capability", "search", "translate", "--version", ">=2.0.0-0")
    assert rows(stable.stdout) == [["beta", "Running", "translate", "2.0.0-rc.1"]]
    released = caxton(translators, "capability", "search", "translate", "--version", ">=1.9")
    assert rows(released.stdout) == [["gamma", "Running", "translate", "1.9.0"]]


def test_nothing_found_says_where_else_to_look(translators: Live) -> None:
    stopped = caxton(translators, "capability", "search", "translate", "--version", "~1.5")
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout == (
        "no Running agent offers 'translate' in ~1.5; 1 in other states (--all-states lists them)\n"
    )
    nobody = caxton(translators, "capability", "search", "translate", "--version", "^3")
    assert (nobody.exit_code, nobody.stdout) == (0, "no deployed agent offers 'translate' in ^3\n")


def test_a_bad_range_exits_2_naming_the_field(translators: Live) -> None:
    result = caxton(translators, "capability", "search", "translate", "--version", "~>1.2")
    assert result.exit_code == 2, result.output
    assert "version: version range '~>1.2': '~>1.2' is not a version comparator" in result.stderr
    assert result.stdout == ""
