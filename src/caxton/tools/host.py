"""Sessions with MCP servers, kept open on an event loop of their own.

The official `mcp` SDK is asynchronous (anyio); agents run on dispatcher
threads and must never wait for a tool. So `ToolHost` runs one asyncio loop
on a thread of its own, and everything else talks to it through
`concurrent.futures.Future`s: `call` returns at once, and the caller hangs
its delivery on the future.

Each server has a supervisor task, because anyio wants a session's contexts
entered and left by the same task: it connects, lists the tools (compiling
a JSON Schema validator for each tool's input), then waits until the
connection ends or a call reports it broken, and connects again with
exponential back-off (0.25 s doubling to 30 s). While it is down, calls to
its tools fail at once with `ToolUnavailable`.

What the SDK does with misbehaving servers (measured, see docs/tools.md): a
process that dies fails every pending call at once with "Connection
closed"; one that hangs is bounded by the per-call timeout, after which the
server is told to cancel and the session stays usable; garbage on stdout is
logged and skipped; a reply of the wrong shape raises pydantic's
ValidationError. Each becomes one of the errors below, never a crash.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO, TypeVar

import anyio
import jsonschema
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED

from caxton.tools.results import (
    ServerStatus,
    ToolArgumentsInvalid,
    ToolError,
    ToolInfo,
    ToolNotFound,
    ToolResult,
    ToolTimeout,
    ToolUnavailable,
)
from caxton.tools.specs import ToolServerSpec

T = TypeVar("T")

_FIRST_BACKOFF_S: Final = 0.25
_LONGEST_BACKOFF_S: Final = 30.0
_CLOSE_TIMEOUT_S: Final = 15.0

log = logging.getLogger("caxton.tools")


@dataclass
class _Server:
    spec: ToolServerSpec
    session: Any = None  # mcp.ClientSession while connected
    tools: dict[str, ToolInfo] = field(default_factory=dict)
    validators: dict[str, Validator] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    broken: asyncio.Event = field(default_factory=asyncio.Event)
    connects: int = 0
    last_error: str | None = None
    task: asyncio.Task[None] | None = None


class ToolHost:
    def __init__(self, *, log_dir: Path | None = None, connect_timeout_s: float = 15.0) -> None:
        self._log_dir = log_dir
        self._connect_timeout_s = connect_timeout_s
        self._servers: dict[str, _Server] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="caxton-tools", daemon=True)
        self._thread.start()

    # ---- thread-safe API ----

    def add(self, spec: ToolServerSpec) -> None:
        """Start connecting to `spec` (replacing a server of that name); returns at once."""
        self._on_loop(self._add(spec)).result(_CLOSE_TIMEOUT_S)

    def remove(self, name: str) -> bool:
        """Disconnect and forget `name`; False when there was none."""
        return self._on_loop(self._remove(name)).result(_CLOSE_TIMEOUT_S)

    def wait_ready(self, name: str, timeout_s: float) -> bool:
        return self._on_loop(self._wait_ready(name, timeout_s)).result(timeout_s + 5)

    def servers(self) -> list[ServerStatus]:
        return [
            ServerStatus(
                spec=server.spec,
                state="ready"
                if server.ready.is_set()
                else ("down" if server.last_error else "connecting"),
                tools=len(server.tools),
                connects=server.connects,
                last_error=server.last_error,
            )
            for server in list(self._servers.values())
        ]

    def tools(self) -> list[ToolInfo]:
        return [tool for server in list(self._servers.values()) for tool in server.tools.values()]

    def refusal(self, server: str, arguments: dict[str, Any]) -> str | None:
        """Why `server`'s argument allow-lists refuse `arguments`, if they do."""
        found = self._servers.get(server)
        return None if found is None else found.spec.refusal(arguments)

    def has(self, server: str, tool: str) -> bool:
        found = self._servers.get(server)
        return found is not None and tool in found.tools

    def check(self, server: str, tool: str, arguments: dict[str, Any]) -> None:
        """Raise the ToolError that a call would fail with before reaching the server."""
        found = self._servers.get(server)
        if found is None or not found.ready.is_set():
            raise ToolUnavailable(f"tool server {server!r} is not connected")
        validator = found.validators.get(tool)
        if validator is None:
            raise ToolNotFound(f"tool server {server!r} has no tool {tool!r}")
        error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(the arguments)"
            raise ToolArgumentsInvalid(f"arguments of {server}/{tool}: {where}: {error.message}")

    def call(
        self, server: str, tool: str, arguments: dict[str, Any], timeout_s: float
    ) -> concurrent.futures.Future[ToolResult]:
        """Call a tool; the future holds its result or a ToolError. Never blocks."""
        return self._on_loop(self._call(server, tool, arguments, timeout_s))

    def close(self) -> None:
        """Disconnect every server (their processes end) and stop the loop's thread."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(concurrent.futures.TimeoutError):
            self._on_loop(self._close_all()).result(_CLOSE_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_CLOSE_TIMEOUT_S)

    # ---- on the loop ----

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def _on_loop(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _add(self, spec: ToolServerSpec) -> None:
        await self._remove(spec.name)
        server = _Server(spec)
        self._servers[spec.name] = server
        server.task = asyncio.create_task(self._supervise(server), name=f"tools-{spec.name}")

    async def _remove(self, name: str) -> bool:
        server = self._servers.pop(name, None)
        if server is None:
            return False
        server.stop.set()
        if server.task is not None:
            await asyncio.gather(server.task, return_exceptions=True)
        return True

    async def _wait_ready(self, name: str, timeout_s: float) -> bool:
        server = self._servers.get(name)
        if server is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.ready.wait(), timeout_s)
        return server.ready.is_set()

    async def _close_all(self) -> None:
        for name in list(self._servers):
            await self._remove(name)

    async def _supervise(self, server: _Server) -> None:
        backoff = _FIRST_BACKOFF_S
        while not server.stop.is_set():
            try:
                await self._connected(server)
                backoff = _FIRST_BACKOFF_S
            except Exception as error:  # a server's failure is logged and retried, never raised
                server.last_error = _describe(error)
                log.warning("tool server %s: %s", server.spec.name, server.last_error,
                            extra={"tool_server": server.spec.name})  # fmt: skip
            server.ready.clear()
            server.session = None
            if server.stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.stop.wait(), backoff)
            backoff = min(backoff * 2, _LONGEST_BACKOFF_S)

    async def _connected(self, server: _Server) -> None:
        """One connection: open, list the tools, serve until it ends."""
        started = time.perf_counter()
        async with contextlib.AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(self._transport(server.spec, stack))
            watched = _WatchedStream(read)
            session = await stack.enter_async_context(ClientSession(watched, write))
            with anyio.fail_after(self._connect_timeout_s):
                await session.initialize()
                listed = await session.list_tools()
            server.tools, server.validators = _compiled(server.spec.name, listed.tools)
            server.session = session
            server.connects += 1
            server.last_error = None
            server.broken.clear()
            server.ready.set()
            log.info("tool server %s connected in %.0f ms with %d tools", server.spec.name,
                     (time.perf_counter() - started) * 1000, len(server.tools),
                     extra={"tool_server": server.spec.name})  # fmt: skip
            ended = [asyncio.ensure_future(event.wait())
                     for event in (watched.ended, server.stop, server.broken)]  # fmt: skip
            try:
                await asyncio.wait(ended, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in ended:
                    waiter.cancel()
            if not server.stop.is_set():
                server.last_error = "the connection ended"
                log.warning("tool server %s: connection lost; reconnecting", server.spec.name,
                            extra={"tool_server": server.spec.name})  # fmt: skip

    def _transport(self, spec: ToolServerSpec, stack: contextlib.AsyncExitStack) -> Any:
        if spec.transport == "http":
            return streamable_http_client(spec.url or "")
        parameters = StdioServerParameters(
            command=spec.command or "", args=list(spec.args), env=spec.env or None, cwd=spec.cwd
        )
        return stdio_client(parameters, errlog=self._errlog(spec, stack))

    def _errlog(self, spec: ToolServerSpec, stack: contextlib.AsyncExitStack) -> TextIO:
        """Where a stdio server's stderr goes: a file of its own, for the operator to read."""
        path = Path(os.devnull)
        if self._log_dir is not None:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            path = self._log_dir / f"{spec.name}.stderr.log"
        return stack.enter_context(path.open("a"))

    async def _call(
        self, server_name: str, tool: str, arguments: dict[str, Any], timeout_s: float
    ) -> ToolResult:
        self.check(server_name, tool, arguments)
        server = self._servers[server_name]
        try:
            result = await server.session.call_tool(tool, arguments, read_timeout_seconds=timeout_s)
        except MCPError as error:
            if error.code == _REQUEST_TIMEOUT:
                raise ToolTimeout(f"{server_name}/{tool} gave no answer in {timeout_s} s") from None
            if error.code == CONNECTION_CLOSED or "ession" in error.message:
                server.broken.set()  # over HTTP a dead server does not end the stream
                raise ToolUnavailable(f"tool server {server_name!r}: {error.message}") from None
            raise ToolError(f"{server_name}/{tool}: {error.message}") from None
        except Exception as error:  # garbage from the server (pydantic's ValidationError...)
            raise ToolError(
                f"{server_name}/{tool} answered with garbage: {_describe(error)}"
            ) from None
        return ToolResult(
            content=[block.model_dump(mode="json", exclude_none=True) for block in result.content],
            structured=result.structured_content,
            is_error=bool(result.is_error),
        )


