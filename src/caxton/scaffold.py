"""New agent projects from the templates that ship with Caxton (`caxton agent new`).

A template is `caxton/templates/<language>/`; the language's SDK is
`caxton/sdk/<language>/`. A project is the template copied into a new
directory, `__NAME__` replaced by the agent's name and `__NAME_SNAKE__` by
its snake_case form in file names and contents, and the SDK copied beside it
as `caxton-sdk/`, so the project builds with nothing but its toolchain.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

from caxton.acl.names import is_agent_name
from caxton.errors import CaxtonError, ErrorClass

LANGUAGES: Final = ("c", "rust", "assemblyscript")
SDK_DIRECTORY: Final = "caxton-sdk"
# Made by builds and installs: never part of a template or an SDK.
_SKIPPED: Final = frozenset({"build", "target", "node_modules", "__pycache__", ".pytest_cache"})


class ScaffoldError(CaxtonError):
    error_class = ErrorClass.VALIDATION


def new_project(name: str, language: str, directory: Path) -> list[Path]:
    """Write the project of agent `name` in `language` into `directory`; the files written."""
    if not is_agent_name(name):
        raise ScaffoldError(
            f"{name!r} is not an agent name: 1 to 63 characters of a-z, 0-9 and -, "
            "starting with a letter"
        )
    if language not in LANGUAGES:
        raise ScaffoldError(f"no template for {language!r}; choose one of {', '.join(LANGUAGES)}")
    if directory.exists() and any(directory.iterdir()):
        raise ScaffoldError(f"{directory} exists and is not empty; choose another directory")
    names = {"__NAME_SNAKE__": name.replace("-", "_"), "__NAME__": name}
    package = resources.files("caxton")
    written = _copy(package / "templates" / language, directory, names)
    written += _copy(package / "sdk" / language, directory / SDK_DIRECTORY, {})
    return written


def _copy(source: Traversable, target: Path, names: dict[str, str]) -> list[Path]:
    written: list[Path] = []
    for item in sorted(source.iterdir(), key=lambda entry: entry.name):
        if item.name in _SKIPPED:
            continue
        destination = target / _substitute(item.name, names)
        if item.is_dir():
            written += _copy(item, destination, names)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        data = item.read_bytes()
        with contextlib.suppress(UnicodeDecodeError):  # a binary file is copied as it is
            data = _substitute(data.decode("utf-8"), names).encode("utf-8")
        destination.write_bytes(data)
        written.append(destination)
    return written


def _substitute(text: str, names: dict[str, str]) -> str:
    # __NAME_SNAKE__ first: __NAME__ is a prefix of it.
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return text
