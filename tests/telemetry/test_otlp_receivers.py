"""The OTLP receivers of tests/otlp.py, fed by the real OpenTelemetry SDK exporters."""

from __future__ import annotations

import gzip
import json
import math
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping

import psutil
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcLogExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import (
    OTLPLogExporter as HttpLogExporter,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otlp import DataPoint, OtlpGrpcReceiver, OtlpHttpReceiver, OtlpReceiver

RESOURCE = Resource.create({"service.name": "caxton-test"})
# Bounds a failing export, retries included, well below the exporters' default of 10 s.
EXPORT_TIMEOUT_S = 5


@pytest.fixture(params=["http", "grpc"])
def otlp(request: pytest.FixtureRequest) -> Iterator[OtlpReceiver]:
    receiver: OtlpReceiver = OtlpHttpReceiver() if request.param == "http" else OtlpGrpcReceiver()
    with receiver:
        yield receiver


def span_exporter(otlp: OtlpReceiver, headers: Mapping[str, str] | None = None) -> SpanExporter:
    if isinstance(otlp, OtlpHttpReceiver):
        return HttpSpanExporter(
            endpoint=f"{otlp.endpoint}/v1/traces", headers=headers, timeout=EXPORT_TIMEOUT_S
        )
    return GrpcSpanExporter(
        endpoint=otlp.address,
        insecure=True,
        headers=dict(headers or {}),
        timeout=EXPORT_TIMEOUT_S,
    )


def metric_exporter(otlp: OtlpReceiver) -> MetricExporter:
    if isinstance(otlp, OtlpHttpReceiver):
        return HttpMetricExporter(endpoint=f"{otlp.endpoint}/v1/metrics", timeout=EXPORT_TIMEOUT_S)
    # An http:// endpoint means insecure to the gRPC exporter, as OTEL_EXPORTER_OTLP_ENDPOINT does.
    return GrpcMetricExporter(endpoint=otlp.endpoint, timeout=EXPORT_TIMEOUT_S)


def log_exporter(otlp: OtlpReceiver) -> LogRecordExporter:
    if isinstance(otlp, OtlpHttpReceiver):
        return HttpLogExporter(endpoint=f"{otlp.endpoint}/v1/logs", timeout=EXPORT_TIMEOUT_S)
    return GrpcLogExporter(endpoint=otlp.address, insecure=True, timeout=EXPORT_TIMEOUT_S)


def test_parent_and_child_spans_arrive_with_ids_and_attributes(otlp: OtlpReceiver) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(span_exporter(otlp, {"x-tenant": "t1"})))
    tracer = provider.get_tracer("caxton.tests")
    try:
        with (
            tracer.start_as_current_span("deploy", attributes={"agent.id": "a1"}) as parent,
            tracer.start_as_current_span(
                "invoke",
                kind=SpanKind.CLIENT,
                attributes={"fuel": 1200, "ok": True, "ratio": 0.5, "tags": ["x", "y"]},
            ) as child,
        ):
            child.set_status(Status(StatusCode.ERROR, "trapped"))
    finally:
        provider.shutdown()

    [deploy] = otlp.wait_for_spans(lambda s: s.name == "deploy")
    [invoke] = otlp.wait_for_spans(lambda s: s.name == "invoke")
    parent_context, child_context = parent.get_span_context(), child.get_span_context()
    assert deploy.trace_id == invoke.trace_id == f"{parent_context.trace_id:032x}"
    assert deploy.span_id == f"{parent_context.span_id:016x}"
    assert invoke.span_id == f"{child_context.span_id:016x}"
    assert deploy.parent_span_id == ""
    assert invoke.parent_span_id == deploy.span_id
    assert deploy.attributes == {"agent.id": "a1"}
    assert invoke.attributes == {"fuel": 1200, "ok": True, "ratio": 0.5, "tags": ["x", "y"]}
    assert (deploy.kind, invoke.kind) == (1, 3)  # OTLP's INTERNAL and CLIENT
    assert (invoke.status_code, invoke.status_message) == (2, "trapped")
    assert deploy.status_code == 0
    assert invoke.scope == "caxton.tests"
    assert deploy.resource["service.name"] == "caxton-test"
    assert deploy.start_ns <= invoke.start_ns <= invoke.end_ns <= deploy.end_ns
    assert [export.headers.get("x-tenant") for export in otlp.exports()] == ["t1", "t1"]


