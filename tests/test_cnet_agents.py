"""The contract-net example agents in C (FIPA SC00029, `fipa-contract-net`).

They run in a `LocalNetwork`: one FIFO queue, no protocol enforcement and no
deadline notices, so the tests post the platform's deadline notice (and its
failure for an unreachable participant) themselves. Delivery order is fixed,
which lets every test compare the exact list of messages sent and the exact
key-value state left behind.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from caxton.errors import AgentInitFailed
from caxton.local import Event, LocalNetwork
from caxton.runtime import AgentModule, Runtime

# tests/ is on sys.path (pytest's "prepend" import mode): see test_examples.py.

CNET = "fipa-contract-net"
INITIATOR = "initiator"
CONV = "initiator-1"  # the initiator's first conversation: "<name>-<kicks so far>"
CFP_REPLY_WITH = f"{CONV}-cfp"
ACCEPT_REPLY_WITH = f"{CONV}-accept"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TRAP_REASON = re.compile(
    r"caxton_handle trapped: wasm trap: wasm `unreachable` instruction executed \(at .*\)"
)

Message = dict[str, Any]


@pytest.fixture(scope="session")
def wasm(c_examples: Path) -> dict[str, bytes]:
    return {
        name: (c_examples / f"{name}.wasm").read_bytes()
        for name in ("cnet_initiator", "cnet_participant")
    }


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def sent(self) -> list[Message]:
        """Every message sent, in order, without its random `message_id`."""
        messages = []
        for event in self.events:
            if event["event"] == "sent":
                message = dict(event["message"])
                assert isinstance(message.pop("message_id"), str)
                messages.append(message)
        return messages

    def logs(self, agent: str) -> list[tuple[str, str]]:
        return [
            (e["level"], e["text"])
            for e in self.events
            if e["event"] == "log" and e["agent"] == agent
        ]

    def errors(self) -> list[Event]:
        return [event for event in self.events if event["event"] == "error"]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def network(runtime: Runtime, recorder: Recorder) -> LocalNetwork:
    return LocalNetwork(runtime, recorder)


class ContractNet:
    """One initiator and its participants in a `LocalNetwork`."""

    def __init__(self, runtime: Runtime, network: LocalNetwork, wasm: dict[str, bytes]) -> None:
        self.network = network
        self.initiator: AgentModule = runtime.load(wasm["cnet_initiator"])
        self.participant: AgentModule = runtime.load(wasm["cnet_participant"])
        network.start(self.initiator, INITIATOR)

    def start(self, configs: dict[str, dict[str, Any]]) -> None:
        for name, config in configs.items():
            self.network.start(self.participant, name, config=config)

    def kv(self, agent: str) -> dict[str, str]:
        return {
            key.decode(): value.decode() for key, value in self.network.state[agent].items().items()
        }


@pytest.fixture
def cnet(runtime: Runtime, network: LocalNetwork, wasm: dict[str, bytes]) -> ContractNet:
    return ContractNet(runtime, network, wasm)


# The messages the agents send (the `sender` is set by the host).


def kick(participants: list[str], numbers: list[int], deadline_ms: int = 200) -> Message:
    return {
        "performative": "request",
        "sender": "operator",
        "receiver": INITIATOR,
        "content": {
            "participants": participants,
            "task": {"numbers": numbers},
            "deadline_ms": deadline_ms,
        },
    }


def cfp(participants: list[str], numbers: list[int], reply_by: str) -> Message:
    return {
        "performative": "cfp",
        "sender": INITIATOR,
        "receiver": participants,
        "protocol": CNET,
        "conversation_id": CONV,
        "reply_with": CFP_REPLY_WITH,
        "reply_by": reply_by,
        "content": {"numbers": numbers},
    }


def answer(performative: str, sender: str, content: Any, **fields: str) -> Message:
    return {
        "performative": performative,
        "sender": sender,
        "receiver": INITIATOR,
        "protocol": CNET,
        "conversation_id": CONV,
        "in_reply_to": CFP_REPLY_WITH,
        "content": content,
        **fields,
    }


def propose(name: str, cost: int) -> Message:
    return answer("propose", name, {"cost": cost}, reply_with=f"{name}/{CONV}")


def refuse(name: str) -> Message:
    return answer("refuse", name, {"reason": "not taking work"})


def host_failure(name: str, reason: str, in_reply_to: str = CFP_REPLY_WITH) -> Message:
    """What LocalNetwork sends the initiator in `name`'s name when its handler traps."""
    return {
        "performative": "failure",
        "sender": name,
        "receiver": INITIATOR,
        "content": {"error": "system", "reason": reason},
        "conversation_id": CONV,
        "in_reply_to": in_reply_to,
    }


