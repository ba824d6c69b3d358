"""`caxton audit list|verify|export` against a real server.

Records come from granting tools (each grant writes a `tool.grant` record);
tampering goes around the store, through a raw connection to the database
file, with the trigger that refuses UPDATE dropped first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from caxton.api.types import AuditList, AuditVerification
from live import Live, caxton, decode_as


def grant(live: Live, *pairs: tuple[str, str]) -> None:
    for agent, pattern in pairs:
        assert live.server.tools.grant(agent, pattern)


def test_list_shows_records_as_a_table_and_filters_them(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("ping", "files/read"))
    table = caxton(live, "audit", "list", "--action", "tool.grant", "--actor", "operator")
    assert table.exit_code == 0, table.output
    header, rule, *rows = table.stdout.splitlines()
    assert header.split() == ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"]
    assert set(rule.replace(" ", "")) == {"─"}
    # TIME is a date and a time: two words.
    assert [row.split()[3:] for row in rows[-2:]] == [
        ["operator", "tool.grant", "echo", "ok"],
        ["operator", "tool.grant", "ping", "ok"],
    ]

    found = decode_as(
        AuditList,
        caxton(
            live, "audit", "list", "--action", "tool.grant", "--limit", "1", output="json"
        ).stdout,
    )
    assert [(e.target, e.detail) for e in found.items] == [("ping", {"pattern": "files/read"})]
    assert found.items[0].hash is not None

    nothing = caxton(live, "audit", "list", "--actor", "nobody")
    assert (nothing.exit_code, nothing.stdout) == (0, "no audit records\n")
    assert caxton(live, "audit", "list", "--limit", "0").exit_code == 2


def test_verify_passes_then_fails_after_tampering(live: Live) -> None:
    grant(live, ("echo", "time/*"), ("echo", "files/*"))
    count = live.server.store.audit.count()
    intact = caxton(live, "audit", "verify")
    assert (intact.exit_code, intact.stdout) == (0, f"audit trail intact: {count} records\n")
    answer = decode_as(AuditVerification, caxton(live, "audit", "verify", output="json").stdout)
    assert (answer.ok, answer.records, answer.problems) == (True, count, [])

    changed = live.server.store.audit.recent(2, action="tool.grant")[0].seq
    conn = sqlite3.connect(live.server.store.db.path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET detail = '{}' WHERE seq = ?", (changed,))
    finally:
        conn.close()

    broken = caxton(live, "audit", "verify")
    assert broken.exit_code == 1, broken.output
    assert broken.stdout == f"seq {changed}: hash does not match its content: changed\n"
    assert "audit trail broken: 1 problem in" in broken.stderr
    as_json = caxton(live, "audit", "verify", output="json")
    assert as_json.exit_code == 1
    assert decode_as(AuditVerification, as_json.stdout).ok is False


def test_export_writes_json_lines_to_stdout_or_a_file(live: Live, tmp_path: Path) -> None:
    grant(live, ("echo", "time/*"), ("pong", "files/*"))
    count = live.server.store.audit.count()

    printed = caxton(live, "audit", "export")
    assert printed.exit_code == 0, printed.output
    records = [orjson.loads(line) for line in printed.stdout.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, count + 1))
    assert [(r["target"], r["detail"]) for r in records[-2:]] == [
        ("echo", {"pattern": "time/*"}),
        ("pong", {"pattern": "files/*"}),
    ]
    assert printed.stderr == f"exported {count} audit records\n"

    target = tmp_path / "audit.jsonl"
    written = caxton(live, "audit", "export", "--file", str(target))
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert written.stderr == f"exported {count} audit records to {target}\n"
    assert target.read_text() == printed.stdout
