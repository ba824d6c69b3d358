"""FIPA interaction protocols as state machines, one per conversation.

Tracked: `fipa-request` (SC00026), `fipa-query` (SC00027), `fipa-contract-net`
(SC00029) and `fipa-iterated-contract-net` (SC00030). A machine starts from
the conversation's first message (the initiator's `request`, `query-if`,
`query-ref` or `cfp`) and follows each participant's branch separately: one
dict entry per participant and counters kept up to date on every step, so
that a step costs the same with one participant or a thousand. Only the
passing of a deadline walks a round's participants, once.

Pure: no I/O and no clock of its own; `now` (seconds since the epoch) is
passed in. Not thread-safe: the conversation manager serialises the calls.

Choices the specifications leave open, and why:

- `not-understood` is never out of sequence (each IP spec: "at any point in
  the IP, the receiver of a communication can inform the sender that it did
  not understand"). It ends the branch it answers. This also guarantees that
  the platform's own `not-understood` for a refused message is never refused
  in turn, so a refusal cannot loop.
- `cancel` follows the FIPA cancel meta-protocol: the participant answers
  `inform` or `failure`, and that ends its branch. Answers the participant
  sent before the cancel reached it (`agree`, `propose`) cross it in flight,
  so they are delivered, not refused.
- A `failure` from a participant is a legitimate answer to a `cfp`: the host
  sends one in the participant's name when its handler crashes (ABI v1).
  Likewise a `failure` from the initiator to a proposer ends that branch: the
  host sends it when the initiator's handler crashes on the proposal.
- Bids stay open until the round's `reply_by` even after the initiator has
  accepted or rejected someone; a participant's branch ends (silent) when the
  deadline passes. A `propose` after `reply_by` is LATE (SC00029: the
  initiator rejects late proposals); any other late answer to a `cfp` is out
  of sequence.
- Answers go to the initiator only: participants of these protocols never
  talk to each other in the conversation.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterable, KeysView
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

REQUEST: Final = "fipa-request"
QUERY: Final = "fipa-query"
CONTRACT_NET: Final = "fipa-contract-net"
ITERATED_CONTRACT_NET: Final = "fipa-iterated-contract-net"
TRACKED: Final = frozenset({REQUEST, QUERY, CONTRACT_NET, ITERATED_CONTRACT_NET})

# The acts that open a participant's branch, by protocol.
_OPENING_ACTS: Final = {
    REQUEST: frozenset({"request"}),
    QUERY: frozenset({"query-if", "query-ref"}),
    CONTRACT_NET: frozenset({"cfp"}),
    ITERATED_CONTRACT_NET: frozenset({"cfp"}),
}


class Kind(enum.StrEnum):
    ACCEPT = "accept"
    OUT_OF_SEQUENCE = "out-of-sequence"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Ruling:
    """What a machine makes of one message; `reason` says why when it is not ACCEPT."""

    kind: Kind
    reason: str = ""


ACCEPTED: Final = Ruling(Kind.ACCEPT)


def _refuse(reason: str) -> Ruling:
    return Ruling(Kind.OUT_OF_SEQUENCE, reason)


class Stage(enum.StrEnum):
    """Where one participant's branch is."""

    REQUESTED = "requested"  # request or query received, no answer yet
    AGREED = "agreed"
    CALLED = "called"  # cfp received, no answer yet
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    CANCELLING = "cancelling"
    # The branch has ended:
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    NOT_UNDERSTOOD = "not-understood"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    LATE = "late"  # silent or late when the cfp's reply_by passed
    TIMED_OUT = "timed-out"  # no answer to a request or query by its reply_by


ENDED: Final = frozenset(
    {
        Stage.DONE,
        Stage.REFUSED,
        Stage.FAILED,
        Stage.NOT_UNDERSTOOD,
        Stage.REJECTED,
        Stage.CANCELLED,
        Stage.LATE,
        Stage.TIMED_OUT,
    }
)
# The open stages, earliest first: the conversation's state is its earliest open stage.
_OPEN_ORDER: Final = (
    Stage.REQUESTED,
    Stage.CALLED,
    Stage.AGREED,
    Stage.PROPOSED,
    Stage.ACCEPTED,
    Stage.CANCELLING,
)


