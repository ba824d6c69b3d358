"""/metrics of a real server on a real socket: what each metric says after real traffic."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pytest
from metric_names import EXPOSED, HISTOGRAMS
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from caxton import __version__
from caxton.settings import TelemetrySettings
from conftest import agent_wat
from live import Live, live_server

WASM: Final = {"content-type": "application/wasm"}
INVOKES: Final = 4
INVOKE_ROUTE: Final = "/api/v1/agents/{name}/invoke"
DEADLINE_S: Final = 20.0

# Agents that take every message and answer none.
SILENT: Final = agent_wat("")
# Agents whose handler fails: a trap (system) and an endless loop that burns its fuel (resource).
TRAPS: Final = agent_wat("unreachable")
SPINS: Final = agent_wat("(loop $spin (br $spin))")
SMALL_FUEL: Final = '{"fuel_per_message": 100000}'


class Scrape:
    """One scrape of /metrics, parsed by prometheus_client's own parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[Sample] = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def get(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """The value of the one sample of `name` with exactly `labels`, None when absent."""
        wanted = dict(labels or {})
        found = [s.value for s in self.samples if s.name == name and s.labels == wanted]
        assert len(found) <= 1, f"{name}{wanted} is exposed {len(found)} times"
        return found[0] if found else None

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        """As `get`, for a sample that must be there."""
        found = self.get(name, labels)
        assert found is not None, f"{name}{dict(labels or {})} is not exposed:\n{self.text}"
        return found

    def by_label(self, name: str, label: str) -> dict[str, float]:
        """`name`'s samples by the value of `label` (for samples with one series per value)."""
        chosen = [s for s in self.samples if s.name == name]
        values = {s.labels[label]: s.value for s in chosen}
        assert len(values) == len(chosen), f"{name} has several series per {label}"
        return values

    def names(self) -> set[str]:
        return {s.name for s in self.samples}