def accept(winner: str, cost: int) -> Message:
    return {
        "performative": "accept-proposal",
        "sender": INITIATOR,
        "receiver": winner,
        "protocol": CNET,
        "conversation_id": CONV,
        "in_reply_to": f"{winner}/{CONV}",
        "reply_with": ACCEPT_REPLY_WITH,
        "content": {"cost": cost},
    }


def reject(receiver: str | list[str], in_reply_to: str, reason: str) -> Message:
    return {
        "performative": "reject-proposal",
        "sender": INITIATOR,
        "receiver": receiver,
        "protocol": CNET,
        "conversation_id": CONV,
        "in_reply_to": in_reply_to,
        "content": {"reason": reason},
    }


def reject_others(proposers: list[str]) -> Message:
    return reject(proposers, CFP_REPLY_WITH, "another proposal was chosen")


def result(winner: str, total: int) -> Message:
    return {
        "performative": "inform",
        "sender": winner,
        "receiver": INITIATOR,
        "protocol": CNET,
        "conversation_id": CONV,
        "in_reply_to": ACCEPT_REPLY_WITH,
        "content": {"result": total},
    }


def deadline_notice(proposals: int, refusals: int, failures: int, silent: int) -> Message:
    """The platform's notice, exactly as the router sends it when reply_by passes."""
    return {
        "performative": "inform",
        "sender": "caxton",
        "receiver": INITIATOR,
        "conversation_id": CONV,
        "protocol": CNET,
        "x-caxton-event": "deadline",
        "in_reply_to": CFP_REPLY_WITH,
        "content": {
            "reply_by": "2026-11-25T10:15:00.123Z",
            "proposals": proposals,
            "refusals": refusals,
            "failures": failures,
            "silent": silent,
        },
    }


def conversation_record(
    phase: str, expected: int, proposals: int, refusals: int, failures: int, best: str, cost: int
) -> str:
    return (
        f'{{"phase":"{phase}","expected":{expected},"proposals":{proposals},'
        f'"refusals":{refusals},"failures":{failures},"best":"{best}","cost":{cost},'
        f'"best_reply_with":"{best}/{CONV}"}}'
    )


def the_reply_by(sent: list[Message]) -> str:
    reply_by = sent[0]["reply_by"]
    assert isinstance(reply_by, str)
    assert TIMESTAMP.fullmatch(reply_by), reply_by
    return reply_by


def trap_reason(recorder: Recorder, agent: str) -> str:
    """The reason LocalNetwork reported for `agent`'s (single) trap."""
    [error] = [event for event in recorder.errors() if event.get("agent") == agent]
    assert error["class"] == "system"
    reason = error["reason"]
    assert isinstance(reason, str)
    assert TRAP_REASON.fullmatch(reason), reason
    return reason


# The whole protocol with many participants.


