"""Errors by class: `classify`, `ErrorLog` (counts, context, a log budget per agent), and the
router telling `on_error` of each class of error it meets, with the message concerned."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest

from caxton.errors import (
    AbiViolation,
    AgentTrapped,
    ConfigError,
    DeadlineExceeded,
    ErrorClass,
    FuelExhausted,
    InvalidMessage,
    MemoryExhausted,
)
from caxton.router import Dispatcher, Router, attach
from caxton.router.trace import trace_id_of
from caxton.runtime import Runtime, Status
from caxton.telemetry.errors import PLATFORM_AGENT, ErrorLog, classify
from conftest import ALLOC, agent_wat, wat
from routing import inbox

TRACE_ID: Final = "4bf92f3577b34da6a3ce929d0e0e4736"
MESSAGE: Final = {
    "performative": "request",
    "sender": "a",
    "receiver": "b",
    "conversation_id": "c-1",
    "message_id": "m-1",
    "trace": {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
}
T0: Final = 1_700_000_000.0


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    """Keeps the records `caxton.errors` writes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def extras(self, key: str) -> list[object]:
        return [getattr(record, key, None) for record in self.records]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """What `caxton.errors` logs, whatever the rest of the suite did to the `caxton` logger."""
    handler = Lines()
    logger = logging.getLogger("caxton.errors")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


# classify.


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FuelExhausted("fuel"), ErrorClass.RESOURCE),
        (MemoryExhausted("memory"), ErrorClass.RESOURCE),
        (DeadlineExceeded("deadline"), ErrorClass.TIMEOUT),
        (AbiViolation("abi"), ErrorClass.VALIDATION),
        (AgentTrapped("trap"), ErrorClass.SYSTEM),
        (ConfigError("port", "bad"), ErrorClass.VALIDATION),
        (InvalidMessage("receiver", "missing"), ErrorClass.VALIDATION),
        (TimeoutError(), ErrorClass.TIMEOUT),  # an OSError too: the more specific class wins
        (MemoryError(), ErrorClass.RESOURCE),
        (ValueError("v"), ErrorClass.VALIDATION),
        (TypeError("t"), ErrorClass.VALIDATION),
        (KeyError("k"), ErrorClass.VALIDATION),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), ErrorClass.VALIDATION),
        (OSError("disk"), ErrorClass.SYSTEM),
        (ConnectionResetError(), ErrorClass.SYSTEM),
        (RuntimeError("r"), ErrorClass.SYSTEM),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_classify(error: BaseException, expected: ErrorClass) -> None:
    assert classify(error) is expected


# ErrorLog.


def test_a_record_is_counted_and_logged_once_with_its_context(lines: Lines) -> None:
    errors = ErrorLog()
    errors.record(ErrorClass.VALIDATION, "receiver: missing", "a", dict(MESSAGE))
    assert errors.counts() == {("a", ErrorClass.VALIDATION): 1}
    [record] = lines.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "validation error: receiver: missing"
    found = {
        key: getattr(record, key)
        for key in (
            "agent",
            "error_class",
            "performative",
            "conversation_id",
            "message_id",
            "trace_id",
        )
    }
    assert found == {
        "agent": "a",
        "error_class": "validation",
        "performative": "request",
        "conversation_id": "c-1",
        "message_id": "m-1",
        "trace_id": TRACE_ID,
    }
    assert not hasattr(record, "left_out")


def test_an_error_of_no_agent_and_no_message_counts_for_the_platform(lines: Lines) -> None:
    errors = ErrorLog()
    errors.record(ErrorClass.SYSTEM, "disk full", None, None)
    errors.record(ErrorClass.SYSTEM, "disk full", None, None)
    assert errors.counts() == {(PLATFORM_AGENT, ErrorClass.SYSTEM): 2}
    assert lines.extras("agent") == [PLATFORM_AGENT, PLATFORM_AGENT]
    assert lines.extras("conversation_id") == [None, None]


def test_counts_are_kept_by_agent_and_class() -> None:
    errors = ErrorLog()
    for error_class, agent in [
        (ErrorClass.ROUTING, "a"),
        (ErrorClass.ROUTING, "a"),
        (ErrorClass.TIMEOUT, "a"),
        (ErrorClass.ROUTING, "b"),
    ]:
        errors.record(error_class, "why", agent, None)
    assert errors.counts() == {
        ("a", ErrorClass.ROUTING): 2,
        ("a", ErrorClass.TIMEOUT): 1,
        ("b", ErrorClass.ROUTING): 1,
    }