def scrape(live: Live) -> Scrape:
    response = live.client.get(f"{live.url}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


def settled_scrape(live: Live) -> Scrape:
    """A scrape once every mailbox is empty and no turn runs: the counts have all moved."""
    assert live.server.dispatcher.wait_idle(DEADLINE_S)
    return scrape(live)


def deploy(live: Live, name: str, wasm: bytes, **fields: str) -> None:
    response = live.post("/agents", params={"name": name, **fields}, content=wasm, headers=WASM)
    assert response.status_code == 201, response.text


def invoke(live: Live, agent: str, content: Any) -> dict[str, Any]:
    """The answer that ended the invoke: the agent's reply, or the platform's failure."""
    response = live.post(f"/agents/{agent}/invoke", json={"content": content})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()["reply"]
    return reply


def send(live: Live, receiver: str, performative: str = "inform") -> None:
    message = {"performative": performative, "receiver": receiver, "content": 1}
    response = live.post("/messages", json=message)
    assert response.status_code == 202, response.text


def buckets(found: Scrape, name: str, labels: Mapping[str, str]) -> list[tuple[float, float]]:
    """A histogram's buckets for `labels` as (upper bound, cumulative count), by bound."""
    rows = [
        (float(s.labels["le"]), s.value)
        for s in found.samples
        if s.name == f"{name}_bucket" and {k: v for k, v in s.labels.items() if k != "le"} == labels
    ]
    return sorted(rows)


def assert_histogram_consistent(found: Scrape, name: str, labels: Mapping[str, str]) -> float:
    """Buckets cumulative, `+Inf` equal to `_count`; returns the count."""
    rows = buckets(found, name, labels)
    assert rows, f"{name}{dict(labels)} has no buckets"
    counts = [count for _, count in rows]
    assert counts == sorted(counts), f"{name}{dict(labels)} buckets are not cumulative: {rows}"
    assert rows[-1][0] == float("inf")
    count = found.value(f"{name}_count", labels)
    assert rows[-1][1] == count
    return count


# Messages, latency, agents, process, store, HTTP


def test_echo_invokes_move_every_message_metric(live: Live) -> None:
    before = settled_scrape(live)
    for n in range(INVOKES):
        assert invoke(live, "echo", {"n": n})["content"] == {"n": n}
    missing = live.get("/agents/no-such-agent")
    assert missing.status_code == 404
    after = settled_scrape(live)

    def grew(name: str, labels: Mapping[str, str]) -> float:
        return after.value(name, labels) - (before.get(name, labels) or 0.0)

    # The request to echo and echo's answer to the gateway: routed once, delivered once each.
    assert grew("caxton_messages_routed_total", {"performative": "request"}) == INVOKES
    assert grew("caxton_messages_routed_total", {"performative": "inform"}) == INVOKES
    assert grew("caxton_messages_delivered_total", {"performative": "request"}) == INVOKES
    assert grew("caxton_messages_delivered_total", {"performative": "inform"}) == INVOKES
    assert after.by_label("caxton_messages_failed_total", "performative") == {}

    # Every delivery has its latency observed, once, whichever agent took it.
    delivered = sum(after.by_label("caxton_messages_delivered_total", "performative").values())
    assert assert_histogram_consistent(after, "caxton_message_latency_seconds", {}) == delivered
    per_agent = {
        agent: assert_histogram_consistent(
            after, "caxton_agent_message_latency_seconds", {"agent": agent}
        )
        for agent in after.by_label("caxton_agent_message_latency_seconds_count", "agent")
    }
    assert sum(per_agent.values()) == delivered
    assert per_agent["echo"] == INVOKES
    assert grew("caxton_agent_message_latency_seconds_count", {"agent": "echo"}) == INVOKES
    assert per_agent["gateway"] == INVOKES  # echo's answers
    assert after.value("caxton_agent_message_latency_seconds_sum", {"agent": "echo"}) > 0

    echo = {"agent": "echo"}
    assert grew("caxton_agent_messages_handled_total", echo) == INVOKES
    assert grew("caxton_agent_messages_sent_total", echo) == INVOKES
    assert after.value("caxton_agent_fuel_consumed_total", echo) > 0
    assert grew("caxton_agent_fuel_consumed_total", echo) > 0
    assert after.value("caxton_agent_memory_bytes", echo) >= 65536
    assert after.value("caxton_agent_handler_seconds_total", echo) > 0
    assert after.value("caxton_mailbox_depth", echo) == 0
    assert after.value("caxton_mailbox_peak_depth", echo) >= 1
    assert after.value("caxton_mailbox_capacity", echo) == live.server.settings.mailbox_capacity

    running = live.get("/agents", params={"state": "Running"}).json()["items"]
    assert {agent["name"] for agent in running} == {"echo", "ping", "pong"}
    assert after.value("caxton_agents", {"state": "Running"}) == len(running)
    assert after.by_label("caxton_agents", "state") == {
        "Unloaded": 0,
        "Loaded": 0,
        "Running": 3,
        "Draining": 0,
        "Stopped": 0,
        "Failed": 0,
    }
    assert after.by_label("caxton_build_info", "version") == {__version__: 1}
    assert after.value("process_resident_memory_bytes") > 0
    assert after.value("caxton_sqlite_size_bytes") > 0

    http = "caxton_http_request_duration_seconds"
    invoked = {"method": "POST", "route": INVOKE_ROUTE, "status": "200"}
    assert assert_histogram_consistent(after, http, invoked) == INVOKES
    not_found = {"method": "GET", "route": "/api/v1/agents/{name}", "status": "404"}
    assert assert_histogram_consistent(after, http, not_found) == 1
    routes = {s.labels["route"] for s in after.samples if s.name == f"{http}_count"}
    assert not any("no-such-agent" in route or "echo" in route for route in routes), routes


# Errors by class


def test_an_unknown_receiver_is_a_routing_error(live: Live) -> None:
    before = settled_scrape(live)
    send(live, "nowhere", "request")
    after = settled_scrape(live)
    routing = {"class": "routing"}
    assert (
        after.value("caxton_errors_total", routing)
        == before.value("caxton_errors_total", routing) + 1
    )
    assert after.value("caxton_dead_letters_total") == before.value("caxton_dead_letters_total") + 1
    # The name is the caller's, not an agent's: it gets no series of its own (a caller
    # sending to a million made-up names must not make a million series). The error is
    # the sender's (the gateway, for a message posted through the API).
    agents = {s.labels["agent"] for s in after.samples if "agent" in s.labels}
    assert "nowhere" not in agents
    assert after.value("caxton_agent_errors_total", {"agent": "gateway", "class": "routing"}) == 1
    # The sender (the gateway) hears of it, and the failure is delivered to it.
    assert after.value("caxton_messages_routed_total", {"performative": "failure"}) == 1
    assert after.value("caxton_messages_delivered_total", {"performative": "failure"}) == 1


@pytest.mark.parametrize(
    ("wasm", "fields", "error_class"),
    [(TRAPS, {}, "system"), (SPINS, {"limits": SMALL_FUEL}, "resource")],
    ids=["trap", "out-of-fuel"],
)
def test_a_failing_handler_counts_by_its_class(
    live: Live, wasm: bytes, fields: dict[str, str], error_class: str
) -> None:
    deploy(live, "failing", wasm, **fields)
    before = settled_scrape(live)
    answer = invoke(live, "failing", "go")
    assert (answer["performative"], answer["content"]["error"]) == ("failure", error_class)
    after = settled_scrape(live)

    errors = after.by_label("caxton_errors_total", "class")
    assert set(errors) == {"validation", "routing", "timeout", "resource", "system"}
    for name, count in errors.items():
        grown = 1 if name == error_class else 0
        assert count == before.value("caxton_errors_total", {"class": name}) + grown, name
    failing = {"agent": "failing"}
    assert after.by_label("caxton_agent_errors_total", "class") == {error_class: 1}
    assert after.value("caxton_agent_errors_total", {**failing, "class": error_class}) == 1
    failed = [
        (s.labels, s.value) for s in after.samples if s.name == "caxton_messages_failed_total"
    ]
    assert failed == [({"performative": "request", "class": error_class}, 1)]
    # A failed delivery is neither delivered nor in the latency histogram.
    assert after.get("caxton_messages_delivered_total", {"performative": "request"}) is None
    assert after.value("caxton_agent_message_latency_seconds_count", failing) == 0
    assert after.value("caxton_dead_letters_total") == 1


def test_server_wide_counters_do_not_go_back_when_an_agent_stops(live: Live) -> None:
    # Counters are cumulative from the start of the process (docs/observability.md); a
    # decrease reads to Prometheus as a reset, and rate() and increase() then jump.
    deploy(live, "leaving", SILENT)
    for _ in range(3):
        send(live, "leaving")
    before = settled_scrape(live)
    assert before.value("caxton_messages_delivered_total", {"performative": "inform"}) == 3
    stopped = live.post("/agents/leaving/stop")
    assert stopped.status_code == 200, stopped.text
    after = settled_scrape(live)
    for name, labels in [
        ("caxton_messages_routed_total", {"performative": "inform"}),
        ("caxton_messages_delivered_total", {"performative": "inform"}),
        ("caxton_message_latency_seconds_count", {}),
    ]:
        was = before.value(name, labels)
        now = after.get(name, labels)
        assert now is not None, f"{name}{labels} was {was}, is gone after the stop"
        assert now >= was, f"{name}{labels} went from {was} to {now} when an agent stopped"


# Bounded agent labels


def test_only_the_busiest_agents_have_series_of_their_own(tmp_path: Path) -> None:
    received = {"most": 5, "many": 3, "few": 2, "one": 1}
    with live_server(tmp_path / "data", telemetry=TelemetrySettings(agent_series=2)) as live:
        for name, count in received.items():
            deploy(live, name, SILENT)
            for _ in range(count):
                send(live, name)
        found = settled_scrape(live)
        # The gateway is an endpoint too (it received nothing): summed with few and one.
        handled = found.by_label("caxton_agent_messages_handled_total", "agent")
        assert handled == {"most": 5, "many": 3, "_other": 3}
        latency = found.by_label("caxton_agent_message_latency_seconds_count", "agent")
        assert latency == {"most": 5, "many": 3, "_other": 3}
        assert found.value("caxton_message_latency_seconds_count") == 11
        capacity = found.by_label("caxton_mailbox_capacity", "agent")
        each = live.server.settings.mailbox_capacity  # the gateway's and the directory's too
        assert capacity == {"most": each, "many": each, "_other": 4 * each}
        assert set(found.by_label("caxton_agent_memory_bytes", "agent")) == {
            "most",
            "many",
            "_other",
        }
        assert set(found.by_label("caxton_mailbox_depth", "agent")) == {"most", "many", "_other"}

        # The ranking follows the traffic: `one` becomes the busiest, `many` joins the others.
        for _ in range(6):
            send(live, "one")
        found = settled_scrape(live)
        handled = found.by_label("caxton_agent_messages_handled_total", "agent")
        assert handled == {"one": 7, "most": 5, "_other": 5}


# Metrics off


def test_without_metrics_there_is_no_endpoint_and_nothing_is_measured(tmp_path: Path) -> None:
    off = TelemetrySettings(metrics=False)
    with live_server(tmp_path / "data", examples=True, telemetry=off) as live:
        assert live.server.telemetry.metrics is None
        assert live.server.router.measure is False
        response = live.client.get(f"{live.url}/metrics")
        assert response.status_code == 404
        for n in range(INVOKES):
            assert invoke(live, "echo", n)["content"] == n
        assert live.server.dispatcher.wait_idle(DEADLINE_S)
        # Delivered all the same, without a count or a clock read for it.
        assert dict(live.server.router.stats.routed) == {}
        echo = live.server.router.get("echo")
        assert echo is not None
        assert echo.mailbox.received == INVOKES
        assert dict(echo.stats.delivered) == {}
        assert echo.stats.handler_seconds == 0.0
        assert sum(echo.stats.buckets) == 0


# The contract: what is exposed is what metric_names.py (and so the docs, rules, dashboard) say


def expected_series(name: str) -> bool:
    """Whether a sample name is one of EXPOSED's, histograms by their three series."""
    if name in EXPOSED:
        return True
    base, _, suffix = name.rpartition("_")
    return base in HISTOGRAMS and suffix in ("bucket", "sum", "count")


def exposed_metrics(found: Scrape) -> set[str]:
    """The metric names of `found`'s samples, histograms by their base name."""
    names = set()
    for name in found.names():
        base, _, suffix = name.rpartition("_")
        names.add(base if base in HISTOGRAMS and suffix in ("bucket", "sum", "count") else name)
    return names


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Scrape:
    """A scrape of a server whose traffic has given every metric a sample: deliveries, a
    failure, a routing error, an HTTP error, and a mailbox held past its warning level."""
    data = tmp_path_factory.mktemp("contract") / "data"
    with live_server(data, examples=True, mailbox_capacity=4) as live:
        for n in range(INVOKES):
            invoke(live, "echo", n)
        deploy(live, "failing", TRAPS)
        invoke(live, "failing", "go")
        send(live, "nowhere", "request")
        assert live.get("/agents/no-such-agent").status_code == 404
        deploy(live, "held", SILENT)
        live.server.router.pause("held")
        for _ in range(3):  # 0.75 of 4: the watcher's next tick raises a warning
            send(live, "held")
        # The rates and mailbox events come from the watcher's thread, once a second.
        deadline = time.monotonic() + DEADLINE_S
        while True:
            found = scrape(live)
            missing = EXPOSED - exposed_metrics(found)
            if not missing:
                break
            assert time.monotonic() < deadline, f"never exposed: {sorted(missing)}"
            time.sleep(0.05)
        live.server.router.resume("held")
    return found


def test_every_documented_metric_is_exposed(contract: Scrape) -> None:
    assert exposed_metrics(contract) >= EXPOSED  # the fixture waited for this; it must hold
    held = {"agent": "held", "level": "warning"}
    assert contract.value("caxton_mailbox_threshold_events_total", held) == 1
    assert (
        contract.value(
            "caxton_messages_failed_total", {"performative": "request", "class": "system"}
        )
        == 1
    )
    assert contract.value("caxton_agent_message_rate_peak", {"agent": "echo", "window": "1h"}) >= 0


def test_nothing_undocumented_is_exposed(contract: Scrape) -> None:
    ours = {name for name in contract.names() if name.startswith(("caxton_", "process_"))}
    unexpected = {name for name in ours if not expected_series(name)}
    assert not unexpected, f"exposed but not in metric_names.EXPOSED: {sorted(unexpected)}"
