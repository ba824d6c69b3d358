"""GET /api/v1/capabilities on a real server with real wasm agents: the registry follows
the agents through their lifecycle, and searches by name and SemVer range."""

from __future__ import annotations

from typing import Any

import pytest

from caxton.agents import StateName
from live import Live
from providers import WASM, deploy, provider


def search(live: Live, name: str, **query: str) -> list[tuple[str, str, str]]:
    """(agent, state, version) of each item found, in the answer's order."""
    response = live.get("/capabilities", params={"name": name, **query})
    assert response.status_code == 200, response.text
    return [(c["agent"], c["agent_state"], c["version"]) for c in response.json()["items"]]


def act(live: Live, name: str, action: str, **kwargs: Any) -> None:
    response = live.post(f"/agents/{name}/{action}", **kwargs)
    assert response.status_code == 200, response.text


def reload(live: Live, name: str, wasm: bytes, version: str) -> None:
    act(live, name, "reload", params={"version": version}, content=wasm, headers=WASM)


# ---- the registry follows the lifecycle ----


def test_a_search_offers_running_agents_unless_asked_for_every_state(live: Live) -> None:
    deploy(live, "adder", provider(("sum", "1.2.0")))
    assert search(live, "sum") == [("adder", "Running", "1.2.0")]

    act(live, "adder", "stop")
    assert search(live, "sum") == []
    assert search(live, "sum", all_states="true") == [("adder", "Stopped", "1.2.0")]

    act(live, "adder", "start")
    assert search(live, "sum") == [("adder", "Running", "1.2.0")]

    deploy(live, "idle", provider(("sum", "1.3.0")), start="false")
    assert search(live, "sum") == [("adder", "Running", "1.2.0")]
    # Never started: nothing declared yet, in any state.
    assert search(live, "sum", all_states="true") == [("adder", "Running", "1.2.0")]


def test_a_redeploy_without_a_capability_withdraws_it(live: Live) -> None:
    deploy(live, "adder", provider(("sum", "1.2.0"), ("mul", "1.0.0")), version="1")
    reload(live, "adder", provider(("mul", "1.1.0")), version="2")
    assert search(live, "sum", all_states="true") == []
    assert search(live, "mul") == [("adder", "Running", "1.1.0")]

    # Reloaded while stopped: the new module has declared nothing yet, the old one's
    # declarations are gone; starting it declares the new set.
    act(live, "adder", "stop")
    reload(live, "adder", provider(("sum", "2.0.0")), version="3")
    assert search(live, "mul", all_states="true") == []
    assert search(live, "sum", all_states="true") == []
    act(live, "adder", "start")
    assert search(live, "sum") == [("adder", "Running", "2.0.0")]

    act(live, "adder", "rollback")  # back to version 2, running
    assert search(live, "sum", all_states="true") == []
    assert search(live, "mul") == [("adder", "Running", "1.1.0")]


def test_a_removed_agent_offers_nothing(live: Live) -> None:
    deploy(live, "adder", provider(("sum", "1.2.0")))
    deploy(live, "other", provider(("sum", "1.5.0")))
    assert live.client.delete("/agents/adder").status_code == 204
    assert search(live, "sum", all_states="true") == [("other", "Running", "1.5.0")]


def test_a_failed_agent_is_offered_only_with_every_state(live: Live) -> None:
    manager = live.server.manager
    manager.deploy(
        "fragile",
        provider(("sum", "1.0.0"), trap=True),
        failure_policy={"max_errors": 1, "max_restarts": 0},
    )
    assert search(live, "sum") == [("fragile", "Running", "1.0.0")]
    sent = live.post("/messages", json={"performative": "inform", "receiver": "fragile"})
    assert sent.status_code == 202, sent.text
    assert manager.wait(lambda: manager.get("fragile").state is StateName.FAILED, 20)
    assert search(live, "sum") == []
    assert search(live, "sum", all_states="true") == [("fragile", "Failed", "1.0.0")]