def test_the_cheapest_of_120_participants_wins_and_does_the_work(
    cnet: ContractNet, recorder: Recorder
) -> None:
    names = [f"p-{i:03d}" for i in range(120)]
    configs: dict[str, dict[str, Any]] = {
        name: {"cost": 50 + (i * 37) % 97} for i, name in enumerate(names)
    }
    # Equal lowest costs: the first proposal received wins.
    configs["p-042"] = {"cost": 7}
    configs["p-097"] = {"cost": 7}
    # Cheaper than anyone, but they never propose; they must not hold up the decision either.
    configs["p-017"] = {"cost": 1, "refuse": True}
    configs["p-018"] = {"cost": 1, "fail": True}
    cnet.start(configs)
    numbers = list(range(-10, 101))

    before_ms = time.time_ns() // 1_000_000
    cnet.network.run([kick(names, numbers, deadline_ms=200)])
    after_ms = time.time_ns() // 1_000_000

    sent = recorder.sent()
    reply_by = the_reply_by(sent)
    stamp = datetime.fromisoformat(reply_by).timestamp() * 1000
    assert before_ms + 200 <= round(stamp) <= after_ms + 200
    answers = {name: propose(name, config["cost"]) for name, config in configs.items()} | {
        "p-017": refuse("p-017"),
        "p-018": host_failure("p-018", trap_reason(recorder, "p-018")),
    }
    proposers = [name for name in names if name not in {"p-017", "p-018"}]
    assert sent == [
        cfp(names, numbers, reply_by),
        *(answers[name] for name in names),
        accept("p-042", 7),
        reject_others([name for name in proposers if name != "p-042"]),
        result("p-042", sum(numbers)),
    ]
    assert len(sent[0]["receiver"]) == 120

    outcome = f'{{"winner":"p-042","cost":7,"result":{sum(numbers)},"proposals":118}}'
    assert cnet.kv(INITIATOR) == {
        "counter": "1",
        "outcome": outcome,
        f"cnet/{CONV}": conversation_record("done", 120, 118, 1, 1, "p-042", 7),
    }
    assert recorder.logs(INITIATOR) == [
        ("info", "cnet-initiator ready"),
        ("info", f"cfp {CONV} to 120 participants, reply_by {reply_by}"),
        (
            "info",
            f"awarded {CONV} to p-042 at cost 7: 118 proposals, 1 refusals, 1 failures of 120",
        ),
        ("info", outcome),
    ]
    assert recorder.logs("p-042") == [
        ("info", "cnet-participant ready"),
        ("info", f"proposed 7 in {CONV}"),
        ("info", f"did the work in {CONV}: {sum(numbers)}"),
    ]
    assert recorder.logs("p-097") == [
        ("info", "cnet-participant ready"),
        ("info", f"proposed 7 in {CONV}"),
        ("info", f"rejected in {CONV}"),
    ]
    assert recorder.logs("p-018") == [
        ("info", "cnet-participant ready"),
        ("warn", "cnet-participant: failing on cfp as configured"),
    ]
    # The task is forgotten once the conversation is over for a participant.
    assert all(cnet.kv(name) == {} for name in names)
    assert [e["agent"] for e in recorder.errors()] == ["p-018"]


def test_a_deadline_notice_after_the_decision_changes_nothing(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"cost": 3}})
    cnet.network.run([kick(["p-000"], [4, 5])])
    kv = cnet.kv(INITIATOR)
    recorder.clear()

    cnet.network.run([deadline_notice(1, 0, 0, 0)])

    assert recorder.sent() == []
    assert recorder.logs(INITIATOR) == [
        ("debug", f"cnet-initiator: deadline of {CONV} after the decision")
    ]
    assert cnet.kv(INITIATOR) == kv
    assert kv["outcome"] == '{"winner":"p-000","cost":3,"result":9,"proposals":1}'


# The deadline.


def test_the_deadline_notice_decides_when_a_participant_stays_silent(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"cost": 9}, "p-001": {"cost": 4}, "p-002": {"refuse": True}})
    # p-silent does not exist: LocalNetwork drops its copy of the cfp without a word.
    names = ["p-000", "p-silent", "p-001", "p-002"]

    cnet.network.run([kick(names, [1, 2, 3])])

    sent = recorder.sent()
    reply_by = the_reply_by(sent)
    assert sent == [
        cfp(names, [1, 2, 3], reply_by),
        propose("p-000", 9),
        propose("p-001", 4),
        refuse("p-002"),
    ]
    # Still waiting for p-silent: every participant's answer is on record.
    assert cnet.kv(INITIATOR) == {
        "counter": "1",
        f"cnet/{CONV}": conversation_record("open", 4, 2, 1, 0, "p-001", 4),
        f"cnet/{CONV}/participants": '["p-000","p-silent","p-001","p-002"]',
        f"cnet/{CONV}/p/p-000": "propose",
        f"cnet/{CONV}/p/p-silent": "-",
        f"cnet/{CONV}/p/p-001": "propose",
        f"cnet/{CONV}/p/p-002": "refuse",
    }
    assert cnet.kv("p-001") == {f"task/{CONV}": '{"numbers":[1,2,3]}'}
    recorder.clear()

    cnet.network.run([deadline_notice(2, 1, 0, 1)])

    assert recorder.sent() == [accept("p-001", 4), reject_others(["p-000"]), result("p-001", 6)]
    outcome = '{"winner":"p-001","cost":4,"result":6,"proposals":2}'
    assert cnet.kv(INITIATOR) == {
        "counter": "1",
        "outcome": outcome,
        f"cnet/{CONV}": conversation_record("done", 4, 2, 1, 0, "p-001", 4),
    }
    assert recorder.logs(INITIATOR) == [
        ("info", f"deadline of {CONV}: 1 silent"),
        ("info", f"awarded {CONV} to p-001 at cost 4: 2 proposals, 1 refusals, 0 failures of 4"),
        ("info", outcome),
    ]
    assert cnet.kv("p-000") == cnet.kv("p-001") == {}


