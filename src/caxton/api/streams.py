"""Server-sent events: live logs and messages, fed by threads that wait without polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import orjson
from fastapi.responses import StreamingResponse

# A comment line now and then keeps proxies from closing a quiet stream.
_KEEPALIVE_S = 15.0


def event(data: Any, event_id: int | None = None, name: str | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if name is not None:
        lines.append(f"event: {name}")
    lines.append(f"data: {orjson.dumps(data).decode()}")
    return ("\n".join(lines) + "\n\n").encode()


Wait = Callable[[int, float], tuple[int, Iterable[tuple[int, Any]]]]


def sse(wait: Wait, start: int, stopped: Callable[[], bool]) -> StreamingResponse:
    """Events from `wait(after_seq, timeout)`, which blocks in a thread until there is news.

    `wait` answers the newest seq it saw and the (seq, data) pairs to send
    (filtered: maybe none of what it saw); the same seq back means the
    timeout passed. The stream ends when `stopped()` holds.
    """

    async def events() -> AsyncIterator[bytes]:
        seq = start
        while not stopped():
            newest, items = await asyncio.to_thread(wait, seq, _KEEPALIVE_S)
            for item_seq, data in items:
                yield event(data, item_seq)
            if newest == seq:
                yield b": keepalive\n\n"
            seq = newest

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
