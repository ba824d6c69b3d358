"""Opening the SQLite database in a data directory, safely from many threads.

One `Database` per data directory and process. It holds:

- one *writer* connection, guarded by a re-entrant lock: every write runs
  inside `with db.write() as conn:`, one `BEGIN IMMEDIATE ... COMMIT` at a
  time. SQLite allows one writer per database anyway; taking the lock in
  Python instead of letting connections meet `SQLITE_BUSY` keeps waits short,
  fair and free of busy-timeout polling.
- one *reader* connection per thread (`db.read()`), made on first use. In WAL
  mode readers never block the writer nor each other, and each reader sees the
  last committed state, so a thread reads what any thread committed before.

Rejected: one connection shared by all threads behind a lock (reads would
queue behind writes, and behind each other); a connection per call (opening
costs ~330 µs, a hundred `kv_get`s); an async driver (the hot path
is called from worker threads inside wasm host functions, not from coroutines).
`docs/store.md` has the measurements.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from caxton.errors import ConfigError
from caxton.store.migrations import LATEST, migrate, schema_version

DATABASE_FILE = "caxton.db"
# How long a connection waits for a lock another process holds before it
# gives up with `database is locked` (within this process the writer lock
# serialises writers, so this only matters across processes, e.g. a backup).
BUSY_TIMEOUT_MS = 5_000
SETTING = "data_dir"


def _configure(conn: sqlite3.Connection, *, reader: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL in WAL mode syncs the WAL at checkpoints, not at every commit: a
    # commit is durable against a crash of the process (kill -9: the WAL is in
    # the OS page cache) and the database is never corrupted, but a power loss
    # may roll back the last few commits. FULL would fsync every commit, ~2 ms
    # on a disk, which `kv_set` on the hot path cannot afford.
    conn.execute("PRAGMA synchronous = NORMAL")
    if reader:
        # Readers never write: a bug that tries fails loudly instead of
        # bypassing the writer lock.
        conn.execute("PRAGMA query_only = ON")


def _connect(path: Path, *, reader: bool) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; `Database.write` issues
    # BEGIN IMMEDIATE itself. check_same_thread=False: `close` may run on any
    # thread; each connection is still used by one thread at a time.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(conn, reader=reader)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_directory(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(
            SETTING,
            f"{data_dir} exists and is not a directory; "
            "point CAXTON_DATA_DIR at a directory (it is created if missing)",
        ) from None
    except OSError as exc:
        raise ConfigError(
            SETTING,
            f"cannot create data directory {data_dir}: {exc.strerror or exc}; "
            "create it, or point CAXTON_DATA_DIR at a writable directory",
        ) from exc
    if not data_dir.is_dir():
        raise ConfigError(
            SETTING,
            f"{data_dir} is not a directory; point CAXTON_DATA_DIR at a directory",
        )
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(
            SETTING,
            f"data directory {data_dir} is not writable by this user; "
            "fix its permissions or point CAXTON_DATA_DIR at a writable directory",
        )


def _open_problem(path: Path, exc: sqlite3.Error) -> ConfigError:
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "encrypted" in text
    ):
        return ConfigError(
            SETTING,
            f"{path} is not a usable SQLite database ({text}); move it aside "
            "(or restore a backup into a fresh data directory) and start again",
        )
    return ConfigError(
        SETTING,
        f"cannot open database {path} ({text}); check that the file and its "
        "directory are readable and writable by this user",
    )


class Database:
    """The SQLite database of one data directory. Build it with `Database.open`."""

    def __init__(self, path: Path, writer: sqlite3.Connection, clock: Callable[[], float]) -> None:
        self.path = path
        self.clock = clock
        self._writer = writer
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        # Told how long each write took (kind "write", seconds): the metrics'
        # query latency. Reads are probed by caxton.telemetry instead, since
        # they run on the connection `read()` hands out.
        self.on_query: Callable[[str, float], None] | None = None

    @classmethod
    def open(cls, data_dir: Path | str, *, clock: Callable[[], float] = time.time) -> Self:
        """Open (creating if needed) the database in `data_dir` and migrate it to `LATEST`.

        Raises `ConfigError` naming the path when the directory is unusable,
        the file is not SQLite, or its schema is newer than this code knows.
        """
        data_dir = Path(data_dir)
        _check_directory(data_dir)
        path = data_dir / DATABASE_FILE
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(
                SETTING,
                f"database {path} is not readable and writable by this user; fix its permissions",
            )
        try:
            writer = _connect(path, reader=False)
        except sqlite3.Error as exc:
            raise _open_problem(path, exc) from exc
        try:
            mode = writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise ConfigError(
                    SETTING,
                    f"{path}: SQLite refused WAL mode (got {mode!r}); "
                    "put the data directory on a local file system",
                )
            migrate(writer, path)
        except sqlite3.Error as exc:
            writer.close()
            raise _open_problem(path, exc) from exc
        except BaseException:
            writer.close()
            raise
        return cls(path, writer, clock)

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    # ---- connections ----

    def read(self) -> sqlite3.Connection:
        """This thread's read-only connection (made on first use)."""
        if self._closed:
            raise RuntimeError(f"database {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is None:
            conn = _connect(self.path, reader=True)
            self._local.reader = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside one transaction, committed on success.

        Re-entrant: a `write()` inside another on the same thread joins the
        outer transaction, so repositories compose into one atomic change.
        """
        with self._write_lock:
            conn = self._writer
            if conn.in_transaction:
                yield conn
                return
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._took(started)

    def write_one(self, sql: str, parameters: tuple[object, ...] = ()) -> int:
        """Run one statement under the writer lock (atomic on its own); its row count."""
        with self._write_lock:
            started = time.perf_counter()
            count = self._writer.execute(sql, parameters).rowcount
            self._took(started)
            return count

    def _took(self, started: float) -> None:
        hook = self.on_query
        if hook is not None:
            hook("write", time.perf_counter() - started)

    def size_bytes(self) -> int:
        """The database's size on disk: the file and its write-ahead log."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
        return total

    # ---- checks ----

    def schema_version(self) -> int:
        return schema_version(self.read())

    def integrity_problems(self) -> list[str]:
        """`PRAGMA integrity_check` and `foreign_key_check`: empty when all is well."""
        return check_file_connection(self.read())

    # ---- backup ----

    def backup(self, destination: Path | str) -> Path:
        """Copy the live database to `destination` with SQLite's online backup API.

        Writers keep going meanwhile. The copy is made beside `destination`,
        verified with `PRAGMA integrity_check`, switched to a self-contained
        rollback-journal file and only then renamed into place, so a file at
        `destination` is always a complete, verified backup.
        """
        destination = Path(destination)
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            with closing(sqlite3.connect(partial, isolation_level=None)) as copy:
                # pages=-1: all pages in one step, under one read transaction,
                # so the copy is one consistent snapshot however busy the writer.
                self.read().backup(copy, pages=-1)
                copy.execute("PRAGMA journal_mode = DELETE")
                problems = check_file_connection(copy)
                if problems:
                    raise RuntimeError(f"backup of {self.path} failed verification: {problems}")
            with open(partial, "rb+") as handle:
                os.fsync(handle.fileno())
            partial.replace(destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return destination

    # ---- lifetime ----

    def close(self) -> None:
        """Close every connection; a final checkpoint folds the WAL into the file."""
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        with self._write_lock:
            self._writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def check_file_connection(conn: sqlite3.Connection) -> list[str]:
    """Integrity and foreign-key problems seen through `conn`; empty when all is well."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if problems == ["ok"]:
        problems = []
    problems.extend(
        f"foreign key: {table} row {rowid} references missing {parent}"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()
    )
    return problems


def verify_backup(backup: Path | str) -> int:
    """Check that `backup` is an intact Caxton database; its schema version.

    Raises `ConfigError` naming the file when it is not SQLite, fails the
    integrity check, or comes from a newer Caxton.
    """
    backup = Path(backup)
    if not backup.is_file():
        raise ConfigError("backup", f"{backup} does not exist or is not a file")
    try:
        uri = f"{backup.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as conn:
            problems = check_file_connection(conn)
            version = schema_version(conn)
    except sqlite3.Error as exc:
        raise ConfigError(
            "backup", f"{backup} is not a usable SQLite database ({exc}); use another backup"
        ) from exc
    if problems:
        raise ConfigError(
            "backup", f"{backup} fails its integrity check ({problems[:3]}); use another backup"
        )
    if version > LATEST:
        raise ConfigError(
            "backup",
            f"{backup} has schema version {version}, newer than this Caxton knows "
            f"({LATEST}); restore it with a newer Caxton",
        )
    return version


def restore(backup: Path | str, data_dir: Path | str) -> Path:
    """Put a verified `backup` in place as the database of a fresh `data_dir`.

    Refuses a data directory that already holds a database: restoring never
    overwrites live state. The next `Database.open(data_dir)` migrates the
    restored file if it comes from an older Caxton.
    """
    backup, data_dir = Path(backup), Path(data_dir)
    verify_backup(backup)
    _check_directory(data_dir)
    target = data_dir / DATABASE_FILE
    for existing in (target, target.with_name(DATABASE_FILE + "-wal")):
        if existing.exists():
            raise ConfigError(
                SETTING,
                f"{data_dir} already holds a database ({existing.name}); "
                "restore into a fresh, empty data directory",
            )
    partial = target.with_name(DATABASE_FILE + ".restoring")
    try:
        with (
            closing(sqlite3.connect(backup.resolve().as_uri() + "?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(partial, isolation_level=None)) as dst,
        ):
            src.backup(dst, pages=-1)
            problems = check_file_connection(dst)
            if problems:
                raise ConfigError("backup", f"restored copy of {backup} is damaged: {problems}")
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
