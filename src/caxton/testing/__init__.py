"""Testing agents: load a `.wasm` into an in-process runtime, talk to it, check what it did.

    def test_echo(caxton):                          # the pytest fixture: a Harness
        echo = caxton.load("build/echo.wasm", name="echo")
        turn = echo.request({"x": 1})               # a request from "tester"
        assert turn.reply()["content"] == {"x": 1}  # the one message back to "tester"

The agents run in the same sandbox as on a server (ABI v1, fuel, memory and
deadline limits), with the platform's parts replaced by recording ones:

- `Agent.handle(message)` delivers one message, and then the answers to the
  tool calls it made; what it sent is recorded in the `Turn`, not delivered,
  so each agent can be tested alone.
- `Harness.run(message)` delivers a message and routes everything sent among
  the loaded agents until nothing is left: a whole conversation. Messages to
  names that are not loaded ("tester", say) are kept in the `Conversation`.
- `Harness.tools.stub("server/tool", answer)` stands in for an MCP tool: a
  `tool_call` of it is answered as the server answers, an `inform` from
  "caxton" `in_reply_to` the call's `reply_with`; a tool without a stub is
  refused with -4, as a tool the agent was not granted.
- `Agent.kv` is the agent's durable key-value state, `Agent.capabilities`
  what it registered, `Agent.logs` every line it logged.
- `Turn.fuel_used` and `Turn.elapsed_ms` measure a turn; `Harness.load`
  takes `fuel`, `memory_bytes` and `deadline_ms` to hold an agent to a budget.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from caxton.acl import EXPECTS_ANSWER, reply
from caxton.errors import HandlerError
from caxton.module_files import read_module
from caxton.router.conversations import PLATFORM
from caxton.runtime import InMemoryKeyValueStore, LogLevel, Runtime, RuntimeConfig, Sandbox, Status

__all__ = ["TESTER", "Agent", "Conversation", "Harness", "ToolFailure", "ToolStubs", "Turn"]

Message = dict[str, Any]
ToolAnswer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]

TESTER: Final = "tester"
_MAX_DELIVERIES: Final = 10_000


class ToolFailure(Exception):
    """Raised by a stub function to answer the call with a `failure` (`error` is its kind)."""

    def __init__(self, reason: str, error: str = "tool-error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


@dataclass
class Turn:
    """What one delivery (and the tool answers it brought) made the agent do."""

    message: Message
    sent: list[Message] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    fuel_used: int = 0
    elapsed_ms: float = 0.0
    error: str | None = None
    """`<class>: <reason>` when a handler failed (a trap, fuel, deadline, non-zero result)"""

    @property
    def ok(self) -> bool:
        return self.error is None

    def reply(self, to: str | None = None) -> Message:
        """The one message sent back to `to` (the delivered message's sender by default)."""
        who = to or self.message.get("sender")
        found = [message for message in self.sent if who in _receivers(message)]
        if len(found) != 1:
            raise AssertionError(
                f"expected one message to {who!r}, got {len(found)}; "
                f"error: {self.error}; sent: {self.sent}; logs: {self.logs}"
            )
        return found[0]


@dataclass
class Conversation:
    """Everything routed by `Harness.run`, in order."""

    messages: list[Message] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    deliveries: int = 0

    def to(self, name: str) -> list[Message]:
        return [message for message in self.messages if name in _receivers(message)]

    def performatives(self) -> list[str]:
        return [str(message.get("performative")) for message in self.messages]


class ToolStubs:
    """MCP tools stood in for: what each answers, and every call made."""

    def __init__(self) -> None:
        self._answers: dict[str, ToolAnswer] = {}
        self.calls: list[dict[str, Any]] = []

    def stub(self, tool: str, answer: ToolAnswer) -> None:
        """`answer`: the tool's result (`{"content": [...], "structured": ...}`), or a function
        of the call's arguments returning one (raising `ToolFailure` to fail the call)."""
        self._answers[tool] = answer

    def answer(self, agent: str, call: dict[str, Any], context: Message) -> Message:
        """The platform's answer to `call` by `agent`, made in handling `context`."""
        tool = str(call.get("tool"))
        answer = self._answers[tool]
        message: Message = {
            "sender": PLATFORM,
            "receiver": agent,
            "in_reply_to": call.get("reply_with"),
            "x-caxton-tool": tool,
        }
        if "conversation_id" in context:
            message["conversation_id"] = context["conversation_id"]
        try:
            result = answer(call.get("arguments") or {}) if callable(answer) else answer
        except ToolFailure as failure:
            message["performative"] = "failure"
            message["content"] = {"error": failure.error, "reason": failure.reason, "tool": tool}
            return message
        message["performative"] = "inform"
        message["content"] = {"tool": tool, **dict(result)}
        return message

    def has(self, tool: object) -> bool:
        return isinstance(tool, str) and tool in self._answers


class Agent:
    """One loaded agent."""

    def __init__(self, harness: Harness, name: str) -> None:
        self._harness = harness
        self.name = name
        self.kv = _KeyValues(InMemoryKeyValueStore(quota_bytes=64 * 1024 * 1024))
        self.capabilities: list[dict[str, Any]] = []
        self.logs: list[tuple[str, str]] = []
        # What it sent from caxton_init, before any turn (a server would route these).
        self.sent_at_init: list[Message] = []
        self.sandbox: Sandbox | None = None

    def handle(self, message: Message) -> Turn:
        """Deliver `message` (from "tester" unless it says), then the answers to its tool calls."""
        prepared = _addressed({"sender": TESTER, **message}, self.name)
        return self._harness._turn(self, prepared)

    def request(self, content: Any = None, *, performative: str = "request", **fields: Any) -> Turn:
        """A `request` (or `performative`) carrying `content`, with `reply_with` filled in."""
        message: Message = {"performative": performative, "reply_with": uuid.uuid4().hex, **fields}
        if content is not None:
            message["content"] = content
        return self.handle(message)


class Harness:
    """Agents in one in-process runtime; close it (the fixture does) to free them."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._owned = runtime is None
        self.runtime = runtime or Runtime(RuntimeConfig.from_environment(os.environ))
        self.agents: dict[str, Agent] = {}
        self.tools = ToolStubs()
        self._turn_now: Turn | None = None
        self._agent_now: Agent | None = None

    def load(
        self,
        wasm: str | os.PathLike[str] | bytes,
        *,
        name: str = "agent",
        config: Mapping[str, Any] | None = None,
        fuel: int | None = None,
        memory_bytes: int | None = None,
        deadline_ms: int | None = None,
    ) -> Agent:
        """Instantiate a module (`.wasm`, `.wat`, or bytes) as `name` and run its `caxton_init`.

        Raises `ModuleRejected` or `AgentInitFailed` as a server would refuse it.
        """
        changes = {"fuel_per_message": fuel, "memory_bytes": memory_bytes,
                   "deadline_ms": deadline_ms}  # fmt: skip
        limits = self.runtime.config.default_limits.override(
            self.runtime.config.memory,
            **{key: value for key, value in changes.items() if value is not None},
        )
        module = self.runtime.load(_module_bytes(wasm), memory_bytes=limits.memory_bytes)
        agent = Agent(self, name)
        self.agents[name] = agent
        agent.sandbox = self.runtime.instantiate(
            module,
            name=name,
            host=_Host(self, agent),
            kv=agent.kv.store,
            config=config,
            limits=limits,
        )
        return agent

    def run(self, message: Message, *, max_deliveries: int = _MAX_DELIVERIES) -> Conversation:
        """Deliver `message` and route what follows among the loaded agents until quiet."""
        conversation = Conversation()
        queue: deque[Message] = deque([_addressed({"sender": TESTER, **message}, None)])
        while queue:
            current = queue.popleft()
            conversation.messages.append(current)
            for receiver in _receivers(current):
                agent = self.agents.get(receiver)
                if agent is None:
                    continue
                if conversation.deliveries >= max_deliveries:
                    conversation.errors.append(f"stopped after {max_deliveries} deliveries")
                    return conversation
                conversation.deliveries += 1
                turn = self._turn(agent, current)
                if turn.error is not None:
                    conversation.errors.append(f"{receiver}: {turn.error}")
                queue.extend(turn.sent)
        return conversation

    def close(self) -> None:
        for agent in self.agents.values():
            if agent.sandbox is not None:
                self.runtime.remove(agent.sandbox)
        self.agents.clear()
        if self._owned:
            self.runtime.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # One turn: the message, then the tool answers it caused.

    def _turn(self, agent: Agent, message: Message) -> Turn:
        turn = Turn(message)
        pending: deque[Message] = deque([message])
        while pending:
            delivered = pending.popleft()
            calls_before = len(turn.tool_calls)
            self._deliver(agent, delivered, turn)
            for call in turn.tool_calls[calls_before:]:
                pending.append(self.tools.answer(agent.name, call, delivered))
        return turn

    def _deliver(self, agent: Agent, message: Message, turn: Turn) -> None:
        assert agent.sandbox is not None
        self._turn_now, self._agent_now = turn, agent
        started = time.perf_counter()
        try:
            turn.fuel_used += agent.sandbox.handle(orjson.dumps(message), message)
        except HandlerError as error:
            turn.error = f"{error.error_class.value}: {error.reason}"
            failure = _failure_for(agent.name, message, error)
            if failure is not None:
                turn.sent.append(failure)
        finally:
            turn.elapsed_ms += (time.perf_counter() - started) * 1000
            self._turn_now = self._agent_now = None


@dataclass(slots=True)
class _Host:
    """The platform, as one agent sees it: everything recorded in the current turn."""

    harness: Harness
    agent: Agent

    def _turn(self) -> Turn | None:
        return self.harness._turn_now if self.harness._agent_now is self.agent else None

    def send(self, message: dict[str, Any], context: object) -> int:
        message.setdefault("conversation_id", uuid.uuid4().hex)
        message["message_id"] = uuid.uuid4().hex
        turn = self._turn()
        (turn.sent if turn is not None else self.agent.sent_at_init).append(message)
        return Status.OK

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        self.log(LogLevel.ERROR, f"send refused (-1): {reason}", context)

    def log(self, level: LogLevel, text: str, context: object) -> None:
        line = (level.name.lower(), text)
        self.agent.logs.append(line)
        turn = self._turn()
        if turn is not None:
            turn.logs.append(line)

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        self.harness.tools.calls.append({"agent": self.agent.name, **request})
        if not self.harness.tools.has(request.get("tool")):
            return Status.NOT_PERMITTED
        turn = self._turn()
        if turn is not None:
            turn.tool_calls.append(request)
        return Status.OK

    def register_capability(self, capability: dict[str, Any]) -> int:
        self.agent.capabilities.append(capability)
        return Status.OK


class _KeyValues(MutableMapping[str, bytes]):
    """The agent's key-value state, as a dict of str keys and bytes values."""

    def __init__(self, store: InMemoryKeyValueStore) -> None:
        self.store = store

    def __getitem__(self, key: str) -> bytes:
        value = self.store.get(key.encode())
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: bytes) -> None:
        if not self.store.set(key.encode(), value):
            raise ValueError(f"{key!r}: over the agent's key-value quota")

    def __delitem__(self, key: str) -> None:
        if self.store.get(key.encode()) is None:
            raise KeyError(key)
        self.store.delete(key.encode())

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(key.decode() for key in self.store.items()))

    def __len__(self) -> int:
        return len(self.store.items())

    def json(self, key: str) -> Any:
        """The value at `key`, parsed as JSON."""
        return orjson.loads(self[key])


def _module_bytes(wasm: str | os.PathLike[str] | bytes) -> bytes:
    return wasm if isinstance(wasm, bytes) else read_module(Path(wasm))


def _addressed(message: Message, receiver: str | None) -> Message:
    """A message as the router delivers it: a receiver, a conversation, an id."""
    if receiver is not None:
        message.setdefault("receiver", receiver)
    message.setdefault("conversation_id", uuid.uuid4().hex)
    message.setdefault("message_id", uuid.uuid4().hex)
    return message


def _receivers(message: Message) -> list[str]:
    receivers = message.get("receiver")
    if isinstance(receivers, str):
        return [receivers]
    return [item for item in receivers or () if isinstance(item, str)]


def _failure_for(agent: str, message: Message, error: HandlerError) -> Message | None:
    """ABI v1: a failed handler owes a sender waiting for an answer a `failure`, threaded to
    the message as the server's router threads it."""
    sender = message.get("sender")
    if message.get("performative") not in EXPECTS_ANSWER or not isinstance(sender, str):
        return None
    failure = reply(message, "failure", agent, sender)
    failure["content"] = {"error": error.error_class.value, "reason": error.reason}
    return failure
