"""Log output for the server: JSON lines for machines, readable lines at a terminal.

Agents' own lines come through the `caxton.agent.<name>` loggers with the
agent's name in `agent`; issue 6 adds trace and span ids.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from caxton.settings import Settings

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}  # fmt: skip


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        agent = getattr(record, "agent", None)
        if agent is not None:
            line["agent"] = agent
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure(settings: Settings) -> None:
    """Send Caxton's logs to stderr in the format the settings ask for."""
    handler = logging.StreamHandler(sys.stderr)
    console = settings.log_format == "console" or (
        settings.log_format == "auto" and sys.stderr.isatty()
    )
    if console:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger("caxton")
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[settings.log_level])
    root.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(logging.WARNING)
