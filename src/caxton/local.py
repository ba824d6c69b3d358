"""In-process delivery between a few sandboxes, on one thread, without a server.

This is what `caxton agent run` and the demo use: messages go into one FIFO
queue and are handled in the order they were sent, and everything that
happens is reported as an event (a plain dict, one JSON object per line on
the command line). The server's router does the same job with mailboxes,
back-pressure and both cores.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from caxton.acl import EXPECTS_ANSWER
from caxton.errors import HandlerError
from caxton.runtime import (
    AgentModule,
    InMemoryKeyValueStore,
    Limits,
    LogLevel,
    Runtime,
    Sandbox,
    Status,
)

Event = dict[str, Any]
EventSink = Callable[[Event], None]

# Local runs are short: a bounded queue turns a self-send loop into an error instead of a hang.
DEFAULT_MAX_DELIVERIES = 10_000


@dataclass(slots=True)
class _LocalHost:
    """The `AgentHost` of one agent in a `LocalNetwork`."""

    network: LocalNetwork
    name: str

    def send(self, message: dict[str, Any], context: object) -> int:
        return self.network.route(message)

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        self.network.emit(
            {
                "event": "error",
                "agent": self.name,
                "class": "validation",
                "reason": f"send refused: {reason}",
                "data": data.decode("utf-8", "replace"),
            }
        )

    def log(self, level: LogLevel, text: str, context: object) -> None:
        self.network.emit(
            {"event": "log", "agent": self.name, "level": level.name.lower(), "text": text}
        )

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        self.network.emit({"event": "tool_call", "agent": self.name, "request": request})
        return Status.NOT_PERMITTED

    def register_capability(self, capability: dict[str, Any]) -> int:
        self.network.emit({"event": "capability", "agent": self.name, "capability": capability})
        return Status.OK


class LocalNetwork:
    """A handful of named agents exchanging messages through one queue."""

    def __init__(
        self,
        runtime: Runtime,
        emit: EventSink,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
    ) -> None:
        self._runtime = runtime
        self.emit = emit
        self._max_deliveries = max_deliveries
        self.agents: dict[str, Sandbox] = {}
        self.state: dict[str, InMemoryKeyValueStore] = {}
        self._queue: deque[tuple[str, dict[str, Any]]] = deque()

    def start(
        self,
        module: AgentModule,
        name: str,
        config: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> Sandbox:
        """Instantiate and initialise an agent; raises `AgentInitFailed`."""
        kv = InMemoryKeyValueStore(
            quota_bytes=(limits or self._runtime.config.default_limits).max_outbound_bytes
        )
        self.state[name] = kv
        sandbox = self._runtime.instantiate(
            module, name=name, host=_LocalHost(self, name), kv=kv, config=config, limits=limits
        )
        self.agents[name] = sandbox
        return sandbox

    def route(self, message: dict[str, Any]) -> int:
        """Queue `message` for every local receiver; others are only reported."""
        message.setdefault("conversation_id", uuid.uuid4().hex)
        message["message_id"] = uuid.uuid4().hex
        self.emit({"event": "sent", "message": message})
        receivers = message["receiver"]
        for receiver in receivers if isinstance(receivers, list) else [receivers]:
            if receiver in self.agents:
                self._queue.append((receiver, message))
        return Status.OK

    def post(self, message: dict[str, Any]) -> None:
        """Deliver an operator's message (from outside any agent) through the queue."""
        message.setdefault("message_id", uuid.uuid4().hex)
        receivers = message.get("receiver")
        for receiver in receivers if isinstance(receivers, list) else [receivers]:
            if isinstance(receiver, str) and receiver in self.agents:
                self._queue.append((receiver, message))
            else:
                self.emit(
                    {
                        "event": "error",
                        "class": "routing",
                        "reason": f"no agent named {receiver!r} here",
                        "message": message,
                    }
                )

    def run(self, messages: Iterable[dict[str, Any]] = ()) -> int:
        """Deliver `messages` and everything they cause, in order; returns deliveries made."""
        for message in messages:
            self.post(message)
        delivered = 0
        while self._queue:
            if delivered >= self._max_deliveries:
                self.emit(
                    {
                        "event": "error",
                        "class": "resource",
                        "reason": f"stopped after {delivered} deliveries; "
                        f"{len(self._queue)} messages still queued",
                    }
                )
                self._queue.clear()
                break
            receiver, message = self._queue.popleft()
            self._deliver(receiver, message)
            delivered += 1
        return delivered

    def _deliver(self, receiver: str, message: dict[str, Any]) -> None:
        sandbox = self.agents[receiver]
        try:
            fuel = sandbox.handle(orjson.dumps(message), message)
        except HandlerError as error:
            self.emit(
                {
                    "event": "error",
                    "agent": receiver,
                    "class": error.error_class.value,
                    "reason": error.reason,
                    "message_id": message.get("message_id"),
                }
            )
            self._answer_failure(receiver, message, error)
            return
        self.emit(
            {
                "event": "handled",
                "agent": receiver,
                "message_id": message.get("message_id"),
                "fuel": fuel,
            }
        )

    def _answer_failure(self, receiver: str, message: dict[str, Any], error: HandlerError) -> None:
        """ABI v1: a failed handler owes a waiting sender a `failure`."""
        sender = message.get("sender")
        if message.get("performative") not in EXPECTS_ANSWER or not isinstance(sender, str):
            return
        failure: dict[str, Any] = {
            "performative": "failure",
            "sender": receiver,
            "receiver": sender,
            "content": {"error": error.error_class.value, "reason": error.reason},
            "conversation_id": message.get("conversation_id", uuid.uuid4().hex),
        }
        if "reply_with" in message:
            failure["in_reply_to"] = message["reply_with"]
        self.route(failure)
