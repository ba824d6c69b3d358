"""/tools: the MCP servers agents may call tools on, their tools, and who may call what.

Adding a stdio server runs its command on this machine, as the server's
user: whoever may call the API may do that. Servers connect in the
background: `POST /tools/servers` answers at once, with the server
`connecting`; `GET /tools/servers` says when it is `ready` (or `down`, and
why). Grants name agents that need not be deployed yet, so that an agent can
be given its tools before it first runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from caxton.acl import is_agent_name
from caxton.api.deps import ServerDep
from caxton.api.guard import caller
from caxton.api.problems import ApiProblem
from caxton.api.types import (
    API_PREFIX,
    Tool,
    ToolGrant,
    ToolGrantRequest,
    ToolGrants,
    ToolList,
    ToolServer,
    ToolServerList,
    ToolServerRequest,
    ToolServerState,
)
from caxton.errors import ConfigError
from caxton.server.server import Server
from caxton.store.tools import Source
from caxton.tools import ServerStatus, ToolServerExists, ToolServerSpec, check_pattern

router = APIRouter(tags=["tools"])

_STATES: dict[str, ToolServerState] = {"connecting": "connecting", "ready": "ready", "down": "down"}
_LOCATION: dict[int | str, dict[str, Any]] = {
    201: {"headers": {"Location": {"schema": {"type": "string"}}}}
}


def _no_server(name: str) -> ApiProblem:
    return ApiProblem(404, "tool-server-not-found", f"no tool server named {name!r}")


def _invalid(error: ConfigError) -> ApiProblem:
    return ApiProblem(422, "invalid-field", str(error), field=error.setting)


def _view(status: ServerStatus, source: Source) -> ToolServer:
    spec = status.spec
    return ToolServer(
        name=spec.name,
        transport=spec.transport,
        source=source,
        command=spec.command,
        args=list(spec.args),
        env_names=sorted(spec.env),
        allow={argument: list(patterns) for argument, patterns in spec.allow.items()},
        url=spec.url,
        state=_STATES.get(status.state, "down"),
        tools=status.tools,
        connects=status.connects,
        last_error=status.last_error,
    )


def _views(server: Server) -> list[ToolServer]:
    sources = {record.name: record.source for record in server.store.tool_servers.all()}
    return [
        _view(status, sources.get(status.spec.name, "api")) for status in server.tools.servers()
    ]


def _one(server: Server, name: str) -> ToolServer:
    for view in _views(server):
        if view.name == name:
            return view
    raise _no_server(name)


def _spec(request: ToolServerRequest) -> ToolServerSpec:
    """The server `request` describes, or a 422 naming the field at fault."""
    if request.url is not None and request.command is None:
        for name, given in (("args", request.args), ("env", request.env)):
            if given:
                raise ApiProblem(
                    422,
                    "invalid-field",
                    f"{name}: only a server run by `command` has {name}; drop them for a url",
                    field=name,
                )
        return ToolServerSpec.http(request.name, request.url).allowing(request.allow)
    _check_text("command", [request.command or ""])
    _check_text("args", request.args)
    for key, value in request.env.items():
        if not key or "=" in key or "\0" in key:
            raise ApiProblem(
                422,
                "invalid-field",
                f"env: {key!r} is not an environment variable name",
                field="env",
            )
        _check_text("env", [value])
    return ToolServerSpec(
        request.name,
        "stdio",
        command=request.command,
        args=tuple(request.args),
        env=dict(request.env),
        url=request.url,
    ).allowing(request.allow)


def _check_text(name: str, values: list[str]) -> None:
    if any("\0" in value for value in values):
        raise ApiProblem(422, "invalid-field", f"{name}: must not hold NUL characters", field=name)


@router.get("/tools/servers", response_model=ToolServerList, summary="Tool servers, by name")
def list_servers(server: ServerDep) -> ToolServerList:
    return ToolServerList(items=_views(server))


@router.post(
    "/tools/servers",
    status_code=201,
    response_model=ToolServer,
    summary="Add an MCP server (runs its command here, or connects to its URL)",
    responses=_LOCATION,
)
def add_server(
    request: ToolServerRequest, response: Response, server: ServerDep, http: Request
) -> ToolServer:
    try:
        spec = _spec(request)
    except ConfigError as error:
        raise _invalid(error) from None
    try:
        server.tools.add_server(spec, by=caller(http))
    except ToolServerExists as error:
        raise ApiProblem(409, "tool-server-exists", str(error), field="name") from None
    response.headers["Location"] = f"{API_PREFIX}/tools/servers/{spec.name}"
    return _one(server, spec.name)


@router.get("/tools/servers/{name}", response_model=ToolServer, summary="One tool server")
def get_server(name: str, server: ServerDep) -> ToolServer:
    return _one(server, name)


@router.delete(
    "/tools/servers/{name}",
    status_code=204,
    summary="Disconnect a tool server and forget it (grants naming it stay)",
)
def remove_server(name: str, server: ServerDep, http: Request) -> Response:
    if not server.tools.remove_server(name, by=caller(http)):
        raise _no_server(name)
    return Response(status_code=204)


@router.get("/tools", response_model=ToolList, summary="Every tool, as `server/tool`")
def list_tools(
    server: ServerDep,
    server_name: Annotated[
        str | None, Query(alias="server", description="Only this server's tools")
    ] = None,
) -> ToolList:
    found = server.tools.tools()
    if server_name is not None:
        if server.store.tool_servers.get(server_name) is None:
            raise _no_server(server_name)
        found = [tool for tool in found if tool.server == server_name]
    return ToolList(
        items=[
            Tool(
                name=tool.qualified,
                server=tool.server,
                tool=tool.name,
                description=tool.description,
                input_schema=tool.input_schema,
            )
            for tool in found
        ]
    )


def _agent(name: str) -> str:
    if not is_agent_name(name):
        raise ApiProblem(
            422,
            "invalid-name",
            f"name: {name!r} is not an agent name (1-63 of a-z 0-9 -)",
            field="name",
        )
    return name


def _pattern(pattern: str) -> str:
    try:
        return check_pattern(pattern)
    except ConfigError as error:
        raise _invalid(error) from None


@router.get(
    "/agents/{name}/tools",
    response_model=ToolGrants,
    summary="The tools an agent may call (deployed or not)",
)
def grants(name: str, server: ServerDep) -> ToolGrants:
    return ToolGrants(agent=name, patterns=server.tools.grants.of(name))


@router.post(
    "/agents/{name}/tools",
    status_code=201,
    response_model=ToolGrant,
    summary="Let an agent call a tool, or every tool of a server",
    responses={200: {"model": ToolGrant, "description": "Granted already"}},
)
def grant(
    name: str, request: ToolGrantRequest, response: Response, server: ServerDep, http: Request
) -> ToolGrant:
    agent, pattern = _agent(name), _pattern(request.pattern)
    if not server.tools.grant(agent, pattern, by=caller(http)):
        response.status_code = 200
    return ToolGrant(agent=agent, pattern=pattern)


@router.delete(
    "/agents/{name}/tools",
    status_code=204,
    summary="Take a grant back, from the agent's next call on",
)
def revoke(
    name: str,
    server: ServerDep,
    http: Request,
    pattern: Annotated[str, Query(description="The grant's pattern, exactly as granted")],
) -> Response:
    if not server.tools.revoke(name, _pattern(pattern), by=caller(http)):
        raise ApiProblem(404, "tool-grant-not-found", f"agent {name!r} has no grant {pattern!r}")
    return Response(status_code=204)
