"""The server's settings: one frozen value built from flags, environment, a TOML file and defaults.

Precedence, per setting: a flag given to `caxton server start`, then the
`CAXTON_*` environment variable, then the TOML config file, then the default.
`Settings.load` is the only place that reads the environment or the config
file; everything else is handed a `Settings`.

Every value given is checked, even one that a higher source overrides, so a
bad line in the file or a bad variable is reported at start rather than on
the day the override goes away. Errors are `ConfigError`s whose message
names the setting as the user wrote it and where it came from:

    CAXTON_PORT: 'abc' is not an integer
    --workers: -1 is out of range: it must be 0 or more
    port (in /etc/caxton/server.toml): 70000 is out of range 0..65535
    prot (in /etc/caxton/server.toml): unknown setting; did you mean 'port'?

The config file is `--config`, else `$CAXTON_CONFIG`, else
`$XDG_CONFIG_HOME/caxton/server.toml` (`~/.config/caxton/server.toml`) when it
exists. A file named explicitly must exist; the default one may not.
Environment variables with the `CAXTON_` prefix that the server does not know
are ignored: the client (`CAXTON_URL`, `CAXTON_TOKEN`, `CAXTON_OUTPUT`) and
the runtime (`CAXTON_WASM_FEATURES`, ...) read their own. An empty variable
counts as unset.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from caxton.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "ADMIN_KEY_FILE",
    "CONFIG_ENV_VAR",
    "SPECS",
    "LimitSettings",
    "LogFormat",
    "LogLevel",
    "SettingSpec",
    "Settings",
    "Source",
    "default_config_path",
    "default_data_dir",
    "is_loopback_host",
    "server_env_vars",
]

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["json", "console", "auto"]
Source = Literal["flag", "env", "file", "default"]
Kind = Literal["str", "int", "float", "bool", "path"]

ENV_PREFIX: Final = "CAXTON_"
# The admin API key the server makes at first start, in its data directory (caxton.security.keys),
# which a CLI on the same machine reads (caxton.cli.context).
ADMIN_KEY_FILE: Final = "admin.key"
CONFIG_ENV_VAR: Final = "CAXTON_CONFIG"
MiB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """What one setting accepts. `name` is its TOML key, dotted inside a table."""

    name: str
    kind: Kind
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    # True when the minimum itself is refused (timeouts must be more than 0).
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    # True when None is a valid value: it means "the runtime decides".
    optional: bool = False
    # True when `caxton server start` has a flag for it.
    has_flag: bool = False

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.replace(".", "_").upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace(".", "-").replace("_", "-")

    @property
    def attribute_path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


# In the order `caxton config show` and the docs list them.
SPECS: Final[tuple[SettingSpec, ...]] = (
    SettingSpec("host", "str", "address the REST API listens on", has_flag=True),
    SettingSpec(
        "port",
        "int",
        "TCP port of the REST API; 0 picks a free one",
        minimum=0,
        maximum=65535,
        has_flag=True,
    ),
    SettingSpec("data_dir", "path", "directory for the SQLite store and caches", has_flag=True),
    SettingSpec("workers", "int", "dispatcher threads that run agents", minimum=0, has_flag=True),
    SettingSpec(
        "mailbox_capacity", "int", "messages waiting per agent before senders get -3", minimum=1
    ),
    SettingSpec(
        "log_level",
        "str",
        "least severe log level written",
        choices=("debug", "info", "warning", "error"),
        has_flag=True,
    ),
    SettingSpec(
        "log_format",
        "str",
        "json, console, or auto (console on a terminal, json otherwise)",
        choices=("json", "console", "auto"),
    ),
    SettingSpec(
        "invoke_timeout_s",
        "float",
        "default wait for an agent's reply to an API invoke, in seconds",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "invoke_max_timeout_s",
        "float",
        "longest wait a caller may ask for, in seconds",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec("job_retries", "int", "times a failed job is retried", minimum=0),
    SettingSpec(
        "job_timeout_s",
        "float",
        "time one job may take, in seconds",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "max_request_bytes",
        "int",
        "largest request body, so also the largest module upload",
        minimum=1,
    ),
    SettingSpec(
        "message_history",
        "int",
        "recently routed messages kept in memory for the API",
        minimum=0,
    ),
    SettingSpec(
        "limits.memory_bytes",
        "int",
        "default linear-memory ceiling per agent",
        minimum=1,
        optional=True,
    ),
    SettingSpec(
        "limits.fuel_per_message",
        "int",
        "default fuel per handled message",
        minimum=1,
        optional=True,
    ),
    SettingSpec(
        "limits.deadline_ms",
        "int",
        "default wall-clock deadline per handled message",
        minimum=1,
        optional=True,
    ),
    SettingSpec("examples", "bool", "deploy the bundled example agents at start"),
    SettingSpec(
        "tools.max_concurrent", "int", "tool calls one agent may have in flight", minimum=1
    ),
    SettingSpec(
        "tools.calls_per_minute", "int", "tool calls one agent may start a minute", minimum=1
    ),
    SettingSpec(
        "tools.timeout_s",
        "float",
        "longest a tool call may take, in seconds",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "tools.max_result_bytes", "int", "largest tool result an agent is given", minimum=1
    ),
    SettingSpec("telemetry.metrics", "bool", "serve Prometheus metrics on /metrics"),
    SettingSpec(
        "telemetry.agent_series",
        "int",
        "agents with series of their own in metrics; the rest are summed as _other",
        minimum=0,
    ),
    SettingSpec(
        "telemetry.mailbox_warning",
        "float",
        "mailbox depth, as a fraction of its capacity, that raises a warning event",
        minimum=0,
        maximum=1,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "telemetry.mailbox_critical",
        "float",
        "mailbox depth, as a fraction of its capacity, that raises a critical event",
        minimum=0,
        maximum=1,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "telemetry.spike_sensitivity",
        "float",
        "standard deviations above the recent mean rate that count as a spike",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "telemetry.spike_min_rate",
        "float",
        "messages per second below which no rate counts as a spike",
        minimum=0,
    ),
    SettingSpec(
        "auth.enabled",
        "bool",
        "require credentials on every route but /health and /ready; false only on loopback",
    ),
    SettingSpec(
        "auth.cache_s", "float", "how long a checked credential is trusted, in seconds", minimum=0
    ),
    SettingSpec("jwt.secret_file", "path", "file holding the HS256 secret for JWTs", optional=True),
    SettingSpec("jwt.public_key_file", "path", "PEM public key for RS256 JWTs", optional=True),
    SettingSpec(
        "jwt.jwks_file", "path", "JWKS file (an issuer's keys) for RS256 JWTs", optional=True
    ),
    SettingSpec("jwt.audience", "str", "the aud a JWT must carry", optional=True),
    SettingSpec("jwt.issuer", "str", "the iss a JWT must carry", optional=True),
    SettingSpec("jwt.role_claim", "str", "the claim naming a JWT holder's role"),
    SettingSpec(
        "jwt.leeway_s", "float", "clock skew allowed on exp and nbf, in seconds", minimum=0
    ),
    SettingSpec("tls.enabled", "bool", "serve the API over TLS 1.3"),
    SettingSpec(
        "tls.cert_path", "path", "PEM certificate chain; reread when it changes", optional=True
    ),
    SettingSpec("tls.key_path", "path", "PEM private key of the certificate", optional=True),
    SettingSpec(
        "tls.client_ca_path",
        "path",
        "PEM CA certificates that sign client certificates",
        optional=True,
    ),
    SettingSpec(
        "tls.client_certs",
        "str",
        "client certificates: off, optional (used when sent) or required",
        choices=("off", "optional", "required"),
    ),
    SettingSpec("security.audit", "bool", "write the security audit trail"),
    SettingSpec(
        "security.audit_retention_days",
        "float",
        "audit records older than this are pruned; unset keeps them all",
        minimum=0,
        exclusive_minimum=True,
        optional=True,
    ),
    SettingSpec(
        "rate_limits.global_per_s",
        "float",
        "API requests a second for the whole server; 0 for no limit",
        minimum=0,
    ),
    SettingSpec(
        "rate_limits.global_burst",
        "int",
        "requests above the global rate allowed at once",
        minimum=1,
    ),
    SettingSpec(
        "rate_limits.identity_per_s",
        "float",
        "API requests a second for one identity; 0 for no limit",
        minimum=0,
    ),
    SettingSpec(
        "rate_limits.identity_burst",
        "int",
        "requests above an identity's rate allowed at once",
        minimum=1,
    ),
    SettingSpec(
        "rate_limits.failed_auth_per_minute",
        "float",
        "failed authentications a minute from one client address before it is refused",
        minimum=0,
        exclusive_minimum=True,
    ),
    SettingSpec(
        "rate_limits.failed_auth_burst",
        "int",
        "failed authentications allowed at once from one address",
        minimum=1,
    ),
    SettingSpec(
        "signing.policy",
        "str",
        "module signatures: off, verify (when given) or require",
        choices=("off", "verify", "require"),
    ),
    SettingSpec(
        "signing.trusted_keys",
        "path",
        "ed25519 public keys (PEM) trusted to sign modules: a file, or a directory of them",
        optional=True,
    ),
)

_BY_NAME: Final[Mapping[str, SettingSpec]] = {spec.name: spec for spec in SPECS}
_TABLES: Final = frozenset(spec.name.split(".")[0] for spec in SPECS if "." in spec.name)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def server_env_vars() -> tuple[str, ...]:
    """Every environment variable `Settings.load` reads, besides HOME and XDG_*."""
    return (CONFIG_ENV_VAR, *(spec.env_var for spec in SPECS))


def default_data_dir(env: Mapping[str, str]) -> Path:
    """`$XDG_DATA_HOME/caxton`, or `~/.local/share/caxton`."""
    return _xdg_home(env, "XDG_DATA_HOME", ".local/share") / "caxton"


def default_config_path(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/caxton/server.toml`, or `~/.config/caxton/server.toml`."""
    return _xdg_home(env, "XDG_CONFIG_HOME", ".config") / "caxton" / "server.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitSettings:
    """Default limits for agents deployed without their own; None leaves the runtime's."""

    memory_bytes: int | None = None
    fuel_per_message: int | None = None
    deadline_ms: int | None = None

    def __post_init__(self) -> None:
        _check_fields(self, "limits.")

    def overrides(self) -> dict[str, int]:
        """The limits that are set, as keyword arguments for `Limits.override`."""
        values = dataclasses.asdict(self)
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSettings:
    """Each agent's limits on MCP tool calls."""

    max_concurrent: int = 4
    calls_per_minute: int = 120
    timeout_s: float = 30.0
    max_result_bytes: int = MiB

    def __post_init__(self) -> None:
        _check_fields(self, "tools.")


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetrySettings:
    """Metrics and the events they raise; traces and exporters follow the OTEL_* variables."""

    metrics: bool = True
    agent_series: int = 100
    mailbox_warning: float = 0.75
    mailbox_critical: float = 0.95
    spike_sensitivity: float = 4.0
    spike_min_rate: float = 100.0

    def __post_init__(self) -> None:
        _check_fields(self, "telemetry.")
        if self.mailbox_critical < self.mailbox_warning:
            raise ConfigError(
                "telemetry.mailbox_critical",
                f"{self.mailbox_critical} is below telemetry.mailbox_warning "
                f"({self.mailbox_warning}); critical must be at least the warning level",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    """Who may call the API: credentials are required unless `enabled` is false (loopback only)."""

    enabled: bool = True
    cache_s: float = 5.0

    def __post_init__(self) -> None:
        _check_fields(self, "auth.")


@dataclass(frozen=True, slots=True, kw_only=True)
class JwtSettings:
    """Bearer JWTs accepted: HS256 with `secret_file`, RS256 with a key or a JWKS file."""

    secret_file: Path | None = None
    public_key_file: Path | None = None
    jwks_file: Path | None = None
    audience: str | None = None
    issuer: str | None = None
    role_claim: str = "role"
    leeway_s: float = 5.0

    def __post_init__(self) -> None:
        _check_fields(self, "jwt.")

    @property
    def configured(self) -> bool:
        return any(path is not None for path in (self.secret_file, self.public_key_file,
                                                 self.jwks_file))  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsSettings:
    """TLS 1.3 for the API; the certificate files are reread when they change."""

    enabled: bool = False
    cert_path: Path | None = None
    key_path: Path | None = None
    client_ca_path: Path | None = None
    client_certs: Literal["off", "optional", "required"] = "off"

    def __post_init__(self) -> None:
        _check_fields(self, "tls.")
        if self.enabled and (self.cert_path is None or self.key_path is None):
            missing = "tls.cert_path" if self.cert_path is None else "tls.key_path"
            raise ConfigError(missing, "must be set when tls.enabled is true")
        if self.client_certs != "off" and self.client_ca_path is None:
            raise ConfigError(
                "tls.client_ca_path",
                f"must be set when tls.client_certs is {self.client_certs}: "
                "it names the CAs that sign client certificates",
            )
        if self.client_certs != "off" and not self.enabled:
            raise ConfigError("tls.client_certs", "client certificates need tls.enabled = true")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecuritySettings:
    """The security audit trail and how long it is kept."""

    audit: bool = True
    audit_retention_days: float | None = None

    def __post_init__(self) -> None:
        _check_fields(self, "security.")


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitSettings:
    """Token buckets for the API at start; adjustable at run time (caxton limit)."""

    global_per_s: float = 2000.0
    global_burst: int = 4000
    identity_per_s: float = 500.0
    identity_burst: int = 1000
    failed_auth_per_minute: float = 30.0
    failed_auth_burst: int = 10

    def __post_init__(self) -> None:
        _check_fields(self, "rate_limits.")


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningSettings:
    """Ed25519 signatures on modules: checked when given (verify), or required."""

    policy: Literal["off", "verify", "require"] = "verify"
    trusted_keys: Path | None = None

    def __post_init__(self) -> None:
        _check_fields(self, "signing.")
        if self.policy == "require" and self.trusted_keys is None:
            raise ConfigError(
                "signing.trusted_keys",
                "must be set when signing.policy is require: no signature could be trusted",
            )


_SECTIONS: Final = {
    "auth": AuthSettings,
    "jwt": JwtSettings,
    "tls": TlsSettings,
    "security": SecuritySettings,
    "rate_limits": RateLimitSettings,
    "signing": SigningSettings,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the server is built from. `load` applies the precedence rule.

    Built directly (in tests, or when embedding), `data_dir` must be given and
    every value is checked the same way; `sources()` then reports `default`.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    mailbox_capacity: int = 1024
    log_level: LogLevel = "info"
    log_format: LogFormat = "auto"
    invoke_timeout_s: float = 5.0
    invoke_max_timeout_s: float = 60.0
    job_retries: int = 0
    job_timeout_s: float = 30.0
    max_request_bytes: int = 16 * MiB
    message_history: int = 10_000
    limits: LimitSettings = field(default_factory=LimitSettings)
    examples: bool = False
    tools: ToolSettings = field(default_factory=ToolSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    jwt: JwtSettings = field(default_factory=JwtSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    # MCP servers declared in the config file ([tools.servers.NAME] tables), by name;
    # caxton.tools checks each (ToolServerSpec) when the server starts.
    tool_servers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    # The config file the values came from, if one was read.
    config_file: Path | None = None
    # Where each setting's value came from; absent means "default".
    origins: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_fields(self, "")
        if not isinstance(self.limits, LimitSettings):
            raise ConfigError("limits", f"expected LimitSettings, got {self.limits!r}")
        if not isinstance(self.tools, ToolSettings):
            raise ConfigError("tools", f"expected ToolSettings, got {self.tools!r}")
        if not isinstance(self.telemetry, TelemetrySettings):
            raise ConfigError("telemetry", f"expected TelemetrySettings, got {self.telemetry!r}")
        for name, kind in _SECTIONS.items():
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(name, f"expected {kind.__name__}, got {getattr(self, name)!r}")
        if not self.auth.enabled and not self.binds_loopback:
            raise ConfigError(
                "auth.enabled",
                "authentication can be turned off (--insecure-no-auth) only on a loopback "
                f"address, not on host "
                f"{self.host!r}: anyone who reaches it could run commands through tool servers",
            )
        _check_timeouts(self.invoke_timeout_s, "invoke_timeout_s", self.invoke_max_timeout_s)

    @classmethod
    def load(
        cls,
        flags: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
        config_path: Path | None = None,
    ) -> Settings:
        """Resolve every setting: flags > `CAXTON_*` variables in `env` > config file > default.

        `flags` maps setting names (`port`, `data_dir`, `limits.deadline_ms`)
        to values, typed or as text; None means "not given". A `config` flag,
        or `config_path`, names the config file. `env` defaults to os.environ.
        Raises ConfigError naming the setting and its source.
        """
        env = os.environ if env is None else env
        given = {name: value for name, value in (flags or {}).items() if value is not None}
        config_flag = given.pop("config", None)
        for name in given:
            if name not in _BY_NAME:
                raise ConfigError(f"--{name.replace('_', '-')}", _unknown(name))
        if config_path is None and config_flag is not None:
            config_path = _path_of(config_flag, "--config")
        file_path, file_values, tool_servers = _read_config(config_path, env)

        values: dict[str, Any] = {}
        origins: dict[str, Source] = {}
        defaults = cls(data_dir=Path())  # each setting's default, read by name
        for spec in SPECS:
            found: list[tuple[Source, Any]] = []
            if spec.name in given:
                found.append(("flag", _from_flag(spec, given[spec.name], env)))
            text = env.get(spec.env_var, "")
            if text:
                found.append(("env", _from_text(spec, text, spec.env_var, env, Path.cwd())))
            if file_path is not None and spec.name in file_values:
                label = f"{spec.name} (in {file_path})"
                found.append(
                    ("file", _from_toml(spec, file_values[spec.name], label, file_path, env))
                )
            if found:
                origins[spec.name], values[spec.name] = found[0]
            else:
                origins[spec.name], values[spec.name] = "default", _default(spec, env, defaults)

        def where(name: str) -> str:
            return _label(_BY_NAME[name], origins[name], file_path)

        _check_timeouts(
            values["invoke_timeout_s"],
            where("invoke_timeout_s"),
            values["invoke_max_timeout_s"],
            where("invoke_max_timeout_s"),
        )
        sections = {name: kind(**_table(values, name)) for name, kind in _SECTIONS.items()}
        limits = _table(values, "limits")
        telemetry = _table(values, "telemetry")
        tools = _table(values, "tools")
        return cls(
            **values,
            limits=LimitSettings(**limits),
            tools=ToolSettings(**tools),
            telemetry=TelemetrySettings(**telemetry),
            **sections,
            tool_servers=tool_servers,
            config_file=file_path,
            origins=origins,
        )

    def value(self, name: str) -> object:
        """One setting's value by its TOML name (`port`, `limits.deadline_ms`)."""
        if name not in _BY_NAME:
            raise KeyError(name)
        found: object = self
        for part in _BY_NAME[name].attribute_path:
            found = getattr(found, part)
        return found

    def sources(self) -> dict[str, Source]:
        """Where each setting's value came from: flag, env, file or default."""
        return {spec.name: self.origins.get(spec.name, "default") for spec in SPECS}

    def as_dict(self) -> dict[str, Any]:
        """The settings shaped like the TOML file, JSON-able (paths as text, unset limits null)."""
        result: dict[str, Any] = {}
        for spec in SPECS:
            value = self.value(spec.name)
            if isinstance(value, Path):
                value = str(value)
            *tables, key = spec.attribute_path
            target = result
            for table in tables:
                target = target.setdefault(table, {})
            target[key] = value
        if self.tool_servers:
            result["tools"]["servers"] = {
                name: dict(table) for name, table in self.tool_servers.items()
            }
        return result

    @property
    def binds_loopback(self) -> bool:
        """True when `host` only accepts connections from this machine."""
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _table(values: dict[str, Any], table: str) -> dict[str, Any]:
    """The settings of one TOML table, taken out of `values`, by their names inside it."""
    prefix = table + "."
    return {
        name.removeprefix(prefix): values.pop(name)
        for name in list(values)
        if name.startswith(prefix)
    }


# Checking values


def _check_fields(instance: DataclassInstance, prefix: str) -> None:
    """Type and range checks for a directly built dataclass; errors name the setting."""
    for item in dataclasses.fields(instance):
        spec = _BY_NAME.get(prefix + item.name)
        if spec is None:
            continue
        value = getattr(instance, item.name)
        checked = _typed(spec, value, spec.name)
        if checked is not value:
            object.__setattr__(instance, item.name, checked)


def _typed(spec: SettingSpec, value: object, label: str) -> Any:
    """`value`, already a Python value, checked for `spec`: type, then range or choice."""
    if value is None and spec.optional:
        return None
    if spec.kind in {"int", "float"}:
        return _numeric(spec, value, label)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(label, f"expected true or false, got {_describe(value)}")
        return value
    if spec.kind == "path":
        if not isinstance(value, Path):
            raise ConfigError(label, f"expected a path, got {_describe(value)}")
        return value
    if not isinstance(value, str):
        raise ConfigError(label, f"expected a string, got {_describe(value)}")
    if spec.choices:
        if value.lower() not in spec.choices:
            raise ConfigError(label, f"{value!r} is not one of {', '.join(spec.choices)}")
        return value.lower()
    if not value.strip():
        raise ConfigError(label, "must not be empty")
    return value


def _numeric(spec: SettingSpec, value: object, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        wanted = "an integer" if spec.kind == "int" else "a number"
        raise ConfigError(label, f"expected {wanted}, got {_describe(value)}")
    if spec.kind == "int" and not isinstance(value, int):
        raise ConfigError(label, f"expected an integer, got {_describe(value)}")
    if not math.isfinite(value):
        raise ConfigError(label, f"{value} is not a finite number")
    return _in_range(spec, value if spec.kind == "int" else float(value), label)


def _in_range(spec: SettingSpec, value: float, label: str) -> float:
    low, high = spec.minimum, spec.maximum
    shown = _number(value)
    if low is not None and high is not None and not low <= value <= high:
        raise ConfigError(label, f"{shown} is out of range {_number(low)}..{_number(high)}")
    if low is not None and spec.exclusive_minimum and value <= low:
        raise ConfigError(label, f"{shown} is out of range: it must be more than {_number(low)}")
    if low is not None and value < low:
        raise ConfigError(label, f"{shown} is out of range: it must be {_number(low)} or more")
    return value


def _check_timeouts(
    default: float, default_label: str, maximum: float, maximum_label: str = "invoke_max_timeout_s"
) -> None:
    if maximum < default:
        raise ConfigError(
            maximum_label,
            f"{_number(maximum)} is less than {_number(default)}, the value of {default_label}; "
            "the longest wait cannot be shorter than the default one",
        )


# Reading values from each source


def _from_text(spec: SettingSpec, text: str, label: str, env: Mapping[str, str], base: Path) -> Any:
    """A value given as text (an environment variable, or a flag given as text)."""
    value: object
    stripped = text.strip()
    if spec.kind == "int":
        try:
            value = int(stripped)
        except ValueError:
            raise ConfigError(label, f"{text!r} is not an integer") from None
    elif spec.kind == "float":
        try:
            value = float(stripped)
        except ValueError:
            raise ConfigError(label, f"{text!r} is not a number") from None
    elif spec.kind == "bool":
        if stripped.lower() in _TRUE:
            value = True
        elif stripped.lower() in _FALSE:
            value = False
        else:
            raise ConfigError(label, f"{text!r} is not a boolean (use true or false)")
    elif spec.kind == "path":
        if not stripped:
            raise ConfigError(label, "must not be empty")
        value = base / _expand_user(stripped, env)
    else:
        value = text
    return _typed(spec, value, label)


def _from_toml(
    spec: SettingSpec, value: object, label: str, file: Path, env: Mapping[str, str]
) -> Any:
    """A value from the config file; relative paths are relative to the file's directory."""
    if spec.kind == "path" and isinstance(value, str):
        if not value.strip():
            raise ConfigError(label, "must not be empty")
        value = file.parent / _expand_user(value.strip(), env)
    return _typed(spec, value, label)


def _from_flag(spec: SettingSpec, value: object, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _from_text(spec, value, spec.flag, env, Path.cwd())
    if spec.kind == "path" and isinstance(value, os.PathLike):
        return _typed(spec, Path.cwd() / Path(value), spec.flag)
    return _typed(spec, value, spec.flag)


def _default(spec: SettingSpec, env: Mapping[str, str], defaults: Settings) -> Any:
    if spec.name == "data_dir":
        return default_data_dir(env)
    return defaults.value(spec.name)


def _label(spec: SettingSpec, origin: Source, file: Path | None) -> str:
    if origin == "flag":
        return spec.flag
    if origin == "env":
        return spec.env_var
    if origin == "file":
        return f"{spec.name} (in {file})"
    return f"{spec.name} (default)"


# The config file


def _read_config(
    explicit: Path | None, env: Mapping[str, str]
) -> tuple[Path | None, dict[str, object], dict[str, dict[str, Any]]]:
    """The config file's path, its values by dotted name, and its [tools.servers.NAME] tables.

    (None, {}, {}) if there is none.
    """
    if explicit is not None:
        path, named_by = explicit, "--config"
    elif env.get(CONFIG_ENV_VAR):
        path, named_by = _expand_user(env[CONFIG_ENV_VAR], env), CONFIG_ENV_VAR
    else:
        path, named_by = default_config_path(env), ""
    path = Path.cwd() / path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not named_by:
            return None, {}, {}
        raise ConfigError(
            named_by, f"config file {path} does not exist; create it or name another"
        ) from None
    except IsADirectoryError:
        raise ConfigError(named_by or str(path), f"{path} is a directory, not a file") from None
    except OSError as error:
        raise ConfigError(str(path), f"cannot read the config file: {error.strerror}") from None
    try:
        document = tomllib.loads(data.decode())
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(str(path), f"not UTF-8 text at line {line}") from None
    except tomllib.TOMLDecodeError as error:
        # The message ends with "(at line L, column C)".
        raise ConfigError(str(path), f"not valid TOML: {error}") from None
    servers = _tool_servers(document, path)
    return path, _flatten(document, path), servers


def _tool_servers(document: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Takes `[tools.servers.NAME]` out of `document`: tables, each with a command or a url."""
    tools = document.get("tools")
    if not isinstance(tools, dict) or "servers" not in tools:
        return {}
    servers = tools.pop("servers")
    if not isinstance(servers, dict):
        raise ConfigError(
            f"tools.servers (in {path})", f"expected tables, got {_describe(servers)}"
        )
    for name, table in servers.items():
        label = f"tools.servers.{name} (in {path})"
        if not isinstance(table, dict):
            raise ConfigError(label, f"expected a table, got {_describe(table)}")
        unknown = set(table) - {"command", "args", "env", "cwd", "url", "headers", "allow"}
        if unknown:
            raise ConfigError(label, f"unknown keys {', '.join(sorted(unknown))}")
        if ("command" in table) == ("url" in table):
            raise ConfigError(label, "needs exactly one of command (stdio) or url (http)")
    return servers


def _flatten(document: dict[str, Any], path: Path) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, value in document.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                label = f"{key} (in {path})"
                raise ConfigError(label, f"expected a table, got {_describe(value)}")
            values.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            values[key] = value
    for name in values:
        if name not in _BY_NAME:
            raise ConfigError(f"{name} (in {path})", _unknown(name))
    return values


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
    if close:
        return f"unknown setting; did you mean {close[0]!r}?"
    return f"unknown setting (known: {', '.join(_BY_NAME)})"


# Paths


def _xdg_home(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    # XDG Base Directory spec: an unset, empty or relative value is ignored.
    text = env.get(variable, "")
    if text and Path(text).is_absolute():
        return Path(text)
    return _home(env) / fallback


def _home(env: Mapping[str, str]) -> Path:
    text = env.get("HOME", "")
    return Path(text) if text else Path.home()


def _expand_user(text: str, env: Mapping[str, str]) -> Path:
    if text == "~" or text.startswith("~/"):
        return _home(env) / text[2:]
    return Path(text).expanduser()


def _path_of(value: object, label: str) -> Path:
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise ConfigError(label, f"expected a path, got {_describe(value)}")


# Messages


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


def _number(value: float) -> str:
    """Whole numbers without a trailing `.0`, so messages echo what the user wrote."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
