"""`caxton auth ...`: who you are to the server, API keys, and the roles of other identities.

    caxton auth whoami
    caxton auth key create --role operator --name ci     # prints the key once
    caxton auth key list | revoke ID | set-role ID ROLE
    caxton auth identity set jwt:alice developer | list | remove SUBJECT

Keys are sent as `--token` or CAXTON_TOKEN. On the server's own machine the
CLI reads the admin key the server made at first start
(`<data_dir>/admin.key`) by itself.
"""

from __future__ import annotations

import click

from caxton.api.types import (
    ROLES,
    ApiKey,
    ApiKeyList,
    ApiKeyRequest,
    Identity,
    IdentityRole,
    IdentityRoleList,
    NewApiKey,
    Role,
    RoleChange,
    role_named,
)
from caxton.cli import render
from caxton.cli.client import decode
from caxton.cli.context import context

_ROLE = click.Choice(ROLES)


def _role(text: str) -> Role:
    """A role click has already checked, typed as one."""
    named = role_named(text)
    assert named is not None  # click.Choice(ROLES) let nothing else through
    return named


@click.group()
def auth() -> None:
    """Who you are to the server; API keys and the roles of identities."""


@auth.command("whoami")
def whoami() -> None:
    """The identity the server sees for your credentials, and its role."""
    cli = context()
    identity = cli.client().get("/auth/whoami", Identity)
    if cli.json:
        render.emit(identity)
        return
    click.echo(f"{identity.subject} ({identity.role or 'no role'}, via {identity.via})")


# ---- keys ----


@auth.group("key")
def key() -> None:
    """Make, list, revoke API keys and change their roles (admin only)."""


@key.command("create")
@click.option("--role", required=True, type=_ROLE, help="What the key may do.")
@click.option("--name", default="", help="What the key is for (shown in lists and the audit).")
def create(role: str, name: str) -> None:
    """Make a key; it is printed once: keep it, the server stores only its hash.

    \b
      export CAXTON_TOKEN=$(caxton auth key create --role viewer --name grafana)
    """
    cli = context()
    made = cli.client().post(
        "/auth/keys", NewApiKey, body=ApiKeyRequest(role=_role(role), name=name)
    )
    if cli.json:
        render.emit(made)
        return
    click.echo(made.token)
    click.echo(f"made {made.key.role} key {made.key.id} ({made.key.name}); it is shown only "
               "now", err=True)  # fmt: skip


@key.command("list")
def list_keys() -> None:
    """Every key with its role; revoked ones too."""
    cli = context()
    found = cli.client().get("/auth/keys", ApiKeyList)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("ID", "NAME", "ROLE", "CREATED", "BY", "REVOKED"),
        (
            (
                item.id,
                item.name,
                item.role,
                render.when(item.created_at),
                item.created_by,
                render.when(item.revoked_at) if item.revoked_at is not None else "",
            )
            for item in found.items
        ),
        empty="no keys",
    )


@key.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke key KEY_ID: refused from the next request on. Exits 4 if unknown."""
    cli = context()
    cli.client().request("DELETE", f"/auth/keys/{render.part(key_id)}")
    if not cli.json:
        click.echo(f"revoked key {key_id}")


@key.command("set-role")
@click.argument("key_id")
@click.argument("role", type=_ROLE)
def set_key_role(key_id: str, role: str) -> None:
    """Give key KEY_ID another role, from its next request on. Exits 4 if unknown."""
    cli = context()
    changed = cli.client().request(
        "PATCH", f"/auth/keys/{render.part(key_id)}", body=RoleChange(role=_role(role))
    )
    answer = decode(changed, ApiKey)
    if cli.json:
        render.emit(answer)
        return
    click.echo(f"key {answer.id} is now {answer.role}")


# ---- identities ----


@auth.group("identity")
def identity() -> None:
    """Roles of identities that are not keys: jwt:<sub> and cert:<subject> (admin only)."""


@identity.command("set")
@click.argument("subject")
@click.argument("role", type=_ROLE)
def set_identity(subject: str, role: str) -> None:
    """Give SUBJECT (jwt:<sub> or cert:<subject>) ROLE, over what its token claims."""
    cli = context()
    reply = cli.client().request(
        "PUT", f"/auth/identities/{render.part(subject)}", body=RoleChange(role=_role(role))
    )
    answer = decode(reply, IdentityRole)
    if cli.json:
        render.emit(answer)
        return
    click.echo(f"{answer.subject} is now {answer.role}")


@identity.command("list")
def list_identities() -> None:
    """Identities given a role here."""
    cli = context()
    found = cli.client().get("/auth/identities", IdentityRoleList)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("SUBJECT", "ROLE", "SINCE", "BY"),
        (
            (item.subject, item.role, render.when(item.updated_at), item.updated_by)
            for item in found.items
        ),
        empty="no identity has a role set here",
    )


@identity.command("remove")
@click.argument("subject")
def remove_identity(subject: str) -> None:
    """Take SUBJECT's role away (a JWT's own role claim counts again). Exits 4 if none."""
    cli = context()
    cli.client().request("DELETE", f"/auth/identities/{render.part(subject)}")
    if not cli.json:
        click.echo(f"removed the role of {subject}")
