"""The CLI's HTTP client: every answer decoded into the API's own types, every error explained.

It speaks HTTP/1.1 over the standard library's `http.client`, one kept-alive
connection per command, and decodes answers with msgspec: httpx and pydantic
together would take longer to import than a whole command may run (100 ms).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import click
import msgspec
import orjson

from caxton import __version__
from caxton.api.types import API_PREFIX, CLI_VERSION_HEADER, Problem
from caxton.cli.context import (
    EXIT_CONFLICT,
    EXIT_DENIED,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_TIMEOUT,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")

_EXIT_BY_STATUS = {400: EXIT_USAGE, 401: EXIT_DENIED, 403: EXIT_DENIED, 404: EXIT_NOT_FOUND,
                   409: EXIT_CONFLICT, 413: EXIT_USAGE, 415: EXIT_USAGE, 422: EXIT_USAGE,
                   504: EXIT_TIMEOUT}  # fmt: skip
JSON = "application/json"
_HINTS = {
    401: " (pass --token or set CAXTON_TOKEN; on the server's machine the CLI reads "
    "<data_dir>/admin.key by itself)",
    503: " (the server is starting or stopping; try again)",
}


class CliError(click.ClickException):
    """An error for the user: what went wrong and what to do, with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self._exit_code = exit_code

    @property
    def exit_code(self) -> int:  # click reads it per instance: ours varies by error
        return self._exit_code

    @exit_code.setter
    def exit_code(self, value: int) -> None:
        self._exit_code = value


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, read whole."""

    method: str
    status: int
    url: str
    content_type: str
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the CLI proves who it is: a bearer token, and for TLS a CA and a client certificate."""

    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


