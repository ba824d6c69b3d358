"""The messages routed lately, in memory and bounded, for the API to list and stream.

    history = MessageHistory(10_000, clock=router.clock)
    router.on_route = history.record            # every message accepted for delivery
    history.recent(50, agent="buyer")           # the newest 50 to or from buyer
    history.conversation("c-17")                # one conversation, in order
    new = history.wait_after(seq, timeout=15.0) # blocks: run it in a thread

Each record gets a sequence number, 1, 2, 3... in the order `record` was
called, counting again from 1 in each process. The oldest records go once
`capacity` are kept; capacity 0 keeps nothing and `record` returns at once.

`record` runs on whatever thread routes the message (agents' worker threads,
the event loop for the API's own sends), so it stays O(1): one lock, one deque
append, and a notify only when a consumer is waiting. Queries copy what they
need under the lock and filter outside it, so a slow filter never holds up
routing.

Live streaming (an SSE endpoint): `wait_after(seq, timeout)` blocks until a
record newer than `seq` exists, or the timeout passes, and returns every
record after `seq`; the consumer filters them (`HistoryRecord.matches`) and
calls again with the last seq it saw. From asyncio, run it in a thread
(`await asyncio.to_thread(history.wait_after, seq, 15.0)`): it waits on a
`threading.Condition`, so no one polls. Each waiting consumer holds a thread
while it waits; `close()` wakes them all at shutdown.

Rejected: waking asyncio consumers from `record` with
`loop.call_soon_threadsafe` (no thread per consumer, but every record would
pay a call per waiting loop, and the history would have to know about event
loops); indexing records by agent and conversation (a dict update per
receiver in `record`, for queries the API makes rarely over a few thousand
records at most).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import Any, NamedTuple

Message = dict[str, Any]
# What the deque holds: (seq, at, message). A plain tuple costs ~25 ns to make
# where a NamedTuple costs ~200: records become `HistoryRecord`s when queried.
_Entry = tuple[int, float, Message]


class HistoryRecord(NamedTuple):
    seq: int
    at: float  # the router's clock when the message was routed
    message: Message

    @property
    def conversation_id(self) -> str | None:
        cid = self.message.get("conversation_id")
        return cid if isinstance(cid, str) else None

    def involves(self, agent: str) -> bool:
        """`agent` sent the message or is one of its receivers."""
        message = self.message
        if message.get("sender") == agent:
            return True
        receiver = message.get("receiver")  # a name or a list of names (ABI v1)
        if isinstance(receiver, str):
            return receiver == agent
        return isinstance(receiver, list) and agent in receiver

    def matches(self, agent: str | None = None, conversation: str | None = None) -> bool:
        """Whether the record passes both filters (None lets everything through)."""
        return (agent is None or self.involves(agent)) and (
            conversation is None or self.message.get("conversation_id") == conversation
        )


class MessageHistory:
    """The last `capacity` messages routed, each with its sequence number and time."""

    def __init__(self, capacity: int, *, clock: Callable[[], float] = time.time) -> None:
        if capacity < 0:
            raise ValueError(f"history capacity must be 0 (off) or more, got {capacity}")
        self._capacity = capacity
        self._clock = clock
        self._records: deque[_Entry] = deque(maxlen=capacity)
        self._seq = 0
        self._lock = threading.Lock()
        self._new = threading.Condition(self._lock)
        self._waiting = 0
        self._closed = False

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def enabled(self) -> bool:
        return self._capacity > 0

    @property
    def last_seq(self) -> int:
        """The seq of the newest record; 0 before the first."""
        return self._seq

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        """How many `wait_after` calls are asleep now (live consumers, for a gauge)."""
        return self._waiting

    def __len__(self) -> int:
        return len(self._records)

    # ---- recording: the router's `on_route` hook ----

    def record(self, message: Message) -> None:
        """Keep `message` as routed now. Matches `Router.on_route`; assign it there.

        The message is kept as is, not copied: once routed, a message is
        immutable (the router has set its id, trace and conversation before
        `on_route`, and the same dict sits in every receiver's mailbox and in
        the dead letters). Whoever posts a message must not change it after.
        """
        if not self._capacity:  # off: no lock, no clock
            return
        with self._lock:
            self._seq += 1
            # Clock read under the lock, so that times never run against seqs.
            self._records.append((self._seq, self._clock(), message))
            if self._waiting:
                self._new.notify_all()

    # ---- queries ----

    def recent(
        self,
        limit: int = 100,
        agent: str | None = None,
        conversation: str | None = None,
        after_seq: int | None = None,
    ) -> list[HistoryRecord]:
        """Up to `limit` records that match the filters, oldest first.

        Without `after_seq`: the newest `limit`. With it: the first `limit`
        newer than `after_seq`, so that calling again with the last seq
        returned walks forward without a gap (unless the records were evicted
        meanwhile: then the first seq returned is more than one past it).
        `agent` matches the sender and every receiver.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        if limit == 0:
            return []
        filtered = agent is not None or conversation is not None
        if after_seq is not None:
            with self._lock:
                entries = self._after(after_seq)
            found = (HistoryRecord._make(e) for e in entries)
            return list(islice((r for r in found if r.matches(agent, conversation)), limit))
        with self._lock:
            if filtered:
                entries = list(self._records)
            else:
                entries = list(islice(reversed(self._records), limit))
                entries.reverse()
        if not filtered:
            return [HistoryRecord._make(e) for e in entries]
        newest = (HistoryRecord._make(e) for e in reversed(entries))
        picked = list(islice((r for r in newest if r.matches(agent, conversation)), limit))
        picked.reverse()
        return picked

    def conversation(self, conversation_id: str) -> list[HistoryRecord]:
        """Every record of the conversation still kept, in the order routed."""
        with self._lock:
            entries = list(self._records)
        return [
            HistoryRecord._make(e)
            for e in entries
            if e[2].get("conversation_id") == conversation_id
        ]

    # ---- live streaming ----

    def wait_after(self, seq: int, timeout: float) -> list[HistoryRecord]:
        """Every record newer than `seq`, oldest first, waiting up to `timeout`
        seconds for one to come; empty when none came or the history is closed.

        Blocks the calling thread: from asyncio, run it in a thread. Start
        with `last_seq` (only what comes next) or 0 (everything kept), then
        pass the last seq returned. Seqs count from 1 in each process: a seq
        above `last_seq` comes from before a restart, and waits until this
        process's seqs pass it, so start again from 0 instead.
        """
        with self._lock:
            if self._seq <= seq and not self._closed:
                self._waiting += 1
                try:
                    self._new.wait_for(lambda: self._seq > seq or self._closed, timeout)
                finally:
                    self._waiting -= 1
            entries = self._after(seq)
        return [HistoryRecord._make(e) for e in entries]

    def close(self) -> None:
        """Wake every `wait_after` (at shutdown); later ones return without waiting."""
        with self._lock:
            self._closed = True
            self._new.notify_all()

    def _after(self, seq: int) -> list[_Entry]:
        """The entries newer than `seq`, oldest first; call with the lock held."""
        count = self._seq - seq
        if count <= 0:
            return []
        records = self._records
        if count >= len(records):
            return list(records)
        # Only the tail: reversed() walks in from the right end, O(count).
        tail = list(islice(reversed(records), count))
        tail.reverse()
        return tail
