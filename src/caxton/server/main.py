"""`serve`: run a `Server` behind uvicorn until SIGTERM or SIGINT, then drain and stop."""

from __future__ import annotations

import logging

import uvicorn

from caxton.api.app import create_app
from caxton.server.examples import deploy_examples
from caxton.server.server import Server
from caxton.settings import Settings

log = logging.getLogger("caxton.server")


def build(settings: Settings) -> tuple[Server, uvicorn.Server]:
    """The server and the uvicorn instance that will run it (not started yet)."""
    server = Server(settings)
    app = create_app(server, on_started=deploy_examples if settings.examples else None)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # Caxton's own logging setup applies
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return server, uvicorn.Server(config)


def serve(settings: Settings) -> None:
    """Serve until a signal; uvicorn turns SIGTERM and SIGINT into a graceful shutdown."""
    _, http = build(settings)
    http.run()
