"""`caxton server start|status`: run a server here, or ask one how it is."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from caxton.cli.context import EXIT_USAGE, context


@click.group()
def server() -> None:
    """Run a Caxton server, or check on one."""


@server.command("start")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port for the REST API (default 8080).")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None, help="Where state is kept."
)
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), default=None,
    help="TOML config file (default: $CAXTON_CONFIG or ~/.config/caxton/server.toml).",
)  # fmt: skip
@click.option("--workers", type=int, default=None, help="Dispatcher threads.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default=None)
@click.option(
    "--examples/--no-examples", default=None, help="Deploy the example agents ping, pong, echo."
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    default=False,
    help="Turn authentication off: every caller is an admin. Loopback addresses only.",
)
def start(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    config_file: Path | None,
    workers: int | None,
    log_level: str | None,
    examples: bool | None,
    insecure_no_auth: bool,
) -> None:
    """Start the server in the foreground; SIGTERM or Ctrl-C drains agents and stops it.

    Every route but /health and /ready needs credentials. At first start the
    server makes an admin API key in DATA_DIR/admin.key (readable by you
    only), which `caxton` on this machine uses by itself.
    """
    from caxton.errors import ConfigError
    from caxton.settings import Settings

    flags = {"host": host, "port": port, "data_dir": data_dir, "workers": workers,
             "log_level": log_level, "examples": examples,
             "auth.enabled": False if insecure_no_auth else None}  # fmt: skip
    try:
        settings = Settings.load(flags, config_path=config_file)
    except ConfigError as error:
        click.echo(f"caxton: server start: {error}", err=True)
        sys.exit(EXIT_USAGE)
    from caxton.server.main import serve
    from caxton.telemetry.logs import configure

    configure(settings)
    scheme = "https" if settings.tls.enabled else "http"
    click.echo(
        f"caxton: serving {scheme}://{settings.host}:{settings.port} (data in {settings.data_dir})",
        err=True,
    )
    try:
        serve(settings)
    except ConfigError as error:  # the data directory, found unusable on opening
        click.echo(f"caxton: server start: {error}", err=True)
        sys.exit(EXIT_USAGE)


@server.command("status")
def status() -> None:
    """Whether the server at --url is up and ready, and what it holds."""
    from caxton.api.types import Readiness, ServerInfo
    from caxton.cli import render
    from caxton.cli.client import decode

    cli = context()
    client = cli.client()
    info = client.get("/server", ServerInfo)
    ready = decode(client.request("GET", "//ready", accept=(503,)), Readiness)
    if cli.json:
        render.emit_json({"server": info, "readiness": ready})
        return
    click.echo(f"caxton {info.version} at {cli.url}: {ready.status}")
    click.echo(f"  data: {info.data_dir}   agents: {info.agents}   up {info.uptime_s:.0f} s")
    for name, check in ready.checks.items():
        mark = "ok " if check.ok else "NOT"
        click.echo(f"  {mark} {name}: {check.detail}")
