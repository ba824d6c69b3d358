"""Tables for people: aligned, whole in a pipe, cut to fit a terminal, never padded at the end."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from caxton.cli import render


def drawn(
    capsys: pytest.CaptureFixture[str],
    columns: list[str],
    rows: list[list[str]],
    empty: str | None = None,
) -> list[str]:
    render.table(columns, rows, empty=empty)
    return capsys.readouterr().out.splitlines()


def test_columns_align_and_rows_end_without_padding(capsys: pytest.CaptureFixture[str]) -> None:
    lines = drawn(capsys, ["NAME", "CAPABILITIES"], [["echo", ""], ["translator", "translate"]])
    assert lines[0] == "NAME        CAPABILITIES"
    assert lines[1] == "──────────  ────────────"
    assert lines[2] == "echo"
    assert lines[3] == "translator  translate"


def test_no_rows_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert drawn(capsys, ["NAME"], [], empty="no agents") == ["no agents"]


def test_a_pipe_gets_whole_rows(capsys: pytest.CaptureFixture[str]) -> None:
    long = "x" * 500
    assert drawn(capsys, ["NAME", "DETAIL"], [["a", long]])[2].endswith(long)


def test_a_terminal_gets_rows_cut_to_fit_but_names_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda: os.terminal_size((40, 24)))
    name = "an-agent-with-a-long-name-indeed"
    lines = drawn(capsys, ["NAME", "DETAIL"], [[name, "y" * 100]])
    assert lines[2].startswith(name)
    assert lines[2].endswith("…")
    assert len(lines[2]) <= max(40, len(name) + 2 + 8)
