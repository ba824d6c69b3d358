"""`caxton tool ...`: MCP tool servers, the tools they offer, and which agent may call what.

Servers are added by name, to run a command (`-- COMMAND ARGS...`, spoken
to over stdio) or to reach a URL (`--url`); they connect in the background,
and `tool server list` says when each is ready. Agents call nothing until
granted: `tool grant AGENT server/tool`, or `server/*` for all of a
server's tools.
"""

from __future__ import annotations

from typing import Any

import click

from caxton.api.types import (
    ToolGrant,
    ToolGrantRequest,
    ToolGrants,
    ToolList,
    ToolServer,
    ToolServerList,
    ToolServerRequest,
)
from caxton.cli import client as http
from caxton.cli import render
from caxton.cli.agent import complete_agent_name
from caxton.cli.context import context

SERVER_STATE_STYLES: dict[str, dict[str, Any]] = {
    "ready": {"fg": "green"},
    "connecting": {"fg": "cyan"},
    "down": {"fg": "red", "bold": True},
}


@click.group()
def tool() -> None:
    """Connect MCP tool servers, list their tools and grant agents the use of them."""


# ---- servers ----


@tool.group("server")
def server() -> None:
    """Add, list and remove the MCP servers that agents' tools come from."""


@server.command("add")
@click.argument("name")
@click.argument("command", nargs=-1, required=False, metavar="[-- COMMAND [ARGS]...]")
@click.option("--url", default=None, help="Reach the server here (MCP streamable HTTP).")
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An environment variable for COMMAND; may be repeated.",
)
@click.option(
    "--allow",
    "allow_pairs",
    multiple=True,
    metavar="ARGUMENT=PATTERN",
    help="Only let calls through whose ARGUMENT matches the glob PATTERN; may be repeated.",
)
def add(
    name: str,
    command: tuple[str, ...],
    url: str | None,
    env_pairs: tuple[str, ...],
    allow_pairs: tuple[str, ...],
) -> None:
    """Add tool server NAME: run COMMAND (after `--`), or connect to --url.

    \b
      caxton tool server add time -- mcp-server-time --local-timezone UTC
      caxton tool server add search --url https://mcp.example.com/mcp
      caxton tool server add web --allow 'url=https://docs.python.org/*' -- mcp-server-fetch

    The server runs COMMAND on its own machine, and connects in the
    background: `caxton tool server list` shows when it is ready. Exits 5 if
    NAME is taken, 2 if the server finds something wrong with the input.
    """
    if bool(command) == (url is not None):
        raise click.UsageError("give either `-- COMMAND [ARGS]...` or --url URL (one of them)")
    if url is not None and env_pairs:
        raise click.UsageError("--env sets variables for a COMMAND; a --url server has none")
    request = ToolServerRequest(
        name=name,
        command=command[0] if command else None,
        args=list(command[1:]),
        env=dict(_pair(text, "--env") for text in env_pairs),
        url=url,
        allow=_allow(allow_pairs),
    )
    cli = context()
    added = cli.client().post("/tools/servers", ToolServer, body=request)
    if cli.json:
        render.emit(added)
        return
    click.echo(f"added tool server {added.name} ({added.state}): {_target(added)}")
    click.echo("`caxton tool server list` shows when it is ready", err=True)


def _pair(text: str, option: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint=option)
    return key, value


def _allow(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    allow: dict[str, list[str]] = {}
    for argument, pattern in (_pair(text, "--allow") for text in pairs):
        allow.setdefault(argument, []).append(pattern)
    return allow


def _target(item: ToolServer) -> str:
    """What it runs (a command line, quoted as for a shell), or where it is."""
    if item.command is None:
        return item.url or ""
    import shlex

    return shlex.join([item.command, *item.args])


@server.command("list")
def list_servers() -> None:
    """Tool servers: state (connecting, ready, down), tools, connections, last error."""
    cli = context()
    found = cli.client().get("/tools/servers", ToolServerList)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("NAME", "STATE", "TOOLS", "CONNECTS", "COMMAND/URL", "LAST-ERROR"),
        (
            (item.name, item.state, item.tools, item.connects, _target(item), item.last_error or "")
            for item in found.items
        ),
        styles={1: SERVER_STATE_STYLES},
        empty="no tool servers; add one with `caxton tool server add NAME -- COMMAND`",
    )


@server.command("remove")
@click.argument("name")
def remove_server(name: str) -> None:
    """Disconnect tool server NAME and forget it (grants naming it stay). Exits 4 if unknown."""
    cli = context()
    cli.client().request("DELETE", f"/tools/servers/{render.part(name)}")
    if not cli.json:
        click.echo(f"removed tool server {name}")


# ---- tools ----


@tool.command("list")
@click.option("--server", "server_name", default=None, help="Only this server's tools.")
def list_tools(server_name: str | None) -> None:
    """Every tool as `server/tool`, with its description.

    `server/tool` is what agents call a tool by, and what grants name. With
    -o json, each tool's input schema too. Exits 4 if --server is unknown.
    """
    cli = context()
    params = {"server": server_name} if server_name is not None else None
    found = cli.client().get("/tools", ToolList, params=params)
    if cli.json:
        render.emit(found)
        return
    where = "no tool server is ready" if server_name is None else f"{server_name} is not ready"
    render.table(
        ("TOOL", "DESCRIPTION"),
        ((item.name, item.description.strip().partition("\n")[0]) for item in found.items),
        empty=f"no tools ({where}? see `caxton tool server list`)",
    )


# ---- grants ----


def _grants_path(agent: str) -> str:
    return f"/agents/{render.part(agent)}/tools"


@tool.command("grant")
@click.argument("agent", shell_complete=complete_agent_name)
@click.argument("pattern")
def grant(agent: str, pattern: str) -> None:
    """Let AGENT call PATTERN: one tool (server/tool) or all (server/*).

    `server/*` is every tool of the server, those it offers later too. AGENT
    need not be deployed yet. It takes effect at once, with no restart.
    """
    cli = context()
    reply = cli.client().request(
        "POST", _grants_path(agent), body=ToolGrantRequest(pattern=pattern)
    )
    granted = http.decode(reply, ToolGrant)
    if cli.json:
        render.emit(granted)
    elif reply.status == 200:
        click.echo(f"{agent} may call {pattern} already")
    else:
        click.echo(f"{agent} may now call {pattern}")


@tool.command("revoke")
@click.argument("agent", shell_complete=complete_agent_name)
@click.argument("pattern")
def revoke(agent: str, pattern: str) -> None:
    """Take back AGENT's grant PATTERN, from its next call on. Exits 4 if there is none.

    PATTERN is matched exactly: revoking `server/*` leaves grants of single tools.
    """
    cli = context()
    cli.client().request("DELETE", _grants_path(agent), params={"pattern": pattern})
    if not cli.json:
        click.echo(f"{agent} may no longer call {pattern}")


@tool.command("grants")
@click.argument("agent", shell_complete=complete_agent_name)
def grants(agent: str) -> None:
    """The tools AGENT may call (deployed or not): its grants' patterns."""
    cli = context()
    found = cli.client().get(_grants_path(agent), ToolGrants)
    if cli.json:
        render.emit(found)
        return
    render.table(
        ("PATTERN",),
        ((pattern,) for pattern in found.patterns),
        empty=f"{agent} may call no tools; grant some with `caxton tool grant {agent} server/*`",
    )