@dataclass(frozen=True, slots=True)
class DeadlinePassed:
    """A contract-net round's `reply_by` passed while the initiator waited for bids."""

    initiator: str
    reply_by: str
    in_reply_to: str | None
    proposals: int
    refusals: int
    failures: int
    silent: int


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """A request's or query's `reply_by` passed with these participants silent."""

    initiator: str
    names: tuple[str, ...]
    reply_by: str
    in_reply_to: str | None


Event = DeadlinePassed | NoAnswer


def parse_timestamp(value: object) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp, or None when it is not one.

    A timestamp without a zone is read as UTC rather than refused: validation
    already insists on a zone for what agents send.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    except (ValueError, OverflowError):
        return None


class _Round:
    """The participants called (or requested) together, with one `reply_by`."""

    __slots__ = (
        "closed",
        "deadline",
        "expired",
        "failures",
        "invited",
        "proposals",
        "refusals",
        "reply_by",
        "reply_with",
    )

    def __init__(self, reply_by: str | None, deadline: float | None, reply_with: str | None):
        self.reply_by = reply_by
        self.deadline = deadline
        self.reply_with = reply_with
        self.invited: list[str] = []
        self.proposals = 0
        self.refusals = 0
        self.failures = 0
        self.closed = False  # the initiator moved on (accepted, rejected or called again)
        self.expired = False

    def passed(self, now: float) -> bool:
        return self.expired or (self.deadline is not None and now > self.deadline)


class _Branch:
    __slots__ = ("round", "stage")

    def __init__(self, stage: Stage, round_: _Round) -> None:
        self.stage = stage
        self.round = round_


