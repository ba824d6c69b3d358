"""Build helpers for tests that need real WebAssembly agents.

C agents are built with clang for wasm32-wasi as WASI reactors. A missing
toolchain is an error, not a skip: the tests that use these helpers are the
proof that agents written in C work, so they must not silently disappear.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import wasmtime

# The example C agents (examples/agents/c), which every test that needs them shares.
EXAMPLES: Final = Path(__file__).resolve().parent.parent / "examples" / "agents" / "c"
# The C SDK (caxton.h and its .c files), which build_c_agent compiles into every agent.
C_SDK: Final = Path(__file__).resolve().parent.parent / "src" / "caxton" / "sdk" / "c"
EXAMPLE_AGENTS: Final = ("echo", "ping", "pong", "cnet_initiator", "cnet_participant")

INSTALL_HINT: Final = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"
BUILD_TIMEOUT_S: Final = 120.0

# The same flags as examples/agents/c/Makefile. `--strip-debug` drops the DWARF
# that wasi-libc ships with (about 45 KB per module) and keeps the name section.
_TARGET_FLAGS: Final = ("--target=wasm32-wasi", "-mexec-model=reactor", "-O2")
_LINK_FLAGS: Final = ("-Wl,--strip-debug",)


def find_clang() -> str:
    """The clang to use: $CAXTON_CLANG (a path or a command name), else `clang` on PATH."""
    wanted = os.environ.get("CAXTON_CLANG") or "clang"
    found = shutil.which(wanted)
    if found is None:
        where = "CAXTON_CLANG" if os.environ.get("CAXTON_CLANG") else "PATH"
        raise RuntimeError(
            f"clang not found ({wanted!r} via {where}); building C agents needs clang "
            f"with a wasm32-wasi sysroot: {INSTALL_HINT}"
        )
    return found


def build_c_agent(
    source: Path, out_dir: Path, *extra_sources: Path, include: tuple[Path, ...] = ()
) -> Path:
    """Compile `source` (plus `extra_sources`) into `out_dir/<stem>.wasm`.

    The source's directory and the C SDK are on the include path, and every
    .c file of the SDK is compiled in: wasm-ld keeps only the functions an
    agent calls, so an agent that does not use the SDK comes out as it would
    without it.
    $CAXTON_WASI_SYSROOT, when set, is passed as `--sysroot`. Raises
    RuntimeError with clang's output and an install hint when the toolchain is
    missing or the build fails.
    """
    clang = find_clang()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{source.stem}.wasm"
    sysroot = os.environ.get("CAXTON_WASI_SYSROOT")
    command = [
        clang,
        *_TARGET_FLAGS,
        *((f"--sysroot={sysroot}",) if sysroot else ()),
        f"-I{source.parent}",
        *(f"-I{path}" for path in include),
        f"-I{C_SDK}",
        *_LINK_FLAGS,
        "-o",
        str(out),
        str(source),
        *(str(extra) for extra in extra_sources),
        *(str(path) for path in sorted(C_SDK.glob("*.c"))),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(
            f"could not run {' '.join(command)}: {error}\n"
            f"is the wasm32-wasi toolchain installed? {INSTALL_HINT}"
        ) from error
    if result.returncode != 0 or not out.is_file():
        raise RuntimeError(
            f"building {source.name} failed (exit {result.returncode}):\n"
            f"$ {' '.join(command)}\n{result.stderr.strip()}\n"
            f"if wasi-libc or the wasm32 runtime library is missing: {INSTALL_HINT}"
        )
    return out


def wat_file_to_wasm(path: Path) -> bytes:
    """The binary module for the WebAssembly text file at `path`."""
    try:
        return bytes(wasmtime.wat2wasm(path.read_text(encoding="utf-8")))
    except wasmtime.WasmtimeError as error:
        raise RuntimeError(f"{path}: {error}") from error
