"""What the remote commands share: JSON options, tables or JSON, live streams.

Tables are for people (rich, coloured on a terminal); `--output json` prints
the API type's `model_dump(mode="json")`, indented, so a script can parse it
with the same model. Streams (`--follow`) print one line per event: text for
people, compact JSON for scripts.

rich and urllib load inside the functions that use them, so that a
command pays only for what it does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
import orjson

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console


# A wide table when stdout is a pipe, so that `| grep` sees whole rows.
_PIPE_WIDTH = 200
# State names in colour; anything else is printed plain.
STATE_STYLES = {
    "Running": "green",
    "Loaded": "cyan",
    "Draining": "yellow",
    "Stopped": "dim",
    "Unloaded": "dim",
    "Failed": "bold red",
    "complete": "green",
    "running": "yellow",
    "submitted": "cyan",
    "failed": "bold red",
}


# ---- reading options ----


def json_value(option: str, text: str) -> Any:
    """`text` parsed as JSON, or a usage error that names `option` and shows how to quote."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise click.BadParameter(
            f"not valid JSON ({error}); a string needs JSON quotes, e.g. '\"hello\"'",
            param_hint=option,
        ) from None


def json_object(option: str, text: str) -> dict[str, Any]:
    value = json_value(option, text)
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object, e.g. '{\"key\": 1}'", param_hint=option)
    return value


def part(text: str) -> str:
    """`text` as one segment of a URL path (an id may hold `?`, `#` or `%`)."""
    from urllib.parse import quote

    return quote(text, safe="")


# ---- printing ----


def emit_json(data: Any) -> None:
    """`data` as indented JSON on stdout."""
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def emit(model: BaseModel) -> None:
    """An API answer as JSON: exactly what its model dumps, so scripts can parse it back."""
    emit_json(model.model_dump(mode="json"))


def emit_line(data: Any) -> None:
    """One compact JSON object on its own line (for streams: one event a line)."""
    sys.stdout.buffer.write(orjson.dumps(data) + b"\n")
    sys.stdout.flush()


def console() -> Console:
    from rich.console import Console

    tty = sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, width=None if tty else _PIPE_WIDTH)


def _print(renderable: object) -> None:
    """Print a rich renderable; into a pipe without the padding that ends its lines."""
    out = console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    styles: dict[int, dict[str, str]] | None = None,
    empty: str | None = None,
) -> None:
    """A table: one header, one row per item; cells are printed as text, never as markup.

    `styles` maps a column index to {cell text: rich style} (e.g. a state's colour).
    `empty` is said instead when there are no rows.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    chosen = styles or {}
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        grid.add_column(column, no_wrap=column in ("NAME", "ID", "SEQ", "AGENT"))
    count = 0
    for row in rows:
        cells = [str(cell) for cell in row]
        grid.add_row(
            *(Text(cell, style=chosen.get(i, {}).get(cell, "")) for i, cell in enumerate(cells))
        )
        count += 1
    if count == 0 and empty is not None:
        click.echo(empty)
        return
    _print(grid)


def fields(pairs: Sequence[tuple[str, object]], *, styles: dict[str, str] | None = None) -> None:
    """One item as `key  value` lines, keys aligned."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in pairs:
        text = str(value)
        grid.add_row(Text(key), Text(text, style=(styles or {}).get(text, "")))
    _print(grid)


def when(at: float) -> str:
    """Unix seconds as local time to the millisecond: 2025-11-25 11:23:45.123."""
    return datetime.fromtimestamp(at).isoformat(sep=" ", timespec="milliseconds")


def brief(value: Any, width: int = 60) -> str:
    """A JSON value on one line (strings quoted, as in JSON), cut to `width` characters."""
    return cut(orjson.dumps(value).decode(), width)


def cut(text: str, width: int) -> str:
    """`text` on one line, at most `width` characters (an ellipsis marks a cut)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
