"""`caxton agent new`: what it refuses (the per-language projects are built in tests/sdk)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from caxton.cli import main
from caxton.scaffold import ScaffoldError, new_project


@pytest.mark.parametrize("name", ["Greeter", "1st", "-x", "a" * 64, "with_underscore", ""])
def test_a_name_that_is_no_agent_name_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="is not an agent name"):
        new_project(name, "c", tmp_path / "project")
    assert not (tmp_path / "project").exists()


def test_an_unknown_language_or_a_full_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="no template for 'cobol'"):
        new_project("greeter", "cobol", tmp_path / "project")
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="exists and is not empty"):
        new_project("greeter", "c", full)
    assert (full / "mine.txt").read_text() == "keep me"


def test_the_command_exits_2_naming_the_problem(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        main, ["agent", "new", "Bad", "--lang", "c", "--dir", str(tmp_path / "x")]
    )
    assert done.exit_code == 2
    assert "'Bad' is not an agent name" in done.output
    unknown = CliRunner().invoke(main, ["agent", "new", "good", "--lang", "cobol"])
    assert unknown.exit_code == 2
