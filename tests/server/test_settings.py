"""Tests for caxton.settings: precedence, defaults, and errors that name the setting and source."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.errors import ConfigError
from caxton.settings import (
    SPECS,
    AuthSettings,
    LimitSettings,
    Settings,
    SigningSettings,
    TlsSettings,
    default_config_path,
    default_data_dir,
    server_env_vars,
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """An environment with nothing Caxton reads but HOME: the real one never leaks in."""
    return {"HOME": str(home), "PATH": "/usr/bin"}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def load_error(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.load(**kwargs)
    return str(caught.value)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a TOML basic string, for these plain values
    return repr(value)


# Per setting: the value given in the file, in the environment (as text), and as a flag.
# All three differ from each other, and each from the one before it in precedence.
PRECEDENCE: dict[str, tuple[object, str, object]] = {
    "host": ("10.0.0.1", "10.0.0.2", "10.0.0.3"),
    "port": (1001, "1002", 1003),
    "data_dir": ("from-file", "/env/data", Path("/flag/data")),
    "workers": (3, "4", 5),
    "mailbox_capacity": (10, "20", 30),
    "log_level": ("debug", "warning", "error"),
    "log_format": ("json", "console", "auto"),
    "invoke_timeout_s": (1.5, "2.5", 3.5),
    "invoke_max_timeout_s": (61.0, "62", 63.0),
    "job_retries": (1, "2", 3),
    "job_timeout_s": (4.0, "5.5", 6.0),
    "max_request_bytes": (1000, "2000", 3000),
    "message_history": (5, "6", 7),
    "limits.memory_bytes": (1 << 20, str(2 << 20), 3 << 20),
    "limits.fuel_per_message": (100, "200", 300),
    "limits.deadline_ms": (10, "20", 30),
    "examples": (True, "false", True),
    "tools.max_concurrent": (2, "3", 5),
    "tools.calls_per_minute": (10, "20", 30),
    "tools.timeout_s": (1.5, "2.5", 3.5),
    "tools.max_result_bytes": (1000, "2000", 3000),
    "telemetry.metrics": (False, "true", False),
    "telemetry.agent_series": (5, "6", 7),
    "telemetry.mailbox_warning": (0.5, "0.6", 0.7),
    "telemetry.mailbox_critical": (0.8, "0.85", 0.9),
    "telemetry.spike_sensitivity": (2.0, "3", 5.0),
    "telemetry.spike_min_rate": (10.0, "20", 30.0),
    "auth.enabled": (False, "true", False),
    "auth.cache_s": (1.0, "2", 3.0),
    "jwt.secret_file": ("s1", "/env/s", Path("/flag/s")),
    "jwt.public_key_file": ("p1", "/env/p", Path("/flag/p")),
    "jwt.jwks_file": ("j1", "/env/j", Path("/flag/j")),
    "jwt.audience": ("a1", "a2", "a3"),
    "jwt.issuer": ("i1", "i2", "i3"),
    "jwt.role_claim": ("r1", "r2", "r3"),
    "jwt.leeway_s": (1.0, "2", 3.0),
    "tls.enabled": (True, "false", True),
    "tls.cert_path": ("c1", "/env/c", Path("/flag/c")),
    "tls.key_path": ("k1", "/env/k", Path("/flag/k")),
    "tls.client_ca_path": ("ca1", "/env/ca", Path("/flag/ca")),
    "tls.client_certs": ("optional", "required", "optional"),
    "security.audit": (False, "true", False),
    "security.audit_retention_days": (1.0, "2", 3.0),
    "rate_limits.global_per_s": (1.0, "2", 3.0),
    "rate_limits.global_burst": (1, "2", 3),
    "rate_limits.identity_per_s": (1.0, "2", 0.0),
    "rate_limits.identity_burst": (1, "2", 3),
    "rate_limits.failed_auth_per_minute": (1.0, "2", 3.0),
    "rate_limits.failed_auth_burst": (1, "2", 3),
    "signing.policy": ("off", "require", "verify"),
    "signing.trusted_keys": ("t1", "/env/t", Path("/flag/t")),
}
# Settings that some values above need beside them (TLS needs a certificate...), in the file.
COMPANIONS: dict[str, str] = {
    "tls.enabled": 'tls.cert_path = "c"\ntls.key_path = "k"\n',
    "tls.client_certs": (
        'tls.enabled = true\ntls.cert_path = "c"\ntls.key_path = "k"\ntls.client_ca_path = "ca"\n'
    ),
    "signing.policy": 'signing.trusted_keys = "t"\n',
}


def test_precedence_table_covers_every_setting() -> None:
    assert set(PRECEDENCE) == {spec.name for spec in SPECS}


@pytest.mark.parametrize("name", list(PRECEDENCE))
def test_flag_beats_env_beats_file_beats_default(
    name: str, tmp_path: Path, env: dict[str, str]
) -> None:
    spec = next(spec for spec in SPECS if spec.name == name)
    in_file, in_env, as_flag = PRECEDENCE[name]
    config = write(
        tmp_path / "server.toml", f"{name} = {toml_value(in_file)}\n{COMPANIONS.get(name, '')}"
    )
    with_env = {**env, spec.env_var: in_env}
    default = Settings.load(env=env).value(name)

    def expect(value: object) -> object:
        if spec.kind == "path":
            return tmp_path / str(value)  # relative to the file; absolute paths stay
        if spec.kind == "float":
            return float(str(value))
        if spec.kind == "bool" and isinstance(value, str):
            return value == "true"
        return int(str(value)) if spec.kind == "int" else value

    cases: list[tuple[dict[str, object], dict[str, str], str, object]] = [
        ({name: as_flag}, with_env, "flag", expect(as_flag)),
        ({}, with_env, "env", expect(in_env)),
        ({name: None}, env, "file", expect(in_file)),
    ]
    for flags, environment, source, value in cases:
        settings = Settings.load(flags=flags, env=environment, config_path=config)
        assert settings.value(name) == value, source
        assert settings.sources()[name] == source
    settings = Settings.load(env=env)
    assert settings.value(name) == default
    assert settings.sources()[name] == "default"


def test_defaults_with_an_empty_environment(env: dict[str, str], home: Path) -> None:
    settings = Settings.load(env=env)
    assert settings == Settings(data_dir=home / ".local/share/caxton")
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.workers == 2
    assert settings.mailbox_capacity == 1024
    assert settings.log_level == "info"
    assert settings.log_format == "auto"
    assert settings.invoke_timeout_s == 5.0
    assert settings.invoke_max_timeout_s == 60.0
    assert settings.job_retries == 0
    assert settings.job_timeout_s == 30.0
    assert settings.max_request_bytes == 16 * 1024 * 1024
    assert settings.message_history == 10_000
    assert settings.limits == LimitSettings()
    assert settings.examples is False
    assert settings.config_file is None
    assert set(settings.sources().values()) == {"default"}


def test_data_dir_follows_xdg_data_home(env: dict[str, str], tmp_path: Path) -> None:
    settings = Settings.load(env={**env, "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert settings.data_dir == tmp_path / "xdg" / "caxton"
    assert settings.sources()["data_dir"] == "default"


@pytest.mark.parametrize("xdg", ["", "relative/dir"])
def test_empty_or_relative_xdg_homes_are_ignored(xdg: str, env: dict[str, str], home: Path) -> None:
    # The XDG Base Directory spec: such values are invalid and must be ignored.
    environment = {**env, "XDG_DATA_HOME": xdg, "XDG_CONFIG_HOME": xdg}
    assert default_data_dir(environment) == home / ".local/share/caxton"
    assert default_config_path(environment) == home / ".config/caxton/server.toml"


def test_data_dir_env_overrides_the_xdg_default(env: dict[str, str], tmp_path: Path) -> None:
    environment = {**env, "XDG_DATA_HOME": str(tmp_path / "xdg"), "CAXTON_DATA_DIR": "/srv/cx"}
    assert Settings.load(env=environment).data_dir == Path("/srv/cx")


def test_default_config_file_is_read_when_it_exists(env: dict[str, str], tmp_path: Path) -> None:
    environment = {**env, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    (tmp_path / "config" / "caxton").mkdir(parents=True)
    path = write(tmp_path / "config" / "caxton" / "server.toml", "port = 9999\n")
    settings = Settings.load(env=environment)
    assert settings.port == 9999
    assert settings.sources()["port"] == "file"
    assert settings.config_file == path


def test_default_config_file_under_home(env: dict[str, str], home: Path) -> None:
    (home / ".config" / "caxton").mkdir(parents=True)
    write(home / ".config" / "caxton" / "server.toml", "workers = 7\n")
    assert Settings.load(env=env).workers == 7


def test_missing_default_config_file_is_not_an_error(env: dict[str, str], tmp_path: Path) -> None:
    settings = Settings.load(env={**env, "XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert settings.config_file is None
    assert settings.port == 8080


def test_config_file_named_by_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere.toml", "port = 4242\n")
    settings = Settings.load(env={**env, "CAXTON_CONFIG": str(path)})
    assert (settings.port, settings.config_file) == (4242, path)


def test_config_flag_beats_config_variable(env: dict[str, str], tmp_path: Path) -> None:
    by_env = write(tmp_path / "env.toml", "port = 1\n")
    by_flag = write(tmp_path / "flag.toml", "port = 2\n")
    environment = {**env, "CAXTON_CONFIG": str(by_env)}
    assert Settings.load(flags={"config": str(by_flag)}, env=environment).port == 2
    assert Settings.load(env=environment, config_path=by_flag).port == 2


@pytest.mark.parametrize(
    ("how", "label"),
    [("config_path", "--config"), ("flag", "--config"), ("env", "CAXTON_CONFIG")],
)
def test_missing_explicit_config_file_is_an_error(
    how: str, label: str, env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.toml"
    ways: dict[str, dict[str, Any]] = {
        "config_path": {"config_path": missing},
        "flag": {"flags": {"config": str(missing)}},
        "env": {"env": {**env, "CAXTON_CONFIG": str(missing)}},
    }
    kwargs = ways[how]
    kwargs.setdefault("env", env)
    assert load_error(**kwargs) == (
        f"{label}: config file {missing} does not exist; create it or name another"
    )


def test_config_file_that_is_a_directory(env: dict[str, str], tmp_path: Path) -> None:
    assert load_error(env=env, config_path=tmp_path) == (
        f"--config: {tmp_path} is a directory, not a file"
    )


def test_malformed_toml_names_the_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "server.toml", 'host = "0.0.0.0"\nport = = 80\n')
    message = load_error(env=env, config_path=path)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in message


def test_toml_that_is_not_utf8_names_the_line(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_bytes(b'port = 80\nhost = "caf\xe9"\n')
    assert load_error(env=env, config_path=path) == f"{path}: not UTF-8 text at line 2"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("prot = 80\n", "prot (in {path}): unknown setting; did you mean 'port'?"),
        (
            "[limits]\nfuel = 5\n",
            "limits.fuel (in {path}): unknown setting; did you mean 'limits.fuel_per_message'?",
        ),
        (
            "deadline_ms = 5\n",
            "deadline_ms (in {path}): unknown setting; did you mean 'limits.deadline_ms'?",
        ),
        (
            "log-level = 'info'\n",
            "log-level (in {path}): unknown setting; did you mean 'log_level'?",
        ),
    ],
)
def test_unknown_toml_key_suggests_the_closest(
    text: str, problem: str, env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", text)
    assert load_error(env=env, config_path=path) == problem.format(path=path)


def test_unknown_toml_key_without_a_close_match_lists_the_known(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", "zzz = 1\n")
    message = load_error(env=env, config_path=path)
    assert message.startswith(f"zzz (in {path}): unknown setting (known: host, port, ")
    assert "limits.deadline_ms" in message


def test_unknown_caxton_variables_are_ignored(env: dict[str, str]) -> None:
    client = {
        "CAXTON_URL": "http://x",
        "CAXTON_TOKEN": "t",
        "CAXTON_OUTPUT": "json",
        "CAXTON_PROT": "1",
    }
    assert Settings.load(env={**env, **client}) == Settings.load(env=env)


def test_empty_variable_counts_as_unset(env: dict[str, str]) -> None:
    settings = Settings.load(env={**env, "CAXTON_PORT": "", "CAXTON_CONFIG": ""})
    assert settings.port == 8080
    assert settings.sources()["port"] == "default"


def test_unknown_flag_is_an_error(env: dict[str, str]) -> None:
    assert load_error(flags={"prot": 1}, env=env) == "--prot: unknown setting; did you mean 'port'?"


@pytest.mark.parametrize(
    ("variable", "text", "problem"),
    [
        ("CAXTON_PORT", "abc", "'abc' is not an integer"),
        ("CAXTON_PORT", "70000", "70000 is out of range 0..65535"),
        ("CAXTON_PORT", "-1", "-1 is out of range 0..65535"),
        ("CAXTON_WORKERS", "-1", "-1 is out of range: it must be 0 or more"),
        ("CAXTON_WORKERS", "2.5", "'2.5' is not an integer"),
        ("CAXTON_MAILBOX_CAPACITY", "0", "0 is out of range: it must be 1 or more"),
        ("CAXTON_LOG_LEVEL", "loud", "'loud' is not one of debug, info, warning, error"),
        ("CAXTON_LOG_FORMAT", "xml", "'xml' is not one of json, console, auto"),
        ("CAXTON_INVOKE_TIMEOUT_S", "0", "0 is out of range: it must be more than 0"),
        ("CAXTON_INVOKE_TIMEOUT_S", "soon", "'soon' is not a number"),
        ("CAXTON_INVOKE_TIMEOUT_S", "nan", "nan is not a finite number"),
        ("CAXTON_JOB_TIMEOUT_S", "-3", "-3 is out of range: it must be more than 0"),
        ("CAXTON_JOB_RETRIES", "-1", "-1 is out of range: it must be 0 or more"),
        ("CAXTON_MAX_REQUEST_BYTES", "0", "0 is out of range: it must be 1 or more"),
        ("CAXTON_MESSAGE_HISTORY", "-5", "-5 is out of range: it must be 0 or more"),
        ("CAXTON_LIMITS_DEADLINE_MS", "0", "0 is out of range: it must be 1 or more"),
        ("CAXTON_LIMITS_FUEL_PER_MESSAGE", "1e6", "'1e6' is not an integer"),
        ("CAXTON_EXAMPLES", "maybe", "'maybe' is not a boolean (use true or false)"),
        ("CAXTON_HOST", "   ", "must not be empty"),
    ],
)
def test_bad_environment_value_names_the_variable(
    variable: str, text: str, problem: str, env: dict[str, str]
) -> None:
    assert load_error(env={**env, variable: text}) == f"{variable}: {problem}"


@pytest.mark.parametrize(
    ("line", "setting", "problem"),
    [
        ("port = 70000", "port", "70000 is out of range 0..65535"),
        ("port = '8080'", "port", "expected an integer, got the string '8080'"),
        ("port = 80.0", "port", "expected an integer, got the float 80.0"),
        ("port = true", "port", "expected an integer, got the boolean true"),
        ("workers = -2", "workers", "-2 is out of range: it must be 0 or more"),
        ("host = ''", "host", "must not be empty"),
        ("host = 127", "host", "expected a string, got the integer 127"),
        ("data_dir = ''", "data_dir", "must not be empty"),
        ("data_dir = 5", "data_dir", "expected a path, got the integer 5"),
        ("log_level = 'loud'", "log_level", "'loud' is not one of debug, info, warning, error"),
        ("invoke_timeout_s = 0", "invoke_timeout_s", "0 is out of range: it must be more than 0"),
        ("job_timeout_s = inf", "job_timeout_s", "inf is not a finite number"),
        ("job_timeout_s = 'x'", "job_timeout_s", "expected a number, got the string 'x'"),
        ("examples = 'yes'", "examples", "expected true or false, got the string 'yes'"),
        ("examples = 1", "examples", "expected true or false, got the integer 1"),
        ("port = [1]", "port", "expected an integer, got an array"),
        ("port = {a = 1}", "port", "expected an integer, got a table"),
        ("limits = 5", "limits", "expected a table, got the integer 5"),
        (
            "limits.memory_bytes = 0",
            "limits.memory_bytes",
            "0 is out of range: it must be 1 or more",
        ),
    ],
)
def test_bad_file_value_names_the_setting_and_file(
    line: str, setting: str, problem: str, env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", line + "\n")
    assert load_error(env=env, config_path=path) == f"{setting} (in {path}): {problem}"


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        ({"port": 70000}, "--port: 70000 is out of range 0..65535"),
        ({"port": "abc"}, "--port: 'abc' is not an integer"),
        ({"workers": -1}, "--workers: -1 is out of range: it must be 0 or more"),
        ({"log_level": "loud"}, "--log-level: 'loud' is not one of debug, info, warning, error"),
        ({"data_dir": ""}, "--data-dir: must not be empty"),
        ({"data_dir": 3}, "--data-dir: expected a path, got the integer 3"),
        (
            {"limits.deadline_ms": 0},
            "--limits-deadline-ms: 0 is out of range: it must be 1 or more",
        ),
        ({"config": 3}, "--config: expected a path, got the integer 3"),
    ],
)
def test_bad_flag_value_names_the_flag(
    flags: dict[str, object], problem: str, env: dict[str, str]
) -> None:
    assert load_error(flags=flags, env=env) == problem


def test_an_overridden_bad_value_is_still_reported(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "server.toml", "port = 'eighty'\n")
    message = load_error(flags={"port": 9000}, env=env, config_path=path)
    assert message == f"port (in {path}): expected an integer, got the string 'eighty'"


def test_longest_invoke_wait_must_not_be_below_the_default_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", "invoke_timeout_s = 10\n")
    environment = {**env, "CAXTON_INVOKE_MAX_TIMEOUT_S": "3"}
    assert load_error(env=environment, config_path=path) == (
        f"CAXTON_INVOKE_MAX_TIMEOUT_S: 3 is less than 10, the value of invoke_timeout_s "
        f"(in {path}); the longest wait cannot be shorter than the default one"
    )
    assert load_error(env=env, flags={"invoke_max_timeout_s": 4.5}) == (
        "--invoke-max-timeout-s: 4.5 is less than 5, the value of invoke_timeout_s (default); "
        "the longest wait cannot be shorter than the default one"
    )


@pytest.mark.parametrize(("text", "expected"), [("DEBUG", "debug"), ("Warning", "warning")])
def test_log_level_is_case_insensitive(text: str, expected: str, env: dict[str, str]) -> None:
    assert Settings.load(env={**env, "CAXTON_LOG_LEVEL": text}).log_level == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False)],
)
def test_boolean_variables(text: str, expected: bool, env: dict[str, str]) -> None:
    assert Settings.load(env={**env, "CAXTON_EXAMPLES": text}).examples is expected


def test_relative_data_dir_in_file_is_relative_to_the_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "etc").mkdir()
    path = write(tmp_path / "etc" / "server.toml", 'data_dir = "../var/caxton"\n')
    assert Settings.load(env=env, config_path=path).data_dir == tmp_path / "etc/../var/caxton"


def test_relative_data_dir_from_env_or_flag_is_relative_to_the_working_directory(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.load(env={**env, "CAXTON_DATA_DIR": "d1"}).data_dir == tmp_path / "d1"
    assert Settings.load(flags={"data_dir": Path("d2")}, env=env).data_dir == tmp_path / "d2"


def test_tilde_in_paths_uses_home_from_the_environment(
    env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", 'data_dir = "~/from-file"\n')
    assert Settings.load(env=env, config_path=path).data_dir == home / "from-file"
    environment = {**env, "CAXTON_DATA_DIR": "~/from-env"}
    assert Settings.load(env=environment).data_dir == home / "from-env"


def test_float_settings_accept_integers(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "server.toml", "job_timeout_s = 12\n")
    value = Settings.load(env=env, config_path=path).job_timeout_s
    assert (value, type(value)) == (12.0, float)


def test_limits_table(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "server.toml", "[limits]\nmemory_bytes = 4194304\ndeadline_ms = 250\n")
    settings = Settings.load(env=env, config_path=path)
    assert settings.limits == LimitSettings(memory_bytes=4194304, deadline_ms=250)
    assert settings.limits.overrides() == {"memory_bytes": 4194304, "deadline_ms": 250}
    assert settings.sources()["limits.deadline_ms"] == "file"
    assert settings.sources()["limits.fuel_per_message"] == "default"


def test_a_critical_mailbox_level_below_the_warning_one_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "server.toml", "[telemetry]\nmailbox_critical = 0.5\n")
    with pytest.raises(ConfigError, match=r"telemetry.mailbox_critical: 0.5 is below"):
        Settings.load(env=env, config_path=path)


def test_a_complete_sample_file(env: dict[str, str], tmp_path: Path) -> None:
    sample = """\
