"""Agent modules from files: `.wasm` as it is, WebAssembly text (`.wat`) compiled first."""

from __future__ import annotations

from pathlib import Path


def read_module(path: Path) -> bytes:
    """The module's bytes. Raises OSError when unreadable, ValueError naming the file when it
    is text that is not valid WebAssembly text."""
    data = path.read_bytes()
    if path.suffix != ".wat":
        return data
    import wasmtime  # only for text: the CLI's remote commands must start without it

    try:
        return bytes(wasmtime.wat2wasm(data.decode()))
    except (wasmtime.WasmtimeError, UnicodeDecodeError) as error:
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        raise ValueError(f"{path}: not valid WebAssembly text: {first}") from None