def test_no_proposals_by_the_deadline_is_an_outcome_too(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"refuse": True}})
    cnet.network.run([kick(["p-000", "p-silent"], [1])])
    recorder.clear()

    cnet.network.run([deadline_notice(0, 1, 0, 1)])

    assert recorder.sent() == []
    assert cnet.kv(INITIATOR) == {
        "counter": "1",
        "outcome": '{"outcome":"no-proposals"}',
        f"cnet/{CONV}": ('{"phase":"done","expected":2,"proposals":0,"refusals":1,"failures":0}'),
    }
    assert recorder.logs(INITIATOR) == [
        ("info", f"deadline of {CONV}: 1 silent"),
        ("info", '{"outcome":"no-proposals"}'),
    ]


def test_refusals_and_failures_alone_end_in_no_proposals(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"refuse": True}, "p-001": {"cost": 2, "fail": True}})

    cnet.network.run([kick(["p-000", "p-001"], [1])])

    sent = recorder.sent()
    assert sent == [
        cfp(["p-000", "p-001"], [1], the_reply_by(sent)),
        refuse("p-000"),
        host_failure("p-001", trap_reason(recorder, "p-001")),
    ]
    assert cnet.kv(INITIATOR)["outcome"] == '{"outcome":"no-proposals"}'
    assert cnet.kv(INITIATOR)[f"cnet/{CONV}"] == (
        '{"phase":"done","expected":2,"proposals":0,"refusals":1,"failures":1}'
    )


def test_the_platforms_failure_for_an_unreachable_participant_counts_as_an_answer(
    cnet: ContractNet, recorder: Recorder
) -> None:
    """The router answers a cfp to an unknown name with a `failure` from `caxton`."""
    cnet.start({"p-000": {"cost": 5}})
    cnet.network.run([kick(["p-000", "p-gone"], [2, 2])])
    recorder.clear()

    cnet.network.run(
        [
            {
                "performative": "failure",
                "sender": "caxton",
                "receiver": INITIATOR,
                "conversation_id": CONV,
                "protocol": CNET,
                "in_reply_to": CFP_REPLY_WITH,
                "content": {"error": "routing", "reason": "no agent named 'p-gone'"},
            }
        ]
    )

    assert recorder.sent() == [accept("p-000", 5), result("p-000", 4)]
    assert cnet.kv(INITIATOR)[f"cnet/{CONV}"] == conversation_record("done", 2, 1, 0, 1, "p-000", 5)


# Failures after the award, and late proposals.