class Client:
    def __init__(
        self, url: str, *, timeout: float = 30.0, credentials: Credentials | None = None
    ) -> None:
        self.url = url
        self._credentials = credentials or Credentials()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CliError(f"{url!r} is not an http:// or https:// URL (--url)", EXIT_USAGE)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | DataclassInstance | None = None,
        content_type: str = JSON,
        timeout: float | None = None,
        accept: tuple[int, ...] = (),
    ) -> Reply:
        """`path` is under /api/v1, unless it starts with `//` (from the server's root).

        `body` is bytes as they are, or an API request type sent as JSON (its
        unset fields left out). A status of 400 or more raises `CliError`,
        unless it is in `accept`.
        """
        target = self._target(path, params)
        data = body if isinstance(body, bytes | None) else _request_json(body)
        try:
            response = self._send(method, target, data, content_type, timeout)
            kind = response.getheader("content-type") or ""
            reply = Reply(method, response.status, self.url + target, kind, response.read())
        except ConnectionRefusedError:
            raise self._unreachable() from None
        except TimeoutError:
            raise CliError(f"{self.url} did not answer in time", EXIT_TIMEOUT) from None
        except (OSError, http.client.HTTPException) as error:
            raise self._broken(error) from None
        if reply.status >= 400 and reply.status not in accept:
            raise _problem(reply)
        return reply

    def get(self, path: str, kind: type[T], **kwargs: Any) -> T:
        return decode(self.request("GET", path, **kwargs), kind)

    def post(self, path: str, kind: type[T], **kwargs: Any) -> T:
        return decode(self.request("POST", path, **kwargs), kind)

    def decode_json(self, content: bytes | str, kind: type[T]) -> T:
        """`content` (an event's data, say) as `kind`, or an error naming this server."""
        return decode_json(content, kind, self.url)

    def events(self, path: str, params: dict[str, Any]) -> Iterator[tuple[int | None, str]]:
        """The server-sent events of `GET path` as (id, data) pairs, until the server ends it.

        Keep-alive comments are skipped. The stream ending (the server stopping)
        and a dropped connection both raise `CliError` (exit 3) saying so;
        Ctrl-C is the caller's to catch.
        """
        target = self._target(path, params)
        try:
            response = self._send("GET", target, None, JSON, None)
            if response.status >= 400:
                raise _problem(
                    Reply("GET", response.status, self.url + target, "", response.read())
                )
            lines = (raw.decode("utf-8").rstrip("\r\n") for raw in response)
            yield from _events(lines)
        except ConnectionRefusedError:
            raise self._unreachable() from None
        except (OSError, http.client.HTTPException) as error:
            raise CliError(
                f"the stream from {self.url} broke ({_reason(error)}); run the command again",
                EXIT_UNREACHABLE,
            ) from None
        raise CliError(
            f"the server at {self.url} ended the stream (it is stopping?); "
            "run the command again once it is back",
            EXIT_UNREACHABLE,
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _target(self, path: str, params: dict[str, Any] | None) -> str:
        """The URL of `path`; `params` with the value None are left out (an option not given)."""
        target = self._base + (path[1:] if path.startswith("//") else API_PREFIX + path)
        given = {key: value for key, value in (params or {}).items() if value is not None}
        return f"{target}?{urlencode(given)}" if given else target

    def _send(
        self, method: str, target: str, data: bytes | None, content_type: str, timeout: float | None
    ) -> http.client.HTTPResponse:
        """Send on the kept-alive connection; once more on a new one if the server had closed it."""
        headers = {CLI_VERSION_HEADER: __version__, "Accept": JSON}
        if self._credentials.token:
            headers["Authorization"] = f"Bearer {self._credentials.token}"
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            connection = self._connect(self._timeout if timeout is None else timeout)
            try:
                connection.request(method, target, body=data, headers=headers)
                return connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=self._tls()
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=timeout
                )
        self._connection.timeout = timeout
        if self._connection.sock is not None:
            self._connection.sock.settimeout(timeout)
        return self._connection

    def _tls(self) -> ssl.SSLContext:
        credentials = self._credentials
        try:
            context = ssl.create_default_context(cafile=credentials.ca_file)
            if credentials.cert_file:
                context.load_cert_chain(credentials.cert_file, credentials.key_file)
        except (OSError, ssl.SSLError) as error:
            raise CliError(f"TLS credentials unusable: {_reason(error)}", EXIT_USAGE) from None
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        return context

    def _unreachable(self) -> CliError:
        return CliError(
            f"no Caxton server is running at {self.url}. Start one with "
            "`caxton server start`, or point --url (or CAXTON_URL) at a running one.",
            EXIT_UNREACHABLE,
        )

    def _broken(self, error: BaseException) -> CliError:
        if isinstance(error, socket.gaierror):
            return CliError(
                f"cannot find the host of {self.url} ({_reason(error)})", EXIT_UNREACHABLE
            )
        return CliError(f"talking to {self.url} failed: {_reason(error)}", EXIT_UNREACHABLE)


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _request_json(body: DataclassInstance) -> bytes:
    """An API request type as JSON, its unset (None) fields left out as the server defaults them."""
    chosen = {f.name: getattr(body, f.name) for f in fields(body)}
    return orjson.dumps({key: value for key, value in chosen.items() if value is not None})


def _events(lines: Iterator[str]) -> Iterator[tuple[int | None, str]]:
    """Server-sent events from their lines: (id, data) for each, comments skipped."""
    event_id: int | None = None
    data: list[str] = []
    for line in lines:
        if line.startswith(":"):
            continue
        if line == "":
            if data:
                yield event_id, "\n".join(data)
            event_id, data = None, []
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "data":
            data.append(value)
        elif key == "id" and value.isdigit():
            event_id = int(value)


def decode(reply: Reply, kind: type[T]) -> T:
    """The answer as `kind`, or an error saying the server speaks another version."""
    return decode_json(reply.content, kind, reply.url)


def decode_json(content: bytes | str, kind: type[T], source: str = "the server") -> T:
    try:
        return msgspec.json.decode(content, type=kind)
    except msgspec.ValidationError as error:
        raise CliError(
            f"{source} answered in a form this caxton {__version__} does not know "
            f"({error}); are the CLI and the server the same version?"
        ) from None
    except msgspec.DecodeError as error:
        raise CliError(f"{source} answered with something that is not JSON ({error})") from None


def _problem(reply: Reply) -> CliError:
    code = _EXIT_BY_STATUS.get(reply.status, EXIT_FAILED)
    try:
        problem = msgspec.json.decode(reply.content, type=Problem)
    except msgspec.MsgspecError:
        return CliError(f"{reply.status} from {reply.url}: {reply.text[:500]}", code)
    hint = _HINTS.get(reply.status, "")
    return CliError(f"{problem.detail} [{problem.code}]{hint}", code)
