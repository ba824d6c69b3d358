"""A real Prometheus scrapes a real Caxton's /metrics and answers queries about it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from live import live_server
from prometheus_server import prometheus_server

INVOKES: Final = 5
DEADLINE_S: Final = 30.0


@contextmanager
def stand_in_exporter(registry: CollectorRegistry) -> Iterator[str]:
    """prometheus_client's own /metrics server for `registry` on 127.0.0.1; its URL."""
    http, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{http.server_port}/metrics"
    finally:
        http.shutdown()
        http.server_close()
        thread.join()


def test_the_helper_scrapes_a_target_and_evaluates_the_rules(tmp_path: Path) -> None:
    # A stand-in for Caxton, so that the helper and the rules are proven against a real
    # Prometheus whatever state the server's /metrics is in.
    registry = CollectorRegistry()
    answer = Gauge("stand_in_answer", "A value to read back", registry=registry)
    answer.set(42)
    agents = Gauge("caxton_agents", "Agents by state", ["state"], registry=registry)
    agents.labels(state="Running").set(2)
    agents.labels(state="Failed").set(1)
    with (
        stand_in_exporter(registry) as target,
        prometheus_server(target, tmp_path / "prometheus") as prometheus,
    ):
        prometheus.wait_for('up{job="caxton"} == 1', DEADLINE_S)
        assert prometheus.value("stand_in_answer", DEADLINE_S) == 42
        (series,) = prometheus.wait_for("stand_in_answer", DEADLINE_S)
        assert series["metric"]["job"] == "caxton"
        assert series["metric"]["instance"] == target.removeprefix("http://").split("/")[0]
        # The rules are loaded and see the scraped labels: one Failed agent makes
        # CaxtonAgentFailed pending at once (it fires only after a minute).
        alert = prometheus.wait_for('ALERTS{alertname="CaxtonAgentFailed"}', DEADLINE_S)
        assert [a["metric"]["alertstate"] for a in alert] == ["pending"]
        assert prometheus.query('ALERTS{alertname="CaxtonDown"}') == []


def test_prometheus_reads_what_caxton_exposes(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", examples=True) as live:
        for n in range(INVOKES):
            answer = live.post("/agents/echo/invoke", json={"content": {"n": n}})
            assert answer.status_code == 200, answer.text
        # Least privilege: Prometheus scrapes with a viewer key of its own.
        token = live.post("/auth/keys", json={"role": "viewer", "name": "prometheus"})
        token_file = tmp_path / "caxton.token"
        token_file.write_text(token.json()["token"])
        with prometheus_server(
            f"{live.url}/metrics", tmp_path / "prometheus", token_file=token_file
        ) as prometheus:
            # The comparisons are in PromQL so that the wait lasts until they hold, and a
            # failure reports the target's health (a 404 while /metrics is missing, say).
            prometheus.wait_for('up{job="caxton"} == 1', DEADLINE_S)
            # Each invoke routes at least the request to echo.
            routed = prometheus.value("sum(caxton_messages_routed_total) > 0", DEADLINE_S)
            assert routed >= INVOKES
            running = prometheus.value('caxton_agents{state="Running"} >= 1', DEADLINE_S)
            assert running >= 1  # echo, ping and pong were deployed and started
            states = prometheus.wait_for("caxton_agents", DEADLINE_S)
            assert {series["metric"]["state"] for series in states} == {
                "Unloaded",
                "Loaded",
                "Running",
                "Draining",
                "Stopped",
                "Failed",
            }
