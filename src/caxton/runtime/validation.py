"""Static checks on a module before it may run: every refusal names its subject.

Order matters for the messages a user sees: first "is this wasm at all", then
"does it use a refused feature" (wasmtime's validator, with the policy's
features switched off), then the ABI: imports allowed and typed right, the
required exports present and typed right, memory within the agent's ceiling.
"""

from __future__ import annotations

from typing import Final

import wasmtime

from caxton.errors import ModuleRejected
from caxton.runtime import abi
from caxton.runtime.features import FeaturePolicy

WASM_MAGIC: Final = b"\0asm"
CORE_VERSION: Final = b"\x01\0\0\0"
_WASM_PAGE: Final = 65536


def check_header(wasm: bytes, max_module_bytes: int) -> None:
    if len(wasm) > max_module_bytes:
        raise ModuleRejected(
            "size", f"{len(wasm)} bytes exceeds the limit of {max_module_bytes} (max_module_bytes)"
        )
    if len(wasm) < 8 or not wasm.startswith(WASM_MAGIC):
        raise ModuleRejected("header", "not a WebAssembly module (no \\0asm magic number)")
    version = wasm[4:8]
    if version != CORE_VERSION:
        kind = "a component" if version[2:] == b"\x01\0" else "an unknown version"
        raise ModuleRejected(
            "header", f"{kind} (version bytes {version.hex()}), not a core module of version 1"
        )


def compile_module(engine: wasmtime.Engine, wasm: bytes, policy: FeaturePolicy) -> wasmtime.Module:
    try:
        return wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as error:
        message = str(error)
        feature = policy.refused_feature(message)
        if feature is not None:
            raise ModuleRejected(
                f"feature {feature.value}",
                "refused by the feature policy (allow it with CAXTON_WASM_FEATURES)",
            ) from None
        raise ModuleRejected("module", f"invalid WebAssembly: {describe_error(message)}") from None


def check_abi(module: wasmtime.Module, memory_bytes: int) -> None:
    for imported in module.imports:
        _check_import(imported)
    exports = {exported.name: exported.type for exported in module.exports}
    _check_memory(exports.get(abi.MEMORY_EXPORT), memory_bytes)
    for name, signature in abi.REQUIRED_FUNCTION_EXPORTS.items():
        if name not in exports:
            raise ModuleRejected(f"export {name}", f"missing; ABI v1 requires {_show(signature)}")
        _check_signature(f"export {name}", exports[name], signature)
    for name, signature in abi.OPTIONAL_FUNCTION_EXPORTS.items():
        if name in exports:
            _check_signature(f"export {name}", exports[name], signature)


def _check_import(imported: wasmtime.ImportType) -> None:
    subject = f"import {imported.module}.{imported.name}"
    if imported.module == abi.HOST_MODULE:
        signature = abi.HOST_IMPORTS.get(imported.name or "")
        if signature is None:
            known = ", ".join(abi.HOST_IMPORTS)
            raise ModuleRejected(subject, f"not provided by the host (ABI v1 has: {known})")
        _check_signature(subject, imported.type, signature)
    elif imported.module == abi.WASI_MODULE:
        if not isinstance(imported.type, wasmtime.FuncType):
            raise ModuleRejected(subject, "WASI imports must be functions")
    else:
        raise ModuleRejected(
            subject, f"not allowed: agents may import only from {abi.HOST_MODULE!r} and WASI"
        )


def _check_memory(memory: object, memory_bytes: int) -> None:
    if not isinstance(memory, wasmtime.MemoryType):
        raise ModuleRejected(f"export {abi.MEMORY_EXPORT}", "missing; ABI v1 requires a memory")
    minimum = memory.limits.min * _WASM_PAGE
    if minimum > memory_bytes:
        raise ModuleRejected(
            f"export {abi.MEMORY_EXPORT}",
            f"declares a minimum of {minimum} bytes, above the agent's ceiling of "
            f"{memory_bytes} bytes (memory_bytes)",
        )


def _check_signature(subject: str, found: object, expected: abi.Signature) -> None:
    if not isinstance(found, wasmtime.FuncType):
        raise ModuleRejected(subject, f"must be a function {_show(expected)}")
    actual = (
        tuple(str(p) for p in found.params),
        tuple(str(r) for r in found.results),
    )
    if actual != expected:
        raise ModuleRejected(
            subject, f"has signature {_show(actual)}, ABI v1 requires {_show(expected)}"
        )


def _show(signature: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    params, results = signature
    return f"({', '.join(params)}) -> ({', '.join(results)})"


def describe_error(message: str) -> str:
    """wasmtime's error on one line: what failed, then its causes."""
    head, _, causes = message.partition("Caused by:")
    parts = [head.strip()] + [
        line.strip().split(": ", 1)[-1] if line.strip()[:1].isdigit() else line.strip()
        for line in causes.splitlines()
        if line.strip()
    ]
    return "; ".join(part for part in parts if part) or "unknown error"
