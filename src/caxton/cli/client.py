"""The CLI's HTTP client: every answer parsed into the API's own types, every error explained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import click
import httpx
from pydantic import BaseModel, ValidationError

from caxton import __version__
from caxton.api.types import API_PREFIX, CLI_VERSION_HEADER, Problem
from caxton.cli.context import (
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_TIMEOUT,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)

M = TypeVar("M", bound=BaseModel)

_EXIT_BY_STATUS = {400: EXIT_USAGE, 404: EXIT_NOT_FOUND, 409: EXIT_CONFLICT, 413: EXIT_USAGE,
                   415: EXIT_USAGE, 422: EXIT_USAGE, 504: EXIT_TIMEOUT}  # fmt: skip


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


class Client:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._http = httpx.Client(
            base_url=url + API_PREFIX,
            headers={CLI_VERSION_HEADER: __version__},
            timeout=timeout,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        timeout: float | None = None,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """`path` is under /api/v1, unless it starts with `//` (from the server's root).

        A status of 400 or more raises `CliError`, unless it is in `accept`.
        """
        url = self.url + path[1:] if path.startswith("//") else path
        try:
            response = self._http.request(
                method,
                url,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                **kwargs,
            )
        except httpx.ConnectError:
            raise self._unreachable() from None
        except httpx.TimeoutException:
            raise CliError(f"{self.url} did not answer in time", EXIT_TIMEOUT) from None
        except httpx.HTTPError as error:
            raise CliError(f"talking to {self.url} failed: {error}", EXIT_UNREACHABLE) from None
        if response.status_code >= 400 and response.status_code not in accept:
            raise _problem(response)
        return response

    def get(self, path: str, model: type[M], **kwargs: Any) -> M:
        return parse(self.request("GET", path, **kwargs), model)

    def post(self, path: str, model: type[M], **kwargs: Any) -> M:
        return parse(self.request("POST", path, **kwargs), model)

    def events(self, path: str, params: dict[str, Any]) -> Iterator[tuple[int | None, str]]:
        """The server-sent events of `GET path` as (id, data) pairs, until the server ends it.

        Keep-alive comments are skipped. The stream ending (the server stopping)
        and a dropped connection both raise `CliError` (exit 3) saying so;
        Ctrl-C is the caller's to catch.
        """
        try:
            with self._http.stream("GET", path, params=params, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _problem(response)
                yield from _events(response.iter_lines())
        except httpx.ConnectError:
            raise self._unreachable() from None
        except httpx.HTTPError as error:
            raise CliError(
                f"the stream from {self.url} broke ({error}); run the command again",
                EXIT_UNREACHABLE,
            ) from None
        raise CliError(
            f"the server at {self.url} ended the stream (it is stopping?); "
            "run the command again once it is back",
            EXIT_UNREACHABLE,
        )

    def _unreachable(self) -> CliError:
        return CliError(
            f"no Caxton server is running at {self.url}. Start one with "
            "`caxton server start`, or point --url (or CAXTON_URL) at a running one.",
            EXIT_UNREACHABLE,
        )

    def close(self) -> None:
        self._http.close()


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


def parse(response: httpx.Response, model: type[M]) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        raise CliError(
            f"the server at {response.url} answered in a form this caxton {__version__} does "
            f"not know ({error.error_count()} problems, first: {error.errors()[0]['msg']}); "
            "are the CLI and the server the same version?"
        ) from None


def _problem(response: httpx.Response) -> CliError:
    code = _EXIT_BY_STATUS.get(response.status_code, EXIT_FAILED)
    try:
        problem = Problem.model_validate_json(response.content)
    except ValidationError:
        return CliError(f"{response.status_code} from {response.url}: {response.text[:500]}", code)
    hint = ""
    if response.status_code == 503:
        hint = " (the server is starting or stopping; try again)"
    return CliError(f"{problem.detail} [{problem.code}]{hint}", code)
