"""Log lines: JSON and console formatters, trace ids from spans and from messages.

The last tests run a real server and read an agent's own lines (ABI `log`, WASI
stdout) as the JSON formatter writes them: each carries the agent and the
conversation, message, trace and span of the message it was handling.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from caxton.settings import LogFormat, Settings
from caxton.telemetry.logs import ConsoleFormatter, JsonFormatter, configure
from conftest import agent_wat
from live import Live, live_server

TRACE_ID: Final = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID: Final = "00f067aa0ba902b7"
HEX32: Final = re.compile(r"[0-9a-f]{32}")
HEX16: Final = re.compile(r"[0-9a-f]{16}")
# 2023-11-14T22:13:20.123 UTC
CREATED: Final = 1_700_000_000.123

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def make_record(
    message: str = "hello world",
    *args: object,
    level: int = logging.INFO,
    exc_info: ExcInfo | None = None,
    **extra: Any,
) -> logging.LogRecord:
    """A record as `logging.getLogger("caxton.test").log(level, message, *args, extra=extra)`
    would make it."""
    record = logging.getLogger("caxton.test").makeRecord(
        "caxton.test", level, __file__, 1, message, args, exc_info, extra=extra
    )
    record.created = CREATED
    return record


def as_json(text: str) -> dict[str, Any]:
    assert "\n" not in text  # one object per line, whatever the message holds
    line = orjson.loads(text)
    assert isinstance(line, dict)
    return line


def failure() -> ExcInfo:
    try:
        raise ValueError("boom")
    except ValueError:
        kind, error, tb = sys.exc_info()
    assert kind is not None
    assert error is not None
    return kind, error, tb


@pytest.fixture
def tracer() -> Iterator[Tracer]:
    """A tracer of an SDK provider of the test's own (the global one is left alone)."""
    provider = TracerProvider()
    try:
        yield provider.get_tracer("test")
    finally:
        provider.shutdown()


# JsonFormatter.


def test_a_json_line_has_the_standard_fields_and_the_extras() -> None:
    record = make_record(
        "hello %s",
        "world",
        agent="ping",
        conversation_id="c-1",
        message_id="m-1",
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        rounds=3,
    )
    line = as_json(JsonFormatter().format(record))
    assert line == {
        "time": "2023-11-14T22:13:20.123+00:00",
        "level": "info",
        "logger": "caxton.test",
        "message": "hello world",
        "agent": "ping",
        "conversation_id": "c-1",
        "message_id": "m-1",
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "rounds": 3,
    }


def test_a_json_line_leaves_out_none_extras() -> None:
    line = as_json(JsonFormatter().format(make_record(agent="ping", conversation_id=None)))
    assert line["agent"] == "ping"
    assert "conversation_id" not in line
    assert "trace_id" not in line  # no span is active and the record has none


def test_a_json_line_carries_the_exception_as_error_on_one_line() -> None:
    line = as_json(
        JsonFormatter().format(make_record("failed", level=logging.ERROR, exc_info=failure()))
    )
    assert (line["level"], line["message"]) == ("error", "failed")
    assert line["error"].startswith("Traceback (most recent call last):")
    assert line["error"].endswith("ValueError: boom")


def test_a_json_line_inside_a_span_gets_the_spans_ids(tracer: Tracer) -> None:
    formatter = JsonFormatter()
    with tracer.start_as_current_span("request") as span:
        context = span.get_span_context()
        line = as_json(formatter.format(make_record(agent="a")))
        own = as_json(formatter.format(make_record(trace_id=TRACE_ID, span_id=SPAN_ID)))
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert HEX32.fullmatch(line["trace_id"])
    assert HEX16.fullmatch(line["span_id"])
    # A record that names its own trace (an agent's line) keeps it.
    assert (own["trace_id"], own["span_id"]) == (TRACE_ID, SPAN_ID)
    after = as_json(formatter.format(make_record()))
    assert "trace_id" not in after
    assert "span_id" not in after


# ConsoleFormatter.

CONSOLE_HEAD: Final = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>\S+) +caxton\.test: (?P<rest>.*)"
)


def test_a_console_line_is_readable_with_key_value_pairs_and_a_short_trace_id() -> None:
    record = make_record(
        agent="ping", conversation_id="c-1", trace_id=TRACE_ID, span_id=SPAN_ID, left_out=None
    )
    text = ConsoleFormatter().format(record)
    match = CONSOLE_HEAD.fullmatch(text)
    assert match is not None, text
    assert match["level"] == "INFO"
    assert match["rest"] == f"hello world  agent=ping conversation_id=c-1 trace_id={TRACE_ID[:8]}"


def test_a_console_line_without_extras_is_the_plain_line() -> None:
    text = ConsoleFormatter().format(make_record(level=logging.WARNING))
    match = CONSOLE_HEAD.fullmatch(text)
    assert match is not None, text
    assert (match["level"], match["rest"]) == ("WARNING", "hello world")


def test_a_console_line_keeps_the_pairs_on_the_first_line_above_a_traceback() -> None:
    text = ConsoleFormatter().format(
        make_record("failed", level=logging.ERROR, exc_info=failure(), agent="ping")
    )
    first, *rest = text.splitlines()
    assert first.endswith("failed  agent=ping")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: boom"


def test_a_console_line_inside_a_span_shows_its_short_trace_id(tracer: Tracer) -> None:
    with tracer.start_as_current_span("request") as span:
        text = ConsoleFormatter().format(make_record())
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert text.endswith(f"hello world  trace_id={trace_id[:8]}")
    assert "span_id" not in text