host = "0.0.0.0"
port = 9000
data_dir = "/var/lib/caxton"
workers = 4
mailbox_capacity = 4096
log_level = "warning"
log_format = "json"
invoke_timeout_s = 2.5
invoke_max_timeout_s = 30
job_retries = 2
job_timeout_s = 120
max_request_bytes = 33554432
message_history = 500
examples = true

[limits]
memory_bytes = 16777216
fuel_per_message = 50000000
deadline_ms = 500

[tools]
max_concurrent = 8
calls_per_minute = 600
timeout_s = 10
max_result_bytes = 65536

[telemetry]
metrics = false
agent_series = 20
mailbox_warning = 0.5
mailbox_critical = 0.9
spike_sensitivity = 3
spike_min_rate = 50

[auth]
enabled = true
cache_s = 2

[jwt]
secret_file = "/etc/caxton/jwt.secret"
public_key_file = "/etc/caxton/jwt.pem"
jwks_file = "/etc/caxton/jwks.json"
audience = "caxton"
issuer = "https://issuer.example"
role_claim = "caxton_role"
leeway_s = 10

[tls]
enabled = true
cert_path = "/etc/caxton/tls/cert.pem"
key_path = "/etc/caxton/tls/key.pem"
client_ca_path = "/etc/caxton/tls/ca.pem"
client_certs = "optional"

