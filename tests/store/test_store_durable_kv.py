"""The durable key-value store: the runtime's protocol, the same quota rules as
the in-memory store, per-agent isolation, and data that survives reopening."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.runtime import InMemoryKeyValueStore, KeyValueStore
from caxton.store import DurableKeyValueStore, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as opened:
        yield opened


def _agent(store: Store, name: str) -> str:
    sha = store.modules.put(b"\x00asm\x01\x00\x00\x00")
    return store.agents.create(name, sha, version="1", state="running").id


def test_it_is_a_key_value_store_for_the_runtime(store: Store) -> None:
    kv: KeyValueStore = store.kv(_agent(store, "a"), 100)
    assert kv.get(b"k") is None
    assert kv.set(b"k", b"\x00\xffbinary")
    assert kv.get(b"k") == b"\x00\xffbinary"
    kv.delete(b"k")
    kv.delete(b"k")  # deleting what is absent is fine
    assert kv.get(b"k") is None


def test_the_quota_counts_keys_and_values_and_refuses_without_changing(store: Store) -> None:
    kv = store.kv(_agent(store, "a"), 10)
    assert kv.set(b"ab", b"12345678")  # exactly 10
    assert kv.used_bytes == 10
    assert not kv.set(b"c", b"")
    assert not kv.set(b"ab", b"123456789")
    assert kv.get(b"ab") == b"12345678"
    assert kv.set(b"ab", b"1")  # shrinking frees room
    assert kv.set(b"c", b"12345")
    assert kv.used_bytes == 9
    assert kv.items() == {b"ab": b"1", b"c": b"12345"}


def test_agents_do_not_see_each_others_data(store: Store) -> None:
    a = store.kv(_agent(store, "a"), 100)
    b = store.kv(_agent(store, "b"), 100)
    assert a.set(b"k", b"a's")
    assert b.get(b"k") is None
    assert b.set(b"k", b"b's")
    a.delete(b"k")
    assert b.get(b"k") == b"b's"
    assert (a.used_bytes, b.used_bytes) == (0, 4)


def test_the_data_survives_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        agent_id = _agent(store, "a")
        assert store.kv(agent_id, 100).set(b"counter", b"7")
    with Store.open(tmp_path) as again:
        kv = again.kv(agent_id, 100)
        assert kv.get(b"counter") == b"7"
        assert kv.used_bytes == 8


def test_two_stores_of_one_agent_share_one_quota(store: Store) -> None:
    agent_id = _agent(store, "a")
    old, new = store.kv(agent_id, 10), store.kv(agent_id, 10)
    assert old.set(b"a", b"1234")
    assert new.set(b"b", b"1234")
    assert not old.set(b"c", b"")  # 10 used by the two together
    assert new.get(b"a") == b"1234"


OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "delete"]),
        st.binary(min_size=0, max_size=3),
        st.binary(min_size=0, max_size=12),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_it_behaves_exactly_like_the_in_memory_store(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, bytes, bytes]]
) -> None:
    with Store.open(tmp_path_factory.mktemp("kv")) as store:
        durable = DurableKeyValueStore(store.db, _agent(store, "a"), 24)
        memory = InMemoryKeyValueStore(24)
        for op, key, value in ops:
            if op == "set":
                assert durable.set(key, value) == memory.set(key, value)
            else:
                durable.delete(key)
                memory.delete(key)
            assert durable.get(key) == memory.get(key)
            assert durable.used_bytes == memory.used_bytes
        assert durable.items() == memory.items()
