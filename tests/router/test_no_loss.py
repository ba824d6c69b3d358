"""A million messages through real wasm agents, and every one accounted for.

Each count is taken at three independent places: the agents' own counters
(in their linear memory, see bench/agents.py), the sandboxes' counters, and
the router's. Whatever was sent is handled, still waiting in a mailbox, or a
dead letter with its reason; under normal operation the last two are zero.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from caxton.router import Dispatcher, Router, attach
from caxton.runtime import Runtime, Sandbox

# The agents are the benchmark's (bench/ is scripts, not a package), so the
# test checks exactly what bench/router.py measures.
BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

from agents import Counters, compile_wat, ping, pong  # noqa: E402 - needs bench/ on sys.path first


@dataclass
class Pairs:
    router: Router
    pings: list[Sandbox]
    pongs: list[Sandbox]
    rounds: int
    window: int

    @property
    def sandboxes(self) -> list[Sandbox]:
        return self.pings + self.pongs

    def kick(self) -> int:
        """Put `window` messages in flight for every ping; returns how many were posted."""
        for sandbox in self.pings:
            for _ in range(self.window):
                status = self.router.post(
                    {
                        "performative": "inform",
                        "sender": "test",
                        "receiver": sandbox.name,
                        "content": 0,
                    }
                )
                assert status == 0
        return len(self.pings) * self.window


def start_pairs(
    runtime: Runtime, count: int, messages: int, window: int, *, threaded: bool
) -> Pairs:
    """`count` ping-pong pairs with batching, sending `messages` between them in all.

    `threaded` pairs keep to one conversation each; the others open a
    conversation per message, so the router's conversation table fills and evicts.
    """
    router = Router(seed=5)
    rounds = messages // (2 * count)
    assert rounds * 2 * count == messages
    pings, pongs = [], []
    for k in range(count):
        talk = f"pair-{k}" if threaded else None
        ping_wat = ping(f"pong-{k}", rounds, batch=True, conversation=talk)
        pong_wat = pong(f"ping-{k}", batch=True, conversation=talk)
        pings.append(attach(router, runtime, runtime.load(compile_wat(ping_wat)), f"ping-{k}"))
        pongs.append(attach(router, runtime, runtime.load(compile_wat(pong_wat)), f"pong-{k}"))
    return Pairs(router, pings, pongs, rounds, window)


def assert_all_accounted_for(pairs: Pairs, posted: int, messages: int) -> None:
    router = pairs.router
    endpoints = [router.get(s.name) for s in pairs.sandboxes]
    own = [Counters.of(s) for s in pairs.sandboxes]

    # What the agents sent: by their own count, by their endpoints', by the router's.
    sent = sum(c.sent for c in own)
    assert sum(c.refused for c in own) == 0
    assert sum(e.sent for e in endpoints if e is not None) == sent == messages
    assert router.routed == posted + sent
    assert sum(e.mailbox.received for e in endpoints if e is not None) == posted + sent

    # Where it all went.
    handled = sum(s.messages_handled for s in pairs.sandboxes)
    waiting = sum(len(e.mailbox) for e in endpoints if e is not None)
    dead = router.dead_letters.total
    assert handled + waiting + dead == posted + sent
    assert sum(c.handled for c in own) == handled
    assert (waiting, dead, sum(s.errors for s in pairs.sandboxes)) == (0, 0, 0), [
        (letter.receiver, letter.reason) for letter in router.dead_letters.recent(5)
    ]

    # And pair by pair: every ping made its rounds and heard every answer.
    for ping_counters, pong_counters in zip(
        own[: len(pairs.pings)], own[len(pairs.pings) :], strict=True
    ):
        assert ping_counters.sent == pong_counters.handled == pong_counters.sent == pairs.rounds
        assert ping_counters.handled == pairs.rounds + pairs.window


def test_a_million_messages_between_wasm_agents_are_all_handled(runtime: Runtime) -> None:
    pairs = start_pairs(runtime, count=8, messages=1_000_000, window=64, threaded=True)
    dispatcher = Dispatcher(pairs.router, workers=0)
    posted = pairs.kick()
    dispatcher.run_until_idle()

    assert_all_accounted_for(pairs, posted, 1_000_000)
    # Batches really formed: with 64 in flight a turn takes many messages at once.
    assert dispatcher.batches > 0
    assert (posted + 1_000_000) / dispatcher.turns > 8


def test_nothing_is_lost_with_two_worker_threads(runtime: Runtime) -> None:
    pairs = start_pairs(runtime, count=4, messages=100_000, window=16, threaded=False)
    dispatcher = Dispatcher(pairs.router, workers=2)
    dispatcher.start()
    try:
        posted = pairs.kick()
        assert dispatcher.wait_idle(timeout=60)
    finally:
        dispatcher.stop()
    assert_all_accounted_for(pairs, posted, 100_000)
