"""The external invocation gateway: HTTP callers talk to agents as the agent `gateway`.

`invoke` sends a request in a conversation of its own and waits for the
answer that ends it. The gateway is a `Recipient` on the router like any
agent, so answers reach it through a mailbox and a dispatcher turn; the
waiting happens on the event loop, never on a dispatcher thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

import orjson

from caxton.acl import validate_message
from caxton.router import Router
from caxton.runtime import Status

GATEWAY: Final = "gateway"
# Answers that do not end a request: the gateway keeps waiting after them.
_INTERIM: Final = frozenset({"agree"})


class AgentBusy(Exception):
    """The agent's mailbox is full: try again shortly."""

    def __init__(self, agent: str) -> None:
        super().__init__(f"agent {agent!r} has a full mailbox; retry shortly")
        self.agent = agent


class InvokeTimeout(TimeoutError):
    def __init__(self, agent: str, timeout_s: float) -> None:
        super().__init__(f"agent {agent!r} did not answer within {timeout_s:g} s")
        self.agent = agent
        self.timeout_s = timeout_s


@dataclass(frozen=True, slots=True)
class Answer:
    reply: dict[str, Any]
    conversation_id: str
    elapsed_ms: float


class Gateway:
    """What the router delivers to for `gateway`: answers matched to waiting callers."""

    accepts_batches = False

    def __init__(self, router: Router) -> None:
        self._router = router
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self.unmatched = 0

    def attach(self) -> None:
        self._router.register(self._router.endpoint(GATEWAY), self)

    # Recipient: called on a dispatcher thread.

    def handle(self, message: bytes, context: object = None) -> int:
        answer = orjson.loads(message)
        conversation = answer.get("conversation_id")
        with self._lock:
            waiter = self._waiting.get(conversation) if conversation else None
            if waiter is not None and answer.get("performative") not in _INTERIM:
                del self._waiting[conversation]
        if waiter is None:
            self.unmatched += 1  # late, or an answer to a message sent with `send`
            return 0
        loop, future = waiter
        loop.call_soon_threadsafe(_settle, future, answer)
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        raise AssertionError("the gateway takes messages one at a time")

    # The event loop's side.

    async def invoke(self, agent: str, fields: dict[str, Any], timeout_s: float) -> Answer:
        """Send `fields` (performative, content..., none of them None) to `agent`; the
        answer that ends it.

        Raises `InvalidMessage` for a message that breaks the rules (it names
        the field), `AgentBusy` for a full mailbox, and `InvokeTimeout`.
        """
        conversation = f"invoke-{uuid.uuid4().hex}"
        message = {
            **fields,
            "sender": GATEWAY,
            "receiver": agent,
            "conversation_id": conversation,
            "reply_with": conversation,
        }
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting[conversation] = (loop, future)
        started = time.perf_counter()
        try:
            self.post(message)
            reply = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise InvokeTimeout(agent, timeout_s) from None
        finally:
            with self._lock:
                self._waiting.pop(conversation, None)
        return Answer(reply, conversation, (time.perf_counter() - started) * 1000)

    def post(self, message: dict[str, Any]) -> None:
        """Route `message` from outside any agent, checked first; raises as `invoke` does."""
        message.setdefault("sender", GATEWAY)
        validate_message(message)
        if self._router.post(message) == Status.MAILBOX_FULL:
            receiver = message["receiver"]
            raise AgentBusy(receiver if isinstance(receiver, str) else ", ".join(receiver))


def _settle(future: asyncio.Future[Any], answer: dict[str, Any]) -> None:
    if not future.done():
        future.set_result(answer)
