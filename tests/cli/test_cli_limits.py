"""`caxton limit ...` against a real server: tables for people, JSON for scripts, exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.api.types import RateLimit, RateLimitList
from live import Live, caxton, decode_as, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "data") as running:
        yield running


def rows(live: Live) -> list[list[str]]:
    listed = caxton(live, "limit", "list")
    assert listed.exit_code == 0, listed.output
    header, rule, *lines = listed.stdout.splitlines()
    assert header.split() == ["SCOPE", "PER-S", "BURST", "SOURCE"]
    assert set(rule.replace(" ", "")) == {"─"}
    return [line.split() for line in lines]


def test_list_shows_the_settings_as_a_table_and_as_json(live: Live) -> None:
    assert rows(live) == [
        ["global", "2000/s", "4000", "settings"],
        ["identity", "500/s", "1000", "settings"],
    ]
    listed = caxton(live, "limit", "list", output="json")
    assert listed.exit_code == 0, listed.output
    assert decode_as(RateLimitList, listed.stdout).items == [
        RateLimit(scope="global", per_s=2000, burst=4000, source="settings"),
        RateLimit(scope="identity", per_s=500, burst=1000, source="settings"),
    ]


def test_set_then_reset(live: Live) -> None:
    changed = caxton(live, "limit", "set", "operation:agents.deploy", "--per-s", "0.5",
                     "--burst", "2")  # fmt: skip
    assert (changed.exit_code, changed.stdout) == (
        0,
        "rate limit operation:agents.deploy: 0.5/s, burst 2\n",
    )
    off = caxton(live, "limit", "set", "identity:key:svc", "--per-s", "0", "--burst", "1",
                 output="json")  # fmt: skip
    assert off.exit_code == 0, off.output
    assert decode_as(RateLimit, off.stdout) == RateLimit(
        scope="identity:key:svc", per_s=0, burst=1, source="runtime"
    )
    assert rows(live)[2:] == [
        ["identity:key:svc", "no", "limit", "1", "runtime"],
        ["operation:agents.deploy", "0.5/s", "2", "runtime"],
    ]

    removed = caxton(live, "limit", "reset", "operation:agents.deploy")
    assert (removed.exit_code, removed.stdout) == (
        0,
        "rate limit operation:agents.deploy removed\n",
    )
    assert caxton(live, "limit", "reset", "identity:key:svc", output="json").stdout == ""
    caxton(live, "limit", "set", "global", "--per-s", "10", "--burst", "20")
    back = caxton(live, "limit", "reset", "global")
    assert (back.exit_code, back.stdout) == (
        0,
        "rate limit global is back to the server's settings\n",
    )
    assert len(rows(live)) == 2


def test_bad_input_exits_2_and_a_missing_limit_exits_4(live: Live) -> None:
    scope = caxton(live, "limit", "set", "tenant:acme", "--per-s", "1", "--burst", "1")
    assert scope.exit_code == 2
    assert "'tenant:acme' is not a rate-limit scope" in scope.output
    burst = caxton(live, "limit", "set", "global", "--per-s", "1", "--burst", "0")
    assert burst.exit_code == 2
    assert "burst: 0 is out of range" in burst.output
    assert caxton(live, "limit", "set", "global", "--per-s", "1").exit_code == 2  # no --burst
    missing = caxton(live, "limit", "reset", "operation:agents.invoke")
    assert missing.exit_code == 4
    assert "no rate limit 'operation:agents.invoke' to reset" in missing.output
    unknown = caxton(live, "limit", "set", "operation:nothing", "--per-s", "1", "--burst", "1")
    assert unknown.exit_code == 2
    assert "no operation is named 'nothing'" in unknown.output
