"""ACL messages as JSON (ABI v1, "Data"): bytes to dict and back, with orjson.

Decoding checks the representation only: the bytes are UTF-8 JSON holding one
object, within a size and a nesting limit. Whether the object is a valid
message is `validate_message`'s business, so that a caller can tell a garbled
payload from a message that breaks a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from caxton.acl.validation import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    check_depth,
    json_kind,
)
from caxton.errors import AclSyntaxError, InvalidMessage

Data = bytes | bytearray | memoryview | str

_PRETTY: Final = orjson.OPT_INDENT_2


def decode_json(
    data: Data, *, max_bytes: int | None = DEFAULT_MAX_BYTES, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """The JSON object in `data`; `InvalidMessage` (or `AclSyntaxError`) says what is wrong."""
    size = _size(data, max_bytes)
    if max_bytes is not None and size > max_bytes:
        raise InvalidMessage("message", f"too large: {size} bytes, the limit is {max_bytes}")
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise _syntax_error(data, error) from None
    if type(message) is not dict:
        raise InvalidMessage("message", f"must be a JSON object, got {json_kind(message)}")
    # Nesting takes two bytes a level, and a bracket each: most messages are
    # cleared by their size, or by counting brackets in C, without a walk.
    if size > 2 * max_depth:
        for value in message.values():
            if type(value) is dict or type(value) is list:
                if _brackets(data) > max_depth:
                    check_depth(message, max_depth)
                break
    return message


def encode_json(message: Mapping[str, Any], *, pretty: bool = False) -> bytes:
    """`message` as UTF-8 JSON: compact, or indented by two spaces when `pretty`."""
    try:
        return orjson.dumps(
            message if isinstance(message, dict) else dict(message),
            option=_PRETTY if pretty else None,
        )
    except TypeError as error:  # orjson.JSONEncodeError is a TypeError
        raise InvalidMessage("message", f"not representable as JSON: {error}") from None


def _size(data: Data, max_bytes: int | None) -> int:
    """The size of `data` in bytes; for text, exact only when it might matter."""
    if type(data) is bytes:
        return len(data)
    if not isinstance(data, str):
        return memoryview(data).nbytes
    # A character takes 1 to 4 bytes in UTF-8: encode only when the count can cross the limit.
    if max_bytes is None or len(data) * 4 <= max_bytes:
        return len(data)
    return len(data.encode("utf-8", "surrogatepass"))


def _brackets(data: Data) -> int:
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    raw = data if isinstance(data, bytes | bytearray) else bytes(data)
    return raw.count(b"{") + raw.count(b"[")


def _syntax_error(data: Data, error: orjson.JSONDecodeError) -> AclSyntaxError:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    position = min(error.pos, len(text))
    problem = error.msg
    if not isinstance(data, str):
        try:
            bytes(data).decode("utf-8")
        except UnicodeDecodeError as bad:
            # orjson reports bad UTF-8 at the start, whatever the place.
            text = bytes(data)[: bad.start].decode("utf-8")
            position = len(text)
            problem = f"not valid UTF-8 (byte {bad.start} is {bytes(data)[bad.start]:#04x})"
    return AclSyntaxError.at(text, position, problem)
