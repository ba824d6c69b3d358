"""Which exporters the OTEL_* variables ask for, and building them.

The OTLP exporters are imported only when asked for: the gRPC one alone
costs ~120 ms of start-up (grpcio), the HTTP one ~80 ms. They read the
rest of their configuration (headers, certificates, timeouts, compression)
from the OTEL_EXPORTER_OTLP_* variables themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from caxton.errors import ConfigError

EXPORTERS: Final = ("otlp", "console", "none")
PROTOCOLS: Final = ("grpc", "http/protobuf")
DEFAULT_INTERVAL_MS: Final = 60_000
_LONGEST_INTERVAL_MS: Final = 86_400_000


def trace_exporter_names(env: Mapping[str, str]) -> list[str]:
    """The trace exporters `env` asks for (possibly none); ConfigError for an unknown one."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    text = env.get("OTEL_TRACES_EXPORTER", "").strip()
    if not text:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in EXPORTERS:
            raise ConfigError(
                "OTEL_TRACES_EXPORTER", f"{name!r} is not one of {', '.join(EXPORTERS)}"
            )
    return [name for name in names if name != "none"]


def protocol(env: Mapping[str, str], signal: str) -> str:
    """The OTLP protocol for `signal` (TRACES, METRICS): grpc or http/protobuf."""
    for variable in (f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        chosen = env.get(variable, "").strip()
        if chosen:
            if chosen not in PROTOCOLS:
                raise ConfigError(variable, f"{chosen!r} is not one of {', '.join(PROTOCOLS)}")
            return chosen
    return "http/protobuf"


def span_exporter(env: Mapping[str, str], name: str) -> SpanExporter:
    """The span exporter called `name` (otlp or console)."""
    return ConsoleSpanExporter() if name == "console" else _otlp_span_exporter(env)


def _otlp_span_exporter(env: Mapping[str, str]) -> SpanExporter:
    chosen, endpoint = _otlp_target(env, "TRACES")
    if chosen == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(endpoint=endpoint)


def _otlp_target(env: Mapping[str, str], signal: str) -> tuple[str, str | None]:
    """The protocol for `signal` (TRACES, METRICS), and its endpoint as that exporter wants it.

    The exporters read the rest (headers, certificates, timeouts, compression)
    from the OTEL_EXPORTER_OTLP_* variables themselves.
    """
    own = env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    chosen = protocol(env, signal)
    if chosen == "grpc":
        return chosen, own or base
    if own is None and base is not None:  # over HTTP, each signal has its own path
        own = base.rstrip("/") + f"/v1/{signal.lower()}"
    return chosen, own


def metric_exporter_name(env: Mapping[str, str]) -> str | None:
    """otlp, console, or None: what `env` asks metrics to be pushed with."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    chosen = env.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    if not chosen:
        endpoint = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return "otlp" if endpoint else None
    if chosen not in ("otlp", "console", "none"):
        raise ConfigError("OTEL_METRICS_EXPORTER", f"{chosen!r} is not one of otlp, console, none")
    return None if chosen == "none" else chosen


def metric_exporter(env: Mapping[str, str]) -> MetricExporter | None:
    name = metric_exporter_name(env)
    if name is None:
        return None
    if name == "console":
        return ConsoleMetricExporter()
    chosen, endpoint = _otlp_target(env, "METRICS")
    if chosen == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcExporter,
        )

        return GrpcExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpExporter,
    )

    return HttpExporter(endpoint=endpoint)


def interval_s(env: Mapping[str, str]) -> float:
    text = env.get("OTEL_METRIC_EXPORT_INTERVAL", "").strip()
    if not text:
        return DEFAULT_INTERVAL_MS / 1000
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= _LONGEST_INTERVAL_MS:  # also refuses nan
        raise ConfigError(
            "OTEL_METRIC_EXPORT_INTERVAL",
            f"{text!r} is not a number of milliseconds above 0 and at most a day "
            f"({_LONGEST_INTERVAL_MS})",
        )
    return value / 1000
