"""The `caxton` import module: raw callbacks that decode arguments and call the sandbox.

Each import is defined once on the runtime's shared linker with
`wasmtime_linker_define_func_unchecked`, so a call from wasm costs about 2 µs
instead of the 8 µs of wasmtime-py's generic trampoline (bench/runtime.py). The calling
agent is found by its store context, which wasmtime hands every callback.

A callback must never let a Python exception escape (ctypes would print it
and answer 0): any error becomes a trap for the calling agent alone.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import wasmtime

from caxton.runtime import _capi, abi

if TYPE_CHECKING:
    from caxton.runtime.sandbox import Sandbox

_U32 = 0xFFFFFFFF
_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64}


class HostFunctions:
    """Owns the ctypes callbacks (they must outlive every instance that may call them)."""

    def __init__(self, sandboxes: Mapping[int, Sandbox]) -> None:
        self._sandboxes = sandboxes
        self._callbacks: list[Any] = []

    def define(self, linker: wasmtime.Linker) -> None:
        for name, signature in abi.HOST_IMPORTS.items():
            self._define(linker, name, signature, self._callback(name))

    def _define(
        self, linker: wasmtime.Linker, name: str, signature: abi.Signature, callback: Any
    ) -> None:
        params, results = signature
        functype = wasmtime.FuncType(
            [_VALTYPES[p]() for p in params], [_VALTYPES[r]() for r in results]
        )
        module = abi.HOST_MODULE.encode()
        error = _capi.linker_define_func_unchecked(
            linker.ptr(),
            module,
            len(module),
            name.encode(),
            len(name),
            ctypes.cast(functype.ptr(), ctypes.c_void_p),
            ctypes.cast(callback, ctypes.c_void_p),
            None,
            None,
        )
        if error:
            raise RuntimeError(f"defining caxton.{name}: {_capi.error_message(error)}")
        self._callbacks.append((callback, functype))

    def _callback(self, name: str) -> Any:
        if name == "now_ms":
            return _capi.HostCallback(_now_ms)
        method = f"abi_{name}"
        arity = len(abi.HOST_IMPORTS[name][0])
        returns = bool(abi.HOST_IMPORTS[name][1])
        sandboxes = self._sandboxes

        def callback(_env: int, caller: int, raw: int, _n: int) -> int:
            sandbox = sandboxes.get(_capi.caller_context(caller))
            if sandbox is None:
                return _capi.new_trap("caxton: call from an agent that is no longer running")
            words = _capi.RawArgsSigned.from_address(raw)
            try:
                function: Callable[..., int | None] = getattr(sandbox, method)
                if arity == 2:
                    result = function(words[0] & _U32, words[4] & _U32)
                elif arity == 3:
                    result = function(words[0], words[4] & _U32, words[8] & _U32)
                else:
                    result = function(
                        words[0] & _U32, words[4] & _U32, words[8] & _U32, words[12] & _U32
                    )
                if returns:
                    words[0] = int(result or 0)
            except BaseException as error:
                return sandbox.fault(error)
            return 0

        return _capi.HostCallback(callback)


def _now_ms(_env: int, _caller: int, raw: int, _n: int) -> int:
    _capi.RawI64.from_address(raw)[0] = time.time_ns() // 1_000_000
    return 0
