"""/auth: who you are, API keys, and the roles of JWT and certificate identities.

Keys are shown whole once, in the answer that makes them. Every change here
takes effect at the next request (the authenticator's cache is emptied) and
is recorded in the audit trail by the guard.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from caxton.api.deps import ServerDep
from caxton.api.guard import caller
from caxton.api.problems import ApiProblem
from caxton.api.types import (
    ApiKey,
    ApiKeyList,
    ApiKeyRequest,
    Identity,
    IdentityRole,
    IdentityRoleList,
    NewApiKey,
    RoleChange,
)
from caxton.security.keys import InvalidRole, UnknownKey, check_role
from caxton.store import IdentityRoleRecord, KeyRecord

router = APIRouter(prefix="/auth", tags=["authentication"])


@router.get("/whoami", response_model=Identity, summary="The identity the server sees")
def whoami(request: Request) -> Identity:
    identity = request.state.passage.identity
    return Identity(subject=identity.subject, role=identity.role, via=identity.via)


@router.get("/keys", response_model=ApiKeyList, summary="API keys, revoked ones too")
def keys(server: ServerDep) -> ApiKeyList:
    return ApiKeyList(items=[_key(record) for record in server.keys.all()])


@router.post("/keys", status_code=201, response_model=NewApiKey, summary="Make an API key")
def create(body: ApiKeyRequest, server: ServerDep, request: Request) -> NewApiKey:
    try:
        record, token = server.keys.create(body.role, body.name, caller(request))
    except InvalidRole as error:
        raise ApiProblem(422, "invalid-request", str(error), field=error.field) from None
    return NewApiKey(key=_key(record), token=token)


@router.patch("/keys/{key_id}", response_model=ApiKey, summary="Change a key's role")
def change(key_id: str, body: RoleChange, server: ServerDep) -> ApiKey:
    try:
        return _key(server.keys.set_role(key_id, body.role))
    except UnknownKey as error:
        raise ApiProblem(404, "key-not-found", str(error)) from None


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke a key (it stays listed)")
def revoke(key_id: str, server: ServerDep) -> Response:
    try:
        server.keys.revoke(key_id)
    except UnknownKey as error:
        raise ApiProblem(404, "key-not-found", str(error)) from None
    return Response(status_code=204)


@router.get(
    "/identities", response_model=IdentityRoleList, summary="Roles given to JWT and cert identities"
)
def identities(server: ServerDep) -> IdentityRoleList:
    return IdentityRoleList(items=[_identity(record) for record in server.keys.identities()])


@router.put("/identities/{subject}", response_model=IdentityRole, summary="Give an identity a role")
def set_role(subject: str, body: RoleChange, server: ServerDep, request: Request) -> IdentityRole:
    try:
        return _identity(server.keys.set_identity_role(subject, body.role, caller(request)))
    except InvalidRole as error:
        raise ApiProblem(422, "invalid-request", str(error), field=error.field) from None


@router.delete("/identities/{subject}", status_code=204, summary="Take an identity's role away")
def remove_role(subject: str, server: ServerDep) -> Response:
    if not server.keys.remove_identity_role(subject):
        raise ApiProblem(404, "identity-not-found", f"no role is set for {subject!r}")
    return Response(status_code=204)


def _key(record: KeyRecord) -> ApiKey:
    return ApiKey(
        id=record.id,
        name=record.name,
        role=check_role(record.role),
        created_at=record.created_at,
        created_by=record.created_by,
        revoked_at=record.revoked_at,
    )


def _identity(record: IdentityRoleRecord) -> IdentityRole:
    return IdentityRole(
        subject=record.subject,
        role=check_role(record.role),
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )
