"""The FIPA interaction-protocol machines: request, query, contract net, iterated contract net."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from caxton.acl.protocols import (
    ACCEPTED,
    CONTRACT_NET,
    ITERATED_CONTRACT_NET,
    QUERY,
    REQUEST,
    DeadlinePassed,
    Kind,
    Machine,
    NoAnswer,
    Ruling,
    Stage,
    parse_timestamp,
    start,
)

T0 = 1_800_000_000.0  # "now" at the start of every test


def stamp(at: float) -> str:
    """An RFC 3339 timestamp, as an agent would write reply_by."""
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def msg(act: str, sender: str, receiver: str | list[str], **fields: Any) -> dict[str, Any]:
    return {"performative": act, "sender": sender, "receiver": receiver, **fields}


def receivers_of(message: dict[str, Any]) -> list[str]:
    receiver = message["receiver"]
    return [receiver] if isinstance(receiver, str) else list(receiver)


def open_with(protocol: str, message: dict[str, Any], now: float = T0) -> Machine:
    machine = start(protocol, message, message["sender"], receivers_of(message), now)
    assert isinstance(machine, Machine), machine
    return machine


def step(machine: Machine, message: dict[str, Any], now: float = T0) -> Ruling:
    return machine.step(message, message["sender"], receivers_of(message), now)


def refused(ruling: Ruling, *words: str) -> None:
    assert ruling.kind is Kind.OUT_OF_SEQUENCE, ruling
    for word in words:
        assert word in ruling.reason, (word, ruling.reason)


# Request and query: every legal sequence.

REQUEST_LIKE_SEQUENCES = [
    ["agree", "inform"],
    ["agree", "failure"],
    ["refuse"],
    ["not-understood"],
    ["inform"],
    ["failure"],
    ["cancel", "inform"],
    ["cancel", "failure"],
    ["agree", "cancel", "inform"],
    ["agree", "cancel", "failure"],
    ["cancel", "agree", "inform"],  # the agree crossed the cancel in flight
    ["cancel", "refuse"],
]


@pytest.mark.parametrize(
    ("protocol", "opening"),
    [(REQUEST, "request"), (QUERY, "query-if"), (QUERY, "query-ref")],
)
@pytest.mark.parametrize("sequence", REQUEST_LIKE_SEQUENCES, ids="-".join)
def test_every_legal_request_and_query_sequence_passes(
    protocol: str, opening: str, sequence: list[str]
) -> None:
    machine = open_with(protocol, msg(opening, "a", "b"))
    assert not machine.done
    for act in sequence:
        message = msg(act, "a", "b") if act == "cancel" else msg(act, "b", "a")
        assert step(machine, message) is ACCEPTED, act
    assert machine.done
    assert machine.state == "done"
    assert set(machine.participants) == {"b"}


def test_request_stages_follow_the_answers() -> None:
    machine = open_with(REQUEST, msg("request", "a", ["b", "c"]))
    assert machine.state == "requested"
    assert machine.stages() == {"requested": 2}
    assert step(machine, msg("agree", "b", "a")) is ACCEPTED
    assert machine.stage_of("b") is Stage.AGREED
    assert step(machine, msg("refuse", "c", "a")) is ACCEPTED
    assert machine.state == "agreed"
    assert machine.stages() == {"agreed": 1, "refused": 1}
    assert step(machine, msg("inform", "b", "a")) is ACCEPTED
    assert machine.done
    assert machine.stages() == {"done": 1, "refused": 1}


def test_the_initiator_may_request_of_newcomers_in_the_same_conversation() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    assert step(machine, msg("request", "a", "c")) is ACCEPTED
    assert set(machine.participants) == {"b", "c"}
    refused(step(machine, msg("request", "a", "b")), "b", "already has a part", "requested")


# Request and query: out of sequence, with a reason naming what was expected.


def test_an_inform_before_any_request_is_refused() -> None:
    ruling = start(REQUEST, msg("inform", "a", "b"), "a", ["b"], T0)
    assert isinstance(ruling, Ruling)
    refused(ruling, "starts with request", "got inform")


def test_a_query_starts_only_with_query_if_or_query_ref() -> None:
    ruling = start(QUERY, msg("request", "a", "b"), "a", ["b"], T0)
    assert isinstance(ruling, Ruling)
    refused(ruling, "query-if or query-ref", "got request")


@pytest.mark.parametrize(
    ("before", "act", "expected"),
    [
        ([], "propose", "expected agree, refuse, inform, failure or not-understood from b"),
        ([], "cancel", "expected agree, refuse, inform, failure or not-understood from b"),
        (["agree"], "agree", "b agreed; expected inform or failure"),
        (["agree"], "refuse", "b agreed; expected inform or failure"),
        (["inform"], "inform", "whose part has ended (done)"),
        (["refuse"], "agree", "whose part has ended (refused)"),
    ],
)
def test_a_participant_out_of_sequence_is_refused(
    before: list[str], act: str, expected: str
) -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    for earlier in before:
        assert step(machine, msg(earlier, "b", "a")) is ACCEPTED
    refused(step(machine, msg(act, "b", "a")), expected, f"got {act}" if not before else "")


def test_the_initiator_may_only_request_or_cancel() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    refused(step(machine, msg("inform", "a", "b")), "expected request", "or cancel", "got inform")


def test_a_stranger_is_not_part_of_the_conversation() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    refused(step(machine, msg("inform", "x", "a")), "x", "not part of this conversation")
    assert machine.stage_of("x") is None


def test_participants_answer_the_initiator_only() -> None:
    machine = open_with(REQUEST, msg("request", "a", ["b", "c"]))
    refused(step(machine, msg("inform", "b", "c")), "answers the initiator a only")
    refused(step(machine, msg("inform", "b", ["a", "c"])), "answers the initiator a only")
    assert machine.stage_of("b") is Stage.REQUESTED


def test_nothing_opens_again_after_the_conversation_ended() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    assert step(machine, msg("inform", "b", "a")) is ACCEPTED
    refused(step(machine, msg("request", "a", "c")), "after the conversation has ended")
    refused(step(machine, msg("cancel", "a", "b")), "nothing to cancel")


def test_cancel_names_participants_only() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    refused(step(machine, msg("cancel", "a", ["b", "x"])), "cancel to x", "not a participant")
    assert machine.stage_of("b") is Stage.REQUESTED


def test_after_cancel_only_its_answer_is_expected() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b"))
    assert step(machine, msg("cancel", "a", "b")) is ACCEPTED
    assert machine.state == "cancelling"
    refused(step(machine, msg("propose", "b", "a")), "expected inform or failure")
    assert step(machine, msg("inform", "b", "a")) is ACCEPTED
    assert machine.stage_of("b") is Stage.CANCELLED


def test_the_initiator_cannot_be_its_own_participant() -> None:
    ruling = start(REQUEST, msg("request", "a", ["b", "a"]), "a", ["b", "a"], T0)
    assert isinstance(ruling, Ruling)
    refused(ruling, "cannot be its own participant")


def test_a_reply_by_that_is_not_a_timestamp_is_refused() -> None:
    ruling = start(REQUEST, msg("request", "a", "b", reply_by="soon"), "a", ["b"], T0)
    assert isinstance(ruling, Ruling)
    refused(ruling, "reply_by 'soon'")


def test_not_understood_is_never_out_of_sequence_and_ends_the_branch() -> None:
    machine = open_with(REQUEST, msg("request", "a", ["b", "c"]))
    assert step(machine, msg("not-understood", "a", "b")) is ACCEPTED
    assert machine.stage_of("b") is Stage.NOT_UNDERSTOOD
    assert step(machine, msg("not-understood", "c", "a")) is ACCEPTED
    assert machine.done
    # Even after the end, and from a stranger: it only ever answers something.
    assert step(machine, msg("not-understood", "x", "a")) is ACCEPTED


# Request and query: reply_by.


def test_a_silent_participant_times_out_at_reply_by() -> None:
    reply_by = stamp(T0 + 10)
    machine = open_with(
        REQUEST, msg("request", "a", ["b", "c", "d"], reply_by=reply_by, reply_with="r1")
    )
    assert machine.next_deadline() == T0 + 10
    assert step(machine, msg("agree", "b", "a")) is ACCEPTED

    assert machine.expire(T0 + 9.999) == []
    assert machine.expire(T0 + 10) == [NoAnswer("a", ("c", "d"), reply_by, "r1")]
    assert machine.stage_of("c") is Stage.TIMED_OUT
    assert machine.next_deadline() is None
    assert machine.expire(T0 + 20) == []
    # The agreed participant is not bound by reply_by any more.
    assert step(machine, msg("inform", "b", "a"), T0 + 30) is ACCEPTED
    refused(step(machine, msg("inform", "c", "a"), T0 + 30), "after reply_by", "no answer")
    assert machine.done


def test_no_timeout_when_everyone_answered_in_time() -> None:
    machine = open_with(QUERY, msg("query-ref", "a", "b", reply_by=stamp(T0 + 1)))
    assert step(machine, msg("inform", "b", "a")) is ACCEPTED
    assert machine.expire(T0 + 2) == []


def test_each_request_message_has_its_own_reply_by() -> None:
    machine = open_with(REQUEST, msg("request", "a", "b", reply_by=stamp(T0 + 10)))
    assert step(machine, msg("request", "a", "c", reply_by=stamp(T0 + 5))) is ACCEPTED
    assert machine.next_deadline() == T0 + 5
    [first] = machine.expire(T0 + 5)
    assert isinstance(first, NoAnswer)
    assert first.names == ("c",)
    assert first.in_reply_to is None
    assert machine.next_deadline() == T0 + 10


# Contract net: every legal sequence.


def cnet(
    names: list[str], *, protocol: str = CONTRACT_NET, deadline: float = T0 + 10, **fields: Any
) -> Machine:
    cfp = msg("cfp", "i", names, reply_by=stamp(deadline), reply_with="cfp-1", **fields)
    return open_with(protocol, cfp)


@pytest.mark.parametrize("protocol", [CONTRACT_NET, ITERATED_CONTRACT_NET])
@pytest.mark.parametrize(
    ("before_deadline", "after_deadline"),
    [
        (["propose"], ["accept-proposal", "inform"]),
        (["propose"], ["accept-proposal", "failure"]),
        (["propose"], ["reject-proposal"]),
        (["propose", "accept-proposal", "inform"], []),  # the initiator need not wait
        (["refuse"], []),
        (["not-understood"], []),
        (["failure"], []),  # the host answers for a participant whose handler crashed
        (["cancel", "inform"], []),
        (["cancel", "propose", "failure"], []),
        (["propose"], ["accept-proposal", "cancel", "inform"]),
        (["propose"], ["failure-from-initiator"]),  # its handler crashed on the proposal
        (["propose"], ["not-understood-from-initiator"]),
    ],
)
def test_every_legal_contract_net_sequence_passes(
    protocol: str, before_deadline: list[str], after_deadline: list[str]
) -> None:
    machine = cnet(["p"], protocol=protocol)
    from_initiator = {"accept-proposal", "reject-proposal", "cancel"}
    for acts, now in ((before_deadline, T0 + 1), (after_deadline, T0 + 11)):
        for act in acts:
            if act.endswith("-from-initiator"):
                message = msg(act.removesuffix("-from-initiator"), "i", "p")
            elif act in from_initiator:
                message = msg(act, "i", "p")
            else:
                message = msg(act, "p", "i")
            assert step(machine, message, now) is ACCEPTED, act
        if acts is before_deadline:
            machine.expire(T0 + 10)
    assert machine.done
    assert machine.state == "done"


def test_a_contract_net_round_with_many_participants() -> None:
    names = ["p1", "p2", "p3", "p4", "p5"]
    machine = cnet(names)
    assert machine.state == "called"
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("propose", "p2", "i"), T0 + 2) is ACCEPTED
    assert step(machine, msg("refuse", "p3", "i"), T0 + 3) is ACCEPTED
    assert step(machine, msg("failure", "p4", "i"), T0 + 4) is ACCEPTED

    [event] = machine.expire(T0 + 10)
    assert event == DeadlinePassed(
        initiator="i",
        reply_by=stamp(T0 + 10),
        in_reply_to="cfp-1",
        proposals=2,
        refusals=1,
        failures=1,
        silent=1,
    )
    assert machine.stage_of("p5") is Stage.LATE
    assert machine.state == "proposed"
    assert step(machine, msg("accept-proposal", "i", "p2"), T0 + 11) is ACCEPTED
    assert step(machine, msg("reject-proposal", "i", ["p1"]), T0 + 11) is ACCEPTED
    assert machine.state == "accepted"
    assert step(machine, msg("inform", "p2", "i"), T0 + 12) is ACCEPTED
    assert machine.done
    assert machine.stages() == {
        "done": 1,
        "rejected": 1,
        "refused": 1,
        "failed": 1,
        "late": 1,
    }


def test_several_cfps_before_the_deadline_make_one_round() -> None:
    machine = cnet(["p1"])
    again = msg("cfp", "i", ["p2", "p3"], reply_by=stamp(T0 + 10), reply_with="cfp-2")
    assert step(machine, again, T0 + 1) is ACCEPTED
    assert step(machine, msg("propose", "p3", "i"), T0 + 2) is ACCEPTED
    [event] = machine.expire(T0 + 10)
    assert isinstance(event, DeadlinePassed)
    assert (event.proposals, event.silent, event.in_reply_to) == (1, 2, "cfp-1")


# Contract net: late proposals and the deadline notice.


def test_a_proposal_after_reply_by_is_late_before_and_after_expiry() -> None:
    machine = cnet(["p1", "p2"])
    reason = f"proposal arrived after the deadline (reply_by {stamp(T0 + 10)})"
    # Exactly at reply_by is still in time.
    assert step(machine, msg("propose", "p1", "i"), T0 + 10) is ACCEPTED
    # Past it, before the deadline was processed: late all the same.
    assert step(machine, msg("propose", "p2", "i"), T0 + 10.001) == Ruling(Kind.LATE, reason)
    assert machine.stage_of("p2") is Stage.LATE
    # A second try stays late.
    assert step(machine, msg("propose", "p2", "i"), T0 + 20) == Ruling(Kind.LATE, reason)
    # The host's reject-proposal in the initiator's name is in sequence.
    assert step(machine, msg("reject-proposal", "i", "p2"), T0 + 20) is ACCEPTED


def test_a_proposal_after_the_processed_deadline_is_late() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    machine.expire(T0 + 10)
    assert step(machine, msg("propose", "p2", "i"), T0 + 10).kind is Kind.LATE
    refused(step(machine, msg("accept-proposal", "i", "p2"), T0 + 11), "who is late")


def test_other_late_answers_to_a_cfp_are_out_of_sequence() -> None:
    machine = cnet(["p1"])
    refused(step(machine, msg("refuse", "p1", "i"), T0 + 11), "after the cfp's reply_by")
    assert machine.done


def test_no_notice_once_the_initiator_moved_on() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("accept-proposal", "i", "p1"), T0 + 2) is ACCEPTED
    assert machine.expire(T0 + 10) == []
    assert machine.stage_of("p2") is Stage.LATE


def test_bids_stay_open_until_reply_by_after_an_early_award() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("accept-proposal", "i", "p1"), T0 + 2) is ACCEPTED
    assert step(machine, msg("propose", "p2", "i"), T0 + 3) is ACCEPTED
    assert step(machine, msg("reject-proposal", "i", "p2"), T0 + 4) is ACCEPTED


def test_no_notice_when_nobody_is_left_waiting() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("refuse", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("failure", "p2", "i"), T0 + 1) is ACCEPTED
    assert machine.done
    assert machine.expire(T0 + 10) == []


def test_a_notice_when_everyone_proposed_and_the_initiator_waits_for_the_deadline() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    [event] = machine.expire(T0 + 10)
    assert isinstance(event, DeadlinePassed)
    assert (event.proposals, event.silent) == (1, 0)


def test_a_cfp_without_reply_by_has_no_deadline() -> None:
    machine = open_with(CONTRACT_NET, msg("cfp", "i", "p1"))
    assert machine.next_deadline() is None
    assert step(machine, msg("propose", "p1", "i"), T0 + 1e6) is ACCEPTED


# Contract net: out of sequence.


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("propose", "x", "i"), "x, who is not part of this conversation"),
        (msg("inform", "p1", "i"), "expected propose, refuse, failure or not-understood from p1"),
        (msg("accept-proposal", "i", "p1"), "p1, who is called; expected a participant that"),
        (msg("reject-proposal", "i", "x"), "x, who is not a participant"),
        (msg("cfp", "i", "p1"), "cfp to p1, who is called"),
        (msg("inform", "i", "p1"), "expected cfp, accept-proposal, reject-proposal or cancel"),
        (msg("failure", "i", "p1"), "expected it only in answer to a proposal"),
    ],
)
def test_contract_net_out_of_sequence(message: dict[str, Any], expected: str) -> None:
    machine = cnet(["p1"])
    refused(step(machine, message, T0 + 1), expected)
    assert machine.stage_of("p1") is Stage.CALLED


def test_a_proposer_waits_for_the_initiators_decision() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    refused(step(machine, msg("propose", "p1", "i"), T0 + 2), "waits for accept-proposal")
    refused(step(machine, msg("inform", "p1", "i"), T0 + 2), "waits for accept-proposal")


def test_an_accepted_participant_answers_inform_or_failure() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("accept-proposal", "i", "p1"), T0 + 11) is ACCEPTED
    refused(step(machine, msg("propose", "p1", "i"), T0 + 12), "expected inform or failure")


def test_an_award_to_several_is_refused_whole_when_one_did_not_propose() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    refused(step(machine, msg("reject-proposal", "i", ["p1", "p2"]), T0 + 2), "p2")
    assert machine.stage_of("p1") is Stage.PROPOSED


def test_anything_after_the_end_is_refused() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("refuse", "p1", "i"), T0 + 1) is ACCEPTED
    refused(step(machine, msg("propose", "p1", "i"), T0 + 2), "whose part has ended (refused)")
    refused(step(machine, msg("cfp", "i", "p2"), T0 + 2), "after the conversation has ended")


def test_a_cfp_to_newcomers_after_bidding_closed_needs_the_iterated_protocol() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    late_cfp = msg("cfp", "i", "p2", reply_by=stamp(T0 + 30))
    refused(step(machine, late_cfp, T0 + 11), "after bidding closed", ITERATED_CONTRACT_NET)


# Iterated contract net.


def test_iterated_rounds_call_proposers_again_with_a_new_reply_by() -> None:
    machine = cnet(["p1", "p2", "p3"], protocol=ITERATED_CONTRACT_NET)
    for name in ("p1", "p2"):
        assert step(machine, msg("propose", name, "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("refuse", "p3", "i"), T0 + 1) is ACCEPTED
    [first] = machine.expire(T0 + 10)
    assert isinstance(first, DeadlinePassed)
    assert (first.proposals, first.refusals) == (2, 1)

    # Round 2: a new cfp to both proposers, and a new reply_by.
    second_by = stamp(T0 + 20)
    cfp2 = msg("cfp", "i", ["p1", "p2"], reply_by=second_by, reply_with="cfp-2")
    assert step(machine, cfp2, T0 + 11) is ACCEPTED
    assert machine.stage_of("p1") is Stage.CALLED
    assert machine.next_deadline() == T0 + 20
    refused(step(machine, msg("cfp", "i", "p3"), T0 + 11), "p3, who is refused")
    assert step(machine, msg("propose", "p1", "i"), T0 + 12) is ACCEPTED
    assert step(machine, msg("propose", "p2", "i"), T0 + 21).kind is Kind.LATE

    [second] = machine.expire(T0 + 20)
    assert second == DeadlinePassed("i", second_by, "cfp-2", 1, 0, 0, 1)
    assert step(machine, msg("accept-proposal", "i", "p1"), T0 + 21) is ACCEPTED
    assert step(machine, msg("inform", "p1", "i"), T0 + 22) is ACCEPTED
    assert machine.done


def test_iterated_round_together_with_an_acceptance() -> None:
    machine = cnet(["p1", "p2"], protocol=ITERATED_CONTRACT_NET)
    for name in ("p1", "p2"):
        assert step(machine, msg("propose", name, "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("accept-proposal", "i", "p1"), T0 + 2) is ACCEPTED
    cfp2 = msg("cfp", "i", "p2", reply_by=stamp(T0 + 20))
    assert step(machine, cfp2, T0 + 2) is ACCEPTED
    # Round 1 is closed: the initiator moved on, so no notice for it.
    assert machine.expire(T0 + 10) == []
    [notice] = machine.expire(T0 + 20)
    assert isinstance(notice, DeadlinePassed)
    assert notice.silent == 1


def test_the_plain_contract_net_does_not_call_a_proposer_again() -> None:
    machine = cnet(["p1"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    refused(
        step(machine, msg("cfp", "i", "p1", reply_by=stamp(T0 + 20)), T0 + 11),
        "p1, who is proposed",
        "a participant not yet called",
    )


# Cancel in the contract net.


def test_cancel_at_any_time_ends_with_the_participants_answer() -> None:
    machine = cnet(["p1", "p2"])
    assert step(machine, msg("propose", "p1", "i"), T0 + 1) is ACCEPTED
    assert step(machine, msg("cancel", "i", ["p1", "p2"]), T0 + 2) is ACCEPTED
    assert machine.state == "cancelling"
    assert step(machine, msg("inform", "p1", "i"), T0 + 3) is ACCEPTED
    assert step(machine, msg("failure", "p2", "i"), T0 + 3) is ACCEPTED
    assert machine.done
    assert machine.expire(T0 + 10) == []


# Many participants.


def test_a_thousand_participants() -> None:
    names = [f"p{i}" for i in range(1000)]
    machine = cnet(names)
    for i, name in enumerate(names[:900]):
        act = "propose" if i % 3 else "refuse"
        assert step(machine, msg(act, name, "i"), T0 + 1) is ACCEPTED
    [event] = machine.expire(T0 + 10)
    assert isinstance(event, DeadlinePassed)
    assert (event.proposals, event.refusals, event.silent) == (600, 300, 100)
    proposers = [name for i, name in enumerate(names[:900]) if i % 3]
    assert step(machine, msg("reject-proposal", "i", proposers[1:]), T0 + 11) is ACCEPTED
    assert step(machine, msg("accept-proposal", "i", proposers[0]), T0 + 11) is ACCEPTED
    assert machine.state == "accepted"
    assert step(machine, msg("inform", proposers[0], "i"), T0 + 12) is ACCEPTED
    assert machine.done


# Timestamps.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T10:15:00.123Z", 1795601700.123),
        ("2026-11-25T11:15:00.123+01:00", 1795601700.123),
        ("2026-11-25T10:15:00", 1795601700.0),  # no zone: UTC
        ("tomorrow", None),
        (12, None),
    ],
)
def test_parse_timestamp(text: object, expected: float | None) -> None:
    assert parse_timestamp(text) == (pytest.approx(expected) if expected is not None else None)
