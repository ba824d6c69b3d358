"""The REST API's request and response types: one source of truth for server and CLI.

The server declares its routes with these types (so `/openapi.json`
describes them) and the CLI parses every answer into them, so the two cannot
drift apart silently: `tests/api/test_api_types.py` checks that every type the
CLI reads is the one the OpenAPI document names.

They are plain frozen dataclasses, importing nothing beyond the standard
library: the CLI loads this module on every call and must start in well
under 100 ms, which pydantic's import alone would use up. FastAPI (pydantic)
validates them on the server, taking a field's docstring as its description
and `__pydantic_config__` as its settings; the CLI decodes them with msgspec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

API_PREFIX = "/api/v1"
VERSION_HEADER = "X-Caxton-Version"
CLI_VERSION_HEADER = "X-Caxton-CLI-Version"
PROBLEM_TYPE_BASE = "https://caxton.dev/problems/"
BACKUP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

AgentStateName = Literal["Unloaded", "Loaded", "Running", "Draining", "Stopped", "Failed"]
JobState = Literal["submitted", "running", "complete", "failed"]

# pydantic's settings for every type (a plain dict: ConfigDict is a TypedDict).
_ANSWER: dict[str, Any] = {"use_attribute_docstrings": True}
_REQUEST: dict[str, Any] = {"use_attribute_docstrings": True, "extra": "forbid"}

# ---- problems (RFC 9457) ----


@dataclass(kw_only=True)
class Problem:
    """An error, as RFC 9457 problem details; `code` is stable, `detail` is for people."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    type: str
    """A URI naming the kind of problem"""
    title: str
    status: int
    detail: str
    code: str
    """Stable error code, e.g. agent-not-found"""
    instance: str | None = None
    field: str | None = None
    """The request field or setting at fault"""


# ---- messages ----


@dataclass(kw_only=True)
class AclMessage:
    """An ACL message in the JSON form of ABI v1; `x-*` extension parameters are kept."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    performative: str
    sender: str | None = None
    receiver: str | list[str]
    content: Any = None
    language: str | None = None
    encoding: str | None = None
    ontology: str | None = None
    protocol: str | None = None
    conversation_id: str | None = None
    reply_with: str | None = None
    in_reply_to: str | None = None
    reply_by: str | None = None
    message_id: str | None = None


@dataclass(kw_only=True)
class SendResult:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    message_id: str
    conversation_id: str | None


@dataclass(kw_only=True)
class MessageRecord:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    seq: int
    """Position in the server's message history"""
    at: float
    """When it was routed, Unix seconds"""
    message: dict[str, Any]


@dataclass(kw_only=True)
class MessageList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[MessageRecord]
    last_seq: int
    """Pass as `after` to get only newer messages"""


@dataclass(kw_only=True)
class ConversationView:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    id: str
    initiator: str | None
    participants: list[str]
    protocol: str | None
    state: str
    started: float
    last_activity: float
    live: bool
    """Still tracked by the router (else as last stored)"""
    messages: list[MessageRecord]
    """Those still in the message history"""


@dataclass(kw_only=True)
class DeadLetterView:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    at: float
    receiver: str | None
    reason: str
    message: dict[str, Any]


@dataclass(kw_only=True)
class DeadLetterList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[DeadLetterView]


# ---- events ----


@dataclass(kw_only=True)
class EventView:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    at: float
    """Unix seconds"""
    kind: str
    """mailbox-warning, mailbox-critical, mailbox-recovered or rate-spike"""
    agent: str | None
    """The agent it is about; null for the whole server"""
    detail: dict[str, Any]
    """depth and capacity for a mailbox; rate, mean and threshold for a spike"""


@dataclass(kw_only=True)
class EventList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[EventView]
    """Newest last"""


# ---- agents ----


@dataclass(kw_only=True)
class AgentCounters:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    messages_in: int
    """Accepted into the mailbox"""
    messages_out: int
    """Sent by the agent"""
    messages_handled: int
    mailbox_depth: int
    mailbox_peak: int
    errors: dict[str, int]
    """Handler errors by class"""
    fuel_used: int
    memory_bytes: int


@dataclass(kw_only=True)
class Agent:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    name: str
    id: str
    state: AgentStateName
    version: str
    module_sha256: str
    reason: str
    """Why it is in its state (a failure's cause)"""
    config: dict[str, Any]
    limits: dict[str, Any]
    capabilities: list[str]
    counters: AgentCounters | None = None
    """Present while it has an instance"""


@dataclass(kw_only=True)
class AgentList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[Agent]
    next_cursor: str | None
    """Pass as `cursor` for the next page"""


