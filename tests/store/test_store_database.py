"""Opening a data directory: pragmas, clear errors, and safety across threads."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.errors import ConfigError
from caxton.store import DATABASE_FILE, LATEST, Database, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as opened:
        yield opened


def test_open_creates_the_directory_and_a_wal_database_at_the_latest_version(
    tmp_path: Path,
) -> None:
    data = tmp_path / "deep" / "data"
    with Database.open(data) as db:
        assert (data / DATABASE_FILE).is_file()
        assert db.schema_version() == LATEST
        with db.write() as writer:
            assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.integrity_problems() == []


def test_every_connection_has_foreign_keys_a_busy_timeout_and_normal_sync(store: Store) -> None:
    seen: list[tuple[int, int, int]] = []

    def pragmas(conn: sqlite3.Connection) -> tuple[int, int, int]:
        return (
            conn.execute("PRAGMA foreign_keys").fetchone()[0],
            conn.execute("PRAGMA busy_timeout").fetchone()[0],
            conn.execute("PRAGMA synchronous").fetchone()[0],
        )

    with store.db.write() as writer:
        seen.append(pragmas(writer))
    seen.append(pragmas(store.db.read()))
    worker = threading.Thread(target=lambda: seen.append(pragmas(store.db.read())))
    worker.start()
    worker.join()
    # synchronous 1 is NORMAL.
    assert seen == [(1, 5000, 1)] * 3


def test_readers_refuse_to_write(store: Store) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.db.read().execute("DELETE FROM modules")


def test_reopening_keeps_the_data_and_the_version(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        sha = store.modules.put(b"module")
    with Store.open(tmp_path) as again:
        assert again.db.schema_version() == LATEST
        assert again.modules.get(sha) == b"module"


def test_a_data_directory_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    occupied = tmp_path / "data"
    occupied.write_text("not a directory")
    with pytest.raises(ConfigError, match="is not a directory") as caught:
        Database.open(occupied)
    assert str(occupied) in str(caught.value)
    assert caught.value.setting == "data_dir"


def test_a_data_directory_under_a_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot create data directory") as caught:
        Database.open(tmp_path / "file" / "data")
    assert "CAXTON_DATA_DIR" in str(caught.value)


def _open_in_child_without_root(data: Path) -> tuple[int, str]:
    """Try `Database.open(data)` in a forked child that is not root; (exit code, output).

    Root may write anywhere, so a root child drops to `nobody` first; the fork
    keeps the already-imported modules, which `nobody` could not read.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            Database.open(data).close()
            os.write(write_end, b"opened")
        except ConfigError as exc:
            os.write(write_end, str(exc).encode())
            code = 3
        except BaseException as exc:
            os.write(write_end, repr(exc).encode())
            code = 4
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def test_a_data_directory_that_is_not_writable_is_a_config_error() -> None:
    base = Path(tempfile.mkdtemp(prefix="caxton-ro-"))
    data = base / "data"
    try:
        base.chmod(0o755)
        data.mkdir()
        data.chmod(0o555)
        code, output = _open_in_child_without_root(data)
        assert code == 3, output
        assert f"data directory {data} is not writable" in output
        assert not (data / DATABASE_FILE).exists()
    finally:
        data.chmod(0o755)
        data.rmdir()
        base.rmdir()


def test_a_file_that_is_not_sqlite_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(ConfigError, match="is not a usable SQLite database") as caught:
        Database.open(tmp_path)
    assert str(path) in str(caught.value)
    assert "move it aside" in str(caught.value)
    # Untouched: the user may want it back.
    assert path.read_bytes().startswith(b"this is a text file")


def test_a_database_from_a_newer_caxton_is_a_config_error(tmp_path: Path) -> None:
    with Store.open(tmp_path):
        pass
    with sqlite3.connect(tmp_path / DATABASE_FILE) as conn:
        conn.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)",
            (LATEST + 1,),
        )
    conn.close()
    with pytest.raises(ConfigError, match=f"schema version {LATEST + 1}, newer") as caught:
        Database.open(tmp_path)
    assert str(tmp_path / DATABASE_FILE) in str(caught.value)
    assert "run a newer Caxton" in str(caught.value)


def _route_then_fail(store: Store) -> None:
    with store.db.write() as conn:
        conn.execute(
            "INSERT INTO routes (agent_name, instance, node, updated_at) VALUES ('a', 'i', 'n', 0)"
        )
        raise RuntimeError("boom")


def test_a_failed_write_rolls_back_everything_it_did(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _route_then_fail(store)
    assert store.routes.lookup("a") is None
    # The writer is usable again.
    store.routes.register("a", "i", "n")
    assert store.routes.lookup("a") is not None


def _two_routes_then_fail(store: Store) -> None:
    with store.db.write():
        store.routes.register("a", "i", "n")
        store.routes.register("b", "i", "n")
        raise RuntimeError("late")


def test_nested_writes_join_one_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError, match="late"):
        _two_routes_then_fail(store)
    assert store.routes.on_node("n") == []


def test_threads_write_and_read_at_once_without_losing_anything(store: Store) -> None:
    sha = store.modules.put(b"shared")
    agents = [store.agents.create(f"a{i}", sha, version="1", state="running") for i in range(4)]
    writes = 300
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(agents) + 1)

    def writer(agent_id: str) -> None:
        try:
            kv = store.kv(agent_id, 1 << 20)
            barrier.wait()
            for n in range(writes):
                assert kv.set(n.to_bytes(4, "big"), b"v" * 8)
                assert kv.get(n.to_bytes(4, "big")) == b"v" * 8  # reads its own writes
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            barrier.wait()
            for _ in range(writes):
                assert len(store.agents.by_state("running")) == len(agents)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(a.id,)) for a in agents]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for agent in agents:
        kv = store.kv(agent.id, 1 << 20)
        assert len(kv.items()) == writes
        assert kv.used_bytes == writes * 12
    assert store.integrity_problems() == []


def test_closing_closes_every_threads_reader(tmp_path: Path) -> None:
    db = Database.open(tmp_path)
    readers: list[sqlite3.Connection] = [db.read()]
    worker = threading.Thread(target=lambda: readers.append(db.read()))
    worker.start()
    worker.join()
    db.close()
    for conn in readers:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="closed"):
        db.read()
