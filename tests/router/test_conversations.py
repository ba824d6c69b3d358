"""Conversation tracking: ids, threading, verdicts, deadline notices, timeouts and bounds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from caxton.router import Dispatcher, Router
from caxton.router.conversations import (
    PLATFORM,
    Conversation,
    ConversationManager,
    Outcome,
    Verdict,
)
from routing import inbox

T0 = 1_800_000_000.0
CNET = "fipa-contract-net"
Message = dict[str, Any]


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def msg(act: str, sender: str, receiver: str | list[str], **fields: Any) -> Message:
    return {"performative": act, "sender": sender, "receiver": receiver, **fields}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(clock: Clock) -> ConversationManager:
    return ConversationManager(clock=clock, id_prefix="c-", idle_timeout_s=60.0)


def delivered(manager: ConversationManager, message: Message) -> None:
    verdict = manager.observe(message)
    assert verdict == Verdict(Outcome.DELIVER), verdict


# Ids and threading.


def test_a_message_without_conversation_id_gets_a_new_one(manager: ConversationManager) -> None:
    first, second = msg("inform", "a", "b"), msg("inform", "a", "b")
    delivered(manager, first)
    delivered(manager, second)
    assert first["conversation_id"] == "c-1"
    assert second["conversation_id"] == "c-2"
    assert len(manager) == 2


def test_ids_have_a_random_prefix_per_manager() -> None:
    ids = set()
    for _ in range(2):
        message = msg("inform", "a", "b")
        ConversationManager().observe(message)
        ids.add(message["conversation_id"])
    assert len(ids) == 2
    assert all(cid.endswith("-1") and len(cid) > 4 for cid in ids)


def test_a_reply_joins_the_conversation_of_the_message_it_answers(
    manager: ConversationManager,
) -> None:
    question = msg("query-ref", "a", "b", reply_with="q1")
    delivered(manager, question)
    answer = msg("inform", "b", "a", in_reply_to="q1")
    delivered(manager, answer)
    assert answer["conversation_id"] == question["conversation_id"]
    conversation = manager.get(question["conversation_id"])
    assert conversation is not None
    assert conversation.messages == 2


def test_threading_is_by_the_original_sender_and_its_reply_with(
    manager: ConversationManager,
) -> None:
    delivered(manager, msg("request", "a", "b", reply_with="r1", conversation_id="ca"))
    delivered(manager, msg("request", "x", "b", reply_with="r1", conversation_id="cx"))
    to_a = msg("inform", "b", "a", in_reply_to="r1")
    to_x = msg("inform", "b", "x", in_reply_to="r1")
    unknown = msg("inform", "b", "a", in_reply_to="r2")
    for message in (to_a, to_x, unknown):
        delivered(manager, message)
    assert (to_a["conversation_id"], to_x["conversation_id"]) == ("ca", "cx")
    assert unknown["conversation_id"] == "c-1"


def test_an_explicit_conversation_id_wins_over_in_reply_to(manager: ConversationManager) -> None:
    delivered(manager, msg("request", "a", "b", reply_with="r1", conversation_id="ca"))
    other = msg("inform", "b", "a", in_reply_to="r1", conversation_id="elsewhere")
    delivered(manager, other)
    assert other["conversation_id"] == "elsewhere"
    assert len(manager) == 2


def test_a_conversation_without_protocol_is_tracked_and_described(
    manager: ConversationManager, clock: Clock
) -> None:
    delivered(manager, msg("inform", "a", "b", conversation_id="k"))
    clock.now += 5
    delivered(manager, msg("inform", "b", ["a", "c"], conversation_id="k"))
    assert manager.get("k") == Conversation(
        id="k",
        initiator="a",
        participants={"b", "c"},
        protocol=None,
        state="open",
        started=T0,
        last_activity=T0 + 5,
        messages=2,
    )
    assert manager.get("nope") is None


def test_an_idle_conversation_is_dropped_and_handed_to_the_sink(
    manager: ConversationManager, clock: Clock
) -> None:
    kept: list[Conversation] = []
    manager.sink = kept.append
    delivered(manager, msg("inform", "a", "b", conversation_id="old"))
    clock.now += 30
    delivered(manager, msg("inform", "a", "b", conversation_id="new"))
    assert [c.id for c in manager.snapshots()] == ["old", "new"]
    clock.now += 31  # "old" idle for 61 s, "new" for 31 s
    manager.expire()
    assert [(c.id, c.initiator, c.messages) for c in kept] == [("old", "a", 1)]
    assert [c.id for c in manager.snapshots()] == ["new"]


def test_a_protocol_conversation_is_described_by_its_machine(
    manager: ConversationManager,
) -> None:
    delivered(
        manager,
        msg("cfp", "i", ["p1", "p2"], protocol=CNET, conversation_id="k", reply_by=stamp(T0 + 9)),
    )
    delivered(manager, msg("propose", "p1", "i", conversation_id="k"))
    manager.observe(msg("inform", "x", "i", conversation_id="k"))
    conversation = manager.get("k")
    assert conversation == Conversation(
        id="k",
        initiator="i",
        participants={"p1", "p2"},
        protocol=CNET,
        state="called",
        started=T0,
        last_activity=T0,
        messages=2,
        refused=1,
        branches={"called": 1, "proposed": 1},
        next_deadline=T0 + 9,
    )


# Verdicts.


def test_an_out_of_sequence_message_is_refused_with_a_not_understood(
    manager: ConversationManager,
) -> None:
    message = msg(
        "inform",
        "b",
        "a",
        protocol="fipa-request",
        conversation_id="k",
        reply_with="rw",
        message_id="m1",
    )
    verdict = manager.observe(message)
    assert verdict.outcome is Outcome.REFUSE
    assert "starts with request" in verdict.reason
    assert verdict.reply == {
        "performative": "not-understood",
        "sender": "a",
        "receiver": "b",
        "conversation_id": "k",
        "protocol": "fipa-request",
        "in_reply_to": "rw",
        "content": {"message": message, "reason": verdict.reason},
    }
    assert len(manager) == 0  # a refused first message opens no conversation


def test_the_refusal_goes_out_in_the_first_receivers_name_without_in_reply_to(
    manager: ConversationManager,
) -> None:
    delivered(manager, msg("request", "a", "b", protocol="fipa-request", conversation_id="k"))
    verdict = manager.observe(msg("agree", "x", ["a", "b"], conversation_id="k"))
    assert verdict.outcome is Outcome.REFUSE
    assert "x, who is not part of this conversation" in verdict.reason
    assert verdict.reply is not None
    assert (verdict.reply["sender"], verdict.reply["receiver"]) == ("a", "x")
    assert verdict.reply["protocol"] == "fipa-request"  # the conversation's
    assert "in_reply_to" not in verdict.reply


def test_a_late_proposal_gets_a_reject_proposal_from_the_initiator(
    manager: ConversationManager, clock: Clock
) -> None:
    reply_by = stamp(T0 + 10)
    delivered(
        manager,
        msg("cfp", "i", ["p1"], protocol=CNET, conversation_id="k", reply_by=reply_by),
    )
    clock.now = T0 + 11
    verdict = manager.observe(
        msg("propose", "p1", "i", protocol=CNET, conversation_id="k", reply_with="p1-bid")
    )
    reason = f"proposal arrived after the deadline (reply_by {reply_by})"
    assert verdict == Verdict(
        Outcome.LATE,
        reason,
        {
            "performative": "reject-proposal",
            "sender": "i",
            "receiver": "p1",
            "conversation_id": "k",
            "protocol": CNET,
            "in_reply_to": "p1-bid",
            "content": {"reason": reason},
        },
    )
    # The router routes that reply, and it is in sequence.
    assert verdict.reply is not None
    delivered(manager, verdict.reply)


def test_the_protocol_is_fixed_by_the_first_message_that_names_it(
    manager: ConversationManager,
) -> None:
    delivered(manager, msg("inform", "a", "b", conversation_id="k"))
    delivered(manager, msg("request", "a", "b", conversation_id="k", protocol="fipa-request"))
    verdict = manager.observe(msg("query-if", "a", "c", conversation_id="k", protocol="fipa-query"))
    assert verdict.outcome is Outcome.REFUSE
    assert verdict.reason == "conversation k follows fipa-request, not fipa-query"
    # Later messages need not name it: the machine still judges them.
    refusal = manager.observe(msg("propose", "b", "a", conversation_id="k"))
    assert refusal.outcome is Outcome.REFUSE
    assert "expected agree, refuse, inform, failure or not-understood" in refusal.reason
    delivered(manager, msg("agree", "b", "a", conversation_id="k"))
    conversation = manager.get("k")
    assert conversation is not None
    assert (conversation.state, conversation.messages, conversation.refused) == ("agreed", 3, 2)


def test_an_untracked_protocol_is_fixed_but_not_judged(manager: ConversationManager) -> None:
    delivered(manager, msg("inform", "a", "b", conversation_id="k", protocol="my-own"))
    delivered(manager, msg("propose", "z", "y", conversation_id="k"))
    assert manager.observe(msg("request", "a", "b", conversation_id="k", protocol="fipa-request"))
    verdict = manager.observe(
        msg("request", "a", "b", conversation_id="k", protocol="fipa-request")
    )
    assert verdict.outcome is Outcome.REFUSE
    assert "follows my-own" in verdict.reason


def test_the_platforms_refusals_are_never_refused_in_turn(manager: ConversationManager) -> None:
    """A not-understood is always delivered, so a refusal cannot start a loop."""
    delivered(manager, msg("request", "a", "b", protocol="fipa-request", conversation_id="k"))
    delivered(manager, msg("inform", "b", "a", conversation_id="k"))
    for refused in (
        msg("inform", "b", "a", conversation_id="k"),  # after the end
        msg("cfp", "a", "b", conversation_id="k", protocol=CNET),  # the wrong protocol
        msg("inform", "a", "b", conversation_id="fresh", protocol="fipa-request"),  # no request
    ):
        verdict = manager.observe(refused)
        assert verdict.outcome is Outcome.REFUSE
        assert verdict.reply is not None
        delivered(manager, verdict.reply)


def test_a_message_posted_without_sender_is_judged_but_not_answered(
    manager: ConversationManager,
) -> None:
    delivered(manager, {"performative": "inform", "receiver": "b"})
    verdict = manager.observe({"performative": "request", "receiver": "b", "protocol": CNET})
    assert verdict.outcome is Outcome.REFUSE
    assert verdict.reply is None


# Deadlines and timeouts.


def test_the_deadline_notice_has_exactly_this_shape(
    manager: ConversationManager, clock: Clock
) -> None:
    reply_by = stamp(T0 + 10)
    cfp = msg(
        "cfp",
        "i",
        ["p1", "p2", "p3", "p4", "p5"],
        protocol=CNET,
        conversation_id="k",
        reply_with="k-cfp",
        reply_by=reply_by,
    )
    delivered(manager, cfp)
    for act, name in (("propose", "p1"), ("propose", "p2"), ("refuse", "p3"), ("failure", "p4")):
        delivered(manager, msg(act, name, "i", conversation_id="k"))
    assert manager.next_deadline() == T0 + 10
    clock.now = T0 + 9.5
    assert manager.expire() == []

    clock.now = T0 + 10
    assert manager.expire() == [
        {
            "performative": "inform",
            "sender": "caxton",
            "receiver": "i",
            "conversation_id": "k",
            "protocol": CNET,
            "x-caxton-event": "deadline",
            "content": {
                "reply_by": reply_by,
                "proposals": 2,
                "refusals": 1,
                "failures": 1,
                "silent": 1,
            },
            "in_reply_to": "k-cfp",
        }
    ]
    assert manager.expire() == []
    assert PLATFORM == "caxton"


def test_the_deadline_notice_without_reply_with_has_no_in_reply_to(
    manager: ConversationManager, clock: Clock
) -> None:
    reply_by = stamp(T0 + 10)
    delivered(
        manager,
        msg("cfp", "i", "p1", protocol=CNET, conversation_id="k", reply_by=reply_by),
    )
    clock.now = T0 + 60
    [notice] = manager.expire()
    assert "in_reply_to" not in notice
    assert notice["content"] == {
        "reply_by": reply_by,
        "proposals": 0,
        "refusals": 0,
        "failures": 0,
        "silent": 1,
    }


def test_no_notice_when_the_initiator_moved_on(manager: ConversationManager, clock: Clock) -> None:
    delivered(
        manager,
        msg("cfp", "i", ["p1", "p2"], protocol=CNET, conversation_id="k", reply_by=stamp(T0 + 10)),
    )
    delivered(manager, msg("propose", "p1", "i", conversation_id="k"))
    delivered(manager, msg("accept-proposal", "i", "p1", conversation_id="k"))
    clock.now = T0 + 10
    assert manager.expire() == []


def test_a_request_timeout_is_a_failure_of_exactly_this_shape(
    manager: ConversationManager, clock: Clock
) -> None:
    reply_by = stamp(T0 + 5)
    delivered(
        manager,
        msg(
            "request",
            "a",
            ["b", "c", "d"],
            protocol="fipa-request",
            reply_by=reply_by,
            reply_with="r1",
        ),
    )
    delivered(manager, msg("agree", "c", "a", in_reply_to="r1"))
    clock.now = T0 + 6
    assert manager.expire() == [
        {
            "performative": "failure",
            "sender": "caxton",
            "receiver": "a",
            "conversation_id": "c-1",
            "protocol": "fipa-request",
            "x-caxton-event": "timeout",
            "content": {"reason": f"no answer from b, d by reply_by {reply_by}"},
            "in_reply_to": "r1",
        }
    ]
    late = manager.observe(msg("inform", "b", "a", in_reply_to="r1"))
    assert late.outcome is Outcome.REFUSE
    assert "after reply_by" in late.reason
    delivered(manager, msg("inform", "c", "a", in_reply_to="r1"))


def test_next_deadline_is_the_earliest_of_deadlines_and_idleness(
    manager: ConversationManager, clock: Clock
) -> None:
    assert manager.next_deadline() is None
    delivered(manager, msg("inform", "a", "b"))
    assert manager.next_deadline() == T0 + 60
    delivered(
        manager,
        msg("query-if", "a", "b", protocol="fipa-query", reply_by=stamp(T0 + 7)),
    )
    assert manager.next_deadline() == T0 + 7


# Idleness and bounds.


def test_idle_conversations_are_dropped_silently(
    manager: ConversationManager, clock: Clock
) -> None:
    delivered(manager, msg("inform", "a", "b", conversation_id="old"))
    clock.now = T0 + 30
    delivered(manager, msg("inform", "a", "b", conversation_id="young"))
    clock.now = T0 + 59.9
    assert manager.expire() == []
    assert len(manager) == 2
    clock.now = T0 + 60
    assert manager.expire() == []
    assert manager.get("old") is None
    assert manager.get("young") is not None
    assert manager.next_deadline() == T0 + 90
    clock.now = T0 + 90
    manager.expire()
    assert len(manager) == 0
    assert manager.next_deadline() is None


def test_activity_keeps_a_conversation_alive(manager: ConversationManager, clock: Clock) -> None:
    delivered(manager, msg("inform", "a", "b", conversation_id="k"))
    clock.now = T0 + 50
    delivered(manager, msg("inform", "b", "a", conversation_id="k"))
    clock.now = T0 + 100
    manager.expire()
    assert manager.get("k") is not None


def test_a_pending_deadline_outlives_idleness(manager: ConversationManager, clock: Clock) -> None:
    reply_by = stamp(T0 + 100)  # longer than the 60 s idle timeout
    delivered(
        manager,
        msg("cfp", "i", "p1", protocol=CNET, conversation_id="k", reply_by=reply_by),
    )
    clock.now = T0 + 70
    assert manager.expire() == []
    assert manager.get("k") is not None
    assert manager.next_deadline() == T0 + 100
    clock.now = T0 + 100
    [notice] = manager.expire()
    assert notice["x-caxton-event"] == "deadline"
    clock.now = T0 + 160
    manager.expire()
    assert manager.get("k") is None


def test_the_least_recently_active_conversation_is_evicted_beyond_the_bound(
    clock: Clock,
) -> None:
    manager = ConversationManager(clock=clock, max_conversations=3)
    for cid in ("k1", "k2", "k3"):
        delivered(manager, msg("inform", "a", "b", conversation_id=cid))
    delivered(manager, msg("inform", "b", "a", conversation_id="k1"))  # k2 is now the oldest
    delivered(manager, msg("inform", "a", "b", conversation_id="k4"))
    assert len(manager) == 3
    assert manager.get("k2") is None
    assert all(manager.get(cid) is not None for cid in ("k1", "k3", "k4"))


def test_eviction_keeps_the_deadline_heap_bounded(clock: Clock) -> None:
    manager = ConversationManager(clock=clock, max_conversations=10)
    for i in range(1000):
        delivered(
            manager,
            msg("cfp", "i", "p", protocol=CNET, reply_by=stamp(T0 + 1000 + i)),
        )
    assert len(manager) == 10
    assert len(manager._deadlines) <= 2 * 10 + 64 + 1
    clock.now = T0 + 5000
    assert len(manager.expire()) == 10  # only the survivors owe a notice


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="idle_timeout_s"):
        ConversationManager(idle_timeout_s=0)
    with pytest.raises(ValueError, match="max_conversations"):
        ConversationManager(max_conversations=0)


# Threads.


def test_two_threads_observing_at_once_lose_nothing(clock: Clock) -> None:
    manager = ConversationManager(clock=clock)
    per_thread = 20_000
    assigned: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait()
        for n in range(per_thread):
            shared = msg("inform", f"t{index}", "z", conversation_id="shared")
            manager.observe(shared)
            fresh = msg("inform", f"t{index}", "z", reply_with=f"r{index}-{n}")
            manager.observe(fresh)
            assigned[index].append(fresh["conversation_id"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    shared = manager.get("shared")
    assert shared is not None
    assert shared.messages == 2 * per_thread
    assert shared.initiator in {"t0", "t1"}
    assert shared.participants == {"t0", "t1", "z"} - {shared.initiator}
    every_id = assigned[0] + assigned[1]
    assert len(set(every_id)) == 2 * per_thread
    assert len(manager) == 2 * per_thread + 1


# Through the router.


def test_the_router_dead_letters_a_refused_message_and_delivers_the_refusal(
    clock: Clock,
) -> None:
    router = Router(clock=clock, seed=1)
    a, b = inbox(router, "a"), inbox(router, "b")
    dispatcher = Dispatcher(router, workers=0)
    router.post(msg("inform", "a", "b", protocol="fipa-request", reply_with="x"))
    dispatcher.run_until_idle()

    assert b.messages == []
    [refusal] = a.messages
    assert refusal["performative"] == "not-understood"
    assert refusal["sender"] == "b"
    assert refusal["in_reply_to"] == "x"
    assert "starts with request" in refusal["content"]["reason"]
    [dead] = router.dead_letters.recent()
    assert dead.reason == refusal["content"]["reason"]


def test_the_router_sends_the_deadline_notice_and_rejects_late_proposals(clock: Clock) -> None:
    router = Router(clock=clock, seed=1)
    initiator, p1, p2 = (inbox(router, name) for name in ("i", "p1", "p2"))
    dispatcher = Dispatcher(router, workers=0)
    cfp = msg("cfp", "i", ["p1", "p2"], protocol=CNET, reply_by=stamp(T0 + 1), reply_with="c")
    router.post(cfp)
    router.post(msg("propose", "p1", "i", conversation_id=cfp["conversation_id"]))
    dispatcher.run_until_idle()
    clock.now = T0 + 2
    router.expire()
    router.post(msg("propose", "p2", "i", conversation_id=cfp["conversation_id"]))
    dispatcher.run_until_idle()

    assert [m["performative"] for m in initiator.messages] == ["propose", "inform"]
    notice = initiator.messages[1]
    assert notice["x-caxton-event"] == "deadline"
    assert notice["content"]["silent"] == 1
    assert [m["performative"] for m in p1.messages] == ["cfp"]
    assert [m["performative"] for m in p2.messages] == ["cfp", "reject-proposal"]


# Random interleavings.

NAMES = ["a", "b", "c", "d"]
ACTS = [
    "request",
    "query-if",
    "query-ref",
    "cfp",
    "agree",
    "refuse",
    "inform",
    "failure",
    "not-understood",
    "propose",
    "accept-proposal",
    "reject-proposal",
    "cancel",
    "subscribe",
]
PROTOCOLS = [
    None,
    "fipa-request",
    "fipa-query",
    CNET,
    "fipa-iterated-contract-net",
    "someone-elses",
]
TOKENS = ["t1", "t2", "t3"]
LIKELY_ANSWERS = {
    "cfp": ["propose", "refuse", "failure"],
    "request": ["agree", "refuse", "inform", "failure"],
    "query-ref": ["agree", "refuse", "inform", "failure"],
    "agree": ["inform", "failure", "cancel"],
    "propose": ["accept-proposal", "reject-proposal", "cfp", "cancel"],
    "accept-proposal": ["inform", "failure"],
}
OPENINGS = [
    ("request", "fipa-request"),
    ("query-ref", "fipa-query"),
    ("cfp", CNET),
    ("cfp", "fipa-iterated-contract-net"),
]


@st.composite
def messages(draw: st.DrawFn, now: float) -> Message:
    message: Message = {
        "performative": draw(st.sampled_from(ACTS)),
        "sender": draw(st.sampled_from(NAMES)),
        "receiver": draw(
            st.one_of(
                st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3)
            )
        ),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "protocol": st.sampled_from(PROTOCOLS),
        "conversation_id": st.sampled_from(["k1", "k2", "k3"]),
        "reply_with": st.sampled_from(TOKENS),
        "in_reply_to": st.sampled_from(TOKENS),
        "reply_by": st.one_of(
            st.floats(-5, 30).map(lambda offset: stamp(now + offset)), st.just("whenever")
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            value = draw(strategy)
            if value is not None:
                message[key] = value
    return message


class Interleavings(RuleBasedStateMachine):
    """Random messages, replies, time and expiry: only ever Verdicts, within bounds."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.manager = ConversationManager(
            clock=self.clock, idle_timeout_s=20.0, max_conversations=5, id_prefix="h-"
        )
        self.recent: list[Message] = []  # delivered, for answers to pick from

    @rule(data=st.data())
    def anything(self, data: st.DataObject) -> None:
        self.observe(data.draw(messages(self.clock.now)))

    @rule(
        opening=st.sampled_from(OPENINGS),
        receivers=st.lists(st.sampled_from(NAMES[1:]), min_size=1, max_size=3),
        within=st.floats(0, 10),
    )
    def open_protocol(self, opening: tuple[str, str], receivers: list[str], within: float) -> None:
        act, protocol = opening
        self.observe(
            msg(act, "a", receivers, protocol=protocol, reply_by=stamp(self.clock.now + within))
        )

    @rule(data=st.data(), delay=st.sampled_from([0.0, 0.0, 4.0, 11.0]))
    def answer(self, data: st.DataObject, delay: float) -> None:
        """Someone who received a recent message answers its sender, in time or not."""
        if not self.recent:
            return
        self.clock.now += delay
        earlier = data.draw(st.sampled_from(self.recent))
        likely = LIKELY_ANSWERS.get(earlier["performative"], ACTS)
        act = data.draw(st.one_of(st.sampled_from(likely), st.sampled_from(ACTS)))
        receiver = earlier["receiver"]
        sender = receiver if isinstance(receiver, str) else data.draw(st.sampled_from(receiver))
        self.observe(
            msg(act, sender, earlier["sender"], conversation_id=earlier["conversation_id"])
        )

    def observe(self, message: Message) -> None:
        verdict = self.manager.observe(message)
        assert isinstance(verdict, Verdict)
        assert isinstance(message["conversation_id"], str)
        if verdict.outcome is Outcome.DELIVER:
            assert verdict.reply is None
            self.recent = [*self.recent[-19:], message]
            return
        assert verdict.reason
        assert verdict.reply is not None
        expected = "reject-proposal" if verdict.outcome is Outcome.LATE else "not-understood"
        assert verdict.reply["performative"] == expected
        assert verdict.reply["receiver"] == message["sender"]
        assert verdict.reply["conversation_id"] == message["conversation_id"]
        # What the platform answers is always in sequence: nothing can loop.
        assert self.manager.observe(verdict.reply).outcome is Outcome.DELIVER

    @rule(seconds=st.floats(0, 15))
    def wait(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule()
    def expire(self) -> None:
        for notice in self.manager.expire():
            assert notice["sender"] == PLATFORM
            assert notice["x-caxton-event"] in ("deadline", "timeout")
            assert notice["performative"] in ("inform", "failure")

    @invariant()
    def bounded(self) -> None:
        assert len(self.manager) <= 5
        deadline = self.manager.next_deadline()
        assert deadline is None or isinstance(deadline, float)


TestInterleavings = Interleavings.TestCase
TestInterleavings.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
