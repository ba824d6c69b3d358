"""The REST API (FastAPI) over a `caxton.server.Server`; its types are shared with the CLI."""
