"""/agents: deploy, list, inspect, act on and remove agents; their logs, live or not."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from caxton.acl import is_agent_name
from caxton.api import views
from caxton.api.deps import ServerDep, read_body, refuse_declared_excess, too_large
from caxton.api.problems import ApiProblem
from caxton.api.streams import sse
from caxton.api.types import API_PREFIX, Agent, AgentList, AgentLogLine, AgentLogs, AgentStateName
from caxton.server.server import Server

router = APIRouter(prefix="/agents", tags=["agents"])

_WASM = "application/wasm"
_MULTIPART = "multipart/form-data"
SIGNATURE_HEADER = "X-Caxton-Signature"
SIGNER_HEADER = "X-Caxton-Signed-By"
_SIGNATURE_LIMIT = 1024  # a signature file is 89 bytes; past this, it is no signature
_SIGNATURE: dict[str, Any] = {
    "type": "string",
    "description": "base64 of the module's ed25519 signature: the content of its .sig file "
    "(`caxton signing sign`). Checked against signing.policy before anything is stored",
}
_DEPLOY_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,62}$"},
    "version": {"type": "string", "minLength": 1, "default": "1"},
    "config": {"type": "string", "description": "a JSON object, given to caxton_init"},
    "limits": {"type": "string", "description": 'a JSON object, e.g. {"memory_bytes": 4194304}'},
    "start": {"type": "boolean", "default": True},
}
_MODULE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            _WASM: {"schema": {"type": "string", "format": "binary"}},
            _MULTIPART: {
                "schema": {
                    "type": "object",
                    "required": ["module"],
                    "properties": {
                        "module": {"type": "string", "format": "binary"},
                        "signature": _SIGNATURE,
                        **_DEPLOY_FIELDS,
                    },
                }
            },
        },
    }
}


def _with_query(*fields: str) -> dict[str, Any]:
    """`_MODULE_BODY`, plus `fields` as query parameters (how a raw module's fields come),
    and the signature header (how a raw module's signature comes)."""
    signature = {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": False,
        "schema": _SIGNATURE,
        "description": "the signature of a raw module; a multipart `signature` part wins over it",
    }
    return {
        **_MODULE_BODY,
        "parameters": [
            *(
                {"name": field, "in": "query", "required": False, "schema": _DEPLOY_FIELDS[field]}
                for field in fields
            ),
            signature,
        ],
    }


# The answer's header when the module was signed: who signed it.
_SIGNER: dict[str, Any] = {
    "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
    "description": "the id of the trusted key that signed the module (absent if unsigned)",
}


class _Upload:
    """A module, its fields and its signature, from a raw `application/wasm` body or a multipart
    form; the signature from the form's `signature` part, else from the signature header."""

    def __init__(
        self, module: bytes, fields: dict[str, str], signature: bytes | str | None
    ) -> None:
        self.module = module
        self.fields = fields
        self.signature = signature

    @classmethod
    async def read(cls, request: Request, server: Server) -> _Upload:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        query = dict(request.query_params)
        if kind == _WASM:
            return cls(
                await read_body(request, server), query, request.headers.get(SIGNATURE_HEADER)
            )
        if kind == _MULTIPART:
            return await cls._form(request, server, query)
        raise ApiProblem(
            415,
            "unsupported-media-type",
            f"send the module as {_WASM} or as the `module` part of {_MULTIPART}, not {kind!r}",
        )

    @classmethod
    async def _form(cls, request: Request, server: Server, query: dict[str, str]) -> _Upload:
        limit = refuse_declared_excess(request, server)
        try:  # two files: the module, and its signature sent as a file
            form = await request.form(max_files=2, max_fields=16)
        except Exception as error:  # multipart's own errors name the problem
            raise ApiProblem(400, "malformed-form", f"unreadable multipart body: {error}") from None
        fields = dict(query)
        module = b""
        signature: bytes | str | None = request.headers.get(SIGNATURE_HEADER)
        try:
            for key, value in form.multi_items():
                if key == "signature":
                    signature = await _part(value, _SIGNATURE_LIMIT)
                elif isinstance(value, UploadFile):
                    if key == "module":
                        module = await value.read(limit + 1)
                else:
                    fields[key] = value
        finally:
            await form.close()  # uploads spool to temporary files
        if not module:
            raise ApiProblem(
                422, "module-missing", "the `module` part is missing or empty", field="module"
            )
        if len(module) > limit:
            raise too_large(len(module), limit)
        return cls(module, fields, signature)

    def signer(self, server: Server, agent: str) -> str | None:
        """Who signed the module (a key id), or None; SignatureRefused when the policy says no."""
        return server.signing.check(self.module, self.signature, agent=agent)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.fields.get(name, default)
        if value is None:
            raise ApiProblem(422, "field-missing", f"{name}: required", field=name)
        return value

    def version(self, default: str | None = None) -> str:
        version = self.text("version", default)
        if not version.strip():
            raise ApiProblem(422, "invalid-field", "version: must not be empty", field="version")
        return version

    def json_object(self, name: str) -> dict[str, Any]:
        raw = self.fields.get(name)
        if raw is None or raw == "":
            return {}
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ApiProblem(
                422, "invalid-json", f"{name}: not JSON ({error})", field=name
            ) from None
        if not isinstance(value, dict):
            raise ApiProblem(422, "invalid-json", f"{name}: must be a JSON object", field=name)
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.fields.get(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise ApiProblem(422, "invalid-field", f"{name}: must be true or false", field=name)


async def _part(value: UploadFile | str, limit: int) -> bytes | str:
    """A form part's content: a field's text, or the first `limit` + 1 bytes of a file."""
    if isinstance(value, UploadFile):
        return await value.read(limit + 1)
    return value


@router.post(
    "",
    status_code=201,
    response_model=Agent,
    summary="Deploy an agent",
    openapi_extra=_with_query(*_DEPLOY_FIELDS),
    responses={
        201: {"headers": {"Location": {"schema": {"type": "string"}}, SIGNER_HEADER: _SIGNER}}
    },
)
async def deploy(request: Request, response: Response, server: ServerDep) -> Agent:
    upload = await _Upload.read(request, server)
    name = upload.text("name")
    if not is_agent_name(name):
        raise ApiProblem(
            422,
            "invalid-name",
            f"name: {name!r} is not an agent name (1-63 of a-z 0-9 -)",
            field="name",
        )
    signer = upload.signer(server, name)
    view = await asyncio.to_thread(
        server.manager.deploy,
        name,
        upload.module,
        version=upload.version("1"),
        config=upload.json_object("config"),
        limits=upload.json_object("limits"),
        start=upload.flag("start", True),
    )
    response.headers["Location"] = f"{API_PREFIX}/agents/{view.name}"
    if signer is not None:
        response.headers[SIGNER_HEADER] = signer
    return views.agent(server, view)


@router.get("", response_model=AgentList, summary="List agents")
def list_agents(
    server: ServerDep,
    state: AgentStateName | None = None,
    capability: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> AgentList:
    chosen = server.manager.all()
    if state is not None:
        chosen = [view for view in chosen if view.state == state]
    if capability is not None:
        offering = {p.agent_name for p in server.store.capabilities.providers(capability)}
        chosen = [view for view in chosen if view.name in offering]
    if cursor is not None:
        chosen = [view for view in chosen if view.name > cursor]
    page = chosen[:limit]
    more = len(chosen) > limit
    return AgentList(
        items=[views.agent(server, view) for view in page],
        next_cursor=page[-1].name if more else None,
    )


@router.get("/{name}", response_model=Agent, summary="One agent, with its counters")
def get_agent(name: str, server: ServerDep) -> Agent:
    return views.agent(server, server.manager.get(name))


@router.delete("/{name}", status_code=204, summary="Remove an agent and all it holds")
async def remove(name: str, server: ServerDep) -> Response:
    await asyncio.to_thread(server.manager.remove, name)
    return Response(status_code=204)


@router.post("/{name}/start", response_model=Agent, summary="Start a stopped or loaded agent")
async def start(name: str, server: ServerDep) -> Agent:
    return views.agent(server, await asyncio.to_thread(server.manager.start, name))


@router.post("/{name}/stop", response_model=Agent, summary="Drain, then stop")
async def stop(name: str, server: ServerDep) -> Agent:
    return views.agent(server, await asyncio.to_thread(server.manager.stop, name, "stop"))


@router.post("/{name}/drain", response_model=Agent, summary="Deliver what waits, then stop")
async def drain(name: str, server: ServerDep) -> Agent:
    return views.agent(server, await asyncio.to_thread(server.manager.stop, name, "drain"))


@router.post(
    "/{name}/reload",
    response_model=Agent,
    summary="Hot-reload a new module version",
    openapi_extra=_with_query("version"),
    responses={200: {"headers": {SIGNER_HEADER: _SIGNER}}},
)
async def reload(name: str, request: Request, response: Response, server: ServerDep) -> Agent:
    server.manager.get(name)  # 404 before reading a large body
    upload = await _Upload.read(request, server)
    version = upload.version()
    signer = upload.signer(server, name)
    view = await asyncio.to_thread(server.manager.reload, name, upload.module, version=version)
    if signer is not None:
        response.headers[SIGNER_HEADER] = signer
    return views.agent(server, view)


@router.post("/{name}/rollback", response_model=Agent, summary="Back to the previous version")
async def rollback(name: str, server: ServerDep) -> Agent:
    return views.agent(server, await asyncio.to_thread(server.manager.rollback, name))


@router.get(
    "/{name}/logs",
    response_model=AgentLogs,
    summary="The agent's log lines; `follow=true` streams them as server-sent events",
    responses={200: {"content": {"text/event-stream": {}}}},
)
def logs(
    name: str,
    server: ServerDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    follow: bool = False,
) -> Any:
    server.manager.get(name)
    if follow:
        return _follow(server, name, after)
    last_seq = server.logbook.last_seq  # before reading: a later line is not skipped by a follow
    lines = [line for line in server.logbook.lines(name, after, limit) if line.seq <= last_seq]
    return AgentLogs(items=[AgentLogLine(**line._asdict()) for line in lines], last_seq=last_seq)


def _follow(server: Server, name: str, after: int) -> Any:
    logbook = server.logbook

    def wait(seq: int, timeout: float) -> tuple[int, list[tuple[int, Any]]]:
        logbook.wait_after(seq, timeout)
        lines = logbook.lines(name, seq, 10_000)
        newest = max(logbook.last_seq, seq)
        return newest, [(line.seq, line._asdict()) for line in lines]

    return sse(wait, after, lambda: server.closed)
