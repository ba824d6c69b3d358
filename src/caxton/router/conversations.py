"""Conversation tracking: ids, reply threading, protocol verdicts and timeouts.

The router calls `ConversationManager.observe` once for every message it
routes, before delivery, so the common case (a conversation that follows no
tracked protocol) is kept to a few dict operations under one lock. Messages
of `fipa-request`, `fipa-query`, `fipa-contract-net` and
`fipa-iterated-contract-net` conversations go through the state machines of
`caxton.acl.protocols`, which say whether each is in sequence.

Memory is bounded three ways: conversations idle for `idle_timeout_s` are
dropped by `expire`; beyond `max_conversations` the least recently active one
is evicted (an OrderedDict kept in activity order, so both are O(1)); the map
from `reply_with` to conversation, used to thread replies that carry no
`conversation_id`, keeps only the newest entries.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from caxton.acl.protocols import (
    TRACKED,
    DeadlinePassed,
    Event,
    Kind,
    Machine,
    NoAnswer,
    Ruling,
    start,
)
from caxton.acl.replies import reply

Message = dict[str, Any]

# The sender name of messages the platform itself sends; no agent may register it.
PLATFORM: Final = "caxton"
# reply_with entries remembered per conversation allowed, on average.
_THREADS_PER_CONVERSATION: Final = 4


class Outcome(enum.Enum):
    DELIVER = "deliver"
    REFUSE = "refuse"  # out of sequence: a not-understood goes back to the sender
    LATE = "late"  # a proposal after the cfp's reply_by: a reject-proposal goes back


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str = ""
    reply: Message | None = None  # a complete ACL message the router must route back


DELIVERED: Final = Verdict(Outcome.DELIVER)


@dataclass(slots=True)
class Conversation:
    """A snapshot of one conversation, as the API shows it."""

    id: str
    initiator: str
    participants: set[str]
    protocol: str | None
    state: str  # "open" without a tracked protocol; else the earliest open stage, or "done"
    started: float
    last_activity: float
    messages: int  # delivered
    refused: int = 0  # refused as out of sequence or late
    branches: dict[str, int] = field(default_factory=dict)  # participants per protocol stage
    next_deadline: float | None = None


class _Record:
    __slots__ = (
        "id",
        "idle_at",
        "initiator",
        "last_activity",
        "machine",
        "members",
        "messages",
        "protocol",
        "refused",
        "scheduled",
        "started",
    )

    def __init__(self, cid: str, initiator: str, protocol: str | None, now: float) -> None:
        self.id = cid
        self.initiator = initiator
        self.protocol = protocol
        self.machine: Machine | None = None
        self.members: set[str] = set()
        self.started = now
        self.last_activity = now
        self.idle_at = now
        self.messages = 0
        self.refused = 0
        self.scheduled: float | None = None  # the deadline this record is in the heap for


class ConversationManager:
    """Thread-safe: every method takes the one lock, briefly."""

    def __init__(
        self,
        *,
        idle_timeout_s: float = 300.0,
        max_conversations: int = 100_000,
        clock: Callable[[], float] = time.time,
        id_prefix: str | None = None,
    ) -> None:
        if idle_timeout_s <= 0:
            raise ValueError(f"idle_timeout_s must be positive, got {idle_timeout_s}")
        if max_conversations < 1:
            raise ValueError(f"max_conversations must be at least 1, got {max_conversations}")
        self._idle = idle_timeout_s
        self._max = max_conversations
        self._clock = clock
        self._lock = threading.Lock()
        # Least recently active first.
        self._live: OrderedDict[str, _Record] = OrderedDict()
        self._threads: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._max_threads = _THREADS_PER_CONVERSATION * max_conversations
        self._deadlines: list[tuple[float, int, _Record]] = []
        self._seq = itertools.count()
        # A random prefix and a counter: unique, and far cheaper than a uuid per conversation.
        prefix = f"{secrets.token_hex(5)}-" if id_prefix is None else id_prefix
        self._ids = map(prefix.__add__, map(str, itertools.count(1)))
        # Hears of each conversation dropped as idle (the server keeps it in the store).
        self.sink: Callable[[Conversation], None] | None = None

    def __len__(self) -> int:
        return len(self._live)

    def get(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            record = self._live.get(conversation_id)
            return None if record is None else _snapshot(record)

    def snapshots(self) -> list[Conversation]:
        """Every live conversation, least recently active first."""
        with self._lock:
            return [_snapshot(record) for record in self._live.values()]

    # Messages.

    def observe(self, message: Message) -> Verdict:
        """Judge one routed message (valid, `sender` and `message_id` set) before delivery.

        Assigns `conversation_id` when the message has none. Never raises for
        a message in the ABI form.
        """
        now = self._clock()
        with self._lock:
            cid = message.get("conversation_id")
            if cid is None:
                cid = self._assign(message)
            record = self._live.get(cid)
            if record is None:
                return self._first(cid, message, now)
            if (
                record.machine is None
                and message.get("protocol", record.protocol) == record.protocol
            ):
                self._live.move_to_end(cid)
                self._delivered(record, message, now)
                return DELIVERED
            return self._judge(record, message, now)

    def _assign(self, message: Message) -> str:
        in_reply_to = message.get("in_reply_to")
        if in_reply_to is not None:
            cid = self._threads.get((_first_receiver(message), in_reply_to))
            if cid is not None:
                message["conversation_id"] = cid
                return cid
        cid = next(self._ids)
        message["conversation_id"] = cid
        return cid

    def _first(self, cid: str, message: Message, now: float) -> Verdict:
        """A message of a conversation not seen before (or forgotten)."""
        sender: str = message.get("sender", "")
        protocol = message.get("protocol")
        machine = None
        if message.get("performative") == "not-understood":
            protocol = None  # it answers a message; it does not fix the conversation's protocol
        elif protocol in TRACKED:
            started = _start(protocol, message, sender, now)
            if isinstance(started, Ruling):
                return _verdict(started, message, protocol)
            machine = started
        record = _Record(cid, sender, protocol, now)
        record.machine = machine
        self._live[cid] = record
        if len(self._live) > self._max:
            self._live.popitem(last=False)
        self._delivered(record, message, now)
        self._schedule(record)
        return DELIVERED

    def _judge(self, record: _Record, message: Message, now: float) -> Verdict:
        sender: str = message.get("sender", "")
        protocol = message.get("protocol")
        if message.get("performative") == "not-understood":
            if record.machine is not None:
                record.machine.step(message, sender, _receivers(message), now)
        elif protocol is not None and protocol != record.protocol:
            if record.protocol is not None:
                record.refused += 1
                reason = f"conversation {record.id} follows {record.protocol}, not {protocol}"
                return _verdict(Ruling(Kind.OUT_OF_SEQUENCE, reason), message, protocol)
            if protocol in TRACKED:
                started = _start(protocol, message, sender, now)
                if isinstance(started, Ruling):
                    record.refused += 1
                    return _verdict(started, message, protocol)
                record.machine = started
                record.initiator = sender
            record.protocol = protocol
        elif record.machine is not None:
            ruling = record.machine.step(message, sender, _receivers(message), now)
            if ruling.kind is not Kind.ACCEPT:
                record.refused += 1
                return _verdict(ruling, message, protocol or record.protocol)
        self._live.move_to_end(record.id)
        self._delivered(record, message, now)
        self._schedule(record)
        return DELIVERED

    def _delivered(self, record: _Record, message: Message, now: float) -> None:
        record.messages += 1
        record.last_activity = now
        record.idle_at = now + self._idle
        sender = message.get("sender")
        members = record.members
        if sender is not None:  # messages posted from outside may have none
            members.add(sender)
        receiver = message["receiver"]
        if receiver.__class__ is str:
            members.add(receiver)
        else:
            members.update(receiver)
        reply_with = message.get("reply_with")
        if reply_with is not None and sender is not None:
            threads = self._threads
            threads[(sender, reply_with)] = record.id
            if len(threads) > self._max_threads:
                threads.popitem(last=False)

    # Time.

    def next_deadline(self) -> float | None:
        """When `expire` next has something to do (it may find nothing, never miss anything)."""
        with self._lock:
            deadline = self._deadlines[0][0] if self._deadlines else None
            if self._live:
                idle_at = next(iter(self._live.values())).idle_at
                if deadline is None or idle_at < deadline:
                    deadline = idle_at
            return deadline

    def expire(self) -> list[Message]:
        """The messages owed because time passed; drops idle conversations."""
        now = self._clock()
        owed: list[Message] = []
        with self._lock:
            self._pass_deadlines(now, owed)
            dropped = self._drop_idle(now)
        sink = self.sink
        if sink is not None:
            for record in dropped:
                sink(_snapshot(record))
        return owed

    def _schedule(self, record: _Record) -> None:
        machine = record.machine
        if machine is None:
            return
        deadline = machine.next_deadline()
        if deadline is not None and (record.scheduled is None or deadline < record.scheduled):
            record.scheduled = deadline
            heapq.heappush(self._deadlines, (deadline, next(self._seq), record))
            if len(self._deadlines) > 2 * len(self._live) + 64:
                self._compact_deadlines()

    def _compact_deadlines(self) -> None:
        """Forget heap entries of evicted conversations, which would otherwise pile up."""
        entries = []
        for record in self._live.values():
            if record.scheduled is not None:
                entries.append((record.scheduled, next(self._seq), record))
        heapq.heapify(entries)
        self._deadlines = entries

    def _pass_deadlines(self, now: float, owed: list[Message]) -> None:
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            deadline, _, record = heapq.heappop(heap)
            if record.scheduled != deadline or self._live.get(record.id) is not record:
                continue  # superseded by an earlier deadline, or the conversation is gone
            record.scheduled = None
            assert record.machine is not None  # only machines schedule deadlines
            events = record.machine.expire(now)
            for event in events:
                owed.append(_notice(record, event))
            if events:  # the platform spoke in the conversation: that is activity
                record.last_activity = now
                record.idle_at = now + self._idle
                self._live.move_to_end(record.id)
            self._schedule(record)

    def _drop_idle(self, now: float) -> list[_Record]:
        live = self._live
        dropped: list[_Record] = []
        for _ in range(len(live)):
            record = next(iter(live.values()))
            if record.idle_at > now:
                break
            if record.scheduled is not None:
                # A deadline still to come keeps it: its initiator waits for the notice.
                # The activity order is then only nearly sorted, which costs at worst a
                # late drop, never a missed deadline.
                record.idle_at = record.scheduled + self._idle
                live.move_to_end(record.id)
            else:
                del live[record.id]
                dropped.append(record)
        return dropped


def _start(protocol: str, message: Message, sender: str, now: float) -> Machine | Ruling:
    if not sender:
        return Ruling(Kind.OUT_OF_SEQUENCE, f"{protocol}: a conversation needs a sender to answer")
    return start(protocol, message, sender, _receivers(message), now)


def _receivers(message: Message) -> list[str]:
    receiver = message["receiver"]
    if isinstance(receiver, str):
        return [receiver]
    return list(dict.fromkeys(receiver))  # the router delivers a repeated name once


def _first_receiver(message: Message) -> str:
    receiver = message["receiver"]
    return receiver if isinstance(receiver, str) else receiver[0]


def _verdict(ruling: Ruling, message: Message, protocol: str | None) -> Verdict:
    if "sender" not in message:  # nobody to answer
        outcome = Outcome.LATE if ruling.kind is Kind.LATE else Outcome.REFUSE
        return Verdict(outcome, ruling.reason)
    if ruling.kind is Kind.LATE:
        # SC00029: the initiator rejects late proposals; the host does it in its name.
        late = _reply_to(message, "reject-proposal", protocol)
        late["content"] = {"reason": ruling.reason}
        return Verdict(Outcome.LATE, ruling.reason, late)
    # FIPA's not-understood holds the original message and why (SC00037).
    refusal = _reply_to(message, "not-understood", protocol)
    refusal["content"] = {"message": dict(message), "reason": ruling.reason}
    return Verdict(Outcome.REFUSE, ruling.reason, refusal)


def _reply_to(message: Message, performative: str, protocol: str | None) -> Message:
    """An answer to `message` in the name of its (first) receiver, threaded to it."""
    answer = reply(message, performative, _first_receiver(message), message["sender"])
    if protocol is not None:
        answer["protocol"] = protocol
    return answer


def _notice(record: _Record, event: Event) -> Message:
    if isinstance(event, DeadlinePassed):
        notice: Message = {
            "performative": "inform",
            "sender": PLATFORM,
            "receiver": event.initiator,
            "conversation_id": record.id,
            "protocol": record.protocol,
            "x-caxton-event": "deadline",
            "content": {
                "reply_by": event.reply_by,
                "proposals": event.proposals,
                "refusals": event.refusals,
                "failures": event.failures,
                "silent": event.silent,
            },
        }
    else:
        notice = _timeout(record, event)
    if event.in_reply_to is not None:
        notice["in_reply_to"] = event.in_reply_to
    return notice


def _timeout(record: _Record, event: NoAnswer) -> Message:
    return {
        "performative": "failure",
        "sender": PLATFORM,
        "receiver": event.initiator,
        "conversation_id": record.id,
        "protocol": record.protocol,
        "x-caxton-event": "timeout",
        "content": {
            "reason": f"no answer from {', '.join(event.names)} by reply_by {event.reply_by}"
        },
    }


def _snapshot(record: _Record) -> Conversation:
    machine = record.machine
    if machine is None:
        participants = record.members - {record.initiator}
        state, branches, deadline = "open", {}, None
    else:
        participants = set(machine.participants)
        state, branches, deadline = machine.state, machine.stages(), machine.next_deadline()
    return Conversation(
        id=record.id,
        initiator=record.initiator,
        participants=participants,
        protocol=record.protocol,
        state=state,
        started=record.started,
        last_activity=record.last_activity,
        messages=record.messages,
        refused=record.refused,
        branches=branches,
        next_deadline=deadline,
    )
