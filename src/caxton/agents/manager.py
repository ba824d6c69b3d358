"""The agent manager: deploys, starts, stops, reloads and removes agents, durably.

It is where the lifecycle's states meet their side effects: the runtime
(validate, instantiate, close), the router (register, drain, swap, detach)
and the store (modules, the registry, transitions, key-value data, queued
messages). Each operation performs the side effect first, then applies the
lifecycle action that describes what happened, then records it; so a state
is never recorded for something that did not happen.

One lock serialises operations on agents; delivery never takes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from caxton.acl import is_agent_name
from caxton.agents.catalogue import Catalogue
from caxton.agents.lifecycle import (
    AgentState,
    Draining,
    Failed,
    Loaded,
    Module,
    Running,
    StateName,
    Stopped,
    Unloaded,
    apply,
)
from caxton.agents.policy import Continue, Fail, FailurePolicy, FailureTracker, Restart
from caxton.errors import AgentInitFailed, CaxtonError, ConfigError, ErrorClass, ModuleRejected
from caxton.router import (
    PLATFORM,
    Conversation,
    DeadLetter,
    Dispatcher,
    Router,
    RouterError,
    instantiate,
)
from caxton.router.mailbox import Entry
from caxton.runtime import AgentModule, KeyValueStore, Limits, Runtime, Sandbox
from caxton.store import AgentNameTaken, AgentRecord, Capability, ConversationRecord, Store

log = logging.getLogger("caxton.agents")

# Where a deploy's failure policy is kept, beside the limits it belongs with.
_POLICY_KEY = "failure_policy"


class UnknownAgent(CaxtonError, KeyError):
    """No agent of that name is deployed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no agent named {name!r} is deployed")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class AgentView:
    """What an operator sees of one agent."""

    name: str
    id: str
    state: StateName
    version: str
    module_sha256: str
    reason: str
    config: Mapping[str, Any]
    limits: Mapping[str, Any]


