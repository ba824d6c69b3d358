"""The example agents a fresh server can start with (`examples = true`): ping, pong, echo.

They are the packaged WebAssembly-text agents (`caxton.examples`), so they
need no toolchain. Agents already deployed under those names are left alone.
"""

from __future__ import annotations

from importlib import resources

import wasmtime

from caxton.server.server import Server

EXAMPLES = ("echo", "ping", "pong")


def deploy_examples(server: Server) -> list[str]:
    """Deploy each example not deployed yet; returns those deployed now."""
    deployed = []
    present = {view.name for view in server.manager.all()}
    for name in EXAMPLES:
        if name in present:
            continue
        text = resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()
        server.manager.deploy(name, bytes(wasmtime.wat2wasm(text)), version="1.0.0")
        deployed.append(name)
    return deployed
