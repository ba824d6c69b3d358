"""/rate-limits on a real server: list, change and undo the buckets; 422s name the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live import Live, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "data") as running:
        yield running


def scopes(live: Live) -> list[tuple[str, float, int, str]]:
    listed = live.get("/rate-limits")
    assert listed.status_code == 200, listed.text
    return [(i["scope"], i["per_s"], i["burst"], i["source"]) for i in listed.json()["items"]]


def test_the_list_starts_with_the_settings(live: Live) -> None:
    assert scopes(live) == [
        ("global", 2000.0, 4000, "settings"),
        ("identity", 500.0, 1000, "settings"),
    ]


def test_a_change_is_answered_listed_and_kept_with_who_made_it(live: Live) -> None:
    changed = live.client.put("/rate-limits/identity:jwt:alice", json={"per_s": 2.5, "burst": 5})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "scope": "identity:jwt:alice",
        "per_s": 2.5,
        "burst": 5,
        "source": "runtime",
    }
    assert ("identity:jwt:alice", 2.5, 5, "runtime") in scopes(live)
    record = live.server.store.rate_limits.get("identity:jwt:alice")
    assert record is not None
    assert record.updated_by.startswith("key:")  # the admin key the live server made


def test_a_change_applies_to_the_next_request(live: Live) -> None:
    assert live.get("/agents").status_code == 200
    changed = live.client.put("/rate-limits/operation:agents.list", json={"per_s": 0.01,
                                                                          "burst": 1})  # fmt: skip
    assert changed.status_code == 200, changed.text
    first, second = live.get("/agents"), live.get("/agents")
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "1"
    assert second.status_code == 429, second.text
    assert second.headers["Retry-After"] == "100"  # one token at 0.01 a second
    assert live.client.delete("/rate-limits/operation:agents.list").status_code == 204
    assert live.get("/agents").status_code == 200


@pytest.mark.parametrize(
    ("scope", "body", "field"),
    [
        ("tenant:acme", {"per_s": 1, "burst": 1}, "scope"),
        ("identity:", {"per_s": 1, "burst": 1}, "scope"),
        ("global", {"per_s": -1, "burst": 1}, "per_s"),
        ("global", {"per_s": "inf", "burst": 1}, "per_s"),
        ("global", {"per_s": "NaN", "burst": 1}, "per_s"),
        ("global", {"per_s": 1, "burst": 0}, "burst"),
        ("global", {"per_s": 1, "burst": 10**12}, "burst"),
        ("global", {"per_s": 1}, "burst"),
        ("global", {"per_s": 1, "burst": 1, "colour": "red"}, "colour"),
    ],
)
def test_bad_changes_are_422_naming_the_field(
    live: Live, scope: str, body: dict[str, Any], field: str
) -> None:
    refused = live.client.put(f"/rate-limits/{scope}", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == field
    assert scopes(live)[0] == ("global", 2000.0, 4000, "settings")


def test_delete_undoes_a_change(live: Live) -> None:
    for scope in ("global", "operation:agents.invoke"):
        assert live.client.put(f"/rate-limits/{scope}", json={"per_s": 1, "burst": 2}).is_success
    assert live.client.delete("/rate-limits/global").status_code == 204
    assert live.client.delete("/rate-limits/operation:agents.invoke").status_code == 204
    assert scopes(live) == [
        ("global", 2000.0, 4000, "settings"),
        ("identity", 500.0, 1000, "settings"),
    ]
    assert live.server.store.rate_limits.all() == []
    # Going back to the settings is never wrong; removing what is not there is a 404.
    assert live.client.delete("/rate-limits/identity").status_code == 204
    missing = live.client.delete("/rate-limits/operation:agents.invoke")
    assert (missing.status_code, missing.json()["code"]) == (404, "rate-limit-not-found")
    bad = live.client.delete("/rate-limits/tenant:acme")
    assert (bad.status_code, bad.json()["field"]) == (422, "scope")
