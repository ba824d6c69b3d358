"""ABI version 1 (docs/abi.md), as data: the exports an agent provides, the
imports the host offers, and the codes `send` and friends answer with.

Validation, the host-function table and the SDKs' tests all read these, so
the contract is written down once.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final, Literal

ValKind = Literal["i32", "i64"]
Signature = tuple[tuple[ValKind, ...], tuple[ValKind, ...]]

VERSION: Final = 1

HOST_MODULE: Final = "caxton"
WASI_MODULE: Final = "wasi_snapshot_preview1"

MEMORY_EXPORT: Final = "memory"

REQUIRED_FUNCTION_EXPORTS: Final[dict[str, Signature]] = {
    "caxton_alloc": (("i32",), ("i32",)),
    "caxton_handle": (("i32", "i32"), ("i32",)),
}

OPTIONAL_FUNCTION_EXPORTS: Final[dict[str, Signature]] = {
    "caxton_init": (("i32", "i32"), ("i32",)),
    "caxton_handle_batch": (("i32", "i32"), ("i32",)),
    "_initialize": ((), ()),
}

HOST_IMPORTS: Final[dict[str, Signature]] = {
    "send": (("i32", "i32"), ("i32",)),
    "log": (("i32", "i32", "i32"), ()),
    "now_ms": ((), ("i64",)),
    "kv_get": (("i32", "i32", "i32", "i32"), ("i32",)),
    "kv_set": (("i32", "i32", "i32", "i32"), ("i32",)),
    "kv_delete": (("i32", "i32"), ("i32",)),
    "tool_call": (("i32", "i32"), ("i32",)),
    "register_capability": (("i32", "i32"), ("i32",)),
}


class Status(IntEnum):
    """What `send`, `kv_set`, `tool_call` and `register_capability` answer."""

    OK = 0
    MALFORMED = -1
    TOO_LARGE = -2
    MAILBOX_FULL = -3
    NOT_PERMITTED = -4


class LogLevel(IntEnum):
    """The `level` argument of the `log` import."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4

    @classmethod
    def clamp(cls, level: int) -> LogLevel:
        # An agent passing 9 still means "very serious"; dropping the line would hide it.
        return cls(min(max(level, cls.TRACE), cls.ERROR))
