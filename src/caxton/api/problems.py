"""Errors as RFC 9457 problem details, each with a stable `code`.

`ApiProblem` is what route code raises; the handlers below turn it, and every
Caxton error the layers below raise, into `application/problem+json`.
"""

from __future__ import annotations

from dataclasses import asdict
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from caxton.agents import UnknownAgent
from caxton.api.types import PROBLEM_TYPE_BASE, Problem
from caxton.errors import (
    AclSyntaxError,
    AgentInitFailed,
    ConfigError,
    InvalidMessage,
    LifecycleError,
    ModuleRejected,
    SignatureRefused,
)
from caxton.server.gateway import AgentBusy, InvokeTimeout
from caxton.store import AgentNameTaken

PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers or {}


def not_found(what: str, name: str) -> ApiProblem:
    return ApiProblem(404, f"{what}-not-found", f"no {what} {name!r}")


def problem_response(request: Request, problem: ApiProblem) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE_BASE + problem.code,
        title=HTTPStatus(problem.status).phrase,
        status=problem.status,
        detail=problem.detail,
        code=problem.code,
        instance=request.url.path,
        field=problem.field,
    )
    return JSONResponse(
        {key: value for key, value in asdict(body).items() if value is not None},
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _translate(error: Exception) -> ApiProblem:
    """The problem a Caxton error means to an API client."""
    match error:
        case ApiProblem():
            return error
        case UnknownAgent():
            return ApiProblem(404, "agent-not-found", str(error))
        case AgentNameTaken():
            return ApiProblem(409, "agent-exists", str(error))
        case LifecycleError():
            return ApiProblem(409, "illegal-transition", str(error))
        case ModuleRejected():
            return ApiProblem(422, "module-rejected", str(error), field="module")
        case AgentInitFailed():
            return ApiProblem(422, "agent-init-failed", str(error), field="module")
        case SignatureRefused():
            return ApiProblem(422, error.code, str(error), field="signature")
        case ConfigError():
            return ApiProblem(422, "invalid-setting", str(error), field=error.setting)
        case AclSyntaxError():
            return ApiProblem(400, "malformed-message", str(error), field=error.field)
        case InvalidMessage():
            return ApiProblem(422, "invalid-message", str(error), field=error.field)
        case InvokeTimeout():
            return ApiProblem(504, "invoke-timeout", str(error))
        case AgentBusy():
            return ApiProblem(429, "mailbox-full", str(error), headers={"Retry-After": "1"})
    return ApiProblem(500, "internal-error", f"unexpected error: {error!r}")


def install(app: FastAPI) -> None:
    async def caxton_error(request: Request, error: Exception) -> JSONResponse:
        return problem_response(request, _translate(error))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        detail = (
            error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        )
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such route: {request.method} {request.url.path} (see /openapi.json)"
        return problem_response(request, ApiProblem(error.status_code, code, detail))

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        first: dict[str, Any] = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
        return problem_response(
            request, ApiProblem(422, "invalid-request", detail, field=where or None)
        )

    for kind in (
        ApiProblem,
        UnknownAgent,
        AgentNameTaken,
        LifecycleError,
        ModuleRejected,
        AgentInitFailed,
        SignatureRefused,
        ConfigError,
        InvalidMessage,
        InvokeTimeout,
        AgentBusy,
    ):
        app.add_exception_handler(kind, caxton_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, caxton_error)