[security]
audit = true
audit_retention_days = 365

[rate_limits]
global_per_s = 100
global_burst = 200
identity_per_s = 10
identity_burst = 20
failed_auth_per_minute = 5
failed_auth_burst = 3

[signing]
policy = "require"
trusted_keys = "/etc/caxton/signers"
"""
    settings = Settings.load(env=env, config_path=write(tmp_path / "server.toml", sample))
    assert set(settings.sources().values()) == {"file"}
    assert settings.as_dict() == {
        "host": "0.0.0.0",
        "port": 9000,
        "data_dir": "/var/lib/caxton",
        "workers": 4,
        "mailbox_capacity": 4096,
        "log_level": "warning",
        "log_format": "json",
        "invoke_timeout_s": 2.5,
        "invoke_max_timeout_s": 30.0,
        "job_retries": 2,
        "job_timeout_s": 120.0,
        "max_request_bytes": 33554432,
        "message_history": 500,
        "limits": {"memory_bytes": 16777216, "fuel_per_message": 50000000, "deadline_ms": 500},
        "examples": True,
        "tools": {
            "max_concurrent": 8,
            "calls_per_minute": 600,
            "timeout_s": 10.0,
            "max_result_bytes": 65536,
        },
        "telemetry": {
            "metrics": False,
            "agent_series": 20,
            "mailbox_warning": 0.5,
            "mailbox_critical": 0.9,
            "spike_sensitivity": 3.0,
            "spike_min_rate": 50.0,
        },
        "auth": {"enabled": True, "cache_s": 2.0},
        "jwt": {
            "secret_file": "/etc/caxton/jwt.secret",
            "public_key_file": "/etc/caxton/jwt.pem",
            "jwks_file": "/etc/caxton/jwks.json",
            "audience": "caxton",
            "issuer": "https://issuer.example",
            "role_claim": "caxton_role",
            "leeway_s": 10.0,
        },
        "tls": {
            "enabled": True,
            "cert_path": "/etc/caxton/tls/cert.pem",
            "key_path": "/etc/caxton/tls/key.pem",
            "client_ca_path": "/etc/caxton/tls/ca.pem",
            "client_certs": "optional",
        },
        "security": {"audit": True, "audit_retention_days": 365.0},
        "rate_limits": {
            "global_per_s": 100.0,
            "global_burst": 200,
            "identity_per_s": 10.0,
            "identity_burst": 20,
            "failed_auth_per_minute": 5.0,
            "failed_auth_burst": 3,
        },
        "signing": {"policy": "require", "trusted_keys": "/etc/caxton/signers"},
    }


def test_authentication_is_off_only_on_loopback(env: dict[str, str], tmp_path: Path) -> None:
    assert not Settings(data_dir=tmp_path, auth=AuthSettings(enabled=False)).auth.enabled
    off = AuthSettings(enabled=False)
    with pytest.raises(ConfigError, match=r"^auth\.enabled: .*only on a loopback address"):
        Settings(data_dir=tmp_path, host="0.0.0.0", auth=off)
    message = load_error(flags={"host": "192.168.1.5"}, env={**env, "CAXTON_AUTH_ENABLED": "false"})
    assert "auth.enabled" in message
    assert "'192.168.1.5'" in message


def test_tls_and_signing_settings_that_cannot_work_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^tls\.cert_path: must be set when tls\.enabled"):
        TlsSettings(enabled=True)
    with pytest.raises(ConfigError, match=r"^tls\.client_ca_path: must be set"):
        TlsSettings(enabled=True, cert_path=tmp_path, key_path=tmp_path, client_certs="required")
    with pytest.raises(ConfigError, match=r"^signing\.trusted_keys: must be set"):
        SigningSettings(policy="require")


def test_as_dict_is_json(env: dict[str, str]) -> None:
    settings = Settings.load(env=env)
    decoded = orjson.loads(orjson.dumps(settings.as_dict()))
    assert decoded["data_dir"] == str(settings.data_dir)
    assert decoded["limits"] == {
        "memory_bytes": None,
        "fuel_per_message": None,
        "deadline_ms": None,
    }


def test_settings_are_frozen_and_hashable(env: dict[str, str]) -> None:
    settings = Settings.load(env=env)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    assert hash(settings) == hash(Settings.load(env=env))


def test_direct_construction_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^port: -1 is out of range 0\.\.65535$"):
        Settings(data_dir=tmp_path, port=-1)
    with pytest.raises(ConfigError, match=r"^limits\.deadline_ms: 0 is out of range"):
        LimitSettings(deadline_ms=0)
    with pytest.raises(ConfigError, match=r"^invoke_max_timeout_s: 1 is less than 5"):
        Settings(data_dir=tmp_path, invoke_max_timeout_s=1)
    assert Settings(data_dir=tmp_path, job_timeout_s=3).job_timeout_s.is_integer()


def test_value_by_dotted_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, limits=LimitSettings(fuel_per_message=9))
    assert settings.value("limits.fuel_per_message") == 9
    assert settings.value("data_dir") == tmp_path
    with pytest.raises(KeyError):
        settings.value("limits")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("a.b", False)],
)
def test_binds_loopback(host: str, loopback: bool, tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, host=host).binds_loopback is loopback


def test_server_env_vars_lists_what_load_reads() -> None:
    names = server_env_vars()
    assert "CAXTON_CONFIG" in names
    assert "CAXTON_LIMITS_DEADLINE_MS" in names
    assert "CAXTON_URL" not in names
    assert len(names) == len(SPECS) + 1


DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_documented_sample_is_valid_and_sets_every_setting(
    env: dict[str, str], tmp_path: Path
) -> None:
    sample = DOCS.read_text().split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path / "server.toml", sample)
    settings = Settings.load(env=env, config_path=path)
    assert set(settings.sources().values()) == {"file"}
    assert settings.data_dir == Path(env["HOME"]) / ".local/share/caxton"


def test_every_setting_is_documented() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    for spec in SPECS:
        row = next((row for row in rows if row.startswith(f"| `{spec.name}` |")), "")
        assert f"`{spec.env_var}`" in row, spec.name
        assert (f"`{spec.flag}`" in row) is spec.has_flag, spec.name