class Machine:
    """What the request-like and the contract-net machines share: branches, cancel, timers."""

    __slots__ = ("_branches", "_counts", "_open", "_seq", "_timers", "initiator", "protocol")
    # Answers that may cross a cancel in flight.
    _CROSSING: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, protocol: str, initiator: str) -> None:
        self.protocol = protocol
        self.initiator = initiator
        self._branches: dict[str, _Branch] = {}
        self._counts: dict[Stage, int] = {}
        self._open = 0
        self._timers: list[tuple[float, int, _Round]] = []
        self._seq = 0

    # What the manager shows.

    @property
    def done(self) -> bool:
        """Every participant's branch has ended."""
        return self._open == 0

    @property
    def state(self) -> str:
        counts = self._counts
        for stage in _OPEN_ORDER:
            if counts.get(stage):
                return stage.value
        return "done"

    @property
    def participants(self) -> KeysView[str]:
        return self._branches.keys()

    def stages(self) -> dict[str, int]:
        """How many branches are at each stage."""
        return {stage.value: n for stage, n in self._counts.items() if n}

    def stage_of(self, name: str) -> Stage | None:
        branch = self._branches.get(name)
        return None if branch is None else branch.stage

    # Time.

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def expire(self, now: float) -> list[Event]:
        """The events owed because `now` is at or past some round's reply_by."""
        events: list[Event] = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            round_ = heapq.heappop(timers)[2]
            if not round_.expired:
                round_.expired = True
                event = self._round_passed(round_)
                if event is not None:
                    events.append(event)
        return events

    def _round_passed(self, round_: _Round) -> Event | None:
        raise NotImplementedError

    # Steps.

    def open(self, message: dict[str, Any], receivers: list[str], now: float) -> Ruling:
        """The conversation's first message, from the initiator."""
        act: str = message.get("performative", "")
        if not receivers:
            return _refuse(f"{self.protocol}: {act} to nobody")
        if act not in _OPENING_ACTS[self.protocol]:
            expected = " or ".join(sorted(_OPENING_ACTS[self.protocol]))
            return _refuse(
                f"{self.protocol}: a conversation starts with {expected} from the initiator, "
                f"got {act}"
            )
        return self._invite(message, receivers, now)

    def step(
        self, message: dict[str, Any], sender: str, receivers: list[str], now: float
    ) -> Ruling:
        act: str = message.get("performative", "")
        if act == "not-understood":
            self._not_understood(sender, receivers)
            return ACCEPTED
        if sender == self.initiator:
            return self._from_initiator(act, message, receivers, now)
        branch = self._branches.get(sender)
        if branch is None:
            return _refuse(
                f"{self.protocol}: {act} from {sender}, who is not part of this conversation "
                f"(initiator {self.initiator})"
            )
        if len(receivers) != 1 or receivers[0] != self.initiator:
            return _refuse(
                f"{self.protocol}: {sender} answers the initiator {self.initiator} only, "
                f"got {act} to {', '.join(receivers)}"
            )
        return self._from_participant(act, sender, branch, now)

    def _invite(self, message: dict[str, Any], receivers: list[str], now: float) -> Ruling:
        raise NotImplementedError

    def _from_initiator(
        self, act: str, message: dict[str, Any], receivers: list[str], now: float
    ) -> Ruling:
        raise NotImplementedError

    def _from_participant(self, act: str, sender: str, branch: _Branch, now: float) -> Ruling:
        raise NotImplementedError

    # Shared rules.

    def _move(self, branch: _Branch, stage: Stage) -> None:
        counts = self._counts
        counts[branch.stage] -= 1
        counts[stage] = counts.get(stage, 0) + 1
        if stage in ENDED and branch.stage not in ENDED:
            self._open -= 1
        branch.stage = stage

    def _add(self, name: str, stage: Stage, round_: _Round) -> None:
        self._branches[name] = _Branch(stage, round_)
        self._counts[stage] = self._counts.get(stage, 0) + 1
        self._open += 1
        round_.invited.append(name)

    def _schedule(self, round_: _Round) -> None:
        if round_.deadline is not None:
            self._seq += 1
            heapq.heappush(self._timers, (round_.deadline, self._seq, round_))

    def _new_round(self, message: dict[str, Any]) -> _Round | Ruling:
        reply_by = message.get("reply_by")
        reply_with = message.get("reply_with")
        if reply_by is None:
            return _Round(None, None, reply_with)
        deadline = parse_timestamp(reply_by)
        if deadline is None:
            return _refuse(f"{self.protocol}: reply_by {reply_by!r} is not an RFC 3339 timestamp")
        return _Round(reply_by, deadline, reply_with)

    def _newcomers_problem(self, act: str, receivers: Iterable[str]) -> str | None:
        """Why `receivers` cannot be invited afresh, or None."""
        for name in receivers:
            if name == self.initiator:
                return f"{self.protocol}: the initiator {name} cannot be its own participant"
            branch = self._branches.get(name)
            if branch is not None:
                return (
                    f"{self.protocol}: {act} to {name}, who already has a part in this "
                    f"conversation ({branch.stage.value})"
                )
        return None

    def _not_understood(self, sender: str, receivers: list[str]) -> None:
        """A not-understood between the initiator and a participant ends that branch."""
        if sender == self.initiator:
            for name in receivers:
                branch = self._branches.get(name)
                if branch is not None and branch.stage not in ENDED:
                    self._move(branch, Stage.NOT_UNDERSTOOD)
            return
        branch = self._branches.get(sender)
        if branch is not None and branch.stage not in ENDED and self.initiator in receivers:
            if branch.stage is Stage.CALLED:
                branch.round.failures += 1
            self._move(branch, Stage.NOT_UNDERSTOOD)

    def _cancel(self, receivers: list[str]) -> Ruling:
        branches = []
        for name in receivers:
            branch = self._branches.get(name)
            if branch is None:
                return _refuse(f"{self.protocol}: cancel to {name}, who is not a participant")
            branches.append(branch)
        live = [branch for branch in branches if branch.stage not in ENDED]
        if not live:
            return _refuse(
                f"{self.protocol}: nothing to cancel, the part of {', '.join(receivers)} has ended"
            )
        for branch in live:
            if branch.stage is not Stage.CANCELLING:
                self._move(branch, Stage.CANCELLING)
        return ACCEPTED

    def _cancelling(self, act: str, branch: _Branch) -> Ruling:
        """The participant's answer to a cancel, or an answer that crossed it in flight."""
        if act in ("inform", "failure", "refuse"):
            self._move(branch, Stage.CANCELLED)
            return ACCEPTED
        if act in self._CROSSING:
            return ACCEPTED
        return _refuse(
            f"{self.protocol}: the initiator cancelled; expected inform or failure, got {act}"
        )

    def _ended(self, act: str, sender: str, branch: _Branch) -> Ruling:
        return _refuse(
            f"{self.protocol}: {act} from {sender}, whose part has ended ({branch.stage.value}); "
            "nothing more is expected from it"
        )


