"""Tool calls in the metrics and in traces: a real server, a real MCP server, a real OTLP
receiver."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_tool_calls import answer, run

from caxton.tools import ToolServerSpec
from live import Live, live_server
from otlp import OtlpHttpReceiver

TIME_SERVER = Path(sys.prefix) / "bin" / "mcp-server-time"
DEADLINE_S = 20.0
CALL = {"tool": "time/get_current_time", "arguments": {"timezone": "UTC"}, "reply_with": "t"}


@pytest.fixture
def otlp() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def traced(
    otlp: OtlpHttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Live]:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    with live_server(tmp_path / "data") as live:
        live.server.tools.add_server(ToolServerSpec.stdio("time", str(TIME_SERVER)))
        assert live.server.tools.wait_ready("time", DEADLINE_S)
        yield live


def tool_counts(live: Live) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{live.url}/metrics", headers=live.headers).text
    return {
        (sample.labels["tool"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "caxton_tool_call_seconds_count"
    }


def test_each_call_is_counted_by_tool_and_outcome(traced: Live) -> None:
    run(traced, "clock", CALL, grant="time/*")
    assert answer(traced, "clock")["performative"] == "inform"
    made_up = {"tool": "time/nonsense", "arguments": {}, "reply_with": "n"}
    run(traced, "confused", made_up, grant="time/*")
    assert answer(traced, "confused")["content"]["error"] == "unknown-tool"
    deadline = time.monotonic() + DEADLINE_S
    while len(counts := tool_counts(traced)) < 2:
        assert time.monotonic() < deadline, counts
        time.sleep(0.05)  # counted on the answering thread, after the answer
    assert counts == {("time/get_current_time", "ok"): 1.0, ("_unknown", "unknown-tool"): 1.0}


def test_a_call_is_a_span_under_the_handling_that_made_it(
    traced: Live, otlp: OtlpHttpReceiver
) -> None:
    run(traced, "clock", CALL, grant="time/*")
    answer(traced, "clock")
    [tool_span] = otlp.wait_for_spans(lambda span: span.name == "tool time/get_current_time")
    assert tool_span.kind == 3  # OTLP's CLIENT
    assert tool_span.attributes["caxton.agent"] == "clock"
    assert tool_span.attributes["caxton.tool.outcome"] == "ok"
    spans = {span.span_id: span for span in otlp.spans()}
    parent = spans[tool_span.parent_span_id]
    assert (parent.name, parent.attributes["caxton.agent"]) == ("handle inform", "clock")