def test_past_the_budget_lines_stop_and_the_next_second_says_how_many(lines: Lines) -> None:
    clock = Clock()
    errors = ErrorLog(lines_per_s=3, clock=clock)
    for n in range(8):
        clock.now = T0 + n / 10
        errors.record(ErrorClass.RESOURCE, f"full {n}", "a", None)
    assert [r.getMessage() for r in lines.records] == [
        f"resource error: full {n}" for n in range(3)
    ]
    assert lines.extras("left_out") == [None, None, None]

    clock.now = T0 + 1.5
    errors.record(ErrorClass.RESOURCE, "full 8", "a", None)
    errors.record(ErrorClass.RESOURCE, "full 9", "a", None)
    assert [r.getMessage() for r in lines.records[3:]] == [
        "resource error: full 8",
        "resource error: full 9",
    ]
    assert lines.extras("left_out")[3:] == [5, None]  # said once, by the first line only
    assert errors.counts() == {("a", ErrorClass.RESOURCE): 10}  # every one counted


def test_lines_left_out_are_told_even_seconds_later(lines: Lines) -> None:
    clock = Clock()
    errors = ErrorLog(lines_per_s=1, clock=clock)
    for _ in range(4):
        errors.record(ErrorClass.SYSTEM, "x", "a", None)
    clock.now = T0 + 60
    errors.record(ErrorClass.SYSTEM, "x", "a", None)
    assert lines.extras("left_out") == [None, 3]


def test_each_agent_has_its_own_budget(lines: Lines) -> None:
    clock = Clock()
    errors = ErrorLog(lines_per_s=2, clock=clock)
    for _ in range(5):
        errors.record(ErrorClass.VALIDATION, "noisy", "noisy", None)
    errors.record(ErrorClass.VALIDATION, "quiet", "quiet", None)
    assert lines.extras("agent") == ["noisy", "noisy", "quiet"]

    clock.now = T0 + 1
    errors.record(ErrorClass.VALIDATION, "quiet", "quiet", None)
    errors.record(ErrorClass.VALIDATION, "noisy", "noisy", None)
    assert lines.extras("agent")[3:] == ["quiet", "noisy"]
    assert lines.extras("left_out")[3:] == [None, 3]  # quiet lost nothing; noisy lost 3


def test_forget_drops_an_agents_counts_and_budget(lines: Lines) -> None:
    clock = Clock()
    errors = ErrorLog(lines_per_s=1, clock=clock)
    for agent in ("gone", "gone", "stays"):
        errors.record(ErrorClass.ROUTING, "x", agent, None)
    errors.record(ErrorClass.TIMEOUT, "x", "gone", None)
    errors.forget("gone")
    assert errors.counts() == {("stays", ErrorClass.ROUTING): 1}

    # A new agent of the same name starts afresh: a line at once, nothing said left out.
    errors.record(ErrorClass.ROUTING, "x", "gone", None)
    assert errors.counts()[("gone", ErrorClass.ROUTING)] == 1
    assert lines.extras("agent") == ["gone", "stays", "gone"]
    assert lines.extras("left_out") == [None, None, None]


def test_counts_returns_a_copy() -> None:
    errors = ErrorLog()
    errors.record(ErrorClass.ROUTING, "x", "a", None)
    counts = errors.counts()
    errors.record(ErrorClass.ROUTING, "x", "a", None)
    assert counts == {("a", ErrorClass.ROUTING): 1}


# The router tells on_error of every class of error, with its context.

Report = tuple[ErrorClass, str, str | None, dict[str, Any] | None]


class Reports:
    def __init__(self) -> None:
        self.calls: list[Report] = []

    def __call__(
        self,
        error_class: ErrorClass,
        reason: str,
        agent: str | None,
        message: dict[str, Any] | None,
    ) -> None:
        self.calls.append((error_class, reason, agent, message))


def reporting(router: Router) -> Reports:
    reports = Reports()
    router.on_error = reports
    return reports


def test_an_unknown_receiver_is_a_routing_error_of_the_sender() -> None:
    router = Router(seed=1)
    reports = reporting(router)
    inbox(router, "client")
    sent = {
        "performative": "request",
        "sender": "client",
        "receiver": "nobody",
        "conversation_id": "c-lost",
    }
    assert router.post(sent) == Status.OK
    [(error_class, reason, agent, message)] = reports.calls
    # The sender's: the unknown name is the caller's to make up, never a label value.
    assert (error_class, reason, agent) == (ErrorClass.ROUTING, "no agent named 'nobody'", "client")
    # The message as routed: its id and trace given, its conversation kept.
    assert message is sent
    assert isinstance(sent["message_id"], str)
    assert sent["conversation_id"] == "c-lost"
    assert trace_id_of(sent) is not None
    assert router.stats.errors == {ErrorClass.ROUTING: 1}


