"""`caxton message convert`, through click's test runner and once as a real process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from caxton.cli import main

MESSAGE = {
    "performative": "request",
    "sender": "buyer",
    "receiver": ["seller"],
    "content": {"book": "Caxton", "max": 12.5},
    "protocol": "fipa-request",
    "reply_by": "2026-11-25T11:15:00+01:00",
    "x-note": "hi there",
}
FIPA = (
    "(request :sender (agent-identifier :name buyer) :receiver (set (agent-identifier :name"
    ' seller)) :content "{\\"book\\":\\"Caxton\\",\\"max\\":12.5}" :protocol fipa-request'
    ' :reply-by 20261125T101500000Z :X-note "hi there" :X-caxton-json "receiver content")'
)


def convert(*args: str, stdin: bytes) -> Result:
    return CliRunner().invoke(main, ["message", "convert", *args], input=stdin)


def test_json_to_fipa() -> None:
    result = convert("--from", "json", "--to", "fipa", stdin=orjson.dumps(MESSAGE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == FIPA + "\n"
    assert result.stderr == ""


def test_fipa_to_json_is_compact_by_default() -> None:
    result = convert("--from", "fipa", "--to", "json", stdin=FIPA.encode())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert orjson.loads(result.stdout) == {**MESSAGE, "reply_by": "2026-11-25T10:15:00.000Z"}


def test_pretty_json_and_pretty_fipa() -> None:
    result = convert("--from", "fipa", "--to", "json", "--pretty", stdin=FIPA.encode())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('{\n  "performative": "request",\n  "sender": "buyer",\n')
    result = convert("--from", "json", "--to", "fipa", "--pretty", stdin=orjson.dumps(MESSAGE))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "(request"
    assert lines[1] == " :sender (agent-identifier :name buyer)"
    assert len(lines) == 8


def test_same_format_normalises() -> None:
    jade = b'(INFORM\n :sender  ( agent-identifier :name a@h:1099/JADE )\n :content  "x" )'
    result = convert("--from", "fipa", "--to", "fipa", stdin=jade)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '(inform :sender (agent-identifier :name a@h:1099/JADE) :content "x")\n'
    result = convert("--from", "json", "--to", "json", stdin=b' { "performative" : "agree" } ')
    assert result.stdout == '{"performative":"agree"}\n'


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (
            ("--from", "json", "--to", "fipa"),
            b"",
            "message: at line 1, column 1: Input is a zero-length",
        ),
        (("--from", "json", "--to", "fipa"), b"[1]", "message: must be a JSON object, got array"),
        (
            ("--from", "json", "--to", "fipa"),
            b'{"performative":"shout"}',
            "performative: unknown act 'shout'",
        ),
        (
            ("--from", "json", "--to", "json"),
            b'{"performative":"inform","to":"b"}',
            "to: unknown parameter",
        ),
        (("--from", "json", "--to", "fipa"), b'{"a":\xff}', "not valid UTF-8 (byte 5 is 0xff)"),
        (
            ("--from", "fipa", "--to", "json"),
            b"(inform :receiver b)",
            "receiver: at line 1, column 19:",
        ),
        (
            ("--from", "fipa", "--to", "json"),
            b'(inform\n:content "a\nb',
            "content: at line 2, column 10: unterminated string",
        ),
        (
            ("--from", "fipa", "--to", "json", "--validate"),
            b"(inform :sender (agent-identifier :name a@h))",
            "sender: 'a@h' is not an agent name",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(
    args: tuple[str, ...], stdin: bytes, error: str
) -> None:
    result = convert(*args, stdin=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("caxton: message convert: ")
    assert error in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith("\n")


def test_validate_passes_a_good_message() -> None:
    result = convert("--from", "json", "--to", "fipa", "--validate", stdin=orjson.dumps(MESSAGE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == FIPA + "\n"


def test_formats_are_required_and_checked() -> None:
    result = convert("--to", "fipa", stdin=b"{}")
    assert result.exit_code == 2
    assert "Missing option '--from'" in result.stderr
    result = convert("--from", "xml", "--to", "fipa", stdin=b"{}")
    assert result.exit_code == 2
    assert "'xml' is not one of 'json', 'fipa'" in result.stderr


def caxton_command() -> list[str]:
    """How to run the installed CLI: `python -m caxton.cli` has no __main__, the script does."""
    if (Path(__file__).parents[2] / "src" / "caxton" / "cli" / "__main__.py").exists():
        return [sys.executable, "-m", "caxton.cli"]
    script = shutil.which("caxton", path=str(Path(sys.executable).parent))
    assert script is not None, "the caxton script is not installed next to this Python"
    return [script]


def test_a_real_process_round_trips_through_both_formats() -> None:
    fipa = subprocess.run(
        [*caxton_command(), "message", "convert", "--from", "json", "--to", "fipa"],
        input=orjson.dumps(MESSAGE),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert fipa.returncode == 0, fipa.stderr
    assert fipa.stdout.decode() == FIPA + "\n"
    back = subprocess.run(
        [*caxton_command(), "message", "convert", "--from", "fipa", "--to", "json"],
        input=fipa.stdout,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert back.returncode == 0, back.stderr
    assert orjson.loads(back.stdout) == {**MESSAGE, "reply_by": "2026-11-25T10:15:00.000Z"}
    refused = subprocess.run(
        [*caxton_command(), "message", "convert", "--from", "fipa", "--to", "json"],
        input=b"(inform",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stdout == b""
    assert refused.stderr.decode().startswith(
        "caxton: message convert: message: at line 1, column 8"
    )
