"""`caxton config show` and `caxton config validate`, through click's test runner."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from caxton.cli.config import config
from caxton.settings import SPECS, server_env_vars


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """The runner's environment: every server variable unset, XDG homes in tmp_path.

    CliRunner overlays this on os.environ, so None removes a variable for the call.
    """
    unset: dict[str, str | None] = dict.fromkeys(server_env_vars())
    return {
        **unset,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COLUMNS": "200",  # the table width: no cut cells to match against
    }


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner(env=env).invoke(config, list(args))


def test_show_json_gives_value_source_and_variable(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("port = 9000\nworkers = 6\n[limits]\ndeadline_ms = 250\n")
    result = run({**env, "CAXTON_WORKERS": "3"}, "show", "--config", str(path), "--output", "json")
    assert result.exit_code == 0, result.stderr
    shown = orjson.loads(result.stdout)
    assert shown["config_file"] == str(path)
    settings = shown["settings"]
    assert list(settings) == [spec.name for spec in SPECS]
    assert settings["port"] == {"value": 9000, "source": "file", "env": "CAXTON_PORT"}
    assert settings["workers"] == {"value": 3, "source": "env", "env": "CAXTON_WORKERS"}
    assert settings["host"] == {"value": "127.0.0.1", "source": "default", "env": "CAXTON_HOST"}
    assert settings["data_dir"]["value"] == str(tmp_path / "data" / "caxton")
    assert settings["limits.deadline_ms"]["value"] == 250
    assert settings["limits.memory_bytes"] == {
        "value": None,
        "source": "default",
        "env": "CAXTON_LIMITS_MEMORY_BYTES",
    }
    assert result.stderr == ""


def test_show_reads_the_default_config_file(env: dict[str, str | None], tmp_path: Path) -> None:
    (tmp_path / "config" / "caxton").mkdir(parents=True)
    path = tmp_path / "config" / "caxton" / "server.toml"
    path.write_text('log_level = "debug"\n')
    result = run(env, "show", "--output", "json")
    assert result.exit_code == 0, result.stderr
    shown = orjson.loads(result.stdout)
    assert shown["config_file"] == str(path)
    assert shown["settings"]["log_level"] == {
        "value": "debug",
        "source": "file",
        "env": "CAXTON_LOG_LEVEL",
    }


def test_show_table_has_a_row_per_setting(env: dict[str, str | None], tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text("examples = true\n")
    result = run({**env, "CAXTON_PORT": "9001"}, "show", "--config", str(path))
    assert result.exit_code == 0, result.stderr
    rows = {
        match["name"]: (match["value"], match["source"])
        for match in re.finditer(
            r"^\s*(?P<name>[a-z_.]+)\s+(?P<value>\S.*?)\s+(?P<source>flag|env|file|default)\s*$",
            result.stdout,
            re.MULTILINE,
        )
    }
    assert list(rows) == [spec.name for spec in SPECS]
    assert rows["port"] == ("9001", "env")
    assert rows["examples"] == ("true", "file")
    assert rows["workers"] == ("2", "default")
    assert rows["limits.fuel_per_message"] == ("(runtime default)", "default")
    assert f"config file: {path}" in result.stdout


def test_show_table_without_a_config_file_says_where_it_looked(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = run(env, "show")
    assert result.exit_code == 0, result.stderr
    expected = tmp_path / "config" / "caxton" / "server.toml"
    assert f"no config file (none at {expected})" in result.stdout


@pytest.mark.parametrize("command", ["show", "validate"])
def test_invalid_settings_exit_2_naming_the_setting(
    command: str, env: dict[str, str | None], tmp_path: Path
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("port = 70000\n")
    result = run(env, command, "--config", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"caxton: config {command}: port (in {path}): 70000 is out of range 0..65535\n"
    )


def test_validate_a_valid_file(env: dict[str, str | None], tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('host = "0.0.0.0"\nport = 0\n')
    result = run(env, "validate", "--config", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"valid ({path})\n"


def test_validate_without_a_config_file(env: dict[str, str | None]) -> None:
    result = run(env, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "valid (no config file; environment and defaults)\n"


def test_validate_checks_the_environment(env: dict[str, str | None]) -> None:
    result = run({**env, "CAXTON_PORT": "abc"}, "validate")
    assert result.exit_code == 2
    assert result.stderr == "caxton: config validate: CAXTON_PORT: 'abc' is not an integer\n"


def test_validate_unknown_key_suggests_the_closest(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("wokers = 4\n")
    result = run(env, "validate", "--config", str(path))
    assert result.exit_code == 2
    assert "wokers (in " in result.stderr
    assert "did you mean 'workers'?" in result.stderr


def test_validate_malformed_toml(env: dict[str, str | None], tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text("port = 80\n[limits\n")
    result = run(env, "validate", "--config", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"caxton: config validate: {path}: not valid TOML: ")
    assert "line 2" in result.stderr


def test_validate_missing_named_file(env: dict[str, str | None], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run(env, "validate", "--config", str(missing))
    assert result.exit_code == 2
    assert result.stderr == (
        f"caxton: config validate: --config: config file {missing} does not exist; "
        "create it or name another\n"
    )


def test_validate_file_named_by_caxton_config(env: dict[str, str | None], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run({**env, "CAXTON_CONFIG": str(missing)}, "validate")
    assert result.exit_code == 2
    assert result.stderr.startswith("caxton: config validate: CAXTON_CONFIG: config file ")


def test_show_refuses_an_unknown_output(env: dict[str, str | None]) -> None:
    result = run(env, "show", "--output", "yaml")
    assert result.exit_code == 2
    assert "'yaml' is not one of 'table', 'json'" in result.stderr
