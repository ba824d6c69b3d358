"""Direct bindings to wasmtime's C API for the calls on the hot path.

wasmtime-py's `Func.__call__` looks up the function type and converts every
argument (24 µs a call measured here), and its host-function trampoline
costs about 8 µs. The unchecked variants below take a preallocated array of
raw values instead: delivering a message (alloc, copy, handle, budgets) costs
about 4 µs and a host function called from wasm about 2 µs, both measured by
bench/runtime.py against those two baselines in the same process.

Function objects are taken with `dll[name]`, which makes a fresh ctypes
object, so setting `argtypes` here never changes the objects wasmtime-py
itself uses. Every argument is a plain integer address (`c_void_p`), the
cheapest thing ctypes converts. `CDLL` releases the GIL for the duration of
each call, so wasm in two stores runs on two cores at once; calls that only
read or set a field go through `PyDLL`, which keeps the GIL.
"""

from __future__ import annotations

import ctypes
from ctypes import c_bool, c_char_p, c_size_t, c_uint8, c_uint64, c_void_p
from typing import Any, Final

from wasmtime import Trap, WasmtimeError
from wasmtime import _ffi as ffi

_dll: Final = ffi.dll
# The same library, called with the GIL held: for calls that only read or set
# a field, dropping and retaking the GIL costs more than the call itself.
_quick: Final = ctypes.PyDLL(_dll._name, handle=_dll._handle)


def _bind(name: str, restype: Any, *argtypes: Any, quick: bool = False) -> Any:
    func = (_quick if quick else _dll)[name]
    func.restype = restype
    func.argtypes = list(argtypes)
    return func


func_call_unchecked: Final = _bind(
    "wasmtime_func_call_unchecked", c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p
)
context_set_fuel: Final = _bind(
    "wasmtime_context_set_fuel", c_void_p, c_void_p, c_uint64, quick=True
)
context_get_fuel: Final = _bind(
    "wasmtime_context_get_fuel", c_void_p, c_void_p, c_void_p, quick=True
)
context_set_epoch_deadline: Final = _bind(
    "wasmtime_context_set_epoch_deadline", None, c_void_p, c_uint64, quick=True
)
caller_context: Final = _bind("wasmtime_caller_context", c_void_p, c_void_p, quick=True)
memory_data: Final = _bind("wasmtime_memory_data", c_void_p, c_void_p, c_void_p, quick=True)
memory_data_size: Final = _bind(
    "wasmtime_memory_data_size", c_size_t, c_void_p, c_void_p, quick=True
)
trap_new: Final = _bind("wasmtime_trap_new", c_void_p, c_char_p, c_size_t)
trap_code: Final = _bind("wasmtime_trap_code", c_bool, c_void_p, c_void_p)
trap_delete: Final = _bind("wasm_trap_delete", None, c_void_p)
error_delete: Final = _bind("wasmtime_error_delete", None, c_void_p)
linker_define_func_unchecked: Final = _bind(
    "wasmtime_linker_define_func_unchecked",
    c_void_p,
    c_void_p,
    c_char_p,
    c_size_t,
    c_char_p,
    c_size_t,
    c_void_p,
    c_void_p,
    c_void_p,
    c_void_p,
)

# wasmtime_func_unchecked_callback_t: (env, caller, args_and_results, n) -> wasm_trap_t*
HostCallback: Final = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_void_p, c_size_t)

# wasmtime_val_raw_t is a 16-byte union; viewed as i32 words, value k sits at index 4k.
RAW_VALUE_WORDS: Final = 4
RawArgs: Final = ctypes.c_uint32 * (4 * RAW_VALUE_WORDS)
RawArgsSigned: Final = ctypes.c_int32 * (4 * RAW_VALUE_WORDS)
RawI64: Final = ctypes.c_int64 * 2

# wasmtime_trap_code_enum values that the sandbox tells apart.
TRAP_STACK_OVERFLOW: Final = 0
TRAP_INTERRUPT: Final = 10
TRAP_OUT_OF_FUEL: Final = 11
TRAP_ALLOCATION_TOO_LARGE: Final = 15


def trap_code_of(trap: int) -> int | None:
    code = c_uint8()
    return code.value if trap_code(trap, ctypes.addressof(code)) else None


def trap_message(trap: int) -> str:
    """The trap's message, backtrace included; takes ownership and frees the trap."""
    ptr = ctypes.cast(c_void_p(trap), ctypes.POINTER(ffi.wasm_trap_t))
    return Trap._from_ptr(ptr).message


def error_message(error: int) -> str:
    """An error's message; takes ownership and frees the error."""
    ptr = ctypes.cast(c_void_p(error), ctypes.POINTER(ffi.wasmtime_error_t))
    return str(WasmtimeError._from_ptr(ptr))


def new_trap(message: str) -> int:
    data = message.encode()
    return int(trap_new(data, len(data)))
