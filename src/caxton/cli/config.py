"""`caxton config ...`: the server's settings as `caxton server start` would resolve them.

Both commands read the environment and the config file the way the server
does (docs/configuration.md), without starting anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from caxton.cli import render
from caxton.errors import ConfigError
from caxton.settings import SPECS, Settings, default_config_path

EXIT_INVALID = 2
OUTPUTS = ("table", "json")

_CONFIG_HELP = (
    "The server's TOML config file (default: $CAXTON_CONFIG, else "
    "$XDG_CONFIG_HOME/caxton/server.toml if it exists)."
)


@click.group()
def config() -> None:
    """Show and check the server's settings (flags > CAXTON_* variables > file > defaults)."""


@config.command("show")
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP
)
@click.option(
    "--output",
    type=click.Choice(OUTPUTS),
    default="table",
    show_default=True,
    help="A table for people, or JSON for scripts.",
)
def show(config_file: Path | None, output: str) -> None:
    """Print every setting with its value and where the value came from.

    Sources: env (a CAXTON_* variable), file (the config file) or default.
    Exits 2, with the problem on stderr, when a setting is invalid.
    """
    settings = _load("show", config_file)
    if output == "json":
        sys.stdout.buffer.write(orjson.dumps(_as_json(settings), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    _show_table(settings)


@config.command("validate")
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP
)
def validate(config_file: Path | None) -> None:
    """Check the config file and the CAXTON_* variables as the server would at start.

    Exits 0 and prints "valid" when the server would accept them; exits 2
    with the problem, naming the setting and its source, on stderr otherwise.
    """
    settings = _load("validate", config_file)
    if settings.config_file is None:
        click.echo("valid (no config file; environment and defaults)")
    else:
        click.echo(f"valid ({settings.config_file})")


def _load(command: str, config_file: Path | None) -> Settings:
    try:
        return Settings.load(config_path=config_file)
    except ConfigError as error:
        click.echo(f"caxton: config {command}: {error}", err=True)
        sys.exit(EXIT_INVALID)


def _as_json(settings: Settings) -> dict[str, Any]:
    sources = settings.sources()
    flat = _flat(settings.as_dict())
    return {
        "config_file": None if settings.config_file is None else str(settings.config_file),
        "settings": {
            spec.name: {"value": flat[spec.name], "source": sources[spec.name], "env": spec.env_var}
            for spec in SPECS
        },
    }


def _show_table(settings: Settings) -> None:
    if settings.config_file is None:
        click.echo(f"no config file (none at {default_config_path(os.environ)})")
    else:
        click.echo(f"config file: {settings.config_file}")
    click.echo()
    sources = settings.sources()
    flat = _flat(settings.as_dict())
    shown = {
        name: "(runtime default)" if value is None else _text(value) for name, value in flat.items()
    }
    render.table(
        ("SETTING", "VALUE", "SOURCE"),
        [(spec.name, shown[spec.name], sources[spec.name]) for spec in SPECS],
    )
    click.echo()
    click.echo(
        "Each setting's variable is CAXTON_ and its name in capitals, dots as "
        "underscores: limits.deadline_ms is CAXTON_LIMITS_DEADLINE_MS."
    )


def _flat(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
