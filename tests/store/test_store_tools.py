"""MCP tool servers and grants: what the tables accept, and what survives a restart."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from caxton.store import GrantRecord, Store, ToolServerRecord
from clocks import Clock

STDIO: dict[str, Any] = {
    "command": "mcp-files",
    "args": ["--root", "/srv/data"],
    "env": {"LOG": "info"},
    "cwd": None,
}
HTTP: dict[str, Any] = {"url": "https://tools.example/mcp", "headers": {"X-Team": "blue"}}


# ---- servers ----


def test_a_server_is_put_read_listed_and_removed(store: Store) -> None:
    files = store.tool_servers.put("files", "stdio", STDIO, "config")
    assert files == ToolServerRecord("files", "stdio", STDIO, "config", 1000.0, 1000.0)
    search = store.tool_servers.put("search", "http", HTTP, "api")
    assert store.tool_servers.get("files") == files
    assert store.tool_servers.get("nope") is None
    assert store.tool_servers.all() == [files, search]
    assert store.tool_servers.remove("files")
    assert not store.tool_servers.remove("files")
    assert store.tool_servers.all() == [search]


def test_putting_a_server_again_replaces_it_and_keeps_when_it_was_added(
    store: Store, clock: Clock
) -> None:
    store.tool_servers.put("files", "stdio", STDIO, "config")
    clock.now = 2000.0
    again = store.tool_servers.put("files", "http", HTTP, "api")
    assert again == ToolServerRecord("files", "http", HTTP, "api", 1000.0, 2000.0)
    assert store.tool_servers.get("files") == again
    assert len(store.tool_servers.all()) == 1


def test_servers_are_listed_by_name(store: Store) -> None:
    for name in ("web", "a-1", "files"):
        store.tool_servers.put(name, "http", HTTP, "api")
    assert [s.name for s in store.tool_servers.all()] == ["a-1", "files", "web"]


@pytest.mark.parametrize(
    "name", ["", "1files", "Files", "my_files", "-files", "files tool", "é", "f" * 64]
)
def test_a_server_name_outside_the_rule_is_refused(store: Store, name: str) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.tool_servers.put(name, "stdio", STDIO, "api")
    assert store.tool_servers.all() == []


def test_the_longest_and_shortest_names_are_accepted(store: Store) -> None:
    for name in ("f", "f" * 63, "f-9-"):
        assert store.tool_servers.put(name, "stdio", STDIO, "api").name == name


@pytest.mark.parametrize(
    ("transport", "source"), [("grpc", "api"), ("STDIO", "api"), ("http", "cli"), ("http", "")]
)
def test_an_unknown_transport_or_source_is_refused(
    store: Store, transport: str, source: str
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.tool_servers.put("files", transport, STDIO, source)
    assert store.tool_servers.get("files") is None


def test_a_spec_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), store.db.write() as conn:
        conn.execute(
            "INSERT INTO tool_servers (name, transport, spec, source, created_at, updated_at)"
            " VALUES ('files', 'stdio', '{\"command\": ', 'api', 1.0, 1.0)"
        )
    assert store.tool_servers.all() == []


# ---- grants ----


def test_grants_are_idempotent_and_keep_the_first_grantor(store: Store, clock: Clock) -> None:
    assert store.tool_grants.grant("echo", "files/read", by="operator")
    clock.now = 2000.0
    assert not store.tool_grants.grant("echo", "files/read", by="someone-else")
    assert store.tool_grants.all() == [GrantRecord("echo", "files/read", 1000.0, "operator")]


def test_grants_are_listed_per_agent_sorted(store: Store) -> None:
    for pattern in ("search/*", "files/write", "files/read"):
        assert store.tool_grants.grant("echo", pattern, by="operator")
    assert store.tool_grants.grant("ping", "files/*", by="operator")
    assert store.tool_grants.for_agent("echo") == ["files/read", "files/write", "search/*"]
    assert store.tool_grants.for_agent("ping") == ["files/*"]
    assert store.tool_grants.for_agent("nobody") == []
    assert [(g.agent_name, g.pattern) for g in store.tool_grants.all()] == [
        ("echo", "files/read"),
        ("echo", "files/write"),
        ("echo", "search/*"),
        ("ping", "files/*"),
    ]


def test_revoke_removes_one_exact_grant(store: Store) -> None:
    store.tool_grants.grant("echo", "files/*", by="operator")
    store.tool_grants.grant("echo", "files/read", by="operator")
    assert not store.tool_grants.revoke("echo", "files/write")  # not granted, even by files/*
    assert not store.tool_grants.revoke("ping", "files/*")
    assert store.tool_grants.revoke("echo", "files/*")
    assert not store.tool_grants.revoke("echo", "files/*")
    assert store.tool_grants.for_agent("echo") == ["files/read"]


@pytest.mark.parametrize(
    "pattern", ["files", "/read", "files/", "Files/read", "my_files/read", "", f"{'f' * 64}/x"]
)
def test_a_pattern_that_names_no_server_is_refused(store: Store, pattern: str) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.tool_grants.grant("echo", pattern, by="operator")
    assert store.tool_grants.all() == []


def test_grants_need_neither_the_agent_nor_the_server(store: Store) -> None:
    # Granted before anything is deployed or configured...
    assert store.tool_grants.grant("future-agent", "files/read", by="operator")
    # ...and a server's removal leaves its grants for when it comes back.
    store.tool_servers.put("files", "stdio", STDIO, "api")
    assert store.tool_servers.remove("files")
    assert store.tool_grants.for_agent("future-agent") == ["files/read"]
    assert store.integrity_problems() == []


def test_a_grant_is_seen_at_once_by_another_thread(store: Store) -> None:
    seen: list[list[str]] = []
    store.tool_grants.grant("echo", "files/*", by="operator")
    reader = threading.Thread(target=lambda: seen.append(store.tool_grants.for_agent("echo")))
    reader.start()
    reader.join()
    assert seen == [["files/*"]]


# ---- durability ----


def test_servers_and_grants_survive_reopening_the_store(tmp_path: Path, clock: Clock) -> None:
    with Store.open(tmp_path, clock=clock) as store:
        files = store.tool_servers.put("files", "stdio", STDIO, "config")
        search = store.tool_servers.put("search", "http", HTTP, "api")
        store.tool_grants.grant("echo", "files/*", by="operator")
        store.tool_grants.grant("echo", "search/query", by="operator")
        store.tool_grants.revoke("echo", "search/query")
        grants = store.tool_grants.all()
    with Store.open(tmp_path, clock=clock) as again:
        assert again.tool_servers.all() == [files, search]
        assert again.tool_grants.all() == grants
        assert again.tool_grants.for_agent("echo") == ["files/*"]
