"""The contract-net example system on the real router: 1 initiator, 120 wasm participants.

The router enforces the protocol: it tells the initiator when the cfp's
deadline passes, and rejects a proposal that arrives after it in the
initiator's name, so the example agents need no timers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.router import PLATFORM, Router, attach
from caxton.runtime import InMemoryKeyValueStore, Runtime
from routing import Tap, running, tap

PARTICIPANTS = 120
DEADLINE_MS = 500
LATE_MS = 900  # well past the deadline, however slow the machine


class WatchedStore(InMemoryKeyValueStore):
    """Key-value state that signals when the initiator records its outcome."""

    def __init__(self) -> None:
        super().__init__(1 << 20)
        self.outcome = threading.Event()

    def set(self, key: bytes, value: bytes) -> bool:
        stored = super().set(key, value)
        if key == b"outcome":
            self.outcome.set()
        return stored


@pytest.fixture(scope="module")
def agents(c_examples: Path) -> dict[str, bytes]:
    return {
        name: (c_examples / f"{name}.wasm").read_bytes()
        for name in ("cnet_initiator", "cnet_participant")
    }


def cost_of(number: int) -> int:
    """Distinct costs; p-007 is the cheapest of the participants that answer in time."""
    return 5 if number == 7 else 100 + (number * 37) % 500


def start_bidders(
    router: Router, runtime: Runtime, wasm: bytes
) -> tuple[list[str], dict[str, Tap]]:
    """p-000 bids lowest but late, p-001 refuses, p-002 fails; p-000 to p-007 are tapped."""
    participant = runtime.load(wasm)
    names = [f"p-{n:03d}" for n in range(PARTICIPANTS)]
    taps: dict[str, Tap] = {}
    for number, name in enumerate(names):
        config: dict[str, Any] = {"cost": cost_of(number)}
        limits = None
        if number == 0:  # the cheapest of all, but too late
            config = {"cost": 1, "late_ms": LATE_MS}
            limits = runtime.config.default_limits.override(
                runtime.config.memory, deadline_ms=10 * LATE_MS
            )
        elif number == 1:
            config["refuse"] = True
        elif number == 2:
            config["fail"] = True
        if number < 8:
            taps[name], _ = tap(router, runtime, wasm, name, config=config, limits=limits)
        else:
            attach(router, runtime, participant, name, config=config, limits=limits)
    return names, taps


def test_contract_net_with_120_bidders_a_late_one_a_refusal_and_a_failure(
    runtime: Runtime, agents: dict[str, bytes]
) -> None:
    router = Router()
    kv = WatchedStore()
    initiator, _ = tap(router, runtime, agents["cnet_initiator"], "boss", kv=kv)
    names, taps = start_bidders(router, runtime, agents["cnet_participant"])
    numbers = list(range(1, 101))

    with running(router, workers=2) as dispatcher:
        router.post(
            {
                "performative": "request",
                "receiver": "boss",
                "content": {
                    "participants": names,
                    "task": {"numbers": numbers},
                    "deadline_ms": DEADLINE_MS,
                },
            }
        )
        assert kv.outcome.wait(30), "the initiator never recorded an outcome"
        assert dispatcher.wait_idle(30)

    outcome = kv.get(b"outcome")
    assert outcome is not None
    assert orjson.loads(outcome) == {
        "winner": "p-007",
        "cost": 5,
        "result": sum(numbers),
        # everyone but the late bidder, the refuser and the one that failed
        "proposals": PARTICIPANTS - 3,
    }

    received = initiator.messages()
    notices = [m for m in received if m.get("x-caxton-event") == "deadline"]
    [notice] = notices
    assert notice["sender"] == PLATFORM
    assert notice["content"]["proposals"] == PARTICIPANTS - 3
    assert notice["content"]["refusals"] == 1
    assert notice["content"]["failures"] == 1
    assert notice["content"]["silent"] == 1
    failures = [m for m in received if m["performative"] == "failure"]
    assert [m["sender"] for m in failures] == ["p-002"]
    assert all(m.get("sender") != "p-000" for m in received), (
        "a late proposal reached the initiator"
    )

    late = taps["p-000"].messages()
    assert [m["performative"] for m in late] == ["cfp", "reject-proposal"]
    assert late[1]["sender"] == "boss"
    assert "after the deadline" in late[1]["content"]["reason"]
    winner = taps["p-007"].messages()
    assert [m["performative"] for m in winner] == ["cfp", "accept-proposal"]
    [cfp] = {m["message_id"]: m for m in (t.messages()[0] for t in taps.values())}.values()
    assert cfp["receiver"] == names  # one message to all 120
    assert cfp["protocol"] == "fipa-contract-net"
    loser = taps["p-003"].messages()
    assert [m["performative"] for m in loser] == ["cfp", "reject-proposal"]
    assert loser[1]["content"] == {"reason": "another proposal was chosen"}

    conversation = router.conversations.get(notice["conversation_id"])
    assert conversation is not None
    assert conversation.protocol == "fipa-contract-net"
    assert conversation.initiator == "boss"
    assert len(conversation.participants) >= PARTICIPANTS
    assert [letter.message["sender"] for letter in router.dead_letters.recent()].count(
        "p-000"
    ) == 1  # the late proposal, kept with its reason
