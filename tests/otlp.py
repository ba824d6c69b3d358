"""Real OTLP receivers on 127.0.0.1 (ephemeral ports), for tests of what Caxton exports.

There is no OpenTelemetry Collector on the test machines, so these stand in for one: they
decode what exporters send with opentelemetry-proto, answer as a collector would, and keep
the decoded spans, metric points and log records in memory until the `with` block ends.

    with OtlpHttpReceiver() as otlp:           # or OtlpGrpcReceiver()
        ... export to otlp.endpoint ...       # the OTEL_EXPORTER_OTLP_ENDPOINT base
        [span] = otlp.wait_for_spans(lambda s: s.name == "invoke")
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Protocol, Self

import grpc  # type: ignore[import-untyped]  # grpcio ships no stubs; wrapped by _GrpcServer below
from google.protobuf import json_format  # type: ignore[import-untyped]  # protobuf has no stubs
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]  # as above
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric, NumberDataPoint
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

ExportRequest = ExportTraceServiceRequest | ExportMetricsServiceRequest | ExportLogsServiceRequest
ExportResponse = (
    ExportTraceServiceResponse | ExportMetricsServiceResponse | ExportLogsServiceResponse
)

DEFAULT_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class Span:
    """A received span. `kind` and `status_code` are the OTLP enum values, not the SDK's:
    kind 1 internal, 2 server, 3 client, 4 producer, 5 consumer; status 0 unset, 1 ok, 2 error.
    """

    name: str
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # 16 hex digits, or "" for a root span
    kind: int
    attributes: dict[str, object]
    resource: dict[str, object]
    status_code: int
    start_ns: int
    end_ns: int
    scope: str
    status_message: str


@dataclass(frozen=True)
class DataPoint:
    """One received metric point. `kind` is the OTLP data field: "sum", "gauge", "histogram",
    "exponential_histogram" or "summary"; sums and gauges have `value`, the others `count`
    and `sum` (and explicit-bucket histograms `bucket_counts` and `explicit_bounds`).
    """

    name: str
    kind: str
    attributes: dict[str, object]
    resource: dict[str, object]
    time_ns: int
    value: int | float | None = None
    count: int | None = None
    sum: float | None = None
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()


@dataclass(frozen=True)
class LogRecord:
    body: object
    severity_number: int
    severity_text: str
    attributes: dict[str, object]
    resource: dict[str, object]
    trace_id: str  # "" when the record was not emitted inside a span
    span_id: str
    scope: str


@dataclass(frozen=True)
class Export:
    """One export request as it arrived: which signal, over what, with which headers."""

    signal: str  # "traces", "metrics" or "logs"
    protocol: str  # "http/protobuf", "http/json" or "grpc"
    headers: dict[str, str]  # names lower-cased, as HTTP/2 (gRPC) sends them anyway


def decode_value(value: AnyValue) -> object:
    """An OTLP AnyValue as the Python value an SDK attribute would have been."""
    match value.WhichOneof("value"):
        case "string_value":
            return value.string_value
        case "bool_value":
            return value.bool_value
        case "int_value":
            return value.int_value
        case "double_value":
            return value.double_value
        case "bytes_value":
            return value.bytes_value
        case "array_value":
            return [decode_value(item) for item in value.array_value.values]
        case "kvlist_value":
            return decode_attributes(value.kvlist_value.values)
        case "string_value_strindex":
            # Only profiles use dictionary-indexed strings; keep the index rather than guess.
            return value.string_value_strindex
        case None:
            return None


def decode_attributes(attributes: Iterable[KeyValue]) -> dict[str, object]:
    return {kv.key: decode_value(kv.value) for kv in attributes}


def _resource(resource: Resource) -> dict[str, object]:
    return decode_attributes(resource.attributes)


def decode_spans(request: ExportTraceServiceRequest) -> list[Span]:
    return [
        Span(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            kind=span.kind,
            attributes=decode_attributes(span.attributes),
            resource=_resource(resource_spans.resource),
            status_code=span.status.code,
            start_ns=span.start_time_unix_nano,
            end_ns=span.end_time_unix_nano,
            scope=scope_spans.scope.name,
            status_message=span.status.message,
        )
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def _number(point: NumberDataPoint) -> int | float | None:
    match point.WhichOneof("value"):
        case "as_int":
            return point.as_int
        case "as_double":
            return point.as_double
        case None:
            return None


def _metric_points(metric: Metric, resource: dict[str, object]) -> list[DataPoint]:
    kind = metric.WhichOneof("data")
    match kind:
        case "sum" | "gauge":
            numbers = metric.sum.data_points if kind == "sum" else metric.gauge.data_points
            return [
                DataPoint(
                    name=metric.name,
                    kind=kind,
                    attributes=decode_attributes(point.attributes),
                    resource=resource,
                    time_ns=point.time_unix_nano,
                    value=_number(point),
                )
                for point in numbers
            ]
        case "histogram":
            return [
                DataPoint(
                    name=metric.name,
                    kind=kind,
                    attributes=decode_attributes(point.attributes),
                    resource=resource,
                    time_ns=point.time_unix_nano,
                    count=point.count,
                    sum=point.sum if point.HasField("sum") else None,
                    bucket_counts=tuple(point.bucket_counts),
                    explicit_bounds=tuple(point.explicit_bounds),
                )
                for point in metric.histogram.data_points
            ]
        case "exponential_histogram":
            return [
                DataPoint(
                    name=metric.name,
                    kind=kind,
                    attributes=decode_attributes(point.attributes),
                    resource=resource,
                    time_ns=point.time_unix_nano,
                    count=point.count,
                    sum=point.sum if point.HasField("sum") else None,
                )
                for point in metric.exponential_histogram.data_points
            ]
        case "summary":
            return [
                DataPoint(
                    name=metric.name,
                    kind=kind,
                    attributes=decode_attributes(point.attributes),
                    resource=resource,
                    time_ns=point.time_unix_nano,
                    count=point.count,
                    sum=point.sum,
                )
                for point in metric.summary.data_points
            ]
        case None:
            return []


def decode_metrics(request: ExportMetricsServiceRequest) -> list[DataPoint]:
    points: list[DataPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = _resource(resource_metrics.resource)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points.extend(_metric_points(metric, resource))
    return points


def decode_logs(request: ExportLogsServiceRequest) -> list[LogRecord]:
    return [
        LogRecord(
            body=decode_value(record.body),
            severity_number=record.severity_number,
            severity_text=record.severity_text,
            attributes=decode_attributes(record.attributes),
            resource=_resource(resource_logs.resource),
            trace_id=record.trace_id.hex(),
            span_id=record.span_id.hex(),
            scope=scope_logs.scope.name,
        )
        for resource_logs in request.resource_logs
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
    ]


class OtlpStore:
    """What a receiver has been sent so far; safe to read while exports arrive."""

    def __init__(self) -> None:
        # One condition for every signal: waiters re-check their own predicate on any export.
        self._changed = threading.Condition()
        self._spans: list[Span] = []
        self._points: list[DataPoint] = []
        self._logs: list[LogRecord] = []
        self._exports: list[Export] = []

    def accept(self, request: ExportRequest, protocol: str, headers: Mapping[str, str]) -> None:
        """Keep what one export request carried and wake whoever waits for it."""
        spans: list[Span] = []
        points: list[DataPoint] = []
        logs: list[LogRecord] = []
        if isinstance(request, ExportTraceServiceRequest):
            signal, spans = "traces", decode_spans(request)
        elif isinstance(request, ExportMetricsServiceRequest):
            signal, points = "metrics", decode_metrics(request)
        else:
            signal, logs = "logs", decode_logs(request)
        export = Export(signal, protocol, {k.lower(): v for k, v in headers.items()})
        with self._changed:
            self._spans.extend(spans)
            self._points.extend(points)
            self._logs.extend(logs)
            self._exports.append(export)
            self._changed.notify_all()

    def spans(self) -> list[Span]:
        with self._changed:
            return list(self._spans)

    def metric_names(self) -> set[str]:
        with self._changed:
            return {point.name for point in self._points}

    def metrics(self, name: str) -> list[DataPoint]:
        """Every point received for `name`, oldest first: with cumulative temporality (the
        SDK's default) each export repeats the running totals, so the last is the latest."""
        with self._changed:
            return [point for point in self._points if point.name == name]

    def logs(self) -> list[LogRecord]:
        with self._changed:
            return list(self._logs)

    def exports(self) -> list[Export]:
        with self._changed:
            return list(self._exports)

    def clear(self) -> None:
        with self._changed:
            self._spans.clear()
            self._points.clear()
            self._logs.clear()
            self._exports.clear()

    def wait_for_spans(
        self,
        predicate: Callable[[Span], bool] = lambda _: True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        count: int = 1,
    ) -> list[Span]:
        """The received spans matching `predicate`, once there are at least `count` of them."""

        def matching() -> list[Span]:
            return [span for span in self._spans if predicate(span)]

        with self._changed:
            if self._changed.wait_for(lambda: len(matching()) >= count, timeout_s):
                return matching()
            raise AssertionError(
                f"fewer than {count} matching span(s) after {timeout_s}s; "
                f"received {self._span_summary()}"
            )

    def wait_for_metric(
        self,
        name: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        until: Callable[[list[DataPoint]], bool] = bool,
    ) -> list[DataPoint]:
        """The points received for `name`, once `until` holds for them (by default, once
        there is any): pass e.g. `until=lambda p: p[-1].value == 3` to wait for a total."""

        def points() -> list[DataPoint]:
            return [point for point in self._points if point.name == name]

        with self._changed:
            if self._changed.wait_for(lambda: until(points()), timeout_s):
                return points()
            received = [(p.attributes, p.value, p.count, p.sum) for p in points()]
            raise AssertionError(
                f"metric {name!r} not as expected after {timeout_s}s; its points: {received}; "
                f"metrics received: {sorted({p.name for p in self._points})}"
            )

    def wait_for_logs(
        self,
        predicate: Callable[[LogRecord], bool] = lambda _: True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        count: int = 1,
    ) -> list[LogRecord]:
        def matching() -> list[LogRecord]:
            return [record for record in self._logs if predicate(record)]

        with self._changed:
            if self._changed.wait_for(lambda: len(matching()) >= count, timeout_s):
                return matching()
            bodies = [record.body for record in self._logs]
            raise AssertionError(
                f"fewer than {count} matching log record(s) after {timeout_s}s; received {bodies}"
            )

    def _span_summary(self) -> str:
        names = Counter(span.name for span in self._spans)
        return f"{len(self._spans)} span(s) {dict(names)}" if names else "no spans"


class OtlpReceiver(OtlpStore, ABC):
    """A store served over OTLP; `endpoint` exists while the `with` block runs."""

    def __init__(self) -> None:
        super().__init__()
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use it in a `with` block")
        return self._port

    @property
    def address(self) -> str:
        """host:port, as a gRPC target."""
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it."""
        return f"http://{self.address}"

    @abstractmethod
    def __enter__(self) -> Self:
        """Start serving on an ephemeral port of 127.0.0.1."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Stop serving; what was received stays readable."""


# --- OTLP/HTTP -----------------------------------------------------------------------------

_HTTP_ROUTES: Final[Mapping[str, tuple[type[ExportRequest], type[ExportResponse]]]] = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}
_PROTOBUF: Final = "application/x-protobuf"
_JSON: Final = "application/json"
_ID_FIELDS: Final = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)