class RequestMachine(Machine):
    """fipa-request (SC00026) and fipa-query (SC00027): the same shape, other opening acts.

    request/query-if/query-ref -> refuse | agree | not-understood | inform | failure;
    after agree: inform | failure.
    """

    __slots__ = ()
    _CROSSING: ClassVar[frozenset[str]] = frozenset({"agree"})

    def _invite(self, message: dict[str, Any], receivers: list[str], now: float) -> Ruling:
        act: str = message.get("performative", "")
        if self._branches and self._open == 0:
            return _refuse(f"{self.protocol}: {act} after the conversation has ended")
        problem = self._newcomers_problem(act, receivers)
        if problem is not None:
            return _refuse(problem)
        round_ = self._new_round(message)
        if isinstance(round_, Ruling):
            return round_
        for name in receivers:
            self._add(name, Stage.REQUESTED, round_)
        self._schedule(round_)
        return ACCEPTED

    def _from_initiator(
        self, act: str, message: dict[str, Any], receivers: list[str], now: float
    ) -> Ruling:
        if act in _OPENING_ACTS[self.protocol]:
            return self._invite(message, receivers, now)
        if act == "cancel":
            return self._cancel(receivers)
        opening = " or ".join(sorted(_OPENING_ACTS[self.protocol]))
        return _refuse(
            f"{self.protocol}: expected {opening} (to new participants) or cancel from the "
            f"initiator {self.initiator}, got {act}"
        )

    def _from_participant(self, act: str, sender: str, branch: _Branch, now: float) -> Ruling:
        stage = branch.stage
        if stage is Stage.REQUESTED:
            if act == "agree":
                self._move(branch, Stage.AGREED)
                return ACCEPTED
            if act in _FIRST_ANSWERS:
                self._move(branch, _FIRST_ANSWERS[act])
                return ACCEPTED
            return _refuse(
                f"{self.protocol}: expected agree, refuse, inform, failure or not-understood "
                f"from {sender}, got {act}"
            )
        if stage is Stage.AGREED:
            if act in _RESULTS:
                self._move(branch, _RESULTS[act])
                return ACCEPTED
            return _refuse(
                f"{self.protocol}: {sender} agreed; expected inform or failure, got {act}"
            )
        if stage is Stage.CANCELLING:
            return self._cancelling(act, branch)
        if stage is Stage.TIMED_OUT:
            return _refuse(
                f"{self.protocol}: {act} from {sender} after reply_by {branch.round.reply_by}; "
                f"{self.initiator} was told there was no answer"
            )
        return self._ended(act, sender, branch)

    def _round_passed(self, round_: _Round) -> Event | None:
        silent = []
        for name in round_.invited:
            branch = self._branches[name]
            if branch.round is round_ and branch.stage is Stage.REQUESTED:
                self._move(branch, Stage.TIMED_OUT)
                silent.append(name)
        if not silent or round_.reply_by is None:
            return None
        return NoAnswer(self.initiator, tuple(silent), round_.reply_by, round_.reply_with)


_FIRST_ANSWERS: Final = {
    "refuse": Stage.REFUSED,
    "inform": Stage.DONE,
    "failure": Stage.FAILED,
}
_RESULTS: Final = {"inform": Stage.DONE, "failure": Stage.FAILED}


