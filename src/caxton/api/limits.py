"""/rate-limits: the API's token buckets, read and changed at run time.

A change applies to the next request, with no restart, and is kept in the
store: a restarted server finds it. `DELETE` undoes it: `global` and
`identity` go back to the settings' numbers (`[rate_limits]`), an
`identity:<subject>` to the identity default, an `operation:<name>` has no
limit of its own any more. The scopes are described in
`caxton.security.ratelimit`; a scope of another shape is a 422 naming `scope`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from caxton.api.guard import caller
from caxton.api.problems import ApiProblem
from caxton.api.types import RateLimit, RateLimitChange, RateLimitList
from caxton.security.ratelimit import InvalidRateLimit, RateLimiter, parse_scope

router = APIRouter(tags=["rate limits"])


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.server.limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


def _invalid(error: InvalidRateLimit) -> ApiProblem:
    return ApiProblem(422, "invalid-field", str(error), field=error.field)


@router.get("/rate-limits", response_model=RateLimitList, summary="The rate limits in force")
def list_limits(limiter: LimiterDep) -> RateLimitList:
    return RateLimitList(items=limiter.limits())


@router.put(
    "/rate-limits/{scope}",
    response_model=RateLimit,
    summary="Set a scope's rate and burst, from the next request on",
)
def set_limit(
    scope: str, change: RateLimitChange, request: Request, limiter: LimiterDep
) -> RateLimit:
    try:
        return limiter.set(scope, change.per_s, change.burst, by=caller(request))
    except InvalidRateLimit as error:
        raise _invalid(error) from None


@router.delete(
    "/rate-limits/{scope}",
    status_code=204,
    summary="Undo a scope's change: back to the settings, or no limit of its own",
)
def reset_limit(scope: str, request: Request, limiter: LimiterDep) -> Response:
    try:
        kind = parse_scope(scope).kind
    except InvalidRateLimit as error:
        raise _invalid(error) from None
    undone = limiter.reset(scope, by=caller(request))
    if not undone and kind not in ("global", "identity"):
        raise ApiProblem(404, "rate-limit-not-found", f"no rate limit {scope!r} to reset")
    return Response(status_code=204)
