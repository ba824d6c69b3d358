"""The agent lifecycle: one class per state, whose methods are its legal actions.

    Unloaded ──load──> Loaded ──start──> Running ──stop/drain──> Draining ──stop──> Stopped
                                          │  ↺ restart, reload, rollback              │
                                          └──fail──> Failed ──restart──> Running <──start┘

(the full table, with unload, remove and the other failures, is in
docs/lifecycle.md, and tests/agents_pkg/test_lifecycle.py checks the code
against it.)

Each state is a frozen dataclass carrying what that state knows (the module
and the previous one kept for rollback, the failure's reason...) and the
`Transition` that entered it, which the store appends to the agent's
history. A method exists only on the states where its action is legal and
returns the next state's type, so `Loaded(...).drain(...)` does not
type-check: mypy reports `"Loaded" has no attribute "drain"`.

Input that arrives as data (the REST API, the CLI) goes through `apply`,
which refuses an illegal pair with a `LifecycleError` naming the agent, the
state, the action and what is allowed instead. Two preconditions depend on
data rather than on the state's type, and are checked by the methods
themselves with the same error: `rollback` needs a previous version, and
`reload` needs a module different from the current one.

Pure: no I/O, no clock (every transition takes `at`, an aware datetime), no
locks. The agent manager holds the current state of each agent, performs the
side effect (validate, instantiate, drain the mailbox), then applies the
action that describes what happened.

Rejected designs:

- One class with a `state` enum and a transition table: illegal transitions
  would type-check and fail only at run time.
- A generic `Agent[S]` parameterised by a state marker: mypy checks it too,
  but each state's data (a Failed agent's reason) would be optional on all.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final, TypeAlias, TypeVar, final

from caxton.errors import LifecycleError


class StateName(enum.StrEnum):
    """The lifecycle states, as stored and shown. `Removed` is terminal: the record's end."""

    UNLOADED = "Unloaded"
    LOADED = "Loaded"
    RUNNING = "Running"
    DRAINING = "Draining"
    STOPPED = "Stopped"
    FAILED = "Failed"
    REMOVED = "Removed"


class Action(enum.StrEnum):
    """What can happen to an agent. `create` only starts a history; `apply` never takes it."""

    CREATE = "create"
    LOAD = "load"
    START = "start"
    STOP = "stop"
    DRAIN = "drain"
    FAIL = "fail"
    RESTART = "restart"
    RELOAD = "reload"
    ROLLBACK = "rollback"
    UNLOAD = "unload"
    REMOVE = "remove"


_SHA256: Final = re.compile(r"[0-9a-f]{64}")


@final
@dataclass(frozen=True, slots=True)
class Module:
    """A module version as the lifecycle knows it: content hash and version label."""

    sha256: str
    version: str

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if not self.version:
            raise ValueError("version must not be empty")

    def __str__(self) -> str:
        return f"{self.version} ({self.sha256[:12]})"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One step in an agent's history: what the store appends, never rewrites.

    `from_state` is None for the `create` that starts the history; `module` is
    the module of the state entered (None for Unloaded and Removed).
    """

    agent: str
    from_state: StateName | None
    to_state: StateName
    action: Action
    at: datetime
    reason: str = ""
    module: Module | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"transition times must be timezone-aware, got {self.at!r}")


@final
@dataclass(frozen=True, slots=True)
class _Args:
    """What `apply` passes on to a state's method, already checked."""

    at: datetime
    reason: str
    module: Module | None
    retry_at: datetime | None

    @property
    def new_module(self) -> Module:
        if self.module is None:
            raise AssertionError("apply let an action that takes a module through without one")
        return self.module


def _unreachable(state: _State, act: Action) -> AssertionError:
    # `apply` checked the pair against `allowed`, so this means the table and a class disagree.
    return AssertionError(f"{state.state} allows {act} but has no method for it")


