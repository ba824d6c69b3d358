"""What every command gets: where the server is, how to print, and a client for it."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from caxton.cli.client import Client

# Exit codes, the same for every command (docs/cli.md).
EXIT_OK = 0
EXIT_FAILED = 1  # the server refused or could not do it
EXIT_USAGE = 2  # bad input (click uses 2 for usage errors too)
EXIT_UNREACHABLE = 3  # no server at the URL
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5  # the state does not allow it, or the name is taken
EXIT_TIMEOUT = 6


def client_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "caxton" / "config.toml"


def load_client_config() -> dict[str, str]:
    """`~/.config/caxton/config.toml`: `url` and `output`, if the file exists."""
    path = client_config_path()
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise click.UsageError(f"client config {path}: {error}") from None
    unknown = set(data) - {"url", "output", "token"}
    if unknown:
        raise click.UsageError(f"client config {path}: unknown keys {', '.join(sorted(unknown))}")
    return {key: str(value) for key, value in data.items()}


@dataclass
class CliContext:
    url: str
    output: str
    _client: Client | None = None

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> Client:
        """The command's client, closed when the command ends (its connection too)."""
        if self._client is None:
            from caxton.cli.client import Client  # http.client loads only for commands that need it

            self._client = Client(self.url)
            click.get_current_context().find_root().call_on_close(self._client.close)
        return self._client


def context() -> CliContext:
    """The `CliContext` of the running command (main group's options resolved)."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, CliContext):  # a group invoked on its own, as tests do
        obj = CliContext(url=os.environ.get("CAXTON_URL", "http://127.0.0.1:8080"), output="table")
        click.get_current_context().find_root().obj = obj
    return obj