def test_waiting_returns_once_spans_exported_in_the_background_arrive(otlp: OtlpReceiver) -> None:
    # The batch processor exports from its own thread after the delay, while the test waits.
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(BatchSpanProcessor(span_exporter(otlp), schedule_delay_millis=50))
    try:
        tracer = provider.get_tracer("caxton.tests")
        for name in ("first", "second", "third"):
            with tracer.start_as_current_span(name):
                pass
        spans = otlp.wait_for_spans(count=3)
    finally:
        provider.shutdown()

    assert sorted(span.name for span in spans) == ["first", "second", "third"]


def test_endpoint_is_the_base_for_the_standard_variable(
    otlp: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint)
    exporter: SpanExporter = (
        HttpSpanExporter(timeout=EXPORT_TIMEOUT_S)
        if isinstance(otlp, OtlpHttpReceiver)
        else GrpcSpanExporter(timeout=EXPORT_TIMEOUT_S)
    )
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        with provider.get_tracer("caxton.tests").start_as_current_span("deploy"):
            pass
    finally:
        provider.shutdown()

    assert [span.name for span in otlp.wait_for_spans()] == ["deploy"]


def test_counter_and_histogram_arrive_with_their_values(otlp: OtlpReceiver) -> None:
    # No export thread: force_flush exports when the test says so.
    reader = PeriodicExportingMetricReader(metric_exporter(otlp), export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
    meter = provider.get_meter("caxton.tests")
    messages = meter.create_counter("caxton.messages", unit="{message}")
    latency = meter.create_histogram(
        "caxton.latency", unit="ms", explicit_bucket_boundaries_advisory=[10.0, 100.0]
    )
    try:
        messages.add(2, {"agent": "a"})
        messages.add(3, {"agent": "a"})
        messages.add(1, {"agent": "b"})
        for ms in (3.0, 30.0, 300.0, 40.0):
            latency.record(ms, {"agent": "a"})
        assert provider.force_flush(timeout_millis=EXPORT_TIMEOUT_S * 1000)
    finally:
        provider.shutdown()

    assert {"caxton.messages", "caxton.latency"} <= otlp.metric_names()

    def by_agent(points: list[DataPoint]) -> dict[object, DataPoint]:
        return {point.attributes["agent"]: point for point in points}

    # Shutdown exports the same cumulative totals again: compare only the last export's points.
    counted = by_agent(otlp.wait_for_metric("caxton.messages"))
    assert {agent: (p.kind, p.value) for agent, p in counted.items()} == {
        "a": ("sum", 5),
        "b": ("sum", 1),
    }
    [histogram] = by_agent(otlp.wait_for_metric("caxton.latency")).values()
    assert histogram.kind == "histogram"
    assert histogram.count == 4
    assert histogram.sum == pytest.approx(373.0)
    assert histogram.explicit_bounds == (10.0, 100.0)
    assert histogram.bucket_counts == (1, 2, 1)
    assert histogram.resource["service.name"] == "caxton-test"


def test_log_records_arrive(otlp: OtlpReceiver) -> None:
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter(otlp)))
    try:
        provider.get_logger("caxton.tests").emit(
            body="agent a1 started",
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            attributes={"agent.id": "a1"},
        )
    finally:
        provider.shutdown()

    [record] = otlp.wait_for_logs()
    assert record.body == "agent a1 started"
    assert (record.severity_number, record.severity_text) == (SeverityNumber.WARN.value, "WARN")
    assert record.attributes == {"agent.id": "a1"}
    assert record.scope == "caxton.tests"
    assert record.resource["service.name"] == "caxton-test"


