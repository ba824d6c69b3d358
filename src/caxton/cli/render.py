"""What the remote commands share: JSON options, tables or JSON, live streams.

Tables are for people (aligned columns, states in colour on a terminal);
`--output json` prints the API type itself as indented JSON, so a script can
decode it into the same type. Streams (`--follow`) print one line per event:
text for people, compact JSON for scripts.

Tables are drawn here rather than with rich, whose import alone would cost
a third of a command's 100 ms; urllib loads inside the function that uses it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click
import orjson

# Columns that are never cut to fit the terminal: names and ids are looked up by.
_WHOLE = frozenset({"NAME", "ID", "SEQ", "AGENT", "STATE"})
_GAP = "  "
# State names in colour (click.style arguments); anything else is printed plain.
STATE_STYLES: dict[str, dict[str, Any]] = {
    "Running": {"fg": "green"},
    "Loaded": {"fg": "cyan"},
    "Draining": {"fg": "yellow"},
    "Stopped": {"dim": True},
    "Unloaded": {"dim": True},
    "Failed": {"fg": "red", "bold": True},
    "complete": {"fg": "green"},
    "running": {"fg": "yellow"},
    "submitted": {"fg": "cyan"},
    "failed": {"fg": "red", "bold": True},
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


def emit(answer: object) -> None:
    """An API answer (a dataclass of caxton.api.types) as JSON, decodable into the same type."""
    emit_json(answer)


def emit_line(data: Any) -> None:
    """One compact JSON object on its own line (for streams: one event a line)."""
    sys.stdout.buffer.write(orjson.dumps(data) + b"\n")
    sys.stdout.flush()


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    styles: dict[int, dict[str, dict[str, Any]]] | None = None,
    empty: str | None = None,
) -> None:
    """A table: a header, a rule, one line per row, columns aligned.

    `styles` maps a column index to {cell text: click.style arguments} (a
    state's colour). On a terminal, the widest cuttable columns are cut (with
    an ellipsis) until a row fits its width; into a pipe rows stay whole, so
    that `| grep` sees everything. `empty` is said instead when there are no rows.
    """
    cells = [[" ".join(str(cell).split()) for cell in row] for row in rows]
    if not cells and empty is not None:
        click.echo(empty)
        return
    natural = [
        max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)
    ]
    widths = _fit(columns, natural)
    click.echo(_line([(column, {"bold": True}) for column in columns], widths))
    click.echo(_GAP.join("─" * width for width in widths))
    chosen = styles or {}
    for row in cells:
        click.echo(
            _line([(cell, chosen.get(i, {}).get(cell, {})) for i, cell in enumerate(row)], widths)
        )


def _line(cells: Sequence[tuple[str, dict[str, Any]]], widths: Sequence[int]) -> str:
    """One row: each cell cut to its column's width, padded but the last, then styled.

    A row whose last cells are empty ends without the spaces that padded them.
    """
    shown = []
    for i, ((text, style), width) in enumerate(zip(cells, widths, strict=True)):
        fitted = cut(text, width)
        padded = fitted if i == len(cells) - 1 else fitted.ljust(width)
        shown.append(click.style(padded, **style) if style else padded)
    return _GAP.join(shown).rstrip()


def _fit(columns: Sequence[str], widths: list[int]) -> list[int]:
    """Column widths that fit the terminal, if stdout is one; cut from the widest first."""
    if not sys.stdout.isatty():
        return widths
    room = shutil.get_terminal_size().columns - len(_GAP) * (len(widths) - 1)
    fitted = list(widths)
    cuttable = [i for i, column in enumerate(columns) if column not in _WHOLE]
    while sum(fitted) > room and cuttable:
        widest = max(cuttable, key=lambda i: fitted[i])
        if fitted[widest] <= max(len(columns[widest]), 8):
            break
        fitted[widest] -= 1
    return fitted


def fields(
    pairs: Sequence[tuple[str, object]], *, styles: dict[str, dict[str, Any]] | None = None
) -> None:
    """One item as `key  value` lines, keys aligned (a value's later lines indented under it)."""
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        text = str(value)
        shown = click.style(text, **(styles or {}).get(text, {}))
        indented = shown.replace("\n", "\n" + " " * (width + len(_GAP)))
        click.echo(f"{click.style(key.ljust(width), bold=True)}{_GAP}{indented}")


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
