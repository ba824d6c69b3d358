"""Log output for the server: JSON lines for machines, readable lines at a terminal.

Every line carries what it was logged with: an agent's own lines (ABI `log`,
WASI stdout and stderr) come through the `caxton.agent.<name>` loggers with
`agent`, `conversation_id`, `message_id` and the trace and span ids of the
message being handled; errors carry their class and message context; events
their kind. A line logged inside an OpenTelemetry span (an API request) gets
that span's ids when it has none of its own.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from opentelemetry import trace

from caxton.settings import Settings

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}  # fmt: skip
# Attributes every LogRecord has: anything else was passed in `extra`.
_STANDARD: Final = frozenset(
    {*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime", "taskName"}
)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the line says beyond its message: its extras, and the current span's ids."""
    found = {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and value is not None
    }
    if "trace_id" not in found:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            found["trace_id"] = f"{context.trace_id:032x}"
            found["span_id"] = f"{context.span_id:016x}"
    return found


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            line.setdefault(key, value)  # an extra never hides what every line has
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """`time level logger: message  key=value ...`, the ids shortened to what a person compares."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = fields(record)
        if "trace_id" in extras:
            extras["trace_id"] = str(extras["trace_id"])[:8]
            extras.pop("span_id", None)
        if not extras:
            return text
        head, newline, rest = text.partition("\n")  # keep a traceback below the line
        pairs = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head}  {pairs}{newline}{rest}"


def configure(settings: Settings) -> None:
    """Send Caxton's logs to stderr in the format the settings ask for."""
    handler = logging.StreamHandler(sys.stderr)
    console = settings.log_format == "console" or (
        settings.log_format == "auto" and sys.stderr.isatty()
    )
    handler.setFormatter(ConsoleFormatter() if console else JsonFormatter())
    root = logging.getLogger("caxton")
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[settings.log_level])
    root.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(logging.WARNING)