def test_a_full_mailbox_is_a_resource_error_for_the_receiver() -> None:
    router = Router(seed=1)  # no dispatcher: nothing leaves the mailbox
    reports = reporting(router)
    inbox(router, "slow", capacity=1)
    first = {"performative": "inform", "sender": "client", "receiver": "slow", "content": 1}
    second = {"performative": "inform", "sender": "client", "receiver": "slow", "content": 2}
    assert router.post(first) == Status.OK
    assert reports.calls == []
    assert router.post(second) == Status.MAILBOX_FULL
    [(error_class, reason, agent, message)] = reports.calls
    assert (error_class, reason, agent) == (
        ErrorClass.RESOURCE,
        "mailbox of 'slow' is full",
        "slow",
    )
    assert message is second
    assert message["message_id"] != first["message_id"]


# Sends "{oops" (not JSON) on every message.
SLOPPY = agent_wat(
    "(drop (call $send (i32.const 100) (i32.const 5)))",
    imports='(import "caxton" "send" (func $send (param i32 i32) (result i32)))',
    extra='(data (i32.const 100) "{oops")',
)
# Traps on every message.
CRASHER = wat(
    f"""(module (memory (export "memory") 1) {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32) unreachable))"""
)


def test_a_malformed_message_from_an_agent_is_a_validation_error_of_that_agent(
    runtime: Runtime,
) -> None:
    router = Router(seed=1)
    reports = reporting(router)
    attach(router, runtime, runtime.load(SLOPPY), "sloppy")
    handled = {"performative": "inform", "sender": "client", "receiver": "sloppy"}
    router.post(handled)
    # One turn: the not-understood it is sent back would make it send "{oops" again.
    Dispatcher(router, workers=0).run_until_idle(max_turns=1)
    [(error_class, reason, agent, message)] = reports.calls
    assert (error_class, agent) == (ErrorClass.VALIDATION, "sloppy")
    assert reason.startswith("malformed JSON")
    # What it sent was no message at all: the context is the message it was handling.
    assert message is handled
    assert router.stats.errors == {ErrorClass.VALIDATION: 1}


def test_a_failed_handler_is_logged_with_the_message_it_failed_on(
    runtime: Runtime, lines: Lines
) -> None:
    router = Router(seed=1)
    errors = ErrorLog()
    router.on_error = errors.record
    inbox(router, "client")
    attach(router, runtime, runtime.load(CRASHER), "crasher")
    sent = {"performative": "request", "sender": "client", "receiver": "crasher", "content": 1}
    router.post(sent)
    Dispatcher(router, workers=0).run_until_idle()

    assert errors.counts() == {("crasher", ErrorClass.SYSTEM): 1}
    [record] = lines.records
    assert record.getMessage().startswith("system error: ")
    assert "unreachable" in record.getMessage()
    expected = {
        "agent": "crasher",
        "error_class": "system",
        "performative": "request",
        "conversation_id": sent["conversation_id"],
        "message_id": sent["message_id"],
        "trace_id": trace_id_of(sent),
    }
    assert {key: getattr(record, key, None) for key in expected} == expected


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def test_a_conversation_timeout_is_a_timeout_error_for_the_initiator() -> None:
    clock = Clock()
    router = Router(seed=1, clock=clock)
    reports = reporting(router)
    waiting = inbox(router, "a")
    inbox(router, "b")
    router.post(
        {
            "performative": "request",
            "sender": "a",
            "receiver": "b",
            "protocol": "fipa-request",
            "reply_by": stamp(T0 + 5),
            "reply_with": "r1",
        }
    )
    router.expire()
    assert reports.calls == []

    clock.now = T0 + 6
    router.expire()
    [(error_class, reason, agent, message)] = reports.calls
    assert (error_class, agent) == (ErrorClass.TIMEOUT, "a")
    assert reason == f"no answer from b by reply_by {stamp(T0 + 5)}"
    assert message is not None
    assert message["x-caxton-event"] == "timeout"
    Dispatcher(router, workers=0).run_until_idle()
    [failure] = waiting.of("failure")
    assert failure["conversation_id"] == message["conversation_id"]