@dataclass(frozen=True, slots=True, kw_only=True)
class _State:
    """What every state knows: the agent's name and the transition that entered it."""

    state: ClassVar[StateName]
    _actions: ClassVar[tuple[Action, ...]]

    name: str
    entered: Transition

    def __post_init__(self) -> None:
        if self.entered.to_state is not self.state or self.entered.agent != self.name:
            raise ValueError(
                f"{self.state} state of {self.name!r} cannot be entered by a transition "
                f"to {self.entered.to_state} of {self.entered.agent!r}"
            )
        self._check()

    def _check(self) -> None:
        """Checks of a state's own fields (a hook: `super()` fails in slotted dataclasses)."""

    @property
    def since(self) -> datetime:
        return self.entered.at

    @property
    def allowed(self) -> tuple[Action, ...]:
        """The actions `apply` accepts in this state now, in table order."""
        return self._actions

    def refusal(self, action: str) -> LifecycleError:
        """The error for `action`, which this state does not allow."""
        allowed = ", ".join(self.allowed) or "none"
        # Only rollback is allowed by the state's type but refused for want of data.
        lacking = " with no previous version" if action in self._actions else ""
        return LifecycleError(
            self.name, self.state, action, f"it is {self.state}{lacking} (allowed: {allowed})"
        )

    def _apply(self, act: Action, args: _Args) -> AgentState:
        """Call the method `act` names (`apply` checked it is allowed) with what it takes."""
        method = getattr(self, act.value, None)
        if method is None:
            raise _unreachable(self, act)
        if act in _TAKES_MODULE:
            result: AgentState = method(args.new_module, at=args.at, reason=args.reason)
        elif act is Action.FAIL and isinstance(self, Unloaded):
            result = self.fail(args.reason, args.new_module, at=args.at)
        elif act is Action.FAIL:
            result = method(args.reason, at=args.at, retry_at=args.retry_at)
        else:
            result = method(at=args.at, reason=args.reason)
        return result

    def _to(
        self, to: StateName, action: Action, at: datetime, reason: str, module: Module | None
    ) -> Transition:
        return Transition(
            agent=self.name,
            from_state=self.state,
            to_state=to,
            action=action,
            at=at,
            reason=reason,
            module=module,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Live(_State):
    """A state the agent can still be removed from."""

    def remove(self, *, at: datetime, reason: str = "") -> Removed:
        """Forget the agent; the manager frees its instance, mailbox and registrations."""
        return Removed(
            name=self.name, entered=self._to(Removed.state, Action.REMOVE, at, reason, None)
        )


_D = TypeVar("_D", bound="_Deployed")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Deployed(_Live):
    """A state with a module; `previous` is the version `rollback` goes back to."""

    module: Module
    previous: Module | None = None

    def _check(self) -> None:
        if self.entered.module != self.module:
            raise ValueError(
                f"{self.state} state of {self.name!r} has module {self.module} "
                f"but was entered with {self.entered.module}"
            )

    @property
    def allowed(self) -> tuple[Action, ...]:
        if self.previous is None:
            return tuple(a for a in self._actions if a is not Action.ROLLBACK)
        return self._actions

    def _keep(self, target: type[_D], action: Action, at: datetime, reason: str) -> _D:
        """`target` with this state's module and previous version."""
        return target(
            name=self.name,
            module=self.module,
            previous=self.previous,
            entered=self._to(target.state, action, at, reason, self.module),
        )

    def _swap(
        self, target: type[_D], module: Module, action: Action, at: datetime, reason: str
    ) -> _D:
        """`target` running `module`, keeping the current module as the previous one."""
        if module.sha256 == self.module.sha256:
            raise LifecycleError(
                self.name, self.state, action, f"it already has module {self.module}"
            )
        return target(
            name=self.name,
            module=module,
            previous=self.module,
            entered=self._to(target.state, action, at, reason, module),
        )

    def _back(self, target: type[_D], at: datetime, reason: str) -> _D:
        """`target` with the previous module; the current one becomes the previous."""
        if self.previous is None:
            raise self.refusal(Action.ROLLBACK)
        return target(
            name=self.name,
            module=self.previous,
            previous=self.module,
            entered=self._to(target.state, Action.ROLLBACK, at, reason, self.previous),
        )

    def _fail(self, reason: str, at: datetime, retry_at: datetime | None) -> Failed:
        return Failed(
            name=self.name,
            module=self.module,
            previous=self.previous,
            reason=reason,
            retry_at=retry_at,
            entered=self._to(Failed.state, Action.FAIL, at, reason, self.module),
        )


def _need_reason(state: _State, reason: str) -> None:
    if not reason.strip():
        raise LifecycleError(state.name, state.state, Action.FAIL, "a reason is required")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Unloaded(_Live):
    """Known by name, nothing in memory: just created, or not yet recovered after a restart."""

    state: ClassVar[StateName] = StateName.UNLOADED
    _actions: ClassVar[tuple[Action, ...]] = (Action.LOAD, Action.FAIL, Action.REMOVE)

    @classmethod
    def create(cls, name: str, *, at: datetime, reason: str = "") -> Unloaded:
        """A new agent, whose history starts with a `create` transition."""
        if not name:
            raise ValueError("an agent's name must not be empty")
        entered = Transition(
            agent=name, from_state=None, to_state=cls.state, action=Action.CREATE, at=at,
            reason=reason,
        )  # fmt: skip
        return cls(name=name, entered=entered)

    def load(
        self, module: Module, *, at: datetime, reason: str = "", previous: Module | None = None
    ) -> Loaded:
        """`module` passed validation and is compiled; `previous` restores a rollback target."""
        return Loaded(
            name=self.name,
            module=module,
            previous=previous,
            entered=self._to(Loaded.state, Action.LOAD, at, reason, module),
        )

    def fail(self, reason: str, module: Module, *, at: datetime) -> Failed:
        """Loading `module` failed (validation, or a stored module is unreadable)."""
        _need_reason(self, reason)
        return Failed(
            name=self.name,
            module=module,
            reason=reason,
            entered=self._to(Failed.state, Action.FAIL, at, reason, module),
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded(_Deployed):
    """The module is validated and compiled; the agent has never run it."""

    state: ClassVar[StateName] = StateName.LOADED
    _actions: ClassVar[tuple[Action, ...]] = (
        Action.START, Action.STOP, Action.FAIL, Action.UNLOAD, Action.REMOVE,
    )  # fmt: skip

    def start(self, *, at: datetime, reason: str = "") -> Running:
        """Instantiated and `caxton_init` succeeded."""
        return self._keep(Running, Action.START, at, reason)

    def stop(self, *, at: datetime, reason: str = "") -> Stopped:
        """Kept from running, with nothing to drain; also how a stopped agent is recovered."""
        return self._keep(Stopped, Action.STOP, at, reason)

    def fail(self, reason: str, *, at: datetime, retry_at: datetime | None = None) -> Failed:
        """Instantiation or `caxton_init` failed: the agent never became Running."""
        _need_reason(self, reason)
        return self._fail(reason, at, retry_at)

    def unload(self, *, at: datetime, reason: str = "") -> Unloaded:
        return Unloaded(
            name=self.name, entered=self._to(Unloaded.state, Action.UNLOAD, at, reason, None)
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Running(_Deployed):
    """Handling messages."""

    state: ClassVar[StateName] = StateName.RUNNING
    _actions: ClassVar[tuple[Action, ...]] = (
        Action.STOP, Action.DRAIN, Action.FAIL, Action.RESTART, Action.RELOAD,
        Action.ROLLBACK, Action.REMOVE,
    )  # fmt: skip

    def stop(self, *, at: datetime, reason: str = "") -> Draining:
        """A graceful stop: new messages are refused, queued ones are delivered first."""
        return self._keep(Draining, Action.STOP, at, reason)

    def drain(self, *, at: datetime, reason: str = "") -> Draining:
        """The same transition as `stop`, under the name an operator draining an agent uses."""
        return self._keep(Draining, Action.DRAIN, at, reason)

    def fail(self, reason: str, *, at: datetime, retry_at: datetime | None = None) -> Failed:
        """The failure policy gave up on it; `retry_at` is when it will be restarted, if so."""
        _need_reason(self, reason)
        return self._fail(reason, at, retry_at)

    def restart(self, *, at: datetime, reason: str = "") -> Running:
        """A fresh instance of the same module."""
        return self._keep(Running, Action.RESTART, at, reason)

    def reload(self, module: Module, *, at: datetime, reason: str = "") -> Running:
        """Hot reload: `module` now handles the messages; the old one is kept for rollback."""
        return self._swap(Running, module, Action.RELOAD, at, reason)

    def rollback(self, *, at: datetime, reason: str = "") -> Running:
        """Back to the previous version (which needs one)."""
        return self._back(Running, at, reason)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Draining(_Deployed):
    """Refusing new messages, delivering the queued ones; `stop` when the queue is empty."""

    state: ClassVar[StateName] = StateName.DRAINING
    _actions: ClassVar[tuple[Action, ...]] = (Action.STOP, Action.FAIL, Action.REMOVE)

    def stop(self, *, at: datetime, reason: str = "") -> Stopped:
        """The queue is empty (or the manager gave up waiting): the instance is freed."""
        return self._keep(Stopped, Action.STOP, at, reason)

    def fail(self, reason: str, *, at: datetime, retry_at: datetime | None = None) -> Failed:
        _need_reason(self, reason)
        return self._fail(reason, at, retry_at)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(_Deployed):
    """Stopped on purpose; its module stays loaded."""

    state: ClassVar[StateName] = StateName.STOPPED
    _actions: ClassVar[tuple[Action, ...]] = (
        Action.START, Action.RELOAD, Action.ROLLBACK, Action.UNLOAD, Action.REMOVE,
    )  # fmt: skip

    def start(self, *, at: datetime, reason: str = "") -> Running:
        return self._keep(Running, Action.START, at, reason)

    def reload(self, module: Module, *, at: datetime, reason: str = "") -> Stopped:
        """Replace the module without starting it; the old one is kept for rollback."""
        return self._swap(Stopped, module, Action.RELOAD, at, reason)

    def rollback(self, *, at: datetime, reason: str = "") -> Stopped:
        return self._back(Stopped, at, reason)

    def unload(self, *, at: datetime, reason: str = "") -> Unloaded:
        return Unloaded(
            name=self.name, entered=self._to(Unloaded.state, Action.UNLOAD, at, reason, None)
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(_Deployed):
    """Not running because something failed; `reason` says what.

    `retry_at` is set while the failure policy waits to restart it, and None
    when it has given up (or for a failure at load or start).
    """

    state: ClassVar[StateName] = StateName.FAILED
    _actions: ClassVar[tuple[Action, ...]] = (
        Action.RESTART, Action.RELOAD, Action.ROLLBACK, Action.UNLOAD, Action.REMOVE,
    )  # fmt: skip

    reason: str
    retry_at: datetime | None = None

    def _check(self) -> None:
        _Deployed._check(self)
        if not self.reason.strip():
            raise ValueError(f"Failed state of {self.name!r} needs a reason")

    def restart(self, *, at: datetime, reason: str = "") -> Running:
        """A fresh instance of the same module (the policy's back-off, or an operator)."""
        return self._keep(Running, Action.RESTART, at, reason)

    def reload(self, module: Module, *, at: datetime, reason: str = "") -> Loaded:
        """A fixed version, loaded and not yet started; the failed one is kept as previous."""
        return self._swap(Loaded, module, Action.RELOAD, at, reason)

    def rollback(self, *, at: datetime, reason: str = "") -> Loaded:
        """The previous version, loaded and not yet started."""
        return self._back(Loaded, at, reason)

    def unload(self, *, at: datetime, reason: str = "") -> Unloaded:
        return Unloaded(
            name=self.name, entered=self._to(Unloaded.state, Action.UNLOAD, at, reason, None)
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Removed(_State):
    """The end of the record: nothing leaves it. The store keeps the history."""

    state: ClassVar[StateName] = StateName.REMOVED
    _actions: ClassVar[tuple[Action, ...]] = ()


AgentState: TypeAlias = Unloaded | Loaded | Running | Draining | Stopped | Failed | Removed
"""Any state, as `apply` takes and returns it; `match` on it to get the precise type."""

STATES: Final[tuple[type[AgentState], ...]] = (
    Unloaded, Loaded, Running, Draining, Stopped, Failed, Removed,
)  # fmt: skip

# The actions that always take a module (`fail` takes one from Unloaded only).
_TAKES_MODULE: Final = frozenset({Action.LOAD, Action.RELOAD})


def apply(
    state: AgentState,
    action: str,
    *,
    at: datetime,
    reason: str = "",
    module: Module | None = None,
    retry_at: datetime | None = None,
) -> AgentState:
    """The state after `action`, named as data (`"stop"`), or a `LifecycleError`.

    The pair is checked first, so an illegal one is refused naming the state
    and the action whatever the other arguments. Then: `load` and `reload`
    need `module` (and so does `fail` from Unloaded: the module that failed to
    load); `fail` needs a `reason`; `retry_at` is only for `fail`.
    """
    try:
        act = Action(action)
    except ValueError:
        actions = ", ".join(a for a in Action if a is not Action.CREATE)
        raise LifecycleError(
            state.name, state.state, action, f"no such action (actions: {actions})"
        ) from None
    if act not in state.allowed:
        raise state.refusal(action)
    takes_module = act in _TAKES_MODULE or (act is Action.FAIL and isinstance(state, Unloaded))
    if takes_module and module is None:
        raise LifecycleError(state.name, state.state, action, "a module is required")
    if module is not None and not takes_module:
        raise LifecycleError(state.name, state.state, action, f"{action} takes no module")
    if retry_at is not None and act is not Action.FAIL:
        raise LifecycleError(state.name, state.state, action, f"{action} takes no retry time")
    return state._apply(act, _Args(at, reason, module, retry_at))
