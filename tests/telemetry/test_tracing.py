"""Traces: one trace from an HTTP request through every agent it reaches, exported over OTLP.

A real server exports to a real OTLP receiver (HTTP and gRPC) configured only
through the standard OTEL_* variables, as an operator would.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import wasmtime

from caxton.errors import ConfigError
from caxton.server.server import Server
from caxton.settings import Settings
from caxton.telemetry.exporters import protocol, trace_exporter_names
from live import Live, live_server
from otlp import OtlpGrpcReceiver, OtlpHttpReceiver, OtlpReceiver, Span

SERVER, PRODUCER, CONSUMER = 2, 4, 5  # OTLP's span kinds
INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_PARENT = "00f067aa0ba902b7"


@pytest.fixture(params=["http/protobuf", "grpc"])
def receiver(request: pytest.FixtureRequest) -> Iterator[OtlpReceiver]:
    kind = OtlpHttpReceiver if request.param == "http/protobuf" else OtlpGrpcReceiver
    with kind() as otlp:
        yield otlp


@pytest.fixture
def traced(
    receiver: OtlpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Live]:
    """A server with the example agents, exporting spans to `receiver`."""
    protocol_name = "grpc" if isinstance(receiver, OtlpGrpcReceiver) else "http/protobuf"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol_name)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # export within 50 ms, not 5 s
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    with live_server(tmp_path / "data", examples=True) as live:
        yield live


def by_id(spans: list[Span]) -> dict[str, Span]:
    return {span.span_id: span for span in spans}


def chain(spans: list[Span], leaf: Span) -> list[str]:
    """Span names from the highest of `spans` down to `leaf`."""
    index = by_id(spans)
    return [index[span_id].name for span_id in chain_ids(spans, leaf)]


def test_an_invoke_is_one_trace_from_http_through_the_agent_and_back(
    traced: Live, receiver: OtlpReceiver
) -> None:
    answer = traced.post(
        "/agents/echo/invoke",
        json={"content": {"hello": "trace"}},
        headers={"traceparent": f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"},
    )
    assert answer.status_code == 200
    reply = answer.json()["reply"]
    spans = receiver.wait_for_spans(
        lambda span: span.trace_id == INCOMING_TRACE, timeout_s=10, count=5
    )
    [gateway_handle] = [s for s in spans if s.name == "handle inform"]
    assert gateway_handle.attributes["caxton.agent"] == "gateway"
    assert chain(spans, gateway_handle) == [
        "HTTP POST /api/v1/agents/{name}/invoke",
        "send request",
        "handle request",
        "send inform",
        "handle inform",
    ]
    index = by_id(spans)
    http = index[chain_ids(spans, gateway_handle)[0]]
    assert http.kind == SERVER
    assert http.parent_span_id == INCOMING_PARENT  # the caller's traceparent header is the parent
    assert http.attributes["http.route"] == "/api/v1/agents/{name}/invoke"
    assert http.attributes["http.response.status_code"] == 200
    [echo_handle] = [s for s in spans if s.name == "handle request"]
    assert echo_handle.kind == CONSUMER
    assert echo_handle.attributes["caxton.agent"] == "echo"
    assert echo_handle.attributes["caxton.conversation_id"] == reply["conversation_id"]
    [echo_reply] = [s for s in spans if s.name == "send inform"]
    assert echo_reply.kind == PRODUCER
    assert echo_reply.attributes["caxton.agent"] == "echo"
    # The reply carries its own span as the parent id of its traceparent.
    assert reply["trace"]["traceparent"][:52] == f"00-{INCOMING_TRACE}-{echo_reply.span_id}"
    assert sampled_flag(reply["trace"]["traceparent"])
    assert echo_reply.resource["service.name"] == "caxton"


def sampled_flag(traceparent: str) -> bool:
    return bool(int(traceparent[-2:], 16) & 1)  # other bits (W3C's "random") may be set


def chain_ids(spans: list[Span], leaf: Span) -> list[str]:
    index = by_id(spans)
    ids = [leaf.span_id]
    while index[ids[-1]].parent_span_id in index:
        ids.append(index[ids[-1]].parent_span_id)
    return ids[::-1]


def test_a_conversation_between_agents_stays_in_the_trace_that_started_it(
    traced: Live, receiver: OtlpReceiver
) -> None:
    traced.post(
        "/messages",
        json={"performative": "request", "receiver": "ping", "content": "start"},
        headers={"traceparent": f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"},
    )
    # ping and pong play three rounds: each handling is a span of the same trace.
    spans = receiver.wait_for_spans(
        lambda span: span.trace_id == INCOMING_TRACE and span.name.startswith("handle"),
        timeout_s=10,
        count=7,
    )
    agents = [span.attributes["caxton.agent"] for span in spans]
    assert agents.count("ping") == 4  # the kick, then three answers
    assert agents.count("pong") == 3
    everything = receiver.spans()
    deepest = max(spans, key=lambda span: len(chain_ids(everything, span)))
    assert len(chain_ids(everything, deepest)) >= 15  # HTTP, then send/handle twice a hop
    # ping keeps its rounds in its durable state: each write is a span in its handling.
    writes = receiver.wait_for_spans(
        lambda span: span.trace_id == INCOMING_TRACE and span.name == "kv set", count=1
    )
    index = by_id(receiver.spans())
    for write in writes:
        assert write.attributes["caxton.agent"] == "ping"
        assert write.attributes["caxton.kv.stored"] is True
        assert write.attributes["caxton.kv.key_bytes"] == len("rounds_done")
        parent = index[write.parent_span_id]
        assert (parent.name, parent.attributes["caxton.agent"]) == ("handle inform", "ping")


def test_deploys_and_lifecycle_transitions_are_spans(traced: Live, receiver: OtlpReceiver) -> None:
    text = resources.files("caxton.examples").joinpath("echo.wat").read_text()
    answer = traced.post(
        "/agents",
        params={"name": "echo-two"},
        content=bytes(wasmtime.wat2wasm(text)),
        headers={"content-type": "application/wasm"},
    )
    assert answer.status_code == 201, answer.text
    spans = receiver.wait_for_spans(
        lambda span: span.attributes.get("caxton.agent") == "echo-two", timeout_s=10, count=3
    )
    names = {span.name for span in spans}
    assert {"deploy echo-two", "agent Loaded echo-two", "agent Running echo-two"} <= names
    deploy = next(span for span in spans if span.name == "deploy echo-two")
    running = next(span for span in spans if span.name == "agent Running echo-two")
    assert running.parent_span_id == deploy.span_id
    assert running.trace_id == deploy.trace_id


def test_a_trace_sampled_out_records_no_message_spans_and_says_so_downstream(
    receiver: OtlpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "grpc" if isinstance(receiver, OtlpGrpcReceiver) else "http/protobuf",
    )
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    with live_server(tmp_path / "data", examples=True) as live:
        unsampled = live.post("/agents/echo/invoke", json={"content": 1}).json()["reply"]
        # A caller's sampled trace is followed even so: the sampler is parent-based.
        sampled = live.post(
            "/agents/echo/invoke",
            json={"content": 2},
            headers={"traceparent": f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"},
        ).json()["reply"]
        receiver.wait_for_spans(lambda span: span.trace_id == INCOMING_TRACE, count=5)
    assert not sampled_flag(unsampled["trace"]["traceparent"])
    assert sampled_flag(sampled["trace"]["traceparent"])
    unsampled_trace = unsampled["trace"]["traceparent"][3:35]
    assert not [span for span in receiver.spans() if span.trace_id == unsampled_trace]


def test_without_an_exporter_no_spans_are_made_but_messages_carry_trace_ids(
    live: Live,
) -> None:
    assert live.server.telemetry.provider is None
    assert live.server.router.tracer is None
    reply = live.post("/agents/echo/invoke", json={"content": 3}).json()["reply"]
    assert reply["trace"]["traceparent"].startswith("00-")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, []),
    ],
)
def test_which_trace_exporters_the_variables_ask_for(env: dict[str, str], names: list[str]) -> None:
    assert trace_exporter_names(env) == names


def test_an_unknown_exporter_or_protocol_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER: 'jaeger' is not one of"):
        trace_exporter_names({"OTEL_TRACES_EXPORTER": "jaeger"})
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json'"):
        protocol({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "TRACES")
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'udp'"):
        protocol({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"}, "TRACES")
    assert protocol({}, "TRACES") == "http/protobuf"
    assert protocol({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "TRACES") == "grpc"


def test_a_server_refuses_to_start_with_a_broken_otel_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        Server(Settings(data_dir=tmp_path / "data"))
