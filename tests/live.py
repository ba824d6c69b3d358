"""A real Caxton server on a real socket (127.0.0.1, ephemeral port), for API and CLI tests."""

from __future__ import annotations

import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import msgspec
import pytest
from click.testing import CliRunner, Result

from caxton.cli import main
from caxton.server.main import build, in_background
from caxton.server.server import Server
from caxton.settings import Settings

T = TypeVar("T")


def decode_as(kind: type[T], text: str | bytes) -> T:
    """JSON the CLI printed, decoded into an API type as a script would (and the CLI does)."""
    return msgspec.json.decode(text, type=kind)


def admin_token(data_dir: Path) -> str:
    """The admin key the server made at first start in its data directory."""
    return (data_dir / "admin.key").read_text().strip()


class Live:
    def __init__(self, server: Server, url: str, verify: ssl.SSLContext | bool = True) -> None:
        self.server = server
        self.url = url
        self.api = f"{url}/api/v1"
        self.token = admin_token(Path(server.settings.data_dir))
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.client = httpx.Client(
            base_url=self.api, timeout=30, headers=self.headers, verify=verify
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)


@contextmanager
def live_server(
    data_dir: Path, verify: ssl.SSLContext | bool = True, **settings: Any
) -> Iterator[Live]:
    """Serve on an ephemeral port until the block ends, then shut down as SIGTERM would.

    `verify` is what the test client trusts when the server speaks TLS.
    """
    server, http = build(Settings(data_dir=data_dir, port=0, **settings))
    with in_background(http) as url:
        live = Live(server, url, verify)
        # The admin key's first use is audited (auth.ok): done now, so that tests counting
        # audit records see only their own.
        live.get("/auth/whoami").raise_for_status()
        try:
            yield live
        finally:
            live.client.close()


def caxton(live: Live, *args: str, output: str | None = None, stdin: bytes | None = None) -> Result:
    """`caxton --url <live> --token <admin> [-o output] args...` through click's runner."""
    chosen = ["-o", output] if output else []
    return CliRunner().invoke(
        main, ["--url", live.url, "--token", live.token, *chosen, *args], input=stdin
    )


FOLLOW_DEADLINE_S = 20.0


class Follower:
    """A `caxton ... --follow` process; its stdout lines gathered by a thread, for `expect`."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "caxton", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, wanted: Callable[[str], bool]) -> str:
        """The first line from now on for which `wanted` holds (fails after a deadline)."""
        while True:
            try:
                line = self.lines.get(timeout=FOLLOW_DEADLINE_S)
            except queue.Empty:
                pytest.fail(f"no wanted line within {FOLLOW_DEADLINE_S} s; saw {self.seen}")
            self.seen.append(line)
            if wanted(line):
                return line

    def next(self) -> str:
        return self.expect(lambda _: True)

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C, as a person would end it: the exit code and stderr."""
        self.process.send_signal(signal.SIGINT)
        _, stderr = self.process.communicate(timeout=FOLLOW_DEADLINE_S)
        return self.process.returncode, stderr

    def __enter__(self) -> Follower:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