@dataclass(kw_only=True)
class AgentLogLine:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    seq: int
    at: float
    level: str
    agent: str
    text: str


@dataclass(kw_only=True)
class AgentLogs:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[AgentLogLine]
    last_seq: int


# ---- capabilities ----


@dataclass(kw_only=True)
class CapabilityView:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    agent: str
    agent_state: AgentStateName
    name: str
    version: str
    description: str
    input_schema: dict[str, Any] | None


@dataclass(kw_only=True)
class CapabilityList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[CapabilityView]
    """By agent name, then version (SemVer precedence; versions that are not SemVer last)"""
    version_range: str | None = None
    """The `version` asked for, as matched: in primitive comparators (^1.2 is >=1.2.0 <2.0.0-0)"""


# ---- external invocation ----


@dataclass(kw_only=True)
class InvokeRequest:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    performative: str = "request"
    content: Any = None
    protocol: str | None = "fipa-request"
    ontology: str | None = None
    language: str | None = None
    timeout_s: float | None = None
    """Seconds, more than 0 (default: the server's setting)"""


@dataclass(kw_only=True)
class InvokeResult:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    reply: dict[str, Any]
    conversation_id: str
    elapsed_ms: float


@dataclass(kw_only=True)
class JobRequest(InvokeRequest):
    agent: str


@dataclass(kw_only=True)
class Job:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    id: str
    agent: str
    state: JobState
    attempts: int
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: float
    updated_at: float


@dataclass(kw_only=True)
class JobList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[Job]
    next_cursor: str | None


# ---- backups ----


@dataclass(kw_only=True)
class BackupRequest:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    name: str | None = None
    """File name in the server's data_dir/backups (default: caxton-<time>.db); letters,
    digits, `.`, `_` and `-`, starting with a letter or digit, at most 128 characters"""


@dataclass(kw_only=True)
class Backup:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    path: str
    """Where the server wrote it"""
    size_bytes: int
    schema_version: int
    """Checked by reading the backup back"""


# ---- health ----


@dataclass(kw_only=True)
class Check:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    ok: bool
    detail: str


@dataclass(kw_only=True)
class Health:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    status: Literal["ok"]
    version: str


@dataclass(kw_only=True)
class Readiness:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    status: Literal["ready", "not ready"]
    checks: dict[str, Check]


@dataclass(kw_only=True)
class ServerInfo:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    version: str
    api: str
    data_dir: str
    agents: int
    uptime_s: float


# ---- tools ----

ToolTransport = Literal["stdio", "http"]
ToolServerState = Literal["connecting", "ready", "down"]


@dataclass(kw_only=True)
class ToolServerRequest:
    """An MCP server to connect: `command` (and `args`, `env`) to run one, or a `url`."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    name: str
    """The `server` in `server/tool`: a-z first, then a-z 0-9 -, at most 63 characters"""
    command: str | None = None
    """The program to run, spoken to over its stdin and stdout (stdio)"""
    args: list[str] = field(default_factory=list)
    """The program's arguments"""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables set for the program"""
    url: str | None = None
    """An http(s) URL of a server speaking MCP's streamable HTTP, instead of a command"""
    allow: dict[str, list[str]] = field(default_factory=dict)
    """Argument allow-lists: a string argument named here must match one of its glob
    patterns (e.g. {"url": ["https://docs.python.org/*"]}), checked before each call"""


@dataclass(kw_only=True)
class ToolServer:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    name: str
    transport: ToolTransport
    source: Literal["api", "config"]
    """Added through the API, or declared in the config file (which restores it at start)"""
    command: str | None
    """The program it runs (stdio)"""
    args: list[str]
    env_names: list[str]
    allow: dict[str, list[str]]
    """Argument allow-lists, checked before each call"""
    """The environment variables set for it, by name (their values are not shown)"""
    url: str | None
    """Where it is reached (http)"""
    state: ToolServerState
    """connecting (no answer yet), ready, or down (reconnecting, with back-off)"""
    tools: int
    """How many tools it offers"""
    connects: int
    """Connections made so far (more than 1: it was reconnected)"""
    last_error: str | None
    """Why it is down, or why its last connection ended"""


@dataclass(kw_only=True)
class ToolServerList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[ToolServer]
    """By name"""


@dataclass(kw_only=True)
class Tool:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    name: str
    """`server/tool`: what agents call it by, and what grants name"""
    server: str
    tool: str
    """Its name on its server"""
    description: str
    input_schema: dict[str, Any]
    """The JSON Schema its arguments must match"""


@dataclass(kw_only=True)
class ToolList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[Tool]
    """Of the servers that are or were connected, by name"""


