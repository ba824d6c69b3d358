"""Caxton's exceptions: one root, a small tree, each carrying its error class.

    CaxtonError
    ├── ConfigError            a setting is unusable (names the setting)
    ├── InvalidMessage         an ACL message breaks the rules (names the field)
    │   └── AclSyntaxError     its JSON or FIPA text is malformed (names the position)
    ├── ModuleRejected         a wasm module failed validation at load
    ├── AgentInitFailed        `_initialize` or `caxton_init` failed
    ├── LifecycleError         an action is not allowed in the agent's state (names both)
    ├── SignatureRefused       a module's signature is missing, malformed or untrusted
    └── HandlerError           handling one message failed; the agent lives on
        ├── FuelExhausted      the per-message fuel budget ran out
        ├── DeadlineExceeded   the per-message wall-clock deadline passed
        ├── MemoryExhausted    the agent could not get memory within its ceiling
        ├── AbiViolation       the agent broke ABI v1 (bad pointers, results)
        ├── MessageTooLarge    the inbound message exceeds the agent's limit
        ├── HandlerFailed      the handler returned a non-zero result
        └── AgentTrapped       any other trap (unreachable, out of bounds, exit...)

Every error has an `error_class`, one of `ErrorClass`, which metrics and the
`failure` messages sent back to senders use.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self


class ErrorClass(StrEnum):
    """The five classes that errors are counted and reported by."""

    VALIDATION = "validation"
    ROUTING = "routing"
    TIMEOUT = "timeout"
    RESOURCE = "resource"
    SYSTEM = "system"


class CaxtonError(Exception):
    """Root of every error Caxton raises on purpose."""

    error_class: ErrorClass = ErrorClass.SYSTEM

    @property
    def reason(self) -> str:
        return str(self)


class ConfigError(CaxtonError):
    """A configuration value is missing, malformed or unusable."""

    error_class = ErrorClass.VALIDATION

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


class InvalidMessage(CaxtonError):
    """An ACL message is malformed or breaks ABI v1's rules; `field` names the culprit.

    `field` is a message key (`receiver`, `x-colour`) or `message` for the whole.
    """

    error_class = ErrorClass.VALIDATION

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class AclSyntaxError(InvalidMessage):
    """A message's text representation is malformed at `position` (0-based, in characters)."""

    def __init__(
        self, problem: str, *, position: int, line: int, column: int, field: str = "message"
    ) -> None:
        super().__init__(field, f"at line {line}, column {column}: {problem}")
        self.position = position
        self.line = line
        self.column = column

    @classmethod
    def at(cls, text: str, position: int, problem: str, *, field: str = "message") -> Self:
        """The error at `position` in `text`, with its 1-based line and column."""
        line = text.count("\n", 0, position) + 1
        column = position - text.rfind("\n", 0, position)
        return cls(problem, position=position, line=line, column=column, field=field)


class ModuleRejected(CaxtonError):
    """A module was refused at load; `subject` names the export, import, feature or limit."""

    error_class = ErrorClass.VALIDATION

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"module rejected: {subject}: {problem}")
        self.subject = subject


class AgentInitFailed(CaxtonError):
    """The agent instantiated but its start-up (`_initialize`, `caxton_init`) failed."""

    def __init__(self, reason: str, error_class: ErrorClass) -> None:
        super().__init__(reason)
        self.error_class = error_class


class LifecycleError(CaxtonError):
    """`action` is not allowed for agent `agent` in its lifecycle state `state`.

    The message says what was refused and what is allowed instead:
    `cannot stop agent 'x': it is Loaded (allowed: start, fail, unload, remove)`.
    """

    error_class = ErrorClass.VALIDATION

    def __init__(self, agent: str, state: str, action: str, problem: str) -> None:
        super().__init__(f"cannot {action} agent {agent!r}: {problem}")
        self.agent = agent
        self.state = state
        self.action = action
        self.problem = problem


SignatureProblem = Literal["signature-required", "signature-malformed", "signature-invalid"]


class SignatureRefused(CaxtonError):
    """A module's signature does not satisfy `signing.policy`; `code` says how (docs/api.md).

    `signature-required`: none was given and the policy requires one;
    `signature-malformed`: not base64 of 64 bytes; `signature-invalid`: not a
    signature of this module by a trusted key.
    """

    error_class = ErrorClass.VALIDATION

    def __init__(self, code: SignatureProblem, problem: str) -> None:
        super().__init__(problem)
        self.code: SignatureProblem = code


class HandlerError(CaxtonError):
    """One call into the agent failed; the agent itself keeps serving."""

    error_class = ErrorClass.SYSTEM


class FuelExhausted(HandlerError):
    error_class = ErrorClass.RESOURCE


class DeadlineExceeded(HandlerError):
    error_class = ErrorClass.TIMEOUT


class MemoryExhausted(HandlerError):
    error_class = ErrorClass.RESOURCE


class AbiViolation(HandlerError):
    error_class = ErrorClass.VALIDATION


class MessageTooLarge(HandlerError):
    error_class = ErrorClass.VALIDATION


class HandlerFailed(HandlerError):
    error_class = ErrorClass.SYSTEM


class AgentTrapped(HandlerError):
    error_class = ErrorClass.SYSTEM
