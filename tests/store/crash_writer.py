"""Writes to a store in a loop until killed: the victim of test_store_crash.py.

    python crash_writer.py DATA_DIR

Two threads, each registering agents (every fifth with a new module), moving
them through states, writing their key-value data, queueing messages and
keeping dead letters, as fast as they can. Prints "ready" once the store is open.
"""

from __future__ import annotations

import sys
import threading

from caxton.store import Capability, Store


def work(store: Store, thread: int) -> None:
    for n in range(1_000_000):
        name = f"t{thread}-agent-{n}"
        # Storing a module and the agent that uses it in one transaction, so
        # the other thread's `remove_unused` cannot slip in between.
        with store.db.write():
            sha = store.modules.put(f"module {thread} {n // 5}".encode() * 50)
            agent = store.agents.create(name, sha, version="1", state="loaded", config={"n": n})
        store.agents.set_state(agent.id, "running", "deployed")
        kv = store.kv(agent.id, 1 << 16)
        for k in range(4):
            kv.set(f"key-{k}".encode(), bytes(64))
        store.capabilities.add(agent.id, Capability("work", "1", "works"))
        store.queued.save(name, [{"n": n, "i": i} for i in range(3)])
        store.dead_letters.keep({"n": n}, name, "no route")
        if n % 7 == 0:
            store.agents.remove(agent.id, "churn")
            store.modules.remove_unused()


def main() -> None:
    store = Store.open(sys.argv[1])
    print("ready", flush=True)
    threads = [threading.Thread(target=work, args=(store, t), daemon=True) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
