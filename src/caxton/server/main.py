"""`serve`: run a `Server` behind uvicorn until SIGTERM or SIGINT, then drain and stop."""

from __future__ import annotations

import logging
import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from caxton.api.app import create_app
from caxton.security.tls import ServingCertificate, http_protocol
from caxton.server.examples import deploy_examples
from caxton.server.server import Server
from caxton.settings import Settings

log = logging.getLogger("caxton.server")


def build(settings: Settings) -> tuple[Server, uvicorn.Server]:
    """The server and the uvicorn instance that will run it (not started yet).

    With `tls.enabled`, the certificate is loaded first: one that does not load
    is a ConfigError naming the setting, raised before anything is opened.
    """
    certificate = ServingCertificate(settings.tls) if settings.tls.enabled else None
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
        # The HTTP/1.1 implementation uvicorn picks itself, giving requests the TLS extension.
        http="auto" if certificate is None else http_protocol(AutoHTTPProtocol),
        ssl_context_factory=None if certificate is None else _listening(certificate),
    )
    if certificate is not None and server.telemetry.metrics is not None:
        server.telemetry.metrics.watch_certificate(certificate.expiry_days)
    return server, uvicorn.Server(config)


def _listening(
    certificate: ServingCertificate,
) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    """For uvicorn's `ssl_context_factory`: the context that rereads the certificate files.

    uvicorn's `ssl_certfile` and `ssl_keyfile` would read them once, at start.
    """

    def factory(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return certificate.context

    return factory


@contextmanager
def in_background(http: uvicorn.Server) -> Iterator[str]:
    """Run `http` in a thread on an ephemeral port of 127.0.0.1 until the block ends; its URL
    (https:// when it serves TLS).

    The socket listens before uvicorn starts, so requests made at once wait in
    its backlog until the server is up: nobody needs to wait for it. It names
    IPPROTO_TCP because asyncio turns Nagle's algorithm off only on connections
    accepted from such a socket; with it on, a response written in two parts
    waits ~40 ms for the client's delayed ACK. The block's end stops the
    server as SIGTERM would.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    thread = threading.Thread(target=http.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        scheme = "https" if http.config.is_ssl else "http"
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        http.should_exit = True
        thread.join(30)
        sock.close()


def serve(settings: Settings) -> None:
    """Serve until a signal; uvicorn turns SIGTERM and SIGINT into a graceful shutdown.

    Once it has shut down, uvicorn raises the signal again for the handler it
    found, so that the process would die of it (exit -15 for SIGTERM, a
    KeyboardInterrupt for SIGINT). Here the graceful shutdown is the whole
    answer to the signal: a handler that only asks uvicorn to stop lets a
    clean stop exit 0, as service managers and Kubernetes expect.
    """
    _, http = build(settings)
    if threading.current_thread() is not threading.main_thread():
        http.run()  # uvicorn leaves signals alone off the main thread
        return

    def stopped(sig: int, frame: FrameType | None) -> None:
        # After the shutdown: nothing left to do. Before uvicorn takes the signals
        # over (a signal early in start-up): it stops as soon as it serves.
        http.should_exit = True

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        http.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