def test_a_winner_that_fails_its_work_leaves_a_failed_outcome(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"cost": 8}, "p-001": {"cost": 2, "fail_work": True}})

    cnet.network.run([kick(["p-000", "p-001"], [1, 1])])

    sent = recorder.sent()
    reason = trap_reason(recorder, "p-001")
    assert sent == [
        cfp(["p-000", "p-001"], [1, 1], the_reply_by(sent)),
        propose("p-000", 8),
        propose("p-001", 2),
        accept("p-001", 2),
        reject_others(["p-000"]),
        host_failure("p-001", reason, in_reply_to=ACCEPT_REPLY_WITH),
    ]
    escaped = reason.replace("\\", "\\\\").replace('"', '\\"')
    outcome = (
        f'{{"winner":"p-001","failed":true,"reason":{{"error":"system","reason":"{escaped}"}}}}'
    )
    assert cnet.kv(INITIATOR) == {
        "counter": "1",
        "outcome": outcome,
        f"cnet/{CONV}": conversation_record("done", 2, 2, 0, 0, "p-001", 2),
    }
    assert recorder.logs(INITIATOR)[-1] == ("warn", outcome)
    assert recorder.logs("p-001")[-1] == (
        "warn",
        "cnet-participant: failing on the work as configured",
    )


def test_a_proposal_after_the_decision_is_rejected_even_when_cheaper(
    cnet: ContractNet, recorder: Recorder
) -> None:
    cnet.start({"p-000": {"cost": 6}})
    names = ["p-000", "p-late"]
    cnet.network.run([kick(names, [10, 20])])
    the_cfp = recorder.sent()[0]
    cnet.network.run([deadline_notice(1, 0, 0, 1)])
    outcome = '{"winner":"p-000","cost":6,"result":30,"proposals":1}'
    assert cnet.kv(INITIATOR)["outcome"] == outcome
    recorder.clear()

    # p-late's copy of the cfp was slow: it arrives after the award, and so does its answer.
    cnet.start({"p-late": {"cost": 1, "late_ms": 300}})
    started = time.monotonic()
    cnet.network.run([{**the_cfp, "receiver": "p-late"}])
    elapsed = time.monotonic() - started

    # now_ms counts whole milliseconds, so the wait may come up to 1 ms short.
    assert elapsed >= 0.298
    assert recorder.sent() == [
        propose("p-late", 1),
        reject("p-late", f"p-late/{CONV}", "the contract was already awarded"),
    ]
    assert recorder.logs(INITIATOR) == [("info", f"late proposal from p-late in {CONV}: rejected")]
    assert recorder.logs("p-late")[1:] == [
        ("info", f"proposed 1 in {CONV}"),
        ("info", f"rejected in {CONV}"),
    ]
    assert cnet.kv(INITIATOR)["outcome"] == outcome
    assert cnet.kv("p-late") == {}


def test_strangers_and_second_answers_are_ignored(cnet: ContractNet, recorder: Recorder) -> None:
    cnet.start({"p-000": {"cost": 6}})
    cnet.network.run([kick(["p-000", "p-silent"], [1])])
    record = cnet.kv(INITIATOR)[f"cnet/{CONV}"]
    recorder.clear()

    cnet.network.run([propose("stranger", 1), propose("p-000", 2), refuse("p-000")])

    assert recorder.sent() == []
    assert recorder.logs(INITIATOR) == [
        (
            "warn",
            f"cnet-initiator: ignoring an answer from a non-participant from stranger in {CONV}",
        ),
        ("warn", f"cnet-initiator: ignoring a second answer from p-000 in {CONV}"),
        ("warn", f"cnet-initiator: ignoring a second answer from p-000 in {CONV}"),
    ]
    assert cnet.kv(INITIATOR)[f"cnet/{CONV}"] == record
    assert record == conversation_record("open", 2, 1, 0, 0, "p-000", 6)


def test_each_kick_starts_a_new_conversation(cnet: ContractNet, recorder: Recorder) -> None:
    cnet.start({"p-000": {"cost": 6}})
    cnet.network.run([kick(["p-000"], [1]), kick(["p-000"], [2, 3])])

    cfps = [m for m in recorder.sent() if m["performative"] == "cfp"]
    assert [(m["conversation_id"], m["reply_with"]) for m in cfps] == [
        ("initiator-1", "initiator-1-cfp"),
        ("initiator-2", "initiator-2-cfp"),
    ]
    kv = cnet.kv(INITIATOR)
    assert kv["counter"] == "2"
    # Both conversations ran to the end; the second one finished last.
    assert kv["outcome"] == '{"winner":"p-000","cost":6,"result":5,"proposals":1}'
    assert sorted(kv) == ["cnet/initiator-1", "cnet/initiator-2", "counter", "outcome"]