class AgentManager:
    def __init__(
        self,
        *,
        store: Store,
        runtime: Runtime,
        router: Router,
        dispatcher: Dispatcher,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.router = router
        self.dispatcher = dispatcher
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._states: dict[str, AgentState] = {}
        self._sandboxes: dict[str, Sandbox] = {}
        # Failure policy: touched from dispatcher threads inside an agent's
        # turn, so under a lock of its own, never the manager's (an operation
        # holding the manager's lock may be waiting for that very turn).
        self._policy_lock = threading.Lock()
        self._trackers: dict[str, FailureTracker] = {}
        self._pending: set[str] = set()
        self._errors: dict[str, Counter[str]] = {}  # handler errors by class, per agent
        # Agents in `caxton_init`: their capabilities are kept only if it succeeds.
        self._initialising: set[str] = set()
        self._timers: list[threading.Timer] = []
        # Who offers what, in memory, for searches that must not wait on SQLite.
        self.catalogue = Catalogue()
        # Names the platform's own endpoints answer to, and what each is.
        self._reserved: dict[str, str] = {PLATFORM: "the platform's own messages"}
        # Spans for deploys and lifecycle transitions; the server sets a real one.
        self.tracer: trace.Tracer = trace.NoOpTracer()
        # Wraps each agent's key-value store (telemetry's spans for its host calls).
        self.wrap_state: Callable[[str, KeyValueStore], KeyValueStore] | None = None
        router.on_handler_error = self._handler_error
        router.on_capability = self._keep_capability
        router.dead_letters.sink = self._keep_dead_letter
        router.conversations.sink = self._keep_conversation

    # Reading.

    def get(self, name: str) -> AgentView:
        with self._lock:
            state = self._states.get(name)
            record = self.store.agents.by_name(name)
            if state is None or record is None:
                raise UnknownAgent(name)
            return _view(state, record)

    def all(self) -> list[AgentView]:
        with self._lock:
            return [self.get(name) for name in sorted(self._states)]

    def states(self) -> dict[str, str]:
        """Each agent's state by name, without reading the store (for metrics)."""
        with self._lock:
            return {name: str(state.state) for name, state in self._states.items()}

    def sandbox(self, name: str) -> Sandbox | None:
        return self._sandboxes.get(name)

    def errors(self, name: str) -> dict[str, int]:
        """Handler errors of `name` by class, since this process started."""
        with self._policy_lock:
            return dict(self._errors.get(name, {}))

    def reserve(self, name: str, holder: str) -> None:
        """Keep `name` for a built-in endpoint (`holder` says which): no agent may take it."""
        with self._lock:
            self._reserved[name] = holder

    # Operations.

    def deploy(
        self,
        name: str,
        wasm: bytes,
        *,
        version: str = "1",
        config: Mapping[str, Any] | None = None,
        limits: Mapping[str, int] | None = None,
        failure_policy: Mapping[str, Any] | None = None,
        start: bool = True,
    ) -> AgentView:
        """Validate `wasm` and deploy it as `name`; started unless `start` is False.

        A module that fails validation or `caxton_init` never becomes Running:
        the agent is kept as Failed with the reason. Raises `ConfigError` for a
        bad name or limits, `AgentNameTaken` when the name is in use.
        """
        with self.tracer.start_as_current_span(
            f"deploy {name}", attributes={"caxton.agent": name, "caxton.version": version}
        ):
            return self._deploy(name, wasm, version, config, limits, failure_policy, start)

    def _deploy(
        self,
        name: str,
        wasm: bytes,
        version: str,
        config: Mapping[str, Any] | None,
        limits: Mapping[str, int] | None,
        failure_policy: Mapping[str, Any] | None,
        start: bool,
    ) -> AgentView:
        if not is_agent_name(name):
            raise ConfigError("name", f"{name!r} is not an agent name (1-63 of a-z 0-9 -)")
        checked = self._limits(dict(limits or {}))
        FailurePolicy.from_mapping(failure_policy or {}, setting="failure_policy")  # check now
        stored_limits: dict[str, Any] = dict(limits or {})
        if failure_policy:
            stored_limits[_POLICY_KEY] = dict(failure_policy)
        with self._lock:
            if name in self._reserved:
                raise AgentNameTaken(
                    f"the name {name!r} is reserved for {self._reserved[name]}; "
                    "deploy the agent under another name"
                )
            if name in self._states:
                raise AgentNameTaken(f"an agent named {name!r} is deployed already")
            if self.router.get(name) is not None:
                raise AgentNameTaken(f"the name {name!r} is taken by the platform")
            sha256 = self.store.modules.put(wasm)
            module = Module(sha256, version)
            unloaded = Unloaded.create(name, at=self._now(), reason="deploy")
            record = self.store.agents.create(
                name,
                sha256,
                version=version,
                state=StateName.UNLOADED,
                desired_state=StateName.RUNNING if start else StateName.STOPPED,
                config=dict(config or {}),
                limits=stored_limits,
                reason="deploy",
            )
            self._states[name] = unloaded
            try:
                self.runtime.load(wasm, memory_bytes=checked.memory_bytes)
            except ModuleRejected as error:
                self._enter(record, unloaded.fail(error.reason, module, at=self._now()))
                return self.get(name)
            self._enter(record, unloaded.load(module, at=self._now(), reason="validated"))
            if start:
                self._start(name, "deploy")
            return self.get(name)

    def start(self, name: str) -> AgentView:
        with self._lock:
            self._require(name)
            self._start(name, "start")
            self.store.agents.set_desired_state(self._record(name).id, StateName.RUNNING)
            return self.get(name)

    def stop(self, name: str, reason: str = "stop") -> AgentView:
        """Drain: deliver what waits, refuse new messages, then stop and free the instance.

        A Loaded agent (deployed without starting) has nothing to drain: it is
        Stopped at once.
        """
        with self._lock:
            state = self._require(name)
            record = self._record(name)
            draining = apply(state, "stop", at=self._now(), reason=reason)
            self._enter(record, draining)
            if isinstance(draining, Draining):
                endpoint = self.router.get(name)
                if endpoint is not None:
                    self.dispatcher.drain(endpoint)
                self._release(name)
                self._enter(record, draining.stop(at=self._now(), reason="drained"))
            self.store.agents.set_desired_state(record.id, StateName.STOPPED)
            return self.get(name)

    def remove(self, name: str) -> None:
        """Free everything the agent holds: instance, memory, mailbox, registrations, data."""
        with self._lock:
            state = self._require(name)
            record = self._record(name)
            apply(state, "remove", at=self._now())  # refuses nothing today; keeps the rule
            self._release(name)
            with self._policy_lock:
                self._errors.pop(name, None)
            del self._states[name]
            self.store.agents.remove(record.id, "remove")
            self.catalogue.forget(name)
            self.store.modules.remove_unused()

    def reload(self, name: str, wasm: bytes, *, version: str) -> AgentView:
        """Replace a running agent's module without losing or reordering a message.

        The new version is validated and initialised beside the old one; only
        then does delivery switch to it. If it fails, the old one keeps running
        and the error is raised.
        """
        with self._lock:
            state = self._require(name)
            record = self._record(name)
            module = Module(hashlib.sha256(wasm).hexdigest(), version)  # checks before storing
            sha256 = self.store.modules.put(wasm, sha256=module.sha256)
            reloaded = apply(state, "reload", at=self._now(), module=module, reason="reload")
            if isinstance(state, Running):
                limits = self._limits(record.limits)
                self._swap(name, record, self.runtime.load(wasm, limits.memory_bytes))
            else:
                self._forget_capabilities(record)
            self.store.agents.deploy(record.id, sha256, version=version)
            self._enter(self._record(name), reloaded)
            return self.get(name)

    def rollback(self, name: str) -> AgentView:
        """Back to the version before the current one, the same way `reload` goes forward."""
        with self._lock:
            state = self._require(name)
            record = self._record(name)
            if not isinstance(state, Running | Stopped | Failed):
                raise state.refusal("rollback")
            rolled = state.rollback(at=self._now(), reason="rollback")
            target = rolled.module
            wasm = self.store.modules.get(target.sha256)
            if wasm is None:
                raise ConfigError("module", f"module {target} of {name!r} is no longer stored")
            if isinstance(state, Running):
                limits = self._limits(record.limits)
                self._swap(name, record, self.runtime.load(wasm, limits.memory_bytes))
            else:
                self._forget_capabilities(record)
            self.store.agents.deploy(record.id, target.sha256, version=target.version)
            self._enter(self._record(name), rolled)
            return self.get(name)

    # Restart and recovery.

    def shutdown(self) -> int:
        """Stop every agent, saving what waits in its mailbox; returns messages saved.

        Desired states are kept, so `recover` brings back what was running.
        Live conversations are kept in the store too, as they stood.
        """
        saved = 0
        self.cancel_timers()
        with self._lock:
            for name in list(self._sandboxes):
                endpoint = self.router.get(name)
                if endpoint is not None:
                    endpoint.accepting = False
                    with endpoint.turn_lock:  # after any turn in progress
                        endpoint.after_delivery = None
                        waiting = [entry[0] for entry in endpoint.mailbox.drain()]
                    # The whole mailbox, including any saved last time and not yet handled.
                    saved += self.store.queued.replace(name, waiting)
                self._release(name)
            for conversation in self.router.conversations.snapshots():
                self._keep_conversation(conversation)
        return saved

    def recover(self) -> list[str]:
        """Bring back every stored agent as it was; returns the names started.

        Agents meant to run are started, then get their saved messages, in
        order; the store forgets each only once it is handled, so a crash
        before then delivers it again rather than losing it. Stopped agents
        come back Stopped and failed ones Failed, with their reason.
        """
        started = []
        with self._lock:
            declared = self.store.capabilities.by_agent()
            for record in self.store.agents.all():
                self.catalogue.replace(record.name, declared.get(record.id, ()))
                self._enter(record, self._restored(record))
                if self._states[record.name].state is StateName.LOADED and (
                    record.desired_state == StateName.RUNNING
                ):
                    self._start(record.name, "recover")
                    if isinstance(self._states[record.name], Running):
                        started.append(record.name)
            # Only once every agent is back, so the first messages handled find their peers.
            for name in started:
                self._requeue_saved(name)
        return started

    def _restored(self, record: AgentRecord) -> Loaded | Stopped | Failed:
        """The state to bring `record` back in, as its history left it."""
        module = Module(record.module_sha256, record.version)
        unloaded = Unloaded.create(record.name, at=self._now(), reason="recover")
        loaded = unloaded.load(module, at=self._now(), reason="recover")
        # The version before this one, so rollback works after a restart too.
        earlier = [
            Module(d.module_sha256, d.version)
            for d in self.store.agents.deployments(record.id)
            if (d.module_sha256, d.version) != (module.sha256, module.version)
        ]
        if earlier:
            loaded = dataclasses.replace(loaded, previous=earlier[-1])
        if record.actual_state == StateName.FAILED:
            history = self.store.agents.transitions(record.id)
            reason = history[-1].reason if history and history[-1].reason else "failed"
            return loaded.fail(reason, at=self._now())
        if record.desired_state == StateName.STOPPED and record.actual_state in (
            StateName.STOPPED,
            StateName.DRAINING,
        ):
            return loaded.stop(at=self._now(), reason="recover")
        return loaded

    def _requeue_saved(self, name: str) -> None:
        endpoint = self.router.get(name)
        saved = self.store.queued.peek(name)
        if endpoint is None or not saved:
            return
        tracker = _SavedMessages(saved, lambda: self.store.queued.ack(name, len(saved)))
        # Set before requeueing: a worker may deliver the first one at once.
        endpoint.after_delivery = tracker.delivered
        tracker.forget(self.router.requeue(name, saved))
        if tracker.done:
            endpoint.after_delivery = None

    # Side effects.

    def _start(self, name: str, reason: str) -> None:
        state = self._states[name]
        action = "restart" if isinstance(state, Failed) else "start"
        running = apply(state, action, at=self._now(), reason=reason)  # refuses before acting
        record = self._record(name)
        if name in self._reserved:  # deployed before the name was reserved
            reserved = f"the name {name!r} is reserved for {self._reserved[name]}"
            if not isinstance(state, Failed):
                self._enter(record, apply(state, "fail", at=self._now(), reason=reserved))
            return
        wasm = self.store.modules.get(record.module_sha256)
        if wasm is None:
            raise ConfigError("module", f"module {record.module_sha256} of {name!r} is missing")
        limits = self._limits(record.limits)
        try:
            module = self.runtime.load(wasm, memory_bytes=limits.memory_bytes)
            self._sandboxes[name] = self._instantiate(name, record, module, limits)
        except (ModuleRejected, AgentInitFailed, RouterError) as error:
            if not isinstance(state, Failed):
                self._enter(record, apply(state, "fail", at=self._now(), reason=str(error)))
            return
        policy = FailurePolicy.from_mapping(record.limits.get(_POLICY_KEY, {}))
        with self._policy_lock:
            self._trackers[name] = FailureTracker(policy)
        self._enter(record, running)

    def _instantiate(
        self, name: str, record: AgentRecord, module: AgentModule, limits: Limits
    ) -> Sandbox:
        """An instance on `name`'s endpoint, registered unless one is already (a swap).

        What it registers in `caxton_init` becomes the agent's whole set of
        capabilities; if it fails, the set stays as it was.
        """
        registered = self.router.get(name)
        before = list(registered.capabilities) if registered is not None else []
        state: KeyValueStore = self.store.kv(record.id, limits.max_outbound_bytes)
        if self.wrap_state is not None:
            state = self.wrap_state(name, state)
        self._initialising.add(name)
        try:
            endpoint, sandbox = instantiate(
                self.router,
                self.runtime,
                module,
                name,
                agent_id=record.id,
                config=record.config,
                limits=limits,
                kv=state,
            )
        except BaseException:
            if registered is not None:
                registered.capabilities = before
            raise
        finally:
            self._initialising.discard(name)
        declared = endpoint.capabilities[len(before) :]
        endpoint.capabilities = declared
        if registered is None:
            self.router.register(endpoint, sandbox)
        capabilities = [_capability(c) for c in declared]
        self.store.capabilities.replace(record.id, capabilities)
        self.catalogue.replace(name, capabilities)
        return sandbox

    def _forget_capabilities(self, record: AgentRecord) -> None:
        """A new module that has not run yet: what the old one declared is no longer offered."""
        self.store.capabilities.replace(record.id, ())
        self.catalogue.replace(record.name, ())

    def _swap(self, name: str, record: AgentRecord, module: AgentModule) -> None:
        limits = self._limits(record.limits)
        new = self._instantiate(name, record, module, limits)  # raises: the old one stays
        self.router.replace(name, new)
        self.runtime.remove(self._sandboxes[name])
        self._sandboxes[name] = new

    def _release(self, name: str) -> None:
        with self._policy_lock:
            self._trackers.pop(name, None)
        self.router.detach(name)
        sandbox = self._sandboxes.pop(name, None)
        if sandbox is not None:
            self.runtime.remove(sandbox)

    def _keep_dead_letter(self, letter: DeadLetter) -> None:
        self.store.dead_letters.keep(letter.message, letter.receiver, letter.reason, letter.at)

    def _keep_conversation(self, c: Conversation) -> None:
        record = ConversationRecord(
            c.id, c.initiator, c.protocol, c.state, c.started, c.last_activity
        )
        self.store.conversations.save(record)

    def _keep_capability(self, name: str, capability: Mapping[str, Any]) -> None:
        # On the agent's thread, maybe while an operation holds the manager's lock
        # and waits for that agent: so no manager lock here, only the store's.
        record = self.store.agents.by_name(name)
        if record is not None and name not in self._initialising:
            declared = _capability(capability)
            self.store.capabilities.add(record.id, declared)
            self.catalogue.add(name, declared)

    # The failure policy.

    def _handler_error(self, name: str, error_class: ErrorClass, reason: str) -> None:
        """A delivery to `name` failed (dispatcher thread, inside its turn): judge it."""
        with self._policy_lock:
            self._errors.setdefault(name, Counter())[error_class.value] += 1
            tracker = self._trackers.get(name)
            if tracker is None or name in self._pending:
                return
            decision = tracker.record_error(time.monotonic(), error_class, reason)
            if isinstance(decision, Continue):
                return
            self._pending.add(name)
        self.router.pause(name)  # messages wait for the restart (or fail with the agent)
        self._later(0.0, self._carry_out, name, decision)

    def _carry_out(self, name: str, decision: Restart | Fail) -> None:
        with self._lock:
            state = self._states.get(name)
            if not isinstance(state, Running):  # stopped or removed meanwhile
                self._settled(name)
                return
            record = self._record(name)
            if isinstance(decision, Fail):
                self._release(name)
                self._enter(record, state.fail(decision.reason, at=self._now()))
                self._settled(name)
                return
            retry_at = datetime.fromtimestamp(self._clock() + decision.delay_s, UTC)
            failed = state.fail(decision.reason, at=self._now(), retry_at=retry_at)
            self._enter(record, failed)
        self._later(decision.delay_s, self._restart, name)

    def _restart(self, name: str) -> None:
        """A fresh instance, same module, same mailbox: what waited is delivered to it."""
        with self._lock:
            state = self._states.get(name)
            if not isinstance(state, Failed):
                self._settled(name)
                return
            record = self._record(name)
            wasm = self.store.modules.get(record.module_sha256) or b""
            limits = self._limits(record.limits)
            try:
                self._swap(name, record, self.runtime.load(wasm, limits.memory_bytes))
            except (ModuleRejected, AgentInitFailed) as error:
                # Stays Failed, instance freed; an operator can reload or restart it.
                log.warning("restart of %s failed: %s", name, error.reason)
                self._release(name)
                self._settled(name)
                return
            self._enter(record, state.restart(at=self._now(), reason="failure policy"))
            self.router.resume(name)
            self._settled(name)

    def _settled(self, name: str) -> None:
        with self._policy_lock:
            self._pending.discard(name)

    def _later(self, delay_s: float, action: Callable[..., None], *args: object) -> None:
        timer = threading.Timer(delay_s, action, args)
        timer.daemon = True  # a pending restart must not keep the process alive
        self._timers = [t for t in self._timers if t.is_alive()]
        self._timers.append(timer)
        timer.start()

    def cancel_timers(self) -> None:
        """Forget pending restarts (at shutdown)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    # Helpers.

    def _enter(self, record: AgentRecord, state: AgentState) -> None:
        attributes = {"caxton.agent": record.name, "caxton.reason": state.entered.reason}
        self.tracer.start_span(f"agent {state.state} {record.name}", attributes=attributes).end()
        self._states[record.name] = state
        self.store.agents.set_state(record.id, state.state, state.entered.reason)
        self.catalogue.set_state(record.name, state.state)
        self._changed.notify_all()

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` holds after some state change (restarts happen on timers)."""
        with self._changed:
            return self._changed.wait_for(done, timeout)

    def _require(self, name: str) -> AgentState:
        state = self._states.get(name)
        if state is None:
            raise UnknownAgent(name)
        return state

    def _record(self, name: str) -> AgentRecord:
        record = self.store.agents.by_name(name)
        if record is None:
            raise UnknownAgent(name)
        return record

    def _limits(self, stored: Mapping[str, Any]) -> Limits:
        overrides = {key: value for key, value in stored.items() if key != _POLICY_KEY}
        defaults = self.runtime.config.default_limits
        return defaults.override(self.runtime.config.memory, **overrides) if overrides else defaults

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _capability(declared: Mapping[str, Any]) -> Capability:
    """A capability as `register_capability` declared it (the sandbox checked its types)."""
    return Capability(
        name=declared["name"],
        version=declared.get("version", ""),
        description=declared.get("description", ""),
        input_schema=declared.get("input_schema"),
    )


def _view(state: AgentState, record: AgentRecord) -> AgentView:
    return AgentView(
        name=record.name,
        id=record.id,
        state=state.state,
        version=record.version,
        module_sha256=record.module_sha256,
        reason=state.entered.reason,
        config=record.config,
        limits=record.limits,
    )


class _SavedMessages:
    """Messages saved at shutdown and queued again: acknowledged once all are handled."""

    def __init__(self, messages: list[dict[str, Any]], acknowledge: Callable[[], object]) -> None:
        self._pending = {id(message) for message in messages}
        self._messages = messages  # keeps the ids above from being reused meanwhile
        self._acknowledge = acknowledge
        self._lock = threading.Lock()
        self.done = False

    def delivered(self, entries: list[Entry]) -> None:
        """After a turn (the dispatcher's thread): these were handled, or failed."""
        self.forget([entry[0] for entry in entries])

    def forget(self, messages: list[dict[str, Any]]) -> None:
        """These need no more waiting for: handled, or kept as dead letters."""
        with self._lock:
            if self.done:
                return
            for message in messages:
                self._pending.discard(id(message))
            if self._pending:
                return
            self.done = True
        self._acknowledge()
