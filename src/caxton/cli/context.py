"""What every command gets: where the server is, how to print, and a client for it."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
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
EXIT_DENIED = 7  # no credentials, wrong ones, or a role that may not do it


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
    unknown = set(data) - {"url", "output", "token", "ca_cert", "client_cert", "client_key"}
    if unknown:
        raise click.UsageError(f"client config {path}: unknown keys {', '.join(sorted(unknown))}")
    return {key: str(value) for key, value in data.items()}


@dataclass
class CliContext:
    url: str
    output: str
    token: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    _client: Client | None = None

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> Client:
        """The command's client, closed when the command ends (its connection too)."""
        if self._client is None:
            self._client = make_client(self.url, self.token, self.config)
            click.get_current_context().find_root().call_on_close(self._client.close)
        return self._client


def make_client(
    url: str, token: str | None, config: dict[str, str], timeout: float = 30.0
) -> Client:
    """A client for `url` with the credentials given, configured, or found on this machine."""
    from caxton.cli.client import Client, Credentials  # http.client loads only when needed

    credentials = Credentials(
        token=token or config.get("token") or local_admin_key(url),
        ca_file=os.environ.get("CAXTON_CA_CERT") or config.get("ca_cert"),
        cert_file=os.environ.get("CAXTON_CLIENT_CERT") or config.get("client_cert"),
        key_file=os.environ.get("CAXTON_CLIENT_KEY") or config.get("client_key"),
    )
    return Client(url, timeout=timeout, credentials=credentials)


def local_admin_key(url: str) -> str | None:
    """The admin key a server on this machine wrote in its data directory, if readable.

    Only for a server on a loopback address: a key is never sent anywhere else
    by itself. The data directory is $CAXTON_DATA_DIR, else the default one.
    """
    from urllib.parse import urlsplit

    from caxton.settings import ADMIN_KEY_FILE, default_data_dir, is_loopback_host

    if not is_loopback_host(urlsplit(url).hostname or ""):
        return None
    data_dir = os.environ.get("CAXTON_DATA_DIR") or str(default_data_dir(os.environ))
    try:
        return (Path(data_dir).expanduser() / ADMIN_KEY_FILE).read_text().strip() or None
    except OSError:
        return None


def context() -> CliContext:
    """The `CliContext` of the running command (main group's options resolved)."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, CliContext):  # a group invoked on its own, as tests do
        obj = CliContext(
            url=os.environ.get("CAXTON_URL", "http://127.0.0.1:8080"),
            output="table",
            token=os.environ.get("CAXTON_TOKEN"),
        )
        click.get_current_context().find_root().obj = obj
    return obj
