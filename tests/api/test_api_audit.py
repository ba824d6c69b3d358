"""/api/v1/audit over a real socket: records listed and filtered, the chain verified, exported.

Records come from granting tools (each grant writes a `tool.grant` record);
tampering goes around the store, through a raw connection to the database
file, with the trigger that refuses UPDATE dropped first.
"""

from __future__ import annotations

import sqlite3
from itertools import pairwise
from typing import Any

import orjson

from live import Live


def grant(live: Live, *pairs: tuple[str, str]) -> None:
    for agent, pattern in pairs:
        assert live.server.tools.grant(agent, pattern)


def entries(live: Live, **query: str | int) -> list[dict[str, Any]]:
    response = live.get("/audit", params=query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def tamper(live: Live, seq: int) -> None:
    """Change record `seq`'s detail behind the store's back, as someone with the file could."""
    conn = sqlite3.connect(live.server.store.db.path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET detail = ? WHERE seq = ?", ('{"pattern": "*/*"}', seq))
    finally:
        conn.close()


def test_records_are_listed_newest_last_and_filtered(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("ping", "files/read"), ("echo", "files/*"))
    before = len(entries(live, limit=10_000))
    assert before >= 3

    echo = entries(live, action="tool.grant", actor="operator")
    assert [(e["target"], e["detail"]) for e in echo][-3:] == [
        ("echo", {"pattern": "time/*"}),
        ("ping", {"pattern": "files/read"}),
        ("echo", {"pattern": "files/*"}),
    ]
    newest = echo[-1]
    assert newest["action"] == "tool.grant"
    assert newest["outcome"] == "ok"
    assert isinstance(newest["at"], float)
    assert len(newest["hash"]) == 64
    seqs = [e["seq"] for e in echo]
    assert seqs == sorted(seqs)

    last_two = entries(live, action="tool.grant", limit=2)
    assert [e["seq"] for e in last_two] == seqs[-2:]
    assert entries(live, action="tool.revoke") == []
    assert entries(live, actor="nobody") == []


def test_limit_is_bounded(live: Live) -> None:
    for limit in (0, 10_001):
        response = live.get("/audit", params={"limit": limit})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid-request"


def test_verify_says_ok_for_an_intact_log(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("echo", "files/*"))
    response = live.get("/audit/verify")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {"ok": True, "records": live.server.store.audit.count(), "problems": []}
    assert answer["records"] >= 2


def test_verify_names_the_record_that_was_changed(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("echo", "files/*"), ("ping", "time/*"))
    changed = entries(live, action="tool.grant")[-2]["seq"]
    tamper(live, changed)

    response = live.get("/audit/verify")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["ok"] is False
    assert answer["records"] == live.server.store.audit.count()
    assert answer["problems"] == [f"seq {changed}: hash does not match its content: changed"]


def test_export_gives_every_record_as_json_lines(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("pong", "files/*"))
    response = live.get("/audit/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.content.splitlines()
    assert len(lines) == live.server.store.audit.count()
    records = [orjson.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert records[0]["prev_hash"] == ""
    for before, after in pairwise(records):
        assert after["prev_hash"] == before["hash"]
    assert [(r["target"], r["detail"]) for r in records[-2:]] == [
        ("echo", {"pattern": "time/*"}),
        ("pong", {"pattern": "files/*"}),
    ]
    listed = {key: value for key, value in records[-1].items() if key != "prev_hash"}
    assert listed == entries(live)[-1]
