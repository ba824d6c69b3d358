"""The FastAPI application over one `Server`: routes, problems, version headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import TypeAdapter

from caxton import __version__
from caxton.api import agents, health, invocation, messages, problems
from caxton.api.types import API_PREFIX, CLI_VERSION_HEADER, VERSION_HEADER, AclMessage, Problem
from caxton.server.server import Server


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

    app = _CaxtonApi(
        title="Caxton",
        version=__version__,
        summary="Management API of a Caxton multi-agent server",
        lifespan=lifespan,
    )
    app.state.server = server
    problems.install(app)
    app.include_router(health.probes)
    for module in (health, agents, invocation, messages):
        app.include_router(module.router, prefix=API_PREFIX)
    app.middleware("http")(_versions)
    return app


async def _versions(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
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
