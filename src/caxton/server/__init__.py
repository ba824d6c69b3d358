"""The composition root: `Server` builds every part from `Settings`; `serve` runs it over HTTP."""

from caxton.server.server import Server

__all__ = ["Server"]