class ContractNetMachine(Machine):
    """fipa-contract-net (SC00029) and fipa-iterated-contract-net (SC00030).

    cfp -> propose | refuse | not-understood | failure, by the cfp's reply_by;
    then the initiator accepts or rejects each proposal (or, iterated only,
    calls the proposer again with a new cfp and reply_by); an accepted
    participant answers inform or failure.
    """

    __slots__ = ("_current", "iterated")
    _CROSSING: ClassVar[frozenset[str]] = frozenset({"propose"})

    def __init__(self, protocol: str, initiator: str) -> None:
        super().__init__(protocol, initiator)
        self.iterated = protocol == ITERATED_CONTRACT_NET
        self._current: _Round | None = None

    def _bidding(self, now: float) -> bool:
        current = self._current
        return current is not None and not current.closed and not current.passed(now)

    def _invite(self, message: dict[str, Any], receivers: list[str], now: float) -> Ruling:
        problem = self._cfp_problem(receivers, now)
        if problem is not None:
            return _refuse(problem)
        recalled = [name for name in receivers if name in self._branches]
        round_ = self._round_for(message, now, joining=not recalled)
        if isinstance(round_, Ruling):
            return round_
        for name in receivers:
            branch = self._branches.get(name)
            if branch is None:
                self._add(name, Stage.CALLED, round_)
            else:
                branch.round.closed = True  # the initiator moved on from the earlier round
                branch.round = round_
                round_.invited.append(name)
                self._move(branch, Stage.CALLED)
        return ACCEPTED

    def _cfp_problem(self, receivers: list[str], now: float) -> str | None:
        if self._branches and self._open == 0:
            return f"{self.protocol}: cfp after the conversation has ended"
        for name in receivers:
            if name == self.initiator:
                return f"{self.protocol}: the initiator {name} cannot be its own participant"
            branch = self._branches.get(name)
            if branch is None:
                if not self.iterated and self._current is not None and not self._bidding(now):
                    return (
                        f"{self.protocol}: cfp to {name} after bidding closed; "
                        f"{ITERATED_CONTRACT_NET} is the protocol for further rounds"
                    )
            elif not (self.iterated and branch.stage is Stage.PROPOSED):
                expected = "a proposer" if self.iterated else "a participant not yet called"
                return (
                    f"{self.protocol}: cfp to {name}, who is {branch.stage.value}; "
                    f"expected {expected}"
                )
        return None

    def _round_for(self, message: dict[str, Any], now: float, *, joining: bool) -> _Round | Ruling:
        """The open round with the same reply_by for newcomers, or a new round."""
        current = self._current
        if (
            joining
            and current is not None
            and self._bidding(now)
            and current.reply_by == message.get("reply_by")
        ):
            return current
        round_ = self._new_round(message)
        if isinstance(round_, Ruling):
            return round_
        self._current = round_
        self._schedule(round_)
        return round_

    def _from_initiator(
        self, act: str, message: dict[str, Any], receivers: list[str], now: float
    ) -> Ruling:
        if act == "cfp":
            return self._invite(message, receivers, now)
        if act in ("accept-proposal", "reject-proposal"):
            return self._award(act, receivers)
        if act == "cancel":
            return self._cancel(receivers)
        if act == "failure":
            return self._initiator_failure(receivers)
        again = ", cfp (a new round)" if self.iterated else ""
        return _refuse(
            f"{self.protocol}: expected cfp, accept-proposal, reject-proposal{again} or cancel "
            f"from the initiator {self.initiator}, got {act}"
        )

    def _award(self, act: str, receivers: list[str]) -> Ruling:
        accepting = act == "accept-proposal"
        branches = []
        for name in receivers:
            branch = self._branches.get(name)
            stage = None if branch is None else branch.stage
            if branch is None or not (
                stage is Stage.PROPOSED or (stage is Stage.LATE and not accepting)
            ):
                what = "is not a participant" if stage is None else f"is {stage.value}"
                return _refuse(
                    f"{self.protocol}: {act} to {name}, who {what}; expected a participant "
                    "that proposed"
                )
            branches.append(branch)
        for branch in branches:
            if branch.stage is Stage.PROPOSED:
                branch.round.closed = True
                self._move(branch, Stage.ACCEPTED if accepting else Stage.REJECTED)
        return ACCEPTED

    def _initiator_failure(self, receivers: list[str]) -> Ruling:
        branches = [self._branches.get(name) for name in receivers]
        if not all(b is not None and b.stage is Stage.PROPOSED for b in branches):
            return _refuse(
                f"{self.protocol}: failure from the initiator {self.initiator} to "
                f"{', '.join(receivers)}; expected it only in answer to a proposal"
            )
        for branch in branches:
            if branch is not None:
                self._move(branch, Stage.FAILED)
        return ACCEPTED

    def _from_participant(self, act: str, sender: str, branch: _Branch, now: float) -> Ruling:
        stage = branch.stage
        if stage is Stage.CALLED:
            return self._bid(act, sender, branch, now)
        if stage is Stage.ACCEPTED:
            if act in _RESULTS:
                self._move(branch, _RESULTS[act])
                return ACCEPTED
            return _refuse(
                f"{self.protocol}: {sender} was accepted; expected inform or failure, got {act}"
            )
        if stage is Stage.PROPOSED:
            return _refuse(
                f"{self.protocol}: {act} from {sender}, who proposed and waits for "
                f"accept-proposal or reject-proposal from {self.initiator}"
            )
        if stage is Stage.CANCELLING:
            return self._cancelling(act, branch)
        if stage is Stage.LATE and act == "propose":
            return _late(branch.round)
        return self._ended(act, sender, branch)

    def _bid(self, act: str, sender: str, branch: _Branch, now: float) -> Ruling:
        outcome = _BIDS.get(act)
        if outcome is None:
            return _refuse(
                f"{self.protocol}: expected propose, refuse, failure or not-understood from "
                f"{sender} in answer to the cfp, got {act}"
            )
        round_ = branch.round
        if round_.passed(now):
            self._move(branch, Stage.LATE)
            if act == "propose":
                return _late(round_)
            return _refuse(
                f"{self.protocol}: {act} from {sender} after the cfp's reply_by {round_.reply_by}"
            )
        if outcome is Stage.PROPOSED:
            round_.proposals += 1
        elif outcome is Stage.REFUSED:
            round_.refusals += 1
        else:
            round_.failures += 1
        self._move(branch, outcome)
        return ACCEPTED

    def _round_passed(self, round_: _Round) -> Event | None:
        waiting = False
        for name in round_.invited:
            branch = self._branches[name]
            if branch.round is not round_:
                continue  # called again in a later round
            if branch.stage is Stage.CALLED:
                waiting = True
                self._move(branch, Stage.LATE)
            elif branch.stage is Stage.PROPOSED:
                waiting = True
        if round_.closed or not waiting or round_.reply_by is None:
            return None
        answered = round_.proposals + round_.refusals + round_.failures
        return DeadlinePassed(
            initiator=self.initiator,
            reply_by=round_.reply_by,
            in_reply_to=round_.reply_with,
            proposals=round_.proposals,
            refusals=round_.refusals,
            failures=round_.failures,
            silent=len(round_.invited) - answered,
        )


_BIDS: Final = {
    "propose": Stage.PROPOSED,
    "refuse": Stage.REFUSED,
    "failure": Stage.FAILED,
}


def _late(round_: _Round) -> Ruling:
    return Ruling(Kind.LATE, f"proposal arrived after the deadline (reply_by {round_.reply_by})")


def start(
    protocol: str, message: dict[str, Any], sender: str, receivers: list[str], now: float
) -> Machine | Ruling:
    """The machine for a conversation that `message` opens, or why it cannot open one."""
    machine: Machine
    if protocol in (REQUEST, QUERY):
        machine = RequestMachine(protocol, sender)
    else:
        machine = ContractNetMachine(protocol, sender)
    ruling = machine.open(message, receivers, now)
    return machine if ruling is ACCEPTED else ruling
