"""A server under load for the kill -9 test: agents deployed, removed and messaging.

Run as `python busy_server.py DATA_DIR`; prints "loaded" once writes are
flowing, then keeps going until it is killed.
"""

from __future__ import annotations

import sys
from importlib import resources
from itertools import count

import wasmtime

from caxton.agents import AgentManager
from caxton.router import Dispatcher, Router
from caxton.runtime import MemoryConfiguration, Runtime, RuntimeConfig
from caxton.store import Store


def example(name: str) -> bytes:
    text = resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()
    return bytes(wasmtime.wat2wasm(text))


def main(data_dir: str) -> None:
    store = Store.open(data_dir)
    runtime = Runtime(RuntimeConfig(memory=MemoryConfiguration.compute(8 * 1024**3)))
    router = Router()
    dispatcher = Dispatcher(router, workers=2)
    manager = AgentManager(store=store, runtime=runtime, router=router, dispatcher=dispatcher)
    for name in ("ping", "pong", "echo"):
        manager.deploy(name, example(name))
    dispatcher.start()
    echo = example("echo")
    for number in count():
        router.post({"performative": "request", "receiver": "ping", "content": "start"})
        manager.deploy(f"tmp-{number}", echo, config={"n": number})
        if number % 2:
            manager.remove(f"tmp-{number - 1}")
        if number == 50:
            print("loaded", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
