"""Online backup with SQLite's backup API, verified, and restore into a fresh directory."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from caxton.errors import ConfigError
from caxton.store import DATABASE_FILE, LATEST, Capability, Store, restore, verify_backup


def _populate(store: Store) -> tuple[str, str]:
    sha = store.modules.put(b"\x00asm\x01\x00\x00\x00backup")
    agent = store.agents.create("keeper", sha, version="3", state="running", config={"k": 1})
    assert store.kv(agent.id, 1000).set(b"balance", b"100")
    store.capabilities.add(agent.id, Capability("count", "1"))
    return agent.id, sha


def test_backup_under_load_then_restore_into_a_new_directory(tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "caxton.backup"
    backup.parent.mkdir()
    with Store.open(tmp_path / "live") as store:
        agent_id, sha = _populate(store)
        busy = store.agents.create("busy", sha, version="1", state="running")
        kv = store.kv(busy.id, 1 << 20)
        written = threading.Event()
        stop = threading.Event()

        def write_meanwhile() -> None:
            n = 0
            while not stop.is_set():
                assert kv.set(n.to_bytes(4, "big"), b"x" * 32)
                n += 1
                written.set()

        writer = threading.Thread(target=write_meanwhile)
        writer.start()
        try:
            assert written.wait(timeout=30)
            assert store.backup(backup) == backup
        finally:
            stop.set()
            writer.join()

    assert verify_backup(backup) == LATEST
    assert not backup.with_name(backup.name + ".partial").exists()
    target = restore(backup, tmp_path / "restored")
    assert target == tmp_path / "restored" / DATABASE_FILE

    with Store.open(tmp_path / "restored") as restored:
        assert restored.integrity_problems() == []
        agent = restored.agents.by_name("keeper")
        assert agent is not None
        assert (agent.id, agent.version, agent.config) == (agent_id, "3", {"k": 1})
        assert restored.modules.get(sha) == b"\x00asm\x01\x00\x00\x00backup"
        assert restored.kv(agent_id, 1000).get(b"balance") == b"100"
        assert [c.name for c in restored.capabilities.of(agent_id)] == ["count"]
        busy_restored = restored.agents.by_name("busy")
        assert busy_restored is not None
        # A consistent snapshot: usage matches the rows the copy holds.
        busy_kv = restored.kv(busy_restored.id, 1 << 20)
        assert busy_kv.used_bytes == len(busy_kv.items()) * 36 > 0


def test_a_backup_is_a_single_self_contained_file(tmp_path: Path) -> None:
    with Store.open(tmp_path / "live") as store:
        _populate(store)
        store.backup(tmp_path / "b.db")
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db", "live"]


def test_restore_never_overwrites_a_database(tmp_path: Path) -> None:
    with Store.open(tmp_path / "live") as store:
        _populate(store)
        store.backup(tmp_path / "b.db")
    with pytest.raises(ConfigError, match="already holds a database") as caught:
        restore(tmp_path / "b.db", tmp_path / "live")
    assert str(tmp_path / "live") in str(caught.value)


def test_a_damaged_or_foreign_backup_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"no sqlite here" * 100)
    with pytest.raises(ConfigError, match="not a usable SQLite database") as caught:
        restore(garbage, tmp_path / "fresh")
    assert str(garbage) in str(caught.value)
    assert not (tmp_path / "fresh" / DATABASE_FILE).exists()
    with pytest.raises(ConfigError, match="does not exist"):
        verify_backup(tmp_path / "missing.db")

    newer = tmp_path / "newer.db"
    with Store.open(tmp_path / "live") as store:
        store.backup(newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'future', 0)", (LATEST + 1,))
    conn.close()
    with pytest.raises(ConfigError, match="newer than this Caxton"):
        verify_backup(newer)
