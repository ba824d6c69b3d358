"""Building runtime objects from command-line input, with errors that name the option."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import orjson

from caxton import module_files
from caxton.errors import ConfigError
from caxton.runtime import Limits, Runtime, RuntimeConfig


def json_object(option: str, text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise click.BadParameter(f"not valid JSON: {error}", param_hint=option) from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return value


def read_module(path: Path) -> bytes:
    """A module's bytes; `.wat` text is compiled first, for quick experiments."""
    try:
        return module_files.read_module(path)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def make_runtime() -> Runtime:
    try:
        return Runtime(RuntimeConfig.from_environment(os.environ))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def limits_from(runtime: Runtime, **overrides: int | None) -> Limits:
    changes = {name: value for name, value in overrides.items() if value is not None}
    try:
        return runtime.config.default_limits.override(runtime.config.memory, **changes)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None
