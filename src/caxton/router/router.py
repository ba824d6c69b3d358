"""Routing of ACL messages between agents by name.

The router gives every message its `message_id` and trace context, lets the
conversation manager judge it, and puts it in each receiver's bounded
mailbox; dispatchers (`caxton.router.dispatcher`) deliver from there. What
cannot be delivered is kept as a dead letter with its reason, and the sender
hears about it in FIPA terms: `failure` for an unknown receiver or a failed
handler, `not-understood` for a malformed or out-of-sequence message.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from time import perf_counter
from typing import Any, Final

import orjson

from caxton.acl import EXPECTS_ANSWER, reply, validate_outbound
from caxton.errors import ErrorClass, HandlerError
from caxton.router.conversations import PLATFORM, ConversationManager, Outcome, Verdict
from caxton.router.dead_letters import DeadLetters
from caxton.router.endpoint import Endpoint, Recipient
from caxton.router.mailbox import Entry, Put
from caxton.router.ready import ReadyQueue
from caxton.router.stats import RouterStats
from caxton.router.trace import MessageTracer, TraceIds
from caxton.runtime import LogLevel, Status

Message = dict[str, Any]

DEFAULT_MAILBOX_CAPACITY: Final = 1_024
# Answers about a failed delivery are never themselves answered with another failure.
_NO_FAILURE_FOR: Final = frozenset({"failure", "not-understood"})
_PLATFORM_VERDICT: Final = Verdict(Outcome.DELIVER)


class RouterError(ValueError):
    """A registration the router refuses; the message names the agent and why."""


class Router:
    def __init__(
        self,
        *,
        conversations: ConversationManager | None = None,
        dead_letters: DeadLetters | None = None,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        on_route: Callable[[Message], None] | None = None,
        measure: bool = True,
    ) -> None:
        """`on_route` sees every message accepted for delivery, on the thread that sent it.

        `on_handler_error(agent, error_class, reason)`, when set, hears of every
        failed delivery, on the dispatcher's thread inside the agent's turn.
        `on_capability(agent, capability)` hears of every capability an agent
        registers (checked against ABI v1 already), on the agent's thread.
        `on_log(agent, level, text)` hears every line an agent logs, on its thread.
        `on_error(error_class, reason, agent, message)` hears of every error the
        router meets (a failed handler, an unknown receiver, a malformed or
        out-of-sequence message, a full mailbox, a conversation timed out), with
        the agent it concerns and the message, when there is one.
        `tracer`, when set, records spans for the messages it samples.
        `measure` keeps the counts in `stats` and in each endpoint's `stats`
        (routed, delivered, latency, handler time); without it a message costs
        no clock reads.
        """
        self.measure = measure
        self.clock = clock
        self.on_route = on_route
        self.on_handler_error: Callable[[str, ErrorClass, str], None] | None = None
        self.on_capability: Callable[[str, dict[str, Any]], None] | None = None
        self.on_log: Callable[[str, LogLevel, str], None] | None = None
        self.on_error: Callable[[ErrorClass, str, str | None, Message | None], None] | None = None
        # ABI `tool_call` (agent, request, message being handled) -> status; None refuses all.
        self.on_tool_call: Callable[[str, Message, object], int] | None = None
        self.tracer: MessageTracer | None = None
        self.stats = RouterStats()
        self.conversations = conversations or ConversationManager(clock=clock)
        self.dead_letters = dead_letters or DeadLetters(clock)
        self.ready = ReadyQueue()
        self._endpoints: dict[str, Endpoint] = {}
        self._trace = TraceIds(seed)
        prefix = f"{random.Random(seed).getrandbits(40):010x}-"
        self._ids = map(prefix.__add__, map(str, itertools.count(1)))
        self.routed = 0
        self.to_platform = 0  # messages addressed to the platform, which takes none

    # Registration.

    def endpoint(self, name: str, mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY) -> Endpoint:
        """A new endpoint for `name`: the `AgentHost` to build its sandbox with."""
        if name == PLATFORM:
            raise RouterError(f"{name!r} is reserved for the platform's own messages")
        return Endpoint(self, name, mailbox_capacity)

    def register(self, endpoint: Endpoint, agent: Recipient) -> None:
        """Start delivering to `endpoint.name`; messages for it until now were dead letters."""
        if endpoint.name in self._endpoints:
            raise RouterError(f"an agent named {endpoint.name!r} is already registered")
        endpoint.agent = agent
        self._endpoints[endpoint.name] = endpoint

    def deregister(self, name: str) -> Endpoint | None:
        """Stop delivering to `name`; what waits in its mailbox becomes dead letters."""
        endpoint = self._endpoints.pop(name, None)
        if endpoint is not None:
            self.stats.retired.merge(endpoint.stats)  # system-wide counts never go back
            for message, _, _ in endpoint.mailbox.drain():
                self.dead_letters.keep(message, name, f"agent {name!r} stopped before delivery")
        return endpoint

    def replace(self, name: str, agent: Recipient) -> Recipient | None:
        """Deliver to `agent` from the next turn on; returns the agent it replaces.

        Messages keep arriving in the same mailbox throughout, so none is lost
        or reordered; when this returns, no turn is using the old agent.
        """
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise RouterError(f"no agent named {name!r} is registered")
        with endpoint.turn_lock:
            previous, endpoint.agent = endpoint.agent, agent
        return previous

    def pause(self, name: str) -> None:
        """Hold delivery to `name` from its next turn on; messages keep being accepted."""
        endpoint = self._endpoints.get(name)
        if endpoint is not None:
            endpoint.paused = True

    def resume(self, name: str) -> None:
        """Deliver to `name` again, starting with what waited while it was paused."""
        endpoint = self._endpoints.get(name)
        if endpoint is not None:
            endpoint.paused = False
            if endpoint.mailbox.claim():
                self.ready.push(endpoint)

    def detach(self, name: str) -> Endpoint | None:
        """Deregister `name` and wait for a turn in progress; its agent is then free to close."""
        endpoint = self.deregister(name)
        if endpoint is not None:
            with endpoint.turn_lock:
                endpoint.agent = None
        return endpoint

    def requeue(self, name: str, messages: list[Message]) -> list[Message]:
        """Put messages saved at shutdown back in `name`'s mailbox, in order, as they were.

        They were routed once already: no new ids, no second judgement. What
        cannot be queued becomes a dead letter; those are returned.
        """
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise RouterError(f"no agent named {name!r} is registered")
        refused = []
        for message in messages:
            entry = self._encoded(message, perf_counter() if self.measure else 0.0)
            if entry is None or not self._put(endpoint, entry):
                refused.append(message)
        return refused

    def get(self, name: str) -> Endpoint | None:
        return self._endpoints.get(name)

    def names(self) -> list[str]:
        return list(self._endpoints)

    # Sending.

    def send(self, message: Message, context: object) -> int:
        """Route a message an agent sent (valid, `sender` set) while handling `context`."""
        message["message_id"] = next(self._ids)
        tracer = self.tracer
        if tracer is None:
            message["trace"] = self._trace.child_of(context)
        else:
            message["trace"] = tracer.routed(message, context, self._trace)
        return self._route(message)

    def post(self, message: Message) -> int:
        """Route a message from outside any agent (operator, API); raises ValueError if invalid.

        A `trace` the message carries is kept as the parent of its own.
        """
        problem = validate_outbound(message)
        if problem is not None:
            raise ValueError(problem)
        message["message_id"] = next(self._ids)
        tracer = self.tracer
        if tracer is None:
            message["trace"] = self._trace.child_of(message)
        else:
            message["trace"] = tracer.routed(message, message, self._trace)
        return self._route(message)

    def _route(self, message: Message) -> int:
        receivers = message["receiver"]
        if receivers.__class__ is str:
            endpoint = self._endpoints.get(receivers)
            if endpoint is None or not endpoint.accepting:
                return self._undeliverable(message, [receivers])
            if not endpoint.mailbox.has_room():
                return self._full(message, receivers)
            if not self._admitted(message):
                return Status.OK
            entry = self._encoded(message, perf_counter() if self.measure else 0.0)
            if entry is None:
                return Status.MALFORMED
            self._put(endpoint, entry)
            return Status.OK
        return self._route_many(message, receivers)

    def _route_many(self, message: Message, receivers: list[str]) -> int:
        endpoints: list[Endpoint] = []
        missing: list[str] = []
        for name in dict.fromkeys(receivers):
            endpoint = self._endpoints.get(name)
            if endpoint is None or not endpoint.accepting:
                missing.append(name)
            elif not endpoint.mailbox.has_room():
                return self._full(message, name)  # all or none: no receiver gets half a broadcast
            else:
                endpoints.append(endpoint)
        if not endpoints:
            return self._undeliverable(message, missing)
        if not self._admitted(message):
            return Status.OK
        entry = self._encoded(message, perf_counter() if self.measure else 0.0)
        if entry is None:
            return Status.MALFORMED
        for endpoint in endpoints:
            self._put(endpoint, entry)
        if missing:
            self._undeliverable(message, missing)
        return Status.OK

    def _admitted(self, message: Message) -> bool:
        # The platform's own notices are never out of sequence.
        if message.get("sender") == PLATFORM:
            verdict = _PLATFORM_VERDICT
        else:
            verdict = self.conversations.observe(message)
        if verdict.outcome is Outcome.DELIVER:
            if self.measure:
                self.stats.routed[message["performative"]] += 1
            if self.on_route is not None:
                self.on_route(message)
            return True
        receiver = _first(message["receiver"])
        self.dead_letters.keep(message, receiver, verdict.reason)
        self.error(ErrorClass.VALIDATION, verdict.reason, message.get("sender"), message)
        if verdict.reply is not None:
            self.send_from_platform(verdict.reply, message)
        return False

    def _encoded(self, message: Message, routed_at: float) -> Entry | None:
        try:
            return message, orjson.dumps(message), routed_at
        except orjson.JSONEncodeError as error:  # nested deeper than orjson writes
            reason = f"cannot encode: {error}"
            self.dead_letters.keep(message, _first(message["receiver"]), reason)
            self.error(ErrorClass.VALIDATION, reason, message.get("sender"), message)
            return None

    def _full(self, message: Message, receiver: str) -> int:
        """The sender hears -3 and may try again; the refusal counts as a resource error."""
        self.error(ErrorClass.RESOURCE, f"mailbox of {receiver!r} is full", receiver, message)
        return Status.MAILBOX_FULL

    def _put(self, endpoint: Endpoint, entry: Entry) -> bool:
        put = endpoint.mailbox.put(entry)
        self.routed += 1
        if put is Put.SCHEDULE:
            self.ready.push(endpoint)
        elif put is Put.FULL:  # filled between the room check and now by another thread
            self.dead_letters.keep(entry[0], endpoint.name, "mailbox full")
            self.error(ErrorClass.RESOURCE, "mailbox full", endpoint.name, entry[0])
            return False
        return True

    def send_from_platform(self, message: Message, cause: object) -> None:
        """Route a message the platform makes (a failure, a notice) on `cause`'s trace.

        The platform cannot wait, so a full mailbox turns it into a dead letter.
        """
        message["message_id"] = next(self._ids)
        tracer = self.tracer
        if tracer is None:
            message["trace"] = self._trace.child_of(cause)
        else:
            message["trace"] = tracer.routed(message, cause, self._trace)
        if self._route(message) == Status.MAILBOX_FULL:
            self.dead_letters.keep(message, _first(message["receiver"]), "mailbox full")

    # What the sender hears when delivery fails.

    def _undeliverable(self, message: Message, names: list[str]) -> int:
        for name in names:
            if name == PLATFORM:
                # An answer to the platform's own failure or notice: it wants none, and
                # answering it with another failure would bounce forever with an agent
                # that replies to everything.
                self.to_platform += 1
                continue
            if name in self._endpoints:
                reason = f"agent {name!r} is draining and accepts no new messages"
            else:
                reason = f"no agent named {name!r}"
            self.dead_letters.keep(message, name, reason)
            self.error(ErrorClass.ROUTING, reason, message.get("sender"), message)
            self._tell_sender(message, PLATFORM, ErrorClass.ROUTING, reason)
        return Status.OK

    def handler_failed(self, endpoint: Endpoint, messages: list[Message], error: Exception) -> None:
        """`endpoint`'s handler failed on `messages`: dead letters, and failures owed."""
        error_class = error.error_class if isinstance(error, HandlerError) else ErrorClass.SYSTEM
        reason = error.reason if isinstance(error, HandlerError) else repr(error)
        if self.on_handler_error is not None:
            self.on_handler_error(endpoint.name, error_class, reason)
        self.error(error_class, reason, endpoint.name, messages[0] if messages else None)
        failure = endpoint.stats.failure
        for message in messages:
            failure(message.get("performative", "?"), error_class)
            self.dead_letters.keep(message, endpoint.name, f"{error_class.value}: {reason}")
            if message.get("performative") in EXPECTS_ANSWER:
                self._tell_sender(message, endpoint.name, error_class, reason)

    def _tell_sender(
        self, message: Message, failed_by: str, error_class: ErrorClass, reason: str
    ) -> None:
        sender = message.get("sender")
        if sender not in self._endpoints or message.get("performative") in _NO_FAILURE_FOR:
            return
        failure = reply(message, "failure", failed_by, sender)
        failure["content"] = {"error": error_class.value, "reason": reason}
        self.send_from_platform(failure, message)

    def not_understood(self, sender: str, data: bytes, reason: str, context: object) -> None:
        """`sender` tried to send `data`, which is malformed: FIPA's answer holds it and why."""
        try:
            original: object = orjson.loads(data)
        except orjson.JSONDecodeError:
            original = data.decode("utf-8", "replace")
        self.dead_letters.keep({"malformed": original}, None, reason)
        # Logged with the message being handled: its conversation and trace.
        self.error(
            ErrorClass.VALIDATION, reason, sender, context if isinstance(context, dict) else None
        )
        answer = reply(
            original if isinstance(original, dict) else {}, "not-understood", PLATFORM, sender
        )
        answer["content"] = {"message": original, "reason": reason}
        self.send_from_platform(answer, context)

    # Time.

    def expire(self) -> None:
        """Send what the conversations owe because time passed (deadlines, timeouts)."""
        for message in self.conversations.expire():
            self.send_from_platform(message, None)
            if message.get("x-caxton-event") == "timeout":  # not a contract net's deadline
                reason = message["content"]["reason"]
                self.error(ErrorClass.TIMEOUT, reason, message.get("receiver"), message)

    # Errors.

    def error(
        self, error_class: ErrorClass, reason: str, agent: object, message: Message | None
    ) -> None:
        """Count an error by class, and tell `on_error` with its context.

        `agent` is the agent the error concerns; a name that is not a registered
        agent (an unknown receiver, an outside sender) is passed on as None, so
        that names made up by callers never become label values.
        """
        self.stats.errors[error_class] += 1
        hook = self.on_error
        if hook is not None:
            known = agent if isinstance(agent, str) and agent in self._endpoints else None
            hook(error_class, reason, known, message)


def _first(receivers: str | list[str]) -> str:
    return receivers if isinstance(receivers, str) else receivers[0]
