"""Every request passes the guard: who is calling, may they, how often, and what is recorded.

    admit (before routing)   credentials -> request.state.identity, or 401 / 429
    authorize (the route     the permissions table: 403 for a role without the
      known: a dependency)     operation (default deny); then the rate limits: 429
    finish (the response)    RateLimit-* and security headers; the audit record

Only `/health` and `/ready` are open to all. With authentication off
(`auth.enabled = false`, loopback only) every caller is `local`, an admin,
but rate limits, headers and the audit trail work the same.

Failed authentications are logged, audited and counted against the client's
address; an address out of its failed-auth budget gets 429 without its
credentials even being checked, so guessing keys is slow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from caxton.api.problems import ApiProblem, problem_response
from caxton.security.authenticator import LOCAL, AuthenticationFailed, Identity
from caxton.security.permissions import PUBLIC, Operation, Permissions
from caxton.security.ratelimit import Verdict, headers
from caxton.server.server import Server

log = logging.getLogger("caxton.auth")

_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The API answers data, never pages to render; the interactive docs load their own scripts.
_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
_DOCS_PAGES: Final = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_HSTS: Final = "max-age=31536000"


@dataclass(slots=True)
class _Passage:
    """What the guard learnt of one request (request.state.passage)."""

    identity: Identity
    operation: Operation | None = None
    verdict: Verdict | None = None
    denied: bool = False


class Guard:
    def __init__(self, server: Server) -> None:
        self._server = server
        self._authenticator = server.authenticator
        self._limiter = server.limiter
        self._audit = server.audit
        self._permissions = Permissions()
        self._open = not server.settings.auth.enabled
        # Routes of included routers know their path below the prefix: id(route) -> full path.
        self._templates: dict[int, str] = {}
        self._operations: dict[tuple[str, int], Operation | None] = {}

    def include(self, routes: Sequence[BaseRoute], prefix: str) -> None:
        """Tell the guard the routes of a router included with `prefix`."""
        for route in routes:
            self._templates[id(route)] = prefix + getattr(route, "path", "")

    async def admit(self, request: Request) -> Response | None:
        """None to go on (identity known, or a public route), else the answer to send."""
        method = "GET" if request.method == "HEAD" else request.method
        if (method, request.url.path) in PUBLIC:
            return None
        if self._open:
            request.state.passage = _Passage(LOCAL)
            return None
        address = request.client.host if request.client else "unknown"
        blocked = self._limiter.auth_blocked(address)
        if blocked is not None:
            problem = ApiProblem(
                429,
                "too-many-failed-logins",
                f"too many failed authentications from {address}; "
                f"try again in {blocked.retry_after_s:.0f} s",
                headers=headers(blocked),
            )
            return problem_response(request, problem)
        try:
            identity = self._authenticator.authenticate(
                request.headers.get("authorization"), _client_cert_name(request)
            )
        except AuthenticationFailed as failure:
            return await self._refuse(request, address, failure)
        request.state.passage = _Passage(identity)
        return None

    async def authorize(self, request: Request) -> None:
        """The route is known: deny what the table does not allow, then count the request."""
        passage: _Passage | None = getattr(request.state, "passage", None)
        if passage is None:  # a public route
            return
        operation = self._operation(request)
        passage.operation = operation
        identity = passage.identity
        if operation is None or not operation.allows(identity.role):
            passage.denied = True
            what = operation.name if operation else f"{request.method} {request.url.path}"
            role = identity.role or "no role"
            raise ApiProblem(403, "forbidden", f"{identity.subject} ({role}) may not {what}")
        verdict = self._limiter.take(identity.subject, operation.name)
        passage.verdict = verdict
        if not verdict.allowed:
            raise ApiProblem(
                429,
                "rate-limited",
                f"rate limit {verdict.scope} reached; try again in {verdict.retry_after_s:.0f} s",
                headers=headers(verdict),
            )

    async def finish(self, request: Request, response: Response) -> None:
        """Headers on every answer; the audit record of a management operation or a denial."""
        response.headers.update(_SECURITY_HEADERS)
        if request.url.path not in _DOCS_PAGES:
            response.headers["Content-Security-Policy"] = _CSP
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = _HSTS
        response.headers.setdefault("Cache-Control", "no-store")
        passage: _Passage | None = getattr(request.state, "passage", None)
        if passage is None:
            return
        if passage.verdict is not None:
            response.headers.update(headers(passage.verdict))
        operation = passage.operation
        if passage.denied:
            await self._record(passage.identity, "auth.denied", _target(request, operation),
                               "denied", request, response)  # fmt: skip
        elif operation is not None and operation.audited and response.status_code != 429:
            outcome = "ok" if response.status_code < 400 else "failed"
            await self._record(passage.identity, f"api.{operation.name}",
                               _target(request, operation), outcome, request, response)  # fmt: skip

    def _operation(self, request: Request) -> Operation | None:
        route = request.scope.get("route")
        key = (request.method, id(route))
        if key not in self._operations:
            template = self._templates.get(id(route), getattr(route, "path", ""))
            self._operations[key] = self._permissions.operation(request.method, template)
        return self._operations[key]

    async def _refuse(
        self, request: Request, address: str, failure: AuthenticationFailed
    ) -> Response:
        verdict = self._limiter.failed_auth(address)
        log.warning(
            "authentication failed from %s for %s %s: %s",
            address, request.method, request.url.path, failure.detail,
            extra={"client_address": address, "code": failure.code},
        )  # fmt: skip
        if self._audit.enabled:
            detail = {"address": address, "reason": failure.detail, "method": request.method}
            if failure.claimed:
                detail["claimed"] = failure.claimed
            await run_in_threadpool(
                self._audit.append, failure.claimed or f"address:{address}", "auth.failed",
                request.url.path, failure.code, detail,
            )  # fmt: skip
        error = "invalid_token" if failure.code != "unauthenticated" else ""
        challenge = 'Bearer realm="caxton"' + (f', error="{error}"' if error else "")
        problem = ApiProblem(
            401, failure.code, failure.detail, headers={"WWW-Authenticate": challenge}
        )
        if not verdict.allowed:
            problem.headers["Retry-After"] = str(verdict.retry_after_s)
        return problem_response(request, problem)

    async def _record(
        self,
        identity: Identity,
        action: str,
        target: str,
        outcome: str,
        request: Request,
        response: Response,
    ) -> None:
        if not self._audit.enabled:
            return
        detail = {
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "role": identity.role,
            "via": identity.via,
        }
        await run_in_threadpool(
            self._audit.append, identity.subject, action, target, outcome, detail
        )


def caller(request: Request) -> str:
    """Who made the request, as the audit trail names them: the guard's identity's subject."""
    passage: _Passage | None = getattr(request.state, "passage", None)
    return passage.identity.subject if passage is not None else "local"


def _client_cert_name(request: Request) -> str | None:
    tls = request.scope.get("extensions", {}).get("tls")
    name = tls.get("client_cert_name") if isinstance(tls, dict) else None
    return name if isinstance(name, str) and name else None


def _target(request: Request, operation: Operation | None) -> str:
    """What the operation was done to: its path parameter (an agent, a key...), or its path."""
    params = request.path_params
    if len(params) == 1:
        return str(next(iter(params.values())))
    return request.url.path if operation is None else operation.name
