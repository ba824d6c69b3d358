"""What route functions are given: the server behind the app, and request bodies read whole."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from caxton.api.problems import ApiProblem
from caxton.server.server import Server


def _server(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


ServerDep = Annotated[Server, Depends(_server)]


async def read_body(request: Request, server: Server) -> bytes:
    """The request body, refused with 413 past `max_request_bytes` before it is all read."""
    limit = refuse_declared_excess(request, server)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(len(body), limit)
    return bytes(body)


def refuse_declared_excess(request: Request, server: Server) -> int:
    """413 when the declared length passes `max_request_bytes`; the limit otherwise."""
    limit = server.settings.max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    return limit


def too_large(size: int, limit: int) -> ApiProblem:
    return ApiProblem(
        413,
        "payload-too-large",
        f"the request body is {size} bytes or more; the limit is {limit} (max_request_bytes)",
    )
