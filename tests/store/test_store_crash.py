"""kill -9 in the middle of writes: the database stays intact and consistent."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from caxton.store import DATABASE_FILE, LATEST, Store

WRITER = Path(__file__).with_name("crash_writer.py")
# Agents the victim must have committed before it is killed: enough that the
# kill lands in the middle of sustained writing, across many WAL frames.
EVIDENCE = 300


def _committed_agents(path: Path) -> int:
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM transitions").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet, or busy: ask again


def _kill_mid_load(data: Path) -> None:
    victim = subprocess.Popen(
        [sys.executable, str(WRITER), str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert victim.stdout is not None
        assert victim.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 60
        while _committed_agents(data / DATABASE_FILE) < EVIDENCE:
            assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
            assert time.monotonic() < deadline, "the writer made no progress"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
        for pipe in (victim.stdout, victim.stderr):
            if pipe is not None:
                pipe.close()


def _check_consistent(store: Store) -> None:
    assert store.integrity_problems() == []
    read = store.db.read()

    def count(sql: str) -> int:
        return int(read.execute(sql).fetchone()[0])

    # Every agent's module is there, readable, and hashes to its name.
    for agent in store.agents.all():
        assert store.modules.get(agent.module_sha256) is not None
        assert agent.actual_state in {"loaded", "running"}
        history = store.agents.transitions(agent.id)
        assert history[0].to_state == "loaded"
        assert history[-1].to_state == agent.actual_state
        assert [d.seq for d in store.agents.deployments(agent.id)] == [1]
        kv = store.kv(agent.id, 1 << 16)
        assert kv.used_bytes == sum(len(k) + len(v) for k, v in kv.items().items())
    hashes = read.execute("SELECT sha256, bytes FROM modules").fetchall()
    assert all(hashlib.sha256(data).hexdigest() == sha for sha, data in hashes)
    # No row anywhere points at an agent that is not there.
    assert count("SELECT COUNT(*) FROM kv WHERE agent_id NOT IN (SELECT id FROM agents)") == 0
    assert count("SELECT COUNT(*) FROM kv_usage WHERE agent_id NOT IN (SELECT id FROM agents)") == 0
    orphans = (
        "SELECT COUNT(*) FROM queued_messages WHERE agent_name NOT IN (SELECT name FROM agents)"
    )
    assert count(orphans) == 0
    # Each agent's queued messages are a gap-free prefix.
    for name, seqs, top in read.execute(
        "SELECT agent_name, COUNT(*), MAX(seq) FROM queued_messages GROUP BY agent_name"
    ).fetchall():
        assert seqs == top == 3, name


@pytest.mark.parametrize("round_", range(2))
def test_kill_9_mid_load_leaves_an_intact_consistent_database(tmp_path: Path, round_: int) -> None:
    data = tmp_path / "data"
    _kill_mid_load(data)
    assert (data / f"{DATABASE_FILE}-wal").exists()  # the crash left a WAL to recover
    with Store.open(data) as store:
        assert store.db.schema_version() == LATEST
        assert store.agents.count() > 0
        _check_consistent(store)
        # And it works: the restarted server can write.
        sha = store.modules.put(b"after the crash")
        store.agents.create("after", sha, version="1", state="loaded")
        assert store.integrity_problems() == []
