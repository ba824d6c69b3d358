"""The REST API's request and response types: one source of truth for server and CLI.

The server declares its routes with these models (so `/openapi.json`
describes them) and the CLI parses every answer with them, so the two cannot
drift apart silently: `tests/api/test_types.py` checks that every model the
CLI reads is the one the OpenAPI document names.

Imports nothing heavier than pydantic: the CLI loads this module on every call.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"
VERSION_HEADER = "X-Caxton-Version"
CLI_VERSION_HEADER = "X-Caxton-CLI-Version"
PROBLEM_TYPE_BASE = "https://caxton.dev/problems/"

AgentStateName = Literal["Unloaded", "Loaded", "Running", "Draining", "Stopped", "Failed"]
JobState = Literal["submitted", "running", "complete", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- problems (RFC 9457) ----


class Problem(BaseModel):
    """An error, as RFC 9457 problem details; `code` is stable, `detail` is for people."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable error code, e.g. agent-not-found")
    instance: str | None = None
    field: str | None = Field(None, description="The request field or setting at fault")


# ---- messages ----


class AclMessage(BaseModel):
    """An ACL message in the JSON form of ABI v1; `x-*` extension parameters are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

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


class SendResult(_Model):
    message_id: str
    conversation_id: str | None


class MessageRecord(_Model):
    seq: int = Field(description="Position in the server's message history")
    at: float = Field(description="When it was routed, Unix seconds")
    message: dict[str, Any]


class MessageList(_Model):
    items: list[MessageRecord]
    last_seq: int = Field(description="Pass as `after` to get only newer messages")


class ConversationView(_Model):
    id: str
    initiator: str | None
    participants: list[str]
    protocol: str | None
    state: str
    started: float
    last_activity: float
    live: bool = Field(description="Still tracked by the router (else as last stored)")
    messages: list[MessageRecord] = Field(description="Those still in the message history")


class DeadLetterView(_Model):
    at: float
    receiver: str | None
    reason: str
    message: dict[str, Any]


class DeadLetterList(_Model):
    items: list[DeadLetterView]


# ---- agents ----


class AgentCounters(_Model):
    messages_in: int = Field(description="Accepted into the mailbox")
    messages_out: int = Field(description="Sent by the agent")
    messages_handled: int
    mailbox_depth: int
    mailbox_peak: int
    errors: dict[str, int] = Field(description="Handler errors by class")
    fuel_used: int
    memory_bytes: int


class Agent(_Model):
    name: str
    id: str
    state: AgentStateName
    version: str
    module_sha256: str
    reason: str = Field(description="Why it is in its state (a failure's cause)")
    config: dict[str, Any]
    limits: dict[str, Any]
    capabilities: list[str]
    counters: AgentCounters | None = Field(None, description="Present while it has an instance")


class AgentList(_Model):
    items: list[Agent]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class AgentLogLine(_Model):
    seq: int
    at: float
    level: str
    agent: str
    text: str


class AgentLogs(_Model):
    items: list[AgentLogLine]
    last_seq: int


# ---- capabilities ----


class CapabilityView(_Model):
    agent: str
    agent_state: AgentStateName
    name: str
    version: str
    description: str
    input_schema: dict[str, Any] | None


class CapabilityList(_Model):
    items: list[CapabilityView]


# ---- external invocation ----


class InvokeRequest(_Model):
    performative: str = "request"
    content: Any = None
    protocol: str | None = "fipa-request"
    ontology: str | None = None
    language: str | None = None
    timeout_s: float | None = Field(None, gt=0, description="Default: the server's setting")


class InvokeResult(_Model):
    reply: dict[str, Any]
    conversation_id: str
    elapsed_ms: float


class JobRequest(InvokeRequest):
    agent: str


class Job(_Model):
    id: str
    agent: str
    state: JobState
    attempts: int
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: float
    updated_at: float


class JobList(_Model):
    items: list[Job]
    next_cursor: str | None


# ---- backups ----


class BackupRequest(_Model):
    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="File name in the server's data_dir/backups (default: caxton-<time>.db)",
    )


class Backup(_Model):
    path: str = Field(description="Where the server wrote it")
    size_bytes: int
    schema_version: int = Field(description="Checked by reading the backup back")


# ---- health ----


class Check(_Model):
    ok: bool
    detail: str


class Health(_Model):
    status: Literal["ok"]
    version: str


class Readiness(_Model):
    status: Literal["ready", "not ready"]
    checks: dict[str, Check]


class ServerInfo(_Model):
    version: str
    api: str
    data_dir: str
    agents: int
    uptime_s: float
