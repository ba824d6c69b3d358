"""Metrics over OTLP: the Prometheus registry's families, pushed every interval.

The same numbers as `/metrics`, from the same collector: each family is
turned into its OpenTelemetry form (counters into cumulative monotonic sums
named without `_total`, gauges into gauges, histograms into explicit-bucket
histograms) and handed to the SDK's OTLP exporter, which speaks gRPC or
HTTP. Rejected: a second set of OpenTelemetry instruments fed in parallel,
which would put instrument calls on the message path and could disagree
with `/metrics`.

`OTEL_METRICS_EXPORTER` (otlp, console, none) chooses; unset, metrics are
pushed when an OTLP endpoint is set. `OTEL_METRIC_EXPORT_INTERVAL` is the
period in milliseconds (60000 by default, as the specification has it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, cast

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric as Family

_CUMULATIVE: Final = AggregationTemporality.CUMULATIVE
_UNSET: Final = cast(float, None)

log = logging.getLogger("caxton.telemetry")


class MetricPusher:
    """Pushes `registry` through `exporter` every `interval` seconds, and once at `stop`."""

    def __init__(
        self,
        registry: CollectorRegistry,
        exporter: MetricExporter,
        resource: Resource,
        *,
        version: str,
        interval: float,
    ) -> None:
        self._registry = registry
        self._exporter = exporter
        self._resource = resource
        self._scope = InstrumentationScope("caxton", version)
        self._interval = interval
        self._started_ns = time.time_ns()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="caxton-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.push()
        self._exporter.shutdown()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.push()

    def push(self) -> bool:
        """Export the registry as it is now; False (and a log line) if the exporter failed."""
        try:
            data = self.snapshot()
            result = self._exporter.export(data)
        except Exception:  # an exporter's failure must not stop the server
            log.exception("metrics export failed")
            return False
        return result.name == "SUCCESS"

    def snapshot(self) -> MetricsData:
        now = time.time_ns()
        metrics = [
            converted
            for family in self._registry.collect()
            if (converted := convert(family, self._started_ns, now)) is not None
        ]
        scope = ScopeMetrics(scope=self._scope, metrics=metrics, schema_url="")
        return MetricsData(
            resource_metrics=[
                ResourceMetrics(resource=self._resource, scope_metrics=[scope], schema_url="")
            ]
        )


def convert(family: Family, start_ns: int, now_ns: int) -> Metric | None:
    """One Prometheus family in its OpenTelemetry form; None for kinds OTLP has no use for."""
    if family.type == "counter":
        points = [
            NumberDataPoint(dict(s.labels), start_ns, now_ns, s.value)
            for s in family.samples
            if s.name.endswith("_total")
        ]
        data: Sum | Gauge | Histogram = Sum(points, _CUMULATIVE, is_monotonic=True)
    elif family.type == "gauge":
        data = Gauge(
            [NumberDataPoint(dict(s.labels), start_ns, now_ns, s.value) for s in family.samples]
        )
    elif family.type == "histogram":
        data = Histogram(list(_histogram_points(family, start_ns, now_ns)), _CUMULATIVE)
    else:
        return None
    return Metric(name=family.name, description=family.documentation, unit=family.unit, data=data)


@dataclass
class _Series:
    buckets: list[tuple[float, float]] = field(default_factory=list)  # (le, cumulative count)
    total: float = 0.0


def _histogram_points(family: Family, start_ns: int, now_ns: int) -> Iterable[HistogramDataPoint]:
    """Prometheus' cumulative `_bucket` samples, per label set, as OTLP's per-bucket counts."""
    series: dict[tuple[tuple[str, str], ...], _Series] = {}
    for sample in family.samples:
        key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
        row = series.setdefault(key, _Series())
        if sample.name.endswith("_bucket"):
            row.buckets.append((float(sample.labels["le"]), sample.value))
        elif sample.name.endswith("_sum"):
            row.total = sample.value
    for key, row in series.items():
        row.buckets.sort()
        counts: list[int] = []
        previous = 0.0
        for _, cumulative in row.buckets:
            counts.append(int(cumulative - previous))
            previous = cumulative
        point = HistogramDataPoint(
            attributes=dict(key),
            start_time_unix_nano=start_ns,
            time_unix_nano=now_ns,
            count=int(previous),
            sum=row.total,
            bucket_counts=counts,
            explicit_bounds=[bound for bound, _ in row.buckets if bound != float("inf")],
            # Unknown from buckets. The SDK types them float, but its encoder passes
            # them to protobuf, where None leaves OTLP's optional min and max unset.
            min=_UNSET,
            max=_UNSET,
        )
        yield point