@dataclass(kw_only=True)
class ToolGrantRequest:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    pattern: str
    """`server/tool` for one tool, `server/*` for every tool of a server"""


@dataclass(kw_only=True)
class ToolGrant:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    agent: str
    pattern: str


@dataclass(kw_only=True)
class ToolGrants:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    agent: str
    patterns: list[str]
    """What the agent may call, sorted; none: no tool at all (deny by default)"""


# ---- audit ----


@dataclass(kw_only=True)
class AuditEntry:
    """One record of the audit log: who did what to which target, and how it ended."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    seq: int
    """Its place in the log: 1 first, never reused"""
    at: float
    """Unix seconds"""
    actor: str
    """Who did it: an identity (key:<id>, jwt:<sub>, cert:<subject>, local), an agent's
    name, a client's address:<ip>, or caxton itself"""
    action: str
    """api.<operation>, auth.ok, auth.failed, auth.denied, agent.limit, agent.trap,
    tool.call, tool.grant, tool.revoke, tool.server.add, tool.server.remove, audit.prune..."""
    target: str
    """What it was done to, such as server/tool or an agent's name"""
    outcome: str
    """ok, denied, failed, timeout, invalid, rate-limited, invalid-credentials, resource..."""
    detail: dict[str, Any]
    """What else the layer that wrote it recorded"""
    hash: str | None
    """Its hash in the tamper-evident chain; null for records older than the chain"""


@dataclass(kw_only=True)
class AuditList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[AuditEntry]
    """Newest last"""


@dataclass(kw_only=True)
class AuditVerification:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    ok: bool
    """True when the chain is intact: no problems"""
    records: int
    """How many records there are"""
    problems: list[str]
    """What is wrong, each naming the seq of a record"""


# ---- authentication and roles ----

Role = Literal["admin", "operator", "developer", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "operator", "developer", "viewer")


def role_named(text: object) -> Role | None:
    """`text` as a Role when it names one (strongest first in ROLES), else None."""
    return next((role for role in ROLES if role == text), None)


@dataclass(kw_only=True)
class Identity:
    """Who a request was made by, as the server saw it."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    subject: str
    """key:<id>, jwt:<sub>, cert:<subject>, or local when authentication is off"""
    role: Role | None
    """What it may do; null: authenticated, but given no role (everything is denied)"""
    via: Literal["key", "jwt", "cert", "none"]
    """How it was authenticated"""


@dataclass(kw_only=True)
class ApiKey:
    """An API key as listed: never its secret, which is shown once, when it is made."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    id: str
    name: str
    role: Role
    created_at: float
    created_by: str
    revoked_at: float | None = None
    """Unix seconds; null while the key is valid"""


@dataclass(kw_only=True)
class ApiKeyList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[ApiKey]
    """Oldest first, revoked ones too"""


@dataclass(kw_only=True)
class ApiKeyRequest:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    role: Role
    name: str = ""
    """What the key is for, up to 200 characters; the id names it when empty"""


@dataclass(kw_only=True)
class NewApiKey:
    """A key just made: `token` is its secret, shown this once and stored only hashed."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    key: ApiKey
    token: str
    """Send it as `Authorization: Bearer <token>` (or CAXTON_TOKEN for the CLI)"""


@dataclass(kw_only=True)
class RoleChange:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    role: Role


@dataclass(kw_only=True)
class IdentityRole:
    """A role given to an identity that is not an API key: a JWT's or a certificate's."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    subject: str
    """jwt:<sub> or cert:<subject, as RFC 4514>"""
    role: Role
    updated_at: float
    updated_by: str


@dataclass(kw_only=True)
class IdentityRoleList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[IdentityRole]


# ---- rate limits ----


@dataclass(kw_only=True)
class RateLimit:
    """A token bucket: `per_s` tokens a second, up to `burst`; each request takes one."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    scope: str
    """global, identity (each identity's default), identity:<subject>, or operation:<name>"""
    per_s: float
    """Tokens added a second; 0: no limit"""
    burst: int
    """The bucket's size: requests allowed at once"""
    source: Literal["settings", "runtime"]
    """Where it came from: the settings at start, or a change made at run time"""


@dataclass(kw_only=True)
class RateLimitList:
    __pydantic_config__: ClassVar[dict[str, Any]] = _ANSWER

    items: list[RateLimit]


@dataclass(kw_only=True)
class RateLimitChange:
    __pydantic_config__: ClassVar[dict[str, Any]] = _REQUEST

    per_s: float
    """Tokens added a second, 0 or more; 0: no limit"""
    burst: int
    """The bucket's size, 1 or more"""
