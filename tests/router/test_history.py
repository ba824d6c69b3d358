"""The in-memory history of routed messages: bounds, filters, order, threads and waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from caxton.router import Router
from caxton.router.history import HistoryRecord, MessageHistory
from routing import inbox, running

Message = dict[str, Any]


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def msg(
    sender: str, receiver: str | list[str], conversation: str | None = None, n: int = 0
) -> Message:
    message: Message = {
        "performative": "inform",
        "sender": sender,
        "receiver": receiver,
        "content": n,
    }
    if conversation is not None:
        message["conversation_id"] = conversation
    return message


def seqs(records: list[HistoryRecord]) -> list[int]:
    return [r.seq for r in records]


def test_records_carry_seq_time_and_the_message_itself() -> None:
    clock = Clock()
    history = MessageHistory(10, clock=clock)
    first = msg("a", "b")
    history.record(first)
    clock.now = 1001.5
    history.record(msg("b", "a"))
    records = history.recent()
    assert [(r.seq, r.at) for r in records] == [(1, 1000.0), (2, 1001.5)]
    assert records[0].message is first  # kept, not copied
    assert history.last_seq == 2
    assert len(history) == 2


def test_the_oldest_records_are_evicted_beyond_capacity() -> None:
    history = MessageHistory(3)
    for n in range(7):
        history.record(msg("a", "b", n=n))
    assert len(history) == 3
    assert seqs(history.recent()) == [5, 6, 7]
    assert [r.message["content"] for r in history.recent()] == [4, 5, 6]
    assert history.last_seq == 7
    # Asked from before the oldest kept: what is left, with the gap visible.
    assert seqs(history.recent(after_seq=1)) == [5, 6, 7]
    assert seqs(history.wait_after(0, timeout=0)) == [5, 6, 7]


def test_capacity_zero_records_nothing() -> None:
    history = MessageHistory(0)
    history.record(msg("a", "b"))
    assert not history.enabled
    assert (len(history), history.last_seq) == (0, 0)
    assert history.recent() == []
    assert history.wait_after(0, timeout=0) == []
    with pytest.raises(ValueError, match="capacity must be 0"):
        MessageHistory(-1)


def test_recent_filters_by_agent_as_sender_or_any_receiver() -> None:
    history = MessageHistory(100)
    history.record(msg("a", "b"))  # 1
    history.record(msg("b", "c"))  # 2
    history.record(msg("c", ["a", "d"]))  # 3
    history.record(msg("d", "e"))  # 4
    history.record({"performative": "inform", "sender": "x"})  # 5: no receiver at all
    assert seqs(history.recent(agent="a")) == [1, 3]
    assert seqs(history.recent(agent="d")) == [3, 4]
    assert seqs(history.recent(agent="x")) == [5]
    assert seqs(history.recent(agent="nobody")) == []
    assert seqs(history.recent(2)) == [4, 5]
    assert seqs(history.recent(1, agent="d")) == [4]


def test_recent_filters_by_conversation_and_walks_forward_after_a_seq() -> None:
    history = MessageHistory(100)
    for n in range(10):
        history.record(msg("a", "b", conversation="even" if n % 2 == 0 else "odd", n=n))
    assert seqs(history.recent(conversation="odd")) == [2, 4, 6, 8, 10]
    assert seqs(history.recent(2, conversation="odd")) == [8, 10]
    assert seqs(history.recent(2, conversation="odd", after_seq=3)) == [4, 6]
    assert seqs(history.recent(2, after_seq=3)) == [4, 5]
    assert seqs(history.recent(after_seq=10)) == []
    assert seqs(history.recent(agent="b", conversation="even", after_seq=6)) == [7, 9]
    assert history.recent(0) == []
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        history.recent(-1)


def test_a_conversation_comes_back_whole_and_in_order() -> None:
    history = MessageHistory(100)
    for n in range(6):
        history.record(msg("a", "b", conversation=f"c{n % 3}", n=n))
    records = history.conversation("c1")
    assert [(r.seq, r.message["content"]) for r in records] == [(2, 1), (5, 4)]
    assert all(r.conversation_id == "c1" for r in records)
    assert history.conversation("missing") == []


def test_record_is_the_routers_on_route_hook() -> None:
    clock = Clock()
    router = Router(clock=clock, seed=1)
    history = MessageHistory(100, clock=router.clock)
    router.on_route = history.record
    inbox(router, "b")
    inbox(router, "c")
    with running(router) as dispatcher:
        router.post(msg("a", "b"))
        router.post(msg("a", ["b", "c"]))
        dispatcher.wait_idle(timeout=10)
    records = history.recent()
    assert seqs(records) == [1, 2]
    assert all(r.at == 1000.0 for r in records)
    # The router stamped the message before the hook saw it.
    assert all("message_id" in r.message and "conversation_id" in r.message for r in records)
    assert seqs(history.recent(agent="c")) == [2]
    assert history.conversation(records[0].message["conversation_id"]) == [records[0]]


def test_threads_record_at_once_without_losing_or_repeating_a_seq() -> None:
    history = MessageHistory(10_000)
    threads_n, per_thread = 4, 1_000
    barrier = threading.Barrier(threads_n)

    def sender(name: str) -> None:
        barrier.wait(timeout=10)
        for n in range(per_thread):
            history.record(msg(name, "sink", n=n))

    threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    records = history.recent(limit=threads_n * per_thread)
    assert seqs(records) == list(range(1, threads_n * per_thread + 1))
    for i in range(threads_n):
        # Each sender's messages are kept in the order it sent them.
        mine = history.recent(limit=per_thread, agent=f"s{i}")
        assert [r.message["content"] for r in mine] == list(range(per_thread))


def test_a_waiter_wakes_when_a_record_comes() -> None:
    history = MessageHistory(100)
    history.record(msg("a", "b"))
    start = history.last_seq
    results: list[list[HistoryRecord]] = []
    thread = threading.Thread(target=lambda: results.append(history.wait_after(start, 30)))
    thread.start()
    # Record only once the consumer is asleep, so that this tests the wake-up
    # and not the check before sleeping (a timeout bounds the wait).
    assert _until(lambda: history.waiting == 1)
    history.record(msg("b", "a"))
    thread.join(timeout=10)  # far below the consumer's 30 s: woken, not timed out
    assert not thread.is_alive()
    assert [seqs(r) for r in results] == [[2]]
    assert history.waiting == 0


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether `condition` came true within `timeout` seconds, checked every millisecond."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.001)
    return True


def test_wait_after_returns_at_once_when_records_are_newer() -> None:
    history = MessageHistory(100)
    for _ in range(3):
        history.record(msg("a", "b"))
    assert seqs(history.wait_after(1, timeout=30)) == [2, 3]
    assert seqs(history.wait_after(0, timeout=30)) == [1, 2, 3]


def test_wait_after_times_out_empty() -> None:
    history = MessageHistory(100)
    history.record(msg("a", "b"))
    assert history.wait_after(1, timeout=0.01) == []
    assert history.wait_after(1, timeout=0) == []


def test_close_wakes_every_waiter() -> None:
    history = MessageHistory(100)
    started = threading.Barrier(4)
    results: list[list[HistoryRecord]] = []

    def consumer() -> None:
        started.wait(timeout=10)
        results.append(history.wait_after(0, timeout=60))

    threads = [threading.Thread(target=consumer) for _ in range(3)]
    for thread in threads:
        thread.start()
    started.wait(timeout=10)
    assert _until(lambda: history.waiting == 3)
    history.close()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert results == [[], [], []]
    assert history.closed
    assert history.wait_after(0, timeout=60) == []  # no wait once closed


def test_many_waiters_each_see_every_record_in_order() -> None:
    history = MessageHistory(1_000)
    total = 200
    consumers = 3
    started = threading.Barrier(consumers + 1)
    seen: list[list[int]] = [[] for _ in range(consumers)]

    def consumer(index: int) -> None:
        started.wait(timeout=10)
        last = 0
        while last < total:
            batch = history.wait_after(last, timeout=30)
            assert batch, "timed out waiting for records"
            seen[index].extend(seqs(batch))
            last = batch[-1].seq

    threads = [threading.Thread(target=consumer, args=(i,)) for i in range(consumers)]
    for thread in threads:
        thread.start()
    started.wait(timeout=10)
    for n in range(total):
        history.record(msg("a", "b", n=n))
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert seen == [list(range(1, total + 1))] * consumers