# configure.

_CONFIGURED: Final = ("caxton", "uvicorn", "uvicorn.error")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back what `configure` changes on the loggers it touches."""
    saved = [
        (logger, list(logger.handlers), logger.level, logger.propagate)
        for logger in map(logging.getLogger, _CONFIGURED)
    ]
    try:
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    ("log_format", "formatter"),
    [("json", JsonFormatter), ("console", ConsoleFormatter), ("auto", JsonFormatter)],
)
def test_configure_picks_the_formatter_the_settings_ask_for(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    log_format: LogFormat,
    formatter: type[logging.Formatter],
) -> None:
    # "auto" is console at a terminal only: pytest's captured stderr is none.
    configure(Settings(data_dir=tmp_path, log_format=log_format, log_level="info"))
    [handler] = logging.getLogger("caxton").handlers
    assert type(handler.formatter) is formatter
    assert logging.getLogger("uvicorn.error").handlers == [handler]

    logging.getLogger("caxton.test").info("configured %s", log_format, extra={"agent": "a"})
    logging.getLogger("caxton.test").debug("below the level")
    err = capsys.readouterr().err
    [text] = err.splitlines()
    if formatter is JsonFormatter:
        line = as_json(text)
        assert (line["level"], line["message"], line["agent"]) == (
            "info",
            f"configured {log_format}",
            "a",
        )
    else:
        assert text.endswith(f"caxton.test: configured {log_format}  agent=a")


@pytest.mark.usefixtures("restore_logging")
def test_configure_applies_the_log_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(Settings(data_dir=tmp_path, log_format="json", log_level="warning"))
    log = logging.getLogger("caxton.test")
    log.info("left out")
    log.warning("written")
    lines = [as_json(text) for text in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == ["written"]


# An agent's own lines, from a real server.


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything the `caxton` loggers write at INFO and above, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("caxton")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def lines_of(stream: io.StringIO, logger: str) -> list[dict[str, Any]]:
    return [
        line
        for text in stream.getvalue().splitlines()
        if (line := as_json(text))["logger"] == logger
    ]


def history(live: Live, **query: str) -> list[dict[str, Any]]:
    response = live.get("/messages", params=query)
    assert response.status_code == 200, response.text
    return [record["message"] for record in response.json()["items"]]


def trace_and_span(message: dict[str, Any]) -> tuple[str, str]:
    """The trace id and the message's own span id, from its traceparent."""
    _, trace_id, span_id, _ = message["trace"]["traceparent"].split("-")
    return trace_id, span_id


def test_an_agents_log_lines_carry_the_message_it_was_handling(
    tmp_path: Path, json_lines: io.StringIO
) -> None:
    with live_server(tmp_path / "data", examples=True) as live:
        kick = live.post(
            "/messages", json={"performative": "request", "receiver": "ping", "content": "start"}
        )
        assert kick.status_code == 202, kick.text
        assert live.server.dispatcher.wait_idle(10)
        to_ping = {
            m["message_id"]: m for m in history(live, agent="ping") if m["receiver"] == "ping"
        }

    lines = lines_of(json_lines, "caxton.agent.ping")
    assert [line["message"] for line in lines] == [
        "ping ready",
        "ping 1",
        "ping 2",
        "ping 3",
        "done after 3 rounds",
    ]
    assert all((line["agent"], line["level"]) == ("ping", "info") for line in lines)
    ready, *handling = lines
    assert "conversation_id" not in ready  # logged at start-up, handling no message

    first = handling[0]
    assert first["conversation_id"] == kick.json()["conversation_id"]
    assert first["message_id"] == kick.json()["message_id"]
    for line in handling:
        assert HEX32.fullmatch(line["trace_id"]), line
        assert HEX16.fullmatch(line["span_id"]), line
        handled = to_ping[line["message_id"]]
        assert line["conversation_id"] == handled["conversation_id"]
        assert (line["trace_id"], line["span_id"]) == trace_and_span(handled)
    # The kick started one trace; the whole rally with pong stayed in it.
    assert {line["trace_id"] for line in handling} == {
        trace_and_span(to_ping[first["message_id"]])[0]
    }
    assert len({line["message_id"] for line in handling}) == 4


# Writes "printed\n" to WASI stdout (fd 1) on every message: iovec at 0 = {ptr 100, len 8}.
PRINTER = agent_wat(
    "(i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 8))"
    "(drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))",
    imports='(import "wasi_snapshot_preview1" "fd_write"'
    " (func $fd_write (param i32 i32 i32 i32) (result i32)))",
    extra='(data (i32.const 100) "printed\\n")',
)


def test_an_agents_wasi_stdout_lines_carry_the_message_it_was_handling(
    tmp_path: Path, json_lines: io.StringIO
) -> None:
    with live_server(tmp_path / "data") as live:
        live.server.manager.deploy("printer", PRINTER, version="1.0.0")
        sent = live.post(
            "/messages",
            json={"performative": "inform", "receiver": "printer", "conversation_id": "conv-p"},
        )
        assert sent.status_code == 202, sent.text
        assert live.server.dispatcher.wait_idle(10)
        [handled] = history(live, agent="printer")

    [line] = lines_of(json_lines, "caxton.agent.printer")
    assert (line["message"], line["level"], line["agent"]) == ("printed", "info", "printer")
    assert (line["conversation_id"], line["message_id"]) == ("conv-p", sent.json()["message_id"])
    assert (line["trace_id"], line["span_id"]) == trace_and_span(handled)