def test_waiting_too_long_fails_with_what_arrived(otlp: OtlpReceiver) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(span_exporter(otlp)))
    try:
        with provider.get_tracer("caxton.tests").start_as_current_span("deploy"):
            pass
    finally:
        provider.shutdown()

    with pytest.raises(AssertionError, match=r"1 span\(s\) \{'deploy': 1\}"):
        otlp.wait_for_spans(lambda s: s.name == "invoke", timeout_s=0.05)
    with pytest.raises(AssertionError, match=r"'caxton\.messages' not as expected"):
        otlp.wait_for_metric("caxton.messages", timeout_s=0.05)


def test_gzip_bodies_are_decoded() -> None:
    with OtlpHttpReceiver() as otlp:
        exporter = HttpSpanExporter(
            endpoint=f"{otlp.endpoint}/v1/traces",
            compression=Compression.Gzip,
            timeout=EXPORT_TIMEOUT_S,
        )
        provider = TracerProvider(resource=RESOURCE)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        try:
            with provider.get_tracer("caxton.tests").start_as_current_span("deploy"):
                pass
        finally:
            provider.shutdown()

        [span] = otlp.wait_for_spans()
        assert span.name == "deploy"
        [export] = otlp.exports()
        assert (export.protocol, export.headers["content-encoding"]) == ("http/protobuf", "gzip")


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=EXPORT_TIMEOUT_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def test_otlp_json_is_accepted_with_hex_ids() -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "curl"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "send",
                                "kind": 2,
                                "startTimeUnixNano": "1000",
                                "endTimeUnixNano": "2000",
                                "attributes": [{"key": "n", "value": {"intValue": "7"}}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    with OtlpHttpReceiver() as otlp:
        status, answer = post(
            f"{otlp.endpoint}/v1/traces",
            gzip.compress(json.dumps(body).encode()),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert (status, json.loads(answer)) == (200, {})
        [span] = otlp.wait_for_spans()

    assert (span.trace_id, span.span_id, span.parent_span_id) == (trace_id, span_id, "")
    assert (span.name, span.kind, span.start_ns, span.end_ns) == ("send", 2, 1000, 2000)
    assert (span.attributes, span.resource, span.scope) == (
        {"n": 7},
        {"service.name": "json"},
        "curl",
    )


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"),
    [
        ("/v1/profiles", {"Content-Type": "application/x-protobuf"}, b"", 404),
        ("/v1/traces", {"Content-Type": "text/plain"}, b"", 415),
        ("/v1/traces", {"Content-Type": "application/x-protobuf"}, b"\xff\xff", 400),
        ("/v1/traces", {"Content-Type": "application/json"}, b"{", 400),
        (
            "/v1/traces",
            {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
            b"x",
            400,
        ),
    ],
)
def test_http_refuses_what_a_collector_would(
    path: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    with OtlpHttpReceiver() as otlp:
        assert post(f"{otlp.endpoint}{path}", body, headers)[0] == status
        assert otlp.exports() == []


def test_an_empty_protobuf_export_is_answered_with_an_empty_response() -> None:
    with OtlpHttpReceiver() as otlp:
        status, answer = post(
            f"{otlp.endpoint}/v1/metrics", b"", {"Content-Type": "application/x-protobuf"}
        )
        assert (status, answer) == (200, b"")
        assert [export.signal for export in otlp.exports()] == ["metrics"]
        assert otlp.metric_names() == set()


@pytest.mark.parametrize("kind", [OtlpHttpReceiver, OtlpGrpcReceiver])
def test_receivers_listen_on_loopback_only_while_in_use(
    kind: type[OtlpHttpReceiver] | type[OtlpGrpcReceiver],
) -> None:
    receiver = kind()
    with pytest.raises(RuntimeError, match="not running"):
        _ = receiver.endpoint
    with receiver:
        port = receiver.port
        assert receiver.endpoint == f"http://127.0.0.1:{port}"
        listening = {
            # gRPC listens on an IPv6 socket bound to 127.0.0.1's v4-mapped address.
            connection.laddr.ip.removeprefix("::ffff:")
            for connection in psutil.Process().net_connections("inet")
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        }
        assert listening == {"127.0.0.1"}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