# reply_by and bad requests.


@pytest.mark.parametrize(
    "instant",
    [
        "1970-01-01T00:00:00.000Z",
        "1999-12-31T23:59:59.999Z",
        "2000-02-29T12:34:56.789Z",
        "2024-02-29T23:59:59.999Z",
        "2026-11-25T10:15:00.123Z",
        "2100-03-01T00:00:00.000Z",
    ],
)
def test_reply_by_is_rfc3339_utc_with_milliseconds(
    cnet: ContractNet, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, instant: str
) -> None:
    ms = round(datetime.fromisoformat(instant).astimezone(UTC).timestamp() * 1000)
    # now_ms reads hostcalls' `time`; a fixed clock pins reply_by = now + deadline_ms.
    clock = SimpleNamespace(time_ns=lambda: (ms - 250) * 1_000_000)
    monkeypatch.setattr("caxton.runtime.hostcalls.time", clock)

    cnet.network.run([kick(["p-silent"], [1], deadline_ms=250)])

    [sent] = recorder.sent()
    assert sent == cfp(["p-silent"], [1], instant)


BAD_NAMES = "participants must be a non-empty array of agent names"
BAD_TASK = "task must be an object"
BAD_DEADLINE = "deadline_ms must be an integer >= 1"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"task": {"numbers": [1]}, "deadline_ms": 5}, BAD_NAMES),
        ({"participants": [], "task": {}, "deadline_ms": 5}, BAD_NAMES),
        ({"participants": [7], "task": {}, "deadline_ms": 5}, BAD_NAMES),
        ({"participants": ["p-0"], "task": [1], "deadline_ms": 5}, BAD_TASK),
        ({"participants": ["p-0"], "task": {}, "deadline_ms": 0}, BAD_DEADLINE),
        ({"participants": ["p-0"], "task": {}}, BAD_DEADLINE),
    ],
)
def test_a_bad_request_is_not_understood(
    cnet: ContractNet, recorder: Recorder, content: dict[str, Any], reason: str
) -> None:
    cnet.network.run(
        [
            {
                "performative": "request",
                "sender": "operator",
                "receiver": INITIATOR,
                "conversation_id": "c-7",
                "reply_with": "r-7",
                "content": content,
            }
        ]
    )

    assert recorder.sent() == [
        {
            "performative": "not-understood",
            "sender": INITIATOR,
            "receiver": "operator",
            "conversation_id": "c-7",
            "in_reply_to": "r-7",
            "content": {"reason": reason},
        }
    ]
    assert recorder.logs(INITIATOR)[1:] == [("warn", f"cnet-initiator: bad request: {reason}")]
    assert cnet.kv(INITIATOR) == {}


def test_a_participant_refuses_a_task_it_cannot_sum(cnet: ContractNet, recorder: Recorder) -> None:
    cnet.start({"p-000": {"cost": 1}})
    cnet.network.run([kick(["p-000"], [1])])
    recorder.clear()
    bad_cfp = {**cfp(["p-000"], [1], "2026-11-25T10:15:00.123Z"), "content": {"numbers": [1.5]}}
    bad_cfp["conversation_id"] = "elsewhere"

    cnet.network.run([bad_cfp])

    refusal = answer("refuse", "p-000", {"reason": "task needs numbers: an array of integers"})
    assert recorder.sent() == [{**refusal, "conversation_id": "elsewhere"}]
    assert recorder.logs(INITIATOR) == [
        (
            "warn",
            "cnet-initiator: ignoring a message of an unknown conversation from p-000 in elsewhere",
        )
    ]
    assert cnet.kv("p-000") == {}


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"cost": "3"},
        {"cost": 3, "refuse": 1},
        {"cost": 3, "late_ms": -1},
        {"cost": 3, "fail": "yes"},
    ],
)
def test_a_participant_refuses_a_bad_config(
    runtime: Runtime, network: LocalNetwork, wasm: dict[str, bytes], config: dict[str, Any]
) -> None:
    with pytest.raises(AgentInitFailed, match="starting p-000"):
        network.start(runtime.load(wasm["cnet_participant"]), "p-000", config=config)
    assert runtime.running == 0
