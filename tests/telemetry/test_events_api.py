"""Events through the API and `caxton events`: a mailbox crossing its warning level, seen by
the watcher's own thread on a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime
from click.testing import CliRunner

from caxton.api.types import EventList
from caxton.cli import main
from caxton.settings import TelemetrySettings
from conftest import ALLOC
from live import Live, caxton, decode_as, live_server

# Takes every message and does nothing with it.
SILENT = bytes(
    wasmtime.wat2wasm(
        f"""(module (memory (export "memory") 1) {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""
    )
)
DEADLINE_S = 15.0  # the watcher looks once a second


@pytest.fixture
def crowded(tmp_path: Path) -> Iterator[Live]:
    """A server whose agent `held` is paused with 3 messages waiting in a mailbox of 4."""
    with live_server(
        tmp_path / "data", mailbox_capacity=4, telemetry=TelemetrySettings(agent_series=10)
    ) as live:
        deployed = live.post(
            "/agents", params={"name": "held"}, content=SILENT,
            headers={"content-type": "application/wasm"},
        )  # fmt: skip
        assert deployed.status_code == 201, deployed.text
        live.server.router.pause("held")
        for n in range(3):
            sent = live.post("/messages", json={"performative": "inform", "receiver": "held",
                                                "content": n})  # fmt: skip
            assert sent.status_code == 202, sent.text
        yield live


def wait_for_events(live: Live, **params: str) -> EventList:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = decode_as(EventList, live.get("/events", params=params).content)
        if found.items:
            return found
        assert time.monotonic() < deadline, "no event within the deadline"
        time.sleep(0.05)  # polling the watcher's once-a-second tick


def test_a_mailbox_past_its_warning_level_is_an_event_in_the_api(crowded: Live) -> None:
    found = wait_for_events(crowded, agent="held")
    [event] = found.items
    assert (event.kind, event.agent) == ("mailbox-warning", "held")
    assert event.detail == {"depth": 3, "capacity": 4}
    assert event.at == pytest.approx(time.time(), abs=DEADLINE_S)
    assert (
        decode_as(EventList, crowded.get("/events", params={"kind": "rate-spike"}).content).items
        == []
    )
    assert (
        decode_as(EventList, crowded.get("/events", params={"agent": "echo"}).content).items == []
    )


def test_caxton_events_shows_them(crowded: Live) -> None:
    wait_for_events(crowded, agent="held")
    table = caxton(crowded, "events")
    assert table.exit_code == 0, table.output
    assert "mailbox-warning" in table.output
    assert "depth=3 capacity=4" in table.output
    as_json = caxton(crowded, "events", "--kind", "mailbox-warning", output="json")
    assert decode_as(EventList, as_json.output).items[0].agent == "held"
    nothing = caxton(crowded, "events", "--kind", "rate-spike")
    assert nothing.output.strip() == "no events"


def test_a_bad_limit_is_refused(live: Live) -> None:
    assert live.get("/events", params={"limit": 0}).status_code == 422
    assert CliRunner().invoke(main, ["--url", live.url, "events", "--limit", "0"]).exit_code == 2