def _ids_as_base64(node: object) -> object:
    """OTLP/JSON writes trace and span ids in hex where protobuf's JSON mapping has base64."""
    if isinstance(node, dict):
        return {
            key: (
                base64.b64encode(bytes.fromhex(value)).decode()
                if key in _ID_FIELDS and isinstance(value, str)
                else _ids_as_base64(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ids_as_base64(item) for item in node]
    return node


def _decompress(body: bytes, encoding: str) -> bytes:
    match encoding.strip().lower():
        case "" | "identity" | "none":
            return body
        case "gzip":
            return gzip.decompress(body)
        case "deflate":
            return zlib.decompress(body)
        case _:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class _HttpServer(ThreadingHTTPServer):
    # Join request threads on close, so nothing outlives the `with` block.
    daemon_threads = False
    block_on_close = True

    def __init__(self, store: OtlpStore) -> None:
        super().__init__(("127.0.0.1", 0), _HttpHandler)
        self.store = store


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    # Bounds how long close() can wait for a client that stops sending mid-request.
    timeout = 5.0

    def do_POST(self) -> None:
        route = _HTTP_ROUTES.get(self.path.partition("?")[0])
        if route is None:
            self._reply(HTTPStatus.NOT_FOUND, b"no such OTLP signal", "text/plain")
            return
        kind, answer = route
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._reply(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required", "text/plain")
            return
        content_type = self.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if content_type not in (_PROTOBUF, _JSON):
            self._reply(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, b"protobuf or JSON", "text/plain")
            return
        body = self.rfile.read(int(length))
        try:
            request = kind()
            data = _decompress(body, self.headers.get("Content-Encoding", ""))
            if content_type == _PROTOBUF:
                request.ParseFromString(data)
            else:
                json_format.ParseDict(_ids_as_base64(json.loads(data)), request)
        except (
            ValueError,  # bad hex ids, JSON, UTF-8 or Content-Encoding
            OSError,  # gzip.BadGzipFile
            EOFError,  # truncated gzip
            zlib.error,
            DecodeError,
            json_format.ParseError,
        ) as error:
            self._reply(HTTPStatus.BAD_REQUEST, str(error).encode(), "text/plain")
            return
        protocol = "http/protobuf" if content_type == _PROTOBUF else "http/json"
        self.server.store.accept(request, protocol, dict(self.headers.items()))
        if content_type == _PROTOBUF:
            self._reply(HTTPStatus.OK, answer().SerializeToString(), _PROTOBUF)
        else:
            self._reply(HTTPStatus.OK, json_format.MessageToJson(answer()).encode(), _JSON)

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest would show one stderr line per export."""


class OtlpHttpReceiver(OtlpReceiver):
    """OTLP/HTTP (protobuf or JSON, optionally gzip or deflate) at `endpoint`/v1/{signal}."""

    def __init__(self) -> None:
        super().__init__()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        server = _HttpServer(self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long close() may wait for the loop to stop
            name=f"otlp-http-{server.server_address[1]}",
        )
        try:
            thread.start()
        except BaseException:
            server.server_close()
            raise
        self._server, self._thread, self._port = server, thread, server.server_address[1]
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = self._port = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()


# --- OTLP/gRPC -----------------------------------------------------------------------------


class _GrpcServer(Protocol):
    """The part of grpc.Server used here, typed (grpcio has no stubs)."""

    def add_insecure_port(self, address: str) -> int: ...
    def start(self) -> None: ...
    def stop(self, grace: float | None) -> threading.Event: ...


class _GrpcContext(Protocol):
    def invocation_metadata(self) -> Sequence[tuple[str, str | bytes]]: ...


def _metadata(context: _GrpcContext) -> dict[str, str]:
    # Binary metadata (keys ending in -bin) arrives as bytes; tests only look at text headers.
    return {
        key: value if isinstance(value, str) else value.hex()
        for key, value in context.invocation_metadata()
    }


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: OtlpStore) -> None:
        self._store = store

    def Export(  # noqa: N802  # the RPC's name in the OTLP service
        self, request: ExportTraceServiceRequest, context: _GrpcContext
    ) -> ExportTraceServiceResponse:
        self._store.accept(request, "grpc", _metadata(context))
        return ExportTraceServiceResponse()


class _MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, store: OtlpStore) -> None:
        self._store = store

    def Export(  # noqa: N802  # the RPC's name in the OTLP service
        self, request: ExportMetricsServiceRequest, context: _GrpcContext
    ) -> ExportMetricsServiceResponse:
        self._store.accept(request, "grpc", _metadata(context))
        return ExportMetricsServiceResponse()


class _LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, store: OtlpStore) -> None:
        self._store = store

    def Export(  # noqa: N802  # the RPC's name in the OTLP service
        self, request: ExportLogsServiceRequest, context: _GrpcContext
    ) -> ExportLogsServiceResponse:
        self._store.accept(request, "grpc", _metadata(context))
        return ExportLogsServiceResponse()


def _add_services(server: _GrpcServer, store: OtlpStore) -> None:
    # The generated add_*_to_server functions are unannotated, hence the ignores.
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]  # generated code
        _TraceService(store), server
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(  # type: ignore[no-untyped-call]  # generated code
        _MetricsService(store), server
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(  # type: ignore[no-untyped-call]  # generated code
        _LogsService(store), server
    )


class OtlpGrpcReceiver(OtlpReceiver):
    """OTLP/gRPC, without TLS (exporters need insecure=True or an http:// endpoint)."""

    def __init__(self) -> None:
        super().__init__()
        self._server: _GrpcServer | None = None
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Self:
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-grpc")
        server: _GrpcServer = grpc.server(pool)
        try:
            _add_services(server, self)
            port = server.add_insecure_port("127.0.0.1:0")
            if port == 0:
                raise OSError("gRPC could not bind 127.0.0.1")
            server.start()
        except BaseException:
            server.stop(None).wait()
            pool.shutdown()
            raise
        self._server, self._pool, self._port = server, pool, port
        return self

    def close(self) -> None:
        server, pool = self._server, self._pool
        self._server = self._pool = self._port = None
        if server is None or pool is None:
            return
        # No grace: exporters have had their answers by the time a test's `with` block ends.
        server.stop(None).wait()
        pool.shutdown()
