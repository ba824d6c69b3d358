"""The standard web tool, `mcp-server-fetch` (PyPI), kept to allowed URLs by an argument
allow-list: an agent reads an allowed page of a real HTTP server on loopback, and a URL
outside the list is refused before the fetch server is asked."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_tool_calls import answer, run

from caxton.tools import ToolServerSpec
from live import Live, live_server

FETCH = Path(sys.prefix) / "bin" / "mcp-server-fetch"
PAGES = {"/public/page.txt": b"public words", "/private/secret.txt": b"secret words"}
DEADLINE_S = 20.0


class _Site(ThreadingHTTPServer):
    requested: list[str]


class _Pages(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:  # the name http.server dispatches on
        self.server.requested.append(self.path)
        body = PAGES.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        self.wfile.write(body or b"not here")

    def log_message(self, format: str, *args: object) -> None:  # the base's name
        """Quiet: the tests look at `requested` instead."""


@pytest.fixture
def site() -> Iterator[_Site]:
    server = _Site(("127.0.0.1", 0), _Pages)
    server.requested = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def web(tmp_path: Path, site: _Site) -> Iterator[tuple[Live, str]]:
    base = f"http://127.0.0.1:{site.server_address[1]}"
    with live_server(tmp_path / "data") as live:
        spec = ToolServerSpec.stdio(
            "web", str(FETCH), ["--allow-private-ips", "--ignore-robots-txt"]
        ).allowing({"url": [f"{base}/public/*"]})
        live.server.tools.add_server(spec)
        assert live.server.tools.wait_ready("web", DEADLINE_S)
        yield live, base


def test_an_allowed_page_is_fetched(web: tuple[Live, str], site: _Site) -> None:
    live, base = web
    call = {"tool": "web/fetch", "arguments": {"url": f"{base}/public/page.txt"}, "reply_with": "p"}
    run(live, "reader", call, grant="web/fetch")
    got = answer(live, "reader")
    assert got["performative"] == "inform", got
    assert "public words" in got["content"]["content"][0]["text"]
    assert site.requested == ["/public/page.txt"]


def test_a_url_outside_the_allow_list_never_reaches_the_fetch_server(
    web: tuple[Live, str], site: _Site
) -> None:
    live, base = web
    for n, url in enumerate([f"{base}/private/secret.txt", f"{base}/public/../private/x",
                             "http://127.0.0.1:1/public/page.txt"]):  # fmt: skip
        name = f"snoop-{n}"
        run(live, name, {"tool": "web/fetch", "arguments": {"url": url}, "reply_with": "s"},
            grant="web/*")  # fmt: skip
        got = answer(live, name)
        assert got["performative"] == "failure"
        assert got["content"]["error"] == "invalid"
        assert "is not allowed for web" in got["content"]["reason"]
    assert site.requested == []
    assert "secret words" not in str(live.server.store.audit.recent(20))
