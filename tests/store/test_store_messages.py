"""Conversations, dead letters and messages queued at shutdown."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.store import ConversationRecord, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    ticks = itertools.count(1)
    with Store.open(tmp_path, clock=lambda: float(next(ticks))) as opened:
        yield opened


def test_conversations_are_saved_updated_and_forgotten_when_idle(store: Store) -> None:
    first = ConversationRecord("c1", "buyer", "fipa-contract-net", "cfp-sent", 10.0, 10.0)
    store.conversations.save(first)
    store.conversations.save(ConversationRecord("c2", "a", None, "open", 11.0, 30.0))
    store.conversations.save(
        ConversationRecord("c1", "ignored", "fipa-contract-net", "awarded", 99.0, 20.0)
    )
    updated = store.conversations.get("c1")
    assert updated == ConversationRecord("c1", "buyer", "fipa-contract-net", "awarded", 10.0, 20.0)
    assert store.conversations.remove_idle(before=25.0) == 1
    assert [c.id for c in store.conversations.all()] == ["c2"]
    assert store.conversations.remove("c2")
    assert not store.conversations.remove("c2")
    assert store.conversations.get("c2") is None


def test_dead_letters_keep_the_message_and_reason_newest_last(store: Store) -> None:
    for n in range(5):
        store.dead_letters.keep({"content": n}, f"r{n}" if n else None, f"reason {n}")
    assert store.dead_letters.count() == 5
    recent = store.dead_letters.recent(2)
    assert [(d.message, d.receiver, d.reason) for d in recent] == [
        ({"content": 3}, "r3", "reason 3"),
        ({"content": 4}, "r4", "reason 4"),
    ]
    assert recent[0].at < recent[1].at
    assert store.dead_letters.recent(10)[0].receiver is None
    assert store.dead_letters.prune(keep=2) == 3
    assert [d.message["content"] for d in store.dead_letters.recent()] == [3, 4]
    assert store.dead_letters.prune(keep=5) == 0


def test_queued_messages_come_back_in_order_after_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        sha = store.modules.put(b"\x00asm")
        for name in ("a", "b"):
            store.agents.create(name, sha, version="1", state="running")
        assert store.queued.save("a", [{"n": n} for n in range(12)]) == 12
        assert store.queued.save("a", [{"n": 12}]) == 1
        store.queued.save("b", [{"n": "b"}])
    with Store.open(tmp_path) as again:
        assert again.queued.agents() == ["a", "b"]
        assert again.queued.take("a") == [{"n": n} for n in range(13)]
        assert again.queued.take("a") == []
        assert again.queued.agents() == ["b"]


def test_messages_cannot_be_queued_for_an_unknown_agent(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        store.queued.save("nobody", [{"n": 1}])
    assert store.queued.agents() == []


def test_replace_saves_a_whole_mailbox_and_ack_forgets_the_oldest(store: Store) -> None:
    sha = store.modules.put(b"\x00asm")
    store.agents.create("a", sha, version="1", state="running")
    store.queued.save("a", [{"n": 0}, {"n": 1}])
    assert store.queued.replace("a", [{"n": 1}, {"n": 2}, {"n": 3}]) == 3
    assert store.queued.peek("a") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert store.queued.ack("a", 2) == 2
    assert store.queued.peek("a") == [{"n": 3}]
    assert store.queued.ack("a", 5) == 1
    assert store.queued.peek("a") == []
