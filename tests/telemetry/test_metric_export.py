"""Metrics over OTLP: Prometheus families in their OpenTelemetry form, pushed through the SDK's
exporters to real OTLP receivers (HTTP and gRPC), by hand and by a running server; and the
OTEL_* variables that choose exporters, protocols and the push interval."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final, cast

import pytest
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, Counter, Info, Summary
from prometheus_client import Gauge as PromGauge
from prometheus_client import Histogram as PromHistogram
from prometheus_client.metrics_core import Metric as Family

from caxton.errors import ConfigError
from caxton.router.stats import LATENCY_BOUNDS
from caxton.telemetry.exporters import (
    interval_s,
    metric_exporter,
    metric_exporter_name,
    protocol,
    trace_exporter_names,
)
from caxton.telemetry.metric_export import MetricPusher, convert
from live import Live, live_server
from otlp import DataPoint, OtlpGrpcReceiver, OtlpHttpReceiver, OtlpReceiver

START_NS: Final = 1_000
NOW_NS: Final = 2_000
RESOURCE: Final = Resource.create({"service.name": "caxton-test"})
ROUTED: Final = "caxton_messages_routed"
LATENCY: Final = "caxton_message_latency_seconds"


def families(registry: CollectorRegistry) -> dict[str, Family]:
    return {family.name: family for family in registry.collect()}


def attributes(point: NumberDataPoint | HistogramDataPoint) -> dict[str, object]:
    assert point.attributes is not None
    return dict(point.attributes)


def converted(family: Family) -> Metric:
    metric = convert(family, START_NS, NOW_NS)
    assert metric is not None
    return metric


# convert.


def test_a_counter_becomes_a_monotonic_cumulative_sum_named_without_total() -> None:
    registry = CollectorRegistry()
    jobs = Counter("jobs_total", "Jobs done", ["kind"], registry=registry)
    jobs.labels(kind="a").inc(3)
    jobs.labels(kind="b").inc()

    metric = converted(families(registry)["jobs"])
    assert (metric.name, metric.description, metric.unit) == ("jobs", "Jobs done", "")
    assert isinstance(metric.data, Sum)
    assert metric.data.is_monotonic
    assert metric.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    # One point per label set: the `_created` samples are no points of their own.
    points = {tuple(sorted(attributes(p).items())): p for p in metric.data.data_points}
    assert {key: p.value for key, p in points.items()} == {(("kind", "a"),): 3, (("kind", "b"),): 1}
    assert all(
        (p.start_time_unix_nano, p.time_unix_nano) == (START_NS, NOW_NS) for p in points.values()
    )


def test_a_gauge_stays_a_gauge() -> None:
    registry = CollectorRegistry()
    depth = PromGauge("queue_depth", "Messages waiting", ["queue"], registry=registry)
    depth.labels(queue="q1").set(7)
    depth.labels(queue="q2").set(-2.5)

    metric = converted(families(registry)["queue_depth"])
    assert metric.name == "queue_depth"
    assert isinstance(metric.data, Gauge)
    assert sorted((attributes(p)["queue"], p.value) for p in metric.data.data_points) == [
        ("q1", 7),
        ("q2", -2.5),
    ]


def test_a_histogram_has_per_bucket_counts_and_bounds_without_inf() -> None:
    registry = CollectorRegistry()
    latency = PromHistogram(
        "latency_seconds", "Latency", ["route"], buckets=(0.1, 1.0, 10.0), registry=registry
    )
    for value in (0.05, 0.5, 0.7, 5.0, 50.0, 60.0):
        latency.labels(route="/a").observe(value)
    latency.labels(route="/b").observe(0.01)

    metric = converted(families(registry)["latency_seconds"])
    assert metric.name == "latency_seconds"
    assert isinstance(metric.data, Histogram)
    assert metric.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    points = {str(attributes(p)["route"]): p for p in metric.data.data_points}
    assert {route: attributes(p) for route, p in points.items()} == {
        "/a": {"route": "/a"},
        "/b": {"route": "/b"},
    }
    a, b = points["/a"], points["/b"]
    assert list(a.explicit_bounds) == [0.1, 1.0, 10.0]
    assert list(a.bucket_counts) == [1, 2, 1, 2]  # the last is the +Inf bucket
    assert a.count == 6
    assert a.sum == pytest.approx(116.25)
    assert list(b.bucket_counts) == [1, 0, 0, 0]
    assert b.count == 1
    assert b.sum == pytest.approx(0.01)
    # Unknown from buckets: None (the SDK types them float), which leaves OTLP's unset.
    assert cast(object, a.min) is None
    assert cast(object, a.max) is None


def test_an_empty_histogram_has_zero_counts() -> None:
    registry = CollectorRegistry()
    PromHistogram("idle_seconds", "Nothing yet", buckets=(1.0,), registry=registry)
    metric = converted(families(registry)["idle_seconds"])
    assert isinstance(metric.data, Histogram)
    [point] = metric.data.data_points
    assert (list(point.bucket_counts), list(point.explicit_bounds)) == ([0, 0], [1.0])
    assert (point.count, point.sum) == (0, 0)


def test_kinds_otlp_has_no_use_for_are_left_out() -> None:
    registry = CollectorRegistry()
    Summary("request_seconds", "A summary", registry=registry).observe(1)
    Info("build", "An info", registry=registry).info({"version": "1"})
    found = families(registry)
    assert {name: convert(family, START_NS, NOW_NS) for name, family in found.items()} == {
        "request_seconds": None,
        "build": None,
    }


def test_the_encoded_histogram_has_no_min_or_max() -> None:
    # What the SDK exporters put on the wire: OTLP's optional min and max stay unset.
    registry = CollectorRegistry()
    PromHistogram("latency_seconds", "Latency", buckets=(1.0,), registry=registry).observe(0.5)
    pusher = MetricPusher(registry, ConsoleMetricExporter(), RESOURCE, version="t", interval=60)
    request = encode_metrics(pusher.snapshot())
    [metric] = request.resource_metrics[0].scope_metrics[0].metrics
    [point] = metric.histogram.data_points
    assert (point.count, list(point.bucket_counts)) == (1, [1, 0])
    assert not point.HasField("min")
    assert not point.HasField("max")
    assert not math.isnan(point.sum)


def test_a_snapshot_carries_the_resource_and_scope() -> None:
    registry = CollectorRegistry()
    Counter("jobs", "Jobs", registry=registry).inc()
    pusher = MetricPusher(registry, ConsoleMetricExporter(), RESOURCE, version="9.9", interval=60)
    [resource_metrics] = pusher.snapshot().resource_metrics
    assert resource_metrics.resource is RESOURCE
    [scope] = resource_metrics.scope_metrics
    assert (scope.scope.name, scope.scope.version) == ("caxton", "9.9")
    assert [metric.name for metric in scope.metrics] == ["jobs"]


class Broken(MetricExporter):
    def __init__(self) -> None:
        super().__init__()
        self.shut = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object
    ) -> MetricExportResult:
        raise RuntimeError("collector unreachable")

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self.shut = True


def test_a_failing_exporter_is_logged_and_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    exporter = Broken()
    pusher = MetricPusher(CollectorRegistry(), exporter, RESOURCE, version="t", interval=60)
    logger = logging.getLogger("caxton.telemetry")
    propagate = logger.propagate
    logger.propagate = True  # whatever an earlier configure() did, caplog listens at the root
    try:
        with caplog.at_level(logging.ERROR, logger="caxton.telemetry"):
            assert pusher.push() is False
            pusher.stop()  # pushes once more, then shuts the exporter down
    finally:
        logger.propagate = propagate
    failures = [r for r in caplog.records if r.getMessage() == "metrics export failed"]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert str(failures[0].exc_info[1]) == "collector unreachable"
    assert exporter.shut


# Pushing a real server's registry through the SDK's OTLP exporters.


@pytest.fixture(params=["http/protobuf", "grpc"])
def receiver(request: pytest.FixtureRequest) -> Iterator[OtlpReceiver]:
    kind = OtlpHttpReceiver if request.param == "http/protobuf" else OtlpGrpcReceiver
    with kind() as otlp:
        yield otlp


def protocol_of(receiver: OtlpReceiver) -> str:
    return "grpc" if isinstance(receiver, OtlpGrpcReceiver) else "http/protobuf"


def rally(live: Live) -> None:
    """Kick ping (three rounds with pong) and wait until every message is handled."""
    kick = live.post(
        "/messages", json={"performative": "request", "receiver": "ping", "content": "start"}
    )
    assert kick.status_code == 202, kick.text
    assert live.server.dispatcher.wait_idle(10)


def by_performative(points: Sequence[DataPoint]) -> dict[object, object]:
    """The latest value per performative (cumulative points repeat the running totals)."""
    return {point.attributes["performative"]: point.value for point in points}


def test_a_pusher_sends_a_servers_metrics_to_an_otlp_receiver(
    live: Live, receiver: OtlpReceiver
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol_of(receiver),
    }
    exporter = metric_exporter(env)
    expected = GrpcMetricExporter if isinstance(receiver, OtlpGrpcReceiver) else HttpMetricExporter
    assert isinstance(exporter, expected)
    metrics = live.server.telemetry.metrics
    assert metrics is not None
    rally(live)

    pusher = MetricPusher(metrics.registry, exporter, RESOURCE, version="t", interval=60)
    try:
        assert pusher.push() is True
    finally:
        pusher.stop()

    registry = metrics.registry
    routed = by_performative(receiver.metrics(ROUTED))
    assert routed == {
        "request": registry.get_sample_value(f"{ROUTED}_total", {"performative": "request"}),
        "inform": registry.get_sample_value(f"{ROUTED}_total", {"performative": "inform"}),
    }
    assert routed == {"request": 4, "inform": 3}  # the kick, and three rounds each way
    assert f"{ROUTED}_total" not in receiver.metric_names()

    [point, *_] = receiver.metrics(LATENCY)
    assert point.kind == "histogram"
    assert point.resource["service.name"] == "caxton-test"
    assert point.explicit_bounds == LATENCY_BOUNDS
    assert len(point.bucket_counts) == len(LATENCY_BOUNDS) + 1
    assert sum(point.bucket_counts) == point.count
    assert point.count == registry.get_sample_value(f"{LATENCY}_count")
    assert point.count >= 7
    assert point.sum == pytest.approx(registry.get_sample_value(f"{LATENCY}_sum"))

    [build] = {p.attributes["version"] for p in receiver.metrics("caxton_build_info")}
    assert build == live.server.version
    # push() and stop()'s final push: two exports, each with every family.
    exports = [e for e in receiver.exports() if e.signal == "metrics"]
    assert [e.protocol for e in exports] == [protocol_of(receiver)] * 2


def test_a_metrics_endpoint_variable_is_used_as_it_is(live: Live) -> None:
    with OtlpHttpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"{receiver.endpoint}/v1/metrics"}
        assert metric_exporter_name(env) == "otlp"
        exporter = metric_exporter(env)
        assert isinstance(exporter, HttpMetricExporter)
        metrics = live.server.telemetry.metrics
        assert metrics is not None
        pusher = MetricPusher(metrics.registry, exporter, RESOURCE, version="t", interval=60)
        try:
            assert pusher.push() is True
        finally:
            pusher.stop()
        assert receiver.metrics(LATENCY)


def test_a_server_pushes_on_its_own_every_interval(
    receiver: OtlpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol_of(receiver))
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "200")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    with live_server(tmp_path / "data", examples=True) as live:
        rally(live)
        # An export taken mid-rally may show part of it: wait for one taken after.
        receiver.wait_for_metric(
            ROUTED,
            timeout_s=10,
            until=lambda points: by_performative(points) == {"request": 4, "inform": 3},
        )
        [latency, *_] = receiver.wait_for_metric(LATENCY, timeout_s=10)
        assert latency.kind == "histogram"
        assert latency.resource["service.name"] == "caxton"
        assert latency.resource["service.version"] == live.server.version
        # Pushed again and again while the server runs, not only once at the end.
        receiver.wait_for_metric("caxton_build_info", timeout_s=10, until=lambda p: len(p) >= 3)
        assert all(e.protocol == protocol_of(receiver) for e in receiver.exports())


# Which exporters, protocol and interval the variables ask for.

ENDPOINT: Final = "http://collector:4318"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": ENDPOINT}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ENDPOINT}, None),
        ({"OTEL_METRICS_EXPORTER": "console"}, "console"),
        ({"OTEL_METRICS_EXPORTER": " OTLP "}, "otlp"),
        ({"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, None),
        ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_METRICS_EXPORTER": "console"}, None),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, "otlp"),
    ],
)
def test_which_metric_exporter_the_variables_ask_for(env: dict[str, str], name: str | None) -> None:
    assert metric_exporter_name(env) == name


def test_metric_exporter_builds_what_is_asked_for() -> None:
    assert metric_exporter({}) is None
    assert metric_exporter({"OTEL_METRICS_EXPORTER": "none"}) is None
    console = metric_exporter({"OTEL_METRICS_EXPORTER": "console"})
    assert isinstance(console, ConsoleMetricExporter)
    console.shutdown()


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ENDPOINT}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": ENDPOINT}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": " Console "}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, []),
    ],
)
def test_which_trace_exporters_the_variables_ask_for(env: dict[str, str], names: list[str]) -> None:
    assert trace_exporter_names(env) == names


@pytest.mark.parametrize(
    ("env", "signal", "chosen"),
    [
        ({}, "METRICS", "http/protobuf"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "METRICS", "grpc"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": " grpc "}, "TRACES", "grpc"),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
            },
            "METRICS",
            "http/protobuf",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
            },
            "TRACES",
            "grpc",
        ),
    ],
)
def test_which_protocol_the_variables_ask_for(
    env: dict[str, str], signal: str, chosen: str
) -> None:
    assert protocol(env, signal) == chosen


Check = Callable[[Mapping[str, str]], object]


@pytest.mark.parametrize(
    ("call", "variable", "bad"),
    [
        (metric_exporter_name, "OTEL_METRICS_EXPORTER", "prometheus"),
        (metric_exporter, "OTEL_METRICS_EXPORTER", "prometheus"),
        (trace_exporter_names, "OTEL_TRACES_EXPORTER", "jaeger"),
        (metric_exporter, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
        (interval_s, "OTEL_METRIC_EXPORT_INTERVAL", "soon"),
        (interval_s, "OTEL_METRIC_EXPORT_INTERVAL", "0"),
        (interval_s, "OTEL_METRIC_EXPORT_INTERVAL", "-500"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(
    call: Check, variable: str, bad: str
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, variable: bad}
    with pytest.raises(ConfigError) as caught:
        call(env)
    assert caught.value.setting == variable
    assert str(caught.value).startswith(f"{variable}: {bad!r} is not ")


def test_a_bad_protocol_for_one_signal_names_that_signals_variable() -> None:
    env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}
    with pytest.raises(ConfigError, match=r"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json'"):
        protocol(env, "TRACES")
    assert protocol(env, "METRICS") == "http/protobuf"  # the other signal is unaffected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, 60.0), ("", 60.0), ("200", 0.2), (" 1500 ", 1.5), ("0.5", 0.0005), ("6e4", 60.0)],
)
def test_the_push_interval_is_in_milliseconds(text: str | None, seconds: float) -> None:
    env = {} if text is None else {"OTEL_METRIC_EXPORT_INTERVAL": text}
    assert interval_s(env) == pytest.approx(seconds)


# nan would make the pusher spin (Event.wait(nan) returns at once); inf would kill its
# thread (Event.wait(inf) raises OverflowError).
@pytest.mark.parametrize("text", ["nan", "inf", "1e300"])
def test_a_non_finite_or_huge_push_interval_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="OTEL_METRIC_EXPORT_INTERVAL"):
        interval_s({"OTEL_METRIC_EXPORT_INTERVAL": text})
