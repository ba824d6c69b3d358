"""WAT agents that declare capabilities, for the discovery tests (a top-level module).

`provider(("translate", "1.4.0"), ("sum", "2.0.0"))` declares both in
`caxton_init` through the real `register_capability` import; every message
is ignored, or traps when `trap` is set (a handler error, for the failure
policy). Each distinct list of capabilities is a distinct module.
"""

from __future__ import annotations

import orjson

from conftest import ALLOC, wat
from live import Live

WASM = {"content-type": "application/wasm"}


def declaration(name: str, version: str) -> bytes:
    return orjson.dumps(
        {
            "name": name,
            "version": version,
            "description": f"{name} at {version}",
            "input_schema": {"type": "object"},
        }
    )


def provider(*capabilities: tuple[str, str], trap: bool = False) -> bytes:
    at = 64
    segments, calls = [], []
    for name, version in capabilities:
        text = declaration(name, version)
        escaped = text.decode().replace("\\", "\\\\").replace('"', '\\"')
        segments.append(f'(data (i32.const {at}) "{escaped}")')
        calls.append(f"(drop (call $reg (i32.const {at}) (i32.const {len(text)})))")
        at += len(text) + 8
    assert at < 4096, "the declarations must stay below the bump allocator's heap"
    handled = "(unreachable)" if trap else "(i32.const 0)"
    return wat(
        f"""(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1) {ALLOC}
  {" ".join(segments)}
  (func (export "caxton_init") (param i32 i32) (result i32)
    {" ".join(calls)}
    (i32.const 0))
  (func (export "caxton_handle") (param i32 i32) (result i32) {handled}))"""
    )


def deploy(live: Live, name: str, wasm: bytes, **fields: str) -> None:
    response = live.post("/agents", params={"name": name, **fields}, content=wasm, headers=WASM)
    assert response.status_code == 201, response.text
