"""An MCP server (stdio) that misbehaves on request: the tests' hostile tool server.

    python misbehaving_server.py

Tools: `echo` (behaves), `hang` (never answers), `die` (the process exits
mid-call), `garbage` (writes a line that is not JSON-RPC to stdout, then
answers), `big` (answers with `size` bytes of text), `fail` (reports a
tool error, MCP's isError).
"""

from __future__ import annotations

import asyncio
import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("misbehaving", version="1.0.0")


@server.tool()
async def echo(text: str) -> str:
    """Answers with the text it was given."""
    return f"echo: {text}"


@server.tool()
async def hang() -> str:
    """Never answers."""
    await asyncio.Event().wait()
    return "unreachable"


@server.tool()
async def die() -> str:
    """Ends the whole server process in the middle of the call."""
    os._exit(3)


@server.tool()
async def garbage() -> str:
    """Writes a line that is no JSON-RPC message to stdout, then answers."""
    os.write(1, b"this is not json {{{\n")
    return "answered after garbage"


@server.tool()
async def big(size: int) -> str:
    """Answers with `size` bytes of text."""
    return "x" * size


@server.tool()
async def fail() -> str:
    """Reports a tool error."""
    raise ValueError("the tool failed on purpose")


if __name__ == "__main__":
    server.run()
