"""A real Caxton server on a real socket (127.0.0.1, ephemeral port), for API and CLI tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from caxton.server.main import build
from caxton.server.server import Server
from caxton.settings import Settings


class Live:
    def __init__(self, server: Server, url: str) -> None:
        self.server = server
        self.url = url
        self.api = f"{url}/api/v1"
        self.client = httpx.Client(base_url=self.api, timeout=30)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)


@contextmanager
def live_server(data_dir: Path, **settings: Any) -> Iterator[Live]:
    """Serve on an ephemeral port until the block ends, then shut down as SIGTERM would.

    The socket listens before uvicorn starts, so requests made at once wait in
    its backlog until the server has recovered its agents: no waiting here.
    """
    server, http = build(Settings(data_dir=data_dir, port=0, **settings))
    # IPPROTO_TCP: asyncio disables Nagle only on sockets made with it (else +40 ms waits).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=http.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    live = Live(server, f"http://127.0.0.1:{port}")
    try:
        yield live
    finally:
        live.client.close()
        http.should_exit = True
        thread.join(30)
        sock.close()