_REQUEST_TIMEOUT: Final = -32001  # the SDK's code for a call its read timeout ended


def _state(server: _Server) -> str:
    if server.ready.is_set():
        return "ready"
    return "down" if server.last_error else "connecting"


def _compiled(server: str, listed: list[Any]) -> tuple[dict[str, ToolInfo], dict[str, Validator]]:
    tools: dict[str, ToolInfo] = {}
    validators: dict[str, Validator] = {}
    for tool in listed:
        schema = dict(tool.input_schema or {"type": "object"})
        kind = validator_for(schema)
        try:
            kind.check_schema(schema)
        except jsonschema.SchemaError as error:
            log.warning("tool %s/%s has an invalid input schema (%s): not offered",
                        server, tool.name, error.message)  # fmt: skip
            continue
        tools[tool.name] = ToolInfo(server, tool.name, tool.description or "", schema)
        validators[tool.name] = kind(schema)
    return tools, validators


def _describe(error: BaseException) -> str:
    """An error for a log line, with the first leaf of an ExceptionGroup (anyio nests them)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


class _WatchedStream:
    """A session's read stream that notices its end: the sign that a stdio server died."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.ended = asyncio.Event()

    @property
    def last_context(self) -> Any:  # the SDK's dispatcher reads it when present
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.ended.set()
            raise

    def __aiter__(self) -> _WatchedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self.ended.set()
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
