"""The FastAPI application over one `Server`: routes, problems, version headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import TypeAdapter

from caxton import __version__
from caxton.api import (
    agents,
    audit,
    auth,
    health,
    invocation,
    limits,
    messages,
    problems,
    tools,
)
from caxton.api.guard import Guard
from caxton.api.types import API_PREFIX, CLI_VERSION_HEADER, VERSION_HEADER, AclMessage, Problem
from caxton.server.server import Server
from caxton.telemetry import CONTENT_TYPE


def create_app(
    server: Server, *, manage: bool = True, on_started: Callable[[Server], object] | None = None
) -> FastAPI:
    """The API for `server`. With `manage`, the app's lifespan starts and closes it;
    `on_started(server)` runs (in a thread) once the agents are recovered."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage:
            await asyncio.to_thread(server.start)
        if on_started is not None:
            await asyncio.to_thread(on_started, server)
        server.jobs.resume()
        try:
            yield
        finally:
            await server.jobs.close()
            if manage:
                await asyncio.to_thread(server.close)

    guard = Guard(server)
    app = _CaxtonApi(
        title="Caxton",
        version=__version__,
        summary="Management API of a Caxton multi-agent server",
        lifespan=lifespan,
        dependencies=[Depends(guard.authorize)],
    )
    app.state.server = server
    problems.install(app)
    app.include_router(health.probes)
    for module in (health, agents, invocation, messages, tools, audit, auth, limits):
        app.include_router(module.router, prefix=API_PREFIX)
        guard.include(module.router.routes, API_PREFIX)
    app.middleware("http")(_observed(server, guard))
    if server.telemetry.metrics is not None:
        app.get("/metrics", include_in_schema=False)(_metrics(server))
    # Builds every route's models now, in this thread. Left to the first requests, pydantic
    # reads the types' source with ast.parse on the event loop, and CPython 3.11's parser
    # is not thread-safe: a module compiled on another thread at the same time fails with
    # "SystemError: AST constructor recursion depth mismatch".
    app.openapi()
    return app


def _metrics(server: Server) -> Callable[[], Response]:
    metrics = server.telemetry.metrics
    assert metrics is not None

    def scrape() -> Response:
        """Prometheus exposition of every metric (docs/observability.md lists them)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return scrape


_Next = Callable[[Request], Awaitable[Response]]


def _observed(server: Server, guard: Guard) -> Callable[[Request, _Next], Awaitable[Response]]:
    """Every request: the guard, a span (when tracing), its duration by route and status, the
    version."""
    telemetry = server.telemetry
    tracing = telemetry.provider is not None
    propagator = TraceContextTextMapPropagator()

    async def guarded(request: Request, call_next: _Next) -> Response:
        refusal = await guard.admit(request)
        response = refusal if refusal is not None else await _versions(request, call_next)
        if refusal is not None:
            response.headers[VERSION_HEADER] = __version__
        await guard.finish(request, response)
        return response

    async def observe(request: Request, call_next: _Next) -> Response:
        started = perf_counter()
        if tracing:
            parent = propagator.extract(request.headers)
            with telemetry.tracer.start_as_current_span(
                f"HTTP {request.method}", context=parent, kind=SpanKind.SERVER
            ) as span:
                response = await guarded(request, call_next)
                route = _route(request)
                span.update_name(f"HTTP {request.method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", response.status_code)
                if response.status_code >= 500:
                    span.set_status(StatusCode.ERROR)
        else:
            response = await guarded(request, call_next)
            route = _route(request)
        if telemetry.metrics is not None:
            telemetry.metrics.http.labels(request.method, route, str(response.status_code)).observe(
                perf_counter() - started
            )
        return response

    return observe


def _route(request: Request) -> str:
    """The path template that matched (`/api/v1/agents/{name}`): bounded, unlike paths.

    The matched route knows its template below the prefix it was included
    with (FastAPI includes routers as sub-routers); the prefix, which has no
    parameters, is the request path's segments above it.
    """
    template = getattr(request.scope.get("route"), "path", None)
    if not isinstance(template, str):
        return "unmatched"
    depth = template.count("/")
    path = request.url.path
    prefix = path.rsplit("/", depth)[0] if path.count("/") > depth else ""
    return prefix + template


async def _versions(request: Request, call_next: _Next) -> Response:
    cli = request.headers.get(CLI_VERSION_HEADER)
    if cli is not None and _major(cli) != _major(__version__):
        problem = problems.ApiProblem(
            400,
            "incompatible-client",
            f"this server speaks API {__version__}; the caxton CLI {cli} needs major version "
            f"{_major(cli)}. Install caxton {_major(__version__)}.x to talk to it",
        )
        response: Response = problems.problem_response(request, problem)
    else:
        response = await call_next(request)
    response.headers[VERSION_HEADER] = __version__
    return response


def _major(version: str) -> str:
    return version.split(".", 1)[0]


# Every error is a problem (RFC 9457), whatever FastAPI assumes: its default 422
# body (HTTPValidationError) is never sent, since `problems.install` rewrites it.
_PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "A problem (RFC 9457); `code` says which",
    "content": {problems.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# Server-side statuses a route answers on purpose, beyond the 4XX every route may answer.
_SERVER_STATUSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("post", f"{API_PREFIX}/agents/{{name}}/invoke"): ("504",),
}


class _CaxtonApi(FastAPI):
    """FastAPI, with the OpenAPI document saying what the API really answers."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (AclMessage, Problem):
                components[model.__name__] = TypeAdapter(model).json_schema(
                    ref_template="#/components/schemas/{model}"
                )
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    responses["4XX"] = _PROBLEM_RESPONSE
                    for status in _SERVER_STATUSES.get((method, path), ()):
                        responses[status] = _PROBLEM_RESPONSE
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            self.openapi_schema = schema
        return self.openapi_schema