# ---- version ranges ----


@pytest.fixture
def translators(live: Live) -> Live:
    deploy(live, "alpha", provider(("translate", "1.4.2"), ("translate", "1.0.0")))
    deploy(live, "beta", provider(("translate", "2.0.0-rc.1")))
    deploy(live, "gamma", provider(("translate", "2.1.0"), ("translate", "1.9.0")))
    deploy(live, "delta", provider(("translate", "latest")))
    deploy(live, "omega", provider(("translate", "1.5.0")))
    act(live, "omega", "stop")
    return live


def test_every_version_by_agent_then_precedence(translators: Live) -> None:
    assert search(translators, "translate") == [
        ("alpha", "Running", "1.0.0"),
        ("alpha", "Running", "1.4.2"),
        ("beta", "Running", "2.0.0-rc.1"),
        ("delta", "Running", "latest"),
        ("gamma", "Running", "1.9.0"),
        ("gamma", "Running", "2.1.0"),
    ]


@pytest.mark.parametrize(
    ("version", "found"),
    [
        ("^1.2", [("alpha", "1.4.2"), ("gamma", "1.9.0")]),
        ("~1.0", [("alpha", "1.0.0")]),
        ("=1.4.2", [("alpha", "1.4.2")]),
        (
            "1.x || >=2.1",
            [("alpha", "1.0.0"), ("alpha", "1.4.2"), ("gamma", "1.9.0"), ("gamma", "2.1.0")],
        ),
        (">=1.4.0, <2.0.0", [("alpha", "1.4.2"), ("gamma", "1.9.0")]),
        # A pre-release only for a range that names one of its release.
        (">=2.0.0", [("gamma", "2.1.0")]),
        (">=2.0.0-rc.1", [("beta", "2.0.0-rc.1"), ("gamma", "2.1.0")]),
        ("^3", []),
    ],
)
def test_a_range_picks_the_versions_it_admits(
    translators: Live, version: str, found: list[tuple[str, str]]
) -> None:
    items = search(translators, "translate", version=version)
    assert [(agent, v) for agent, _, v in items] == found
    assert {state for _, state, _ in items} <= {"Running"}


def test_every_state_and_the_range_as_read(translators: Live) -> None:
    response = translators.get(
        "/capabilities", params={"name": "translate", "version": "^1.5", "all_states": "true"}
    )
    body = response.json()
    assert [(c["agent"], c["agent_state"], c["version"]) for c in body["items"]] == [
        ("gamma", "Running", "1.9.0"),
        ("omega", "Stopped", "1.5.0"),
    ]
    assert body["version_range"] == ">=1.5.0 <2.0.0-0"
    assert body["items"][0]["description"] == "translate at 1.9.0"
    assert body["items"][0]["input_schema"] == {"type": "object"}
    unranged = translators.get("/capabilities", params={"name": "translate"}).json()
    assert unranged["version_range"] is None


@pytest.mark.parametrize(
    ("query", "field", "named"),
    [
        (
            {"name": "translate", "version": "~>1.2"},
            "version",
            "'~>1.2' is not a version comparator",
        ),
        ({"name": "translate", "version": "1.x.3"}, "version", "has a number after a wildcard"),
        ({"name": "translate", "version": "^1 ||"}, "version", "an empty alternative"),
        # Checked by FastAPI before the route runs: its fields say where the parameter was.
        ({"name": "translate", "version": "1" * 201}, "query.version", "at most 200 characters"),
        ({"version": "^1"}, "query.name", "Field required"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_field(
    live: Live, query: dict[str, str], field: str, named: str
) -> None:
    response = live.get("/capabilities", params=query)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field
    assert problem["detail"].startswith(f"{field}: ")
    assert named in problem["detail"]
    assert problem["code"] == ("invalid-version-range" if field == "version" else "invalid-request")
