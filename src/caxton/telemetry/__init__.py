"""Observability: traces, metrics, logs with trace ids, and the events they raise.

`Telemetry` is one server's share of it, built by the composition root
(`caxton.server`) from its settings and the OTEL_* variables, and hooked
into the router, the agent manager and the store it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace

from caxton.telemetry.errors import ErrorLog, classify
from caxton.telemetry.exporters import interval_s, metric_exporter
from caxton.telemetry.metric_export import MetricPusher
from caxton.telemetry.metrics import CONTENT_TYPE, Metrics, Sources
from caxton.telemetry.state import TracedKeyValueStore
from caxton.telemetry.tracing import MessageSpans, resource, tracer_provider
from caxton.telemetry.watch import Event, Watcher

if TYPE_CHECKING:
    from caxton.agents import AgentManager
    from caxton.router import Router
    from caxton.settings import TelemetrySettings
    from caxton.store.database import Database
    from caxton.tools import ToolCalls


class Telemetry:
    def __init__(
        self,
        settings: TelemetrySettings,
        env: Mapping[str, str],
        *,
        version: str,
        router: Router,
        manager: AgentManager,
        database: Database,
    ) -> None:
        self.settings = settings
        self.errors = ErrorLog()
        router.on_error = self.errors.record
        self.provider = tracer_provider(env, version)
        self.tracer: trace.Tracer = (
            trace.NoOpTracer()
            if self.provider is None
            else self.provider.get_tracer("caxton", version)
        )
        if self.provider is not None:
            tracer = self.tracer
            router.tracer = MessageSpans(tracer)
            manager.tracer = tracer
            manager.wrap_state = lambda agent, state: TracedKeyValueStore(state, tracer, agent)
        self.metrics: Metrics | None = None
        self.watcher = Watcher(router, database, settings)
        self._pusher: MetricPusher | None = None
        if settings.metrics:
            sources = Sources(
                version=version,
                router=router,
                manager=manager,
                database=database,
                errors=self.errors,
                watcher=self.watcher,
                agent_series=settings.agent_series,
            )
            self.metrics = Metrics(sources)
            self.watcher.observe_query = self.metrics.observe_query
            database.on_query = self.metrics.observe_query
            exporter = metric_exporter(env)
            if exporter is not None:
                self._pusher = MetricPusher(
                    self.metrics.registry,
                    exporter,
                    resource(env, version),
                    version=version,
                    interval=interval_s(env),
                )
        else:
            router.measure = False

    def watch_tools(self, tools: ToolCalls) -> None:
        """Spans for tool calls, and their counts and durations in the metrics."""
        tools.tracer = self.tracer
        if self.metrics is not None:
            tools.on_call = self.metrics.observe_tool_call

    def start(self) -> None:
        self.watcher.start()
        if self._pusher is not None:
            self._pusher.start()

    def close(self) -> None:
        """Stop the threads; push and flush what is left to the exporters."""
        self.watcher.stop()
        if self._pusher is not None:
            self._pusher.stop()
        if self.provider is not None:
            self.provider.shutdown()


__all__ = ["CONTENT_TYPE", "ErrorLog", "Event", "Metrics", "Telemetry", "Watcher", "classify"]
