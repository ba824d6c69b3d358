"""OpenTelemetry traces: the provider built from the standard OTEL_* variables, and
the spans of messages.

Exporters follow `OTEL_TRACES_EXPORTER` (otlp, console, none; a comma-separated
list works). Unset, Caxton exports over OTLP when an OTLP endpoint is set
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`) and records no spans
otherwise: every message still carries a W3C trace context and every log line
its trace id, at the cost of a few random bits. The protocol follows
`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL` (grpc or
http/protobuf, the default); the sampler follows `OTEL_TRACES_SAMPLER` and
`OTEL_TRACES_SAMPLER_ARG` (parent-based always-on unless told otherwise), read
by the SDK itself; `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the
service. `OTEL_SDK_DISABLED=true` turns it all off.

A message's span is a `send <performative>` span (producer) whose id is the
parent id of the message's traceparent; its handling is a `handle
<performative>` span (consumer) under it, current while the handler runs, so
the messages the handler sends are its children: one trace follows a request
from HTTP through every agent it reaches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.span import TraceFlags, TraceState

from caxton.router.trace import TraceIds, parse_traceparent
from caxton.telemetry.exporters import span_exporter, trace_exporter_names


def resource(env: Mapping[str, str], version: str) -> Resource:
    """service.name caxton (unless OTEL_SERVICE_NAME says otherwise) and its version."""
    attributes: dict[str, str] = {"service.version": version}
    if not env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "caxton"
    return Resource.create(attributes)


def tracer_provider(env: Mapping[str, str], version: str) -> TracerProvider | None:
    """A provider exporting where `env` says, or None when no exporter is asked for."""
    names = trace_exporter_names(env)
    if not names:
        return None
    provider = TracerProvider(resource=resource(env, version))
    for name in names:
        exporter = span_exporter(env, name)
        # Console output is for a person watching: at once, not in batches.
        processor = SimpleSpanProcessor if name == "console" else BatchSpanProcessor
        provider.add_span_processor(processor(exporter))
    return provider


class MessageSpans:
    """The router's `MessageTracer`: spans for sampled messages, plain trace ids for the rest."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def routed(self, message: dict[str, Any], cause: object, ids: TraceIds) -> dict[str, str]:
        if cause is not message and not _sampled(cause):
            # The cheap path of most messages when sampling is rare: an agent's send
            # while it handles an unsampled message, whose handling made no span.
            return ids.child_of(cause)
        given = self._given(message, cause)
        if given is not None and not given.trace_flags.sampled:
            # An unsampled trace goes on, unsampled, at the price of its ids.
            return ids.child_of({"trace": {"traceparent": _traceparent(given)}})
        parent = (
            context.Context()
            if given is None
            else trace.set_span_in_context(NonRecordingSpan(given))
        )  # with no parent, a root: the sampler decides
        performative = message.get("performative")
        span = self._tracer.start_span(
            f"send {performative}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes=_attributes(message, message.get("sender")),
        )
        span.end()
        sent = span.get_span_context()
        found = {"traceparent": _traceparent(sent)}
        if sent.trace_state:
            found["tracestate"] = sent.trace_state.to_header()
        return found

    def samples(self, message: dict[str, Any]) -> bool:
        return _sampled(message) and isinstance(message.get("trace"), dict)

    def handling(self, agent: str, messages: Sequence[dict[str, Any]]) -> object:
        first = messages[0]
        if not _sampled(first):
            return None
        remote = _span_context(first.get("trace"))
        if remote is None or not remote.trace_flags.sampled:
            return None
        parent = trace.set_span_in_context(NonRecordingSpan(remote))
        links = [
            trace.Link(linked)
            for message in messages[1:]
            if (linked := _span_context(message.get("trace"))) is not None
        ]
        span = self._tracer.start_span(
            f"handle {first.get('performative')}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                **_attributes(first, agent),
                "messaging.batch.message_count": len(messages),
            },
            links=links,
        )
        token = context.attach(trace.set_span_in_context(span))
        return span, token

    def handled(self, token: object, error: BaseException | None) -> None:
        if not isinstance(token, tuple):
            return
        span, attached = token
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, str(error)))
            span.set_attribute("error.type", type(error).__name__)
            error_class = getattr(error, "error_class", None)
            if error_class is not None:
                span.set_attribute("caxton.error_class", str(error_class))
        context.detach(attached)
        span.end()

    def _given(self, message: dict[str, Any], cause: object) -> SpanContext | None:
        """The span context a message's span is the child of, if any.

        A message posted with a trace of its own (`cause` is the message) keeps
        it; otherwise the current span (the handler's, an API request's) is the
        parent; failing that, the trace of the message that caused this one.
        """
        given = _span_context(message.get("trace")) if cause is message else None
        if given is not None:
            return given
        current = trace.get_current_span().get_span_context()
        if current.is_valid:
            return current
        return _span_context(cause.get("trace")) if isinstance(cause, dict) else None


def _attributes(message: dict[str, Any], agent: object) -> dict[str, str]:
    found = {
        "caxton.agent": str(agent),
        "caxton.performative": str(message.get("performative")),
        "messaging.system": "caxton",
    }
    for key, attribute in (
        ("conversation_id", "caxton.conversation_id"),
        ("message_id", "messaging.message.id"),
        ("protocol", "caxton.protocol"),
    ):
        value = message.get(key)
        if isinstance(value, str):
            found[attribute] = value
    return found


def _sampled(message: object) -> bool:
    """True unless `message` carries a trace context whose sampled flag is off.

    Read off the traceparent's last two hex digits, before any parsing: this
    runs for every message while tracing is on.
    """
    if not isinstance(message, dict):
        return True
    context = message.get("trace")
    traceparent = context.get("traceparent") if isinstance(context, dict) else None
    if not isinstance(traceparent, str) or len(traceparent) != 55:
        return True
    return traceparent[-1] in "13579bdfBDF"


def _span_context(trace_context: object) -> SpanContext | None:
    if not isinstance(trace_context, dict):
        return None
    ids = parse_traceparent(trace_context.get("traceparent"))
    if ids is None:
        return None
    trace_id, span_id, flags = ids
    state = trace_context.get("tracestate")
    return SpanContext(
        int(trace_id, 16),
        int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16)),
        trace_state=TraceState.from_header([state]) if isinstance(state, str) else None,
    )


def _traceparent(span: SpanContext) -> str:
    return f"00-{span.trace_id:032x}-{span.span_id:016x}-{int(span.trace_flags):02x}"
