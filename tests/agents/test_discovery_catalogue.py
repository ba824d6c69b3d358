"""The capability catalogue (caxton.agents.catalogue) alone, then kept in step by a real
server: declarations from handlers, and a restart that rebuilds it from the store."""

from __future__ import annotations

from pathlib import Path

from caxton.agents import ANSWERING, Catalogue, StateName, VersionRange
from caxton.server.server import Server
from caxton.settings import Settings
from caxton.store import Capability
from conftest import ALLOC, wat
from providers import declaration, provider


def found(
    catalogue: Catalogue,
    name: str,
    versions: str | None = None,
    states: frozenset[StateName] | None = ANSWERING,
) -> list[str]:
    parsed = None if versions is None else VersionRange.parse(versions)
    offers = catalogue.search(name, parsed, states=states)
    return [f"{o.agent}@{o.capability.version}:{o.state}" for o in offers]


def test_searches_by_name_range_and_state() -> None:
    catalogue = Catalogue()
    catalogue.replace("b", [Capability("sum", "2.0.0"), Capability("sum", "1.10.0")])
    catalogue.replace("a", [Capability("sum", "1.2.0"), Capability("sum", "edge")])
    catalogue.replace("c", [Capability("mul", "1.0.0")])
    for agent in "abc":
        catalogue.set_state(agent, StateName.RUNNING)
    catalogue.set_state("b", StateName.STOPPED)

    assert found(catalogue, "sum") == ["a@1.2.0:Running", "a@edge:Running"]
    assert found(catalogue, "sum", states=None) == [
        "a@1.2.0:Running",
        "a@edge:Running",
        "b@1.10.0:Stopped",  # precedence, not text: 1.10 after 1.2, before 2.0
        "b@2.0.0:Stopped",
    ]
    assert found(catalogue, "sum", "^1", states=None) == ["a@1.2.0:Running", "b@1.10.0:Stopped"]
    assert found(catalogue, "sum", "*") == ["a@1.2.0:Running"]  # "edge" is no version
    assert found(catalogue, "sum", states=frozenset({StateName.STOPPED})) == [
        "b@1.10.0:Stopped",
        "b@2.0.0:Stopped",
    ]
    assert found(catalogue, "nothing") == []
    assert catalogue.of("a") == [Capability("sum", "1.2.0"), Capability("sum", "edge")]


def test_add_replace_and_forget_keep_the_index_exact() -> None:
    catalogue = Catalogue()
    catalogue.set_state("a", StateName.RUNNING)
    catalogue.add("a", Capability("sum", "1.0.0", "first"))
    catalogue.add("a", Capability("sum", "1.0.0", "second"))  # same name and version: replaced
    catalogue.add("a", Capability("mul", "1.0.0"))
    assert [c.description for c in catalogue.of("a") if c.name == "sum"] == ["second"]

    catalogue.replace("a", [Capability("div", "1.0.0")])
    assert (found(catalogue, "sum"), found(catalogue, "mul")) == ([], [])
    assert found(catalogue, "div") == ["a@1.0.0:Running"]

    catalogue.forget("a")
    assert found(catalogue, "div", states=None) == []
    assert catalogue.state("a") is None
    assert catalogue.of("a") == []


LATE = declaration("late", "1.0.0")
_LATE_WAT = LATE.decode().replace('"', '\\"')  # a WAT string literal's body
# Declares `late` from its handler, on every message, rather than in caxton_init.
DECLARES_LATER = wat(
    f"""(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1) {ALLOC}
  (data (i32.const 64) "{_LATE_WAT}")
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (drop (call $reg (i32.const 64) (i32.const {len(LATE)})))
    (i32.const 0)))"""
)


def test_the_server_keeps_it_in_step_and_rebuilds_it_after_a_restart(tmp_path: Path) -> None:
    server = Server(Settings(data_dir=tmp_path))
    try:
        server.start()
        manager = server.manager
        manager.deploy("adder", provider(("sum", "1.2.0")))
        manager.deploy("spare", provider(("sum", "1.3.0")))
        manager.stop("spare")
        manager.deploy("later", DECLARES_LATER)
        assert found(manager.catalogue, "late") == []
        server.gateway.post({"performative": "inform", "receiver": "later"})
        assert server.dispatcher.wait_idle(10)
        assert found(manager.catalogue, "late") == ["later@1.0.0:Running"]
    finally:
        server.close()

    again = Server(Settings(data_dir=tmp_path))
    try:
        # Recovered from the store before any instance runs: then kept in step again.
        again.start()
        catalogue = again.manager.catalogue
        assert found(catalogue, "sum", states=None) == [
            "adder@1.2.0:Running",
            "spare@1.3.0:Stopped",
        ]
        # A declaration from a handler lasts until the next instance's caxton_init makes
        # the whole set anew: `later` declares nothing there.
        assert found(catalogue, "late", states=None) == []
    finally:
        again.close()
