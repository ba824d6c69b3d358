"""Benchmark of the SQLite store: registry look-ups, key-value hot path, writes, backup.

Prints one JSON object on stdout (p50/p99 over many single operations, in
microseconds unless the name says otherwise), so that a run today can be
compared with a run tomorrow on the same machine. A plain dict look-up and a
bare primary-key SELECT on the same database are the baselines that make the
ratios meaningful across machines.

    python bench/store.py            # full run, well under a minute on 2 cores
    python bench/store.py --quick    # smoke run, a few seconds

The database lives in a temporary data directory on the same file system as
the system's temp dir; put TMPDIR on the disk you mean to measure.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import timing
from caxton.store import Capability, Store
from timing import machine

TARGETS = {"agent_by_name_p50_ms_max": 1.0, "agents_by_state_p50_ms_max": 1.0}
STATES = ("unloaded", "loaded", "running", "draining", "stopped", "failed")
KV_VALUE = b"v" * 64


@dataclass(frozen=True)
class Plan:
    agents: int
    lookups: int
    kv_ops: int
    writes: int
    backups: int


FULL = Plan(agents=1000, lookups=20_000, kv_ops=20_000, writes=3_000, backups=5)
QUICK = Plan(agents=1000, lookups=1_000, kv_ops=1_000, writes=200, backups=1)


def summary(samples_ns: list[int], scale: float = 1e3) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50": round(statistics.median(ordered) / scale, 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / scale, 3),
        "runs": len(ordered),
    }


def timed(call: Callable[[int], object], runs: int) -> list[int]:
    samples = []
    clock = time.perf_counter_ns
    for i in range(runs):
        began = clock()
        call(i)
        samples.append(clock() - began)
    return samples


def populate(store: Store, count: int) -> list[str]:
    """`count` agents over 20 modules, states spread evenly, each with capabilities."""
    shas = [store.modules.put(os.urandom(16) * 512) for _ in range(20)]
    names = []
    with store.db.write():
        for n in range(count):
            name = f"agent-{n:05d}"
            agent = store.agents.create(
                name,
                shas[n % len(shas)],
                version="1.0.0",
                state=STATES[n % len(STATES)],
                config={"greeting": "hello", "n": n},
                limits={"fuel": 1_000_000, "memory_bytes": 16 << 20, "kv_quota_bytes": 1 << 20},
            )
            store.capabilities.add(agent.id, Capability(f"skill-{n % 50}", "1", "does things"))
            store.routes.register(name, "instance-1", "node-a")
            names.append(name)
    return names


def measure(plan: Plan, data_dir: Path) -> dict[str, Any]:
    rng = random.Random(7)
    with Store.open(data_dir) as store:
        began = time.perf_counter()
        names = populate(store, plan.agents)
        populate_s = time.perf_counter() - began
        picks = [rng.choice(names) for _ in range(plan.lookups)]

        by_name = timed(lambda i: store.agents.by_name(picks[i]), plan.lookups)
        state_runs = max(plan.lookups // 10, 100)
        by_state = timed(lambda i: store.agents.by_state(STATES[i % len(STATES)]), state_runs)
        route = timed(lambda i: store.routes.lookup(picks[i]), plan.lookups)
        providers = timed(lambda i: store.capabilities.providers(f"skill-{i % 50}"), state_runs)
        reader = store.db.read()
        bare = timed(
            lambda i: reader.execute(
                "SELECT id FROM agents WHERE name = ?", (picks[i],)
            ).fetchall(),
            plan.lookups,
        )
        as_dict = {name: name for name in names}
        dict_get = timed(lambda i: as_dict.get(picks[i]), plan.lookups)

        agent = store.agents.by_name(names[0])
        assert agent is not None
        kv = store.kv(agent.id, 1 << 30)
        keys = [f"key-{n % 1000}".encode() for n in range(plan.kv_ops)]
        kv_set_new = timed(lambda i: kv.set(keys[i] + b"-new", KV_VALUE), min(plan.kv_ops, 1000))
        kv_set = timed(lambda i: kv.set(keys[i], KV_VALUE), plan.kv_ops)
        kv_get = timed(lambda i: kv.get(keys[i]), plan.kv_ops)
        kv_get_missing = timed(lambda i: kv.get(b"missing"), plan.kv_ops)
        # Each of the 1000 distinct keys once: every delete removes a row.
        kv_delete = timed(lambda i: kv.delete(keys[i]), min(plan.kv_ops, 1000))

        # Two threads setting at once: the writer lock's cost under contention.
        second = store.agents.by_name(names[1])
        assert second is not None
        contended: list[int] = []
        barrier = threading.Barrier(2)

        def hammer(agent_id: str, out: list[int]) -> None:
            mine = store.kv(agent_id, 1 << 30)
            barrier.wait()
            out.extend(timed(lambda i: mine.set(keys[i], KV_VALUE), plan.kv_ops // 2))

        other: list[int] = []
        threads = [
            threading.Thread(target=hammer, args=(agent.id, contended)),
            threading.Thread(target=hammer, args=(second.id, other)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        contended.extend(other)

        ids = [a.id for a in store.agents.all()]
        set_state = timed(
            lambda i: store.agents.set_state(ids[i % len(ids)], STATES[i % 6], "bench"),
            plan.writes,
        )
        dead_letter = timed(
            lambda i: store.dead_letters.keep({"n": i, "content": "x" * 40}, "r", "bench"),
            plan.writes,
        )

        backups = []
        for n in range(plan.backups):
            target = data_dir.parent / f"backup-{n}.db"
            began_ns = time.perf_counter_ns()
            store.backup(target)
            backups.append(time.perf_counter_ns() - began_ns)
        db_bytes = (data_dir / "caxton.db").stat().st_size

    name_p50_ms = statistics.median(by_name) / 1e6
    state_p50_ms = statistics.median(by_state) / 1e6
    return {
        "agents": plan.agents,
        "populate_s": round(populate_s, 3),
        "agent_by_name_us": summary(by_name),
        "agents_by_state_us": {**summary(by_state), "agents_per_state": plan.agents // 6},
        "route_lookup_us": summary(route),
        "capability_providers_us": {**summary(providers), "providers_each": plan.agents // 50},
        "kv_get_us": summary(kv_get),
        "kv_get_missing_us": summary(kv_get_missing),
        "kv_set_overwrite_us": summary(kv_set),
        "kv_set_new_us": summary(kv_set_new),
        "kv_set_two_threads_us": summary(contended),
        "kv_delete_us": summary(kv_delete),
        "set_state_us": summary(set_state),
        "dead_letter_keep_us": summary(dead_letter),
        "backup_ms": {**summary(backups, 1e6), "database_bytes": db_bytes},
        "baseline_pk_select_us": summary(bare),
        "baseline_dict_get_us": summary(dict_get),
        "by_name_vs_pk_select": round(statistics.median(by_name) / statistics.median(bare), 3),
        "meets_targets": {
            "agent_by_name_p50_ms_max": name_p50_ms <= TARGETS["agent_by_name_p50_ms_max"],
            "agents_by_state_p50_ms_max": state_p50_ms <= TARGETS["agents_by_state_p50_ms_max"],
        },
    }


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="caxton-bench-store-") as tmp:
        results = measure(plan, Path(tmp) / "data")
    results["targets"] = TARGETS
    results["machine"] = machine(sqlite=sqlite3.sqlite_version)
    results["quick"] = quick
    results["elapsed_s"] = round(time.perf_counter() - began, 2)
    return results


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
