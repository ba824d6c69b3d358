"""The router with real wasm agents: delivery, back-pressure, order, failures, traces, batches."""

from __future__ import annotations

import itertools
import logging
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
import wasmtime

from caxton.router import PLATFORM, Dispatcher, Router, RouterError, attach
from caxton.router.trace import trace_id_of
from caxton.runtime import InMemoryKeyValueStore, Runtime, Status
from conftest import ALLOC, LOGGER, wat
from routing import Tap, inbox, running, tap
from toolchain import build_c_agent

HERE = Path(__file__).resolve().parent

# Traps on every message.
CRASHER = wat(
    f"""(module (memory (export "memory") 1) {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32) unreachable))"""
)
# Burns CPU for a while on every message: about 10 ms of wasm with the GIL released.
SPINNER = wat(
    f"""(module (memory (export "memory") 1) {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32) (local $i i32)
    (local.set $i (i32.const 3000000))
    (loop $spin (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $spin (local.get $i)))
    (global.set $bump (i32.const 4096))
    (i32.const 0)))"""
)


def example(name: str) -> bytes:
    text = resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()
    return bytes(wasmtime.wat2wasm(text))


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("router-agents")
    return build_c_agent(HERE.parent / "agents" / "burst.c", out).read_bytes()


@pytest.fixture
def router() -> Router:
    return Router(seed=7)


@pytest.fixture
def dispatcher(router: Router) -> Dispatcher:
    return Dispatcher(router, workers=0)


def request(receiver: str | list[str], **fields: Any) -> dict[str, Any]:
    return {"performative": "request", "sender": "client", "receiver": receiver, **fields}


def test_a_request_reaches_its_agent_and_the_answer_comes_back(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    attach(router, runtime, runtime.load(example("echo")), "echo")
    sent = request("echo", content={"n": 1}, reply_with="r1")
    assert router.post(sent) == Status.OK
    dispatcher.run_until_idle()

    [answer] = client.messages
    assert answer["performative"] == "inform"
    assert answer["sender"] == "echo"
    assert answer["content"] == {"n": 1}
    assert answer["in_reply_to"] == "r1"
    assert answer["conversation_id"] == sent["conversation_id"]
    assert isinstance(answer["message_id"], str)
    assert answer["message_id"] != sent["message_id"]


def test_the_answer_carries_the_trace_of_the_message_being_handled(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    attach(router, runtime, runtime.load(example("echo")), "echo")
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    sent = request("echo", trace={"traceparent": parent, "tracestate": "vendor=1"})
    router.post(sent)
    dispatcher.run_until_idle()

    [answer] = client.messages
    assert trace_id_of(sent) == trace_id_of(answer) == "0af7651916cd43dd8448eb211c80319c"
    assert answer["trace"]["tracestate"] == "vendor=1"
    spans = {sent["trace"]["traceparent"], answer["trace"]["traceparent"], parent}
    assert len(spans) == 3  # each message is a span of its own in the one trace


def test_an_answer_joins_the_trace_the_router_started(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    attach(router, runtime, runtime.load(example("echo")), "echo")
    requests = [request("echo", content=n) for n in range(3)]
    for sent in requests:
        router.post(sent)
    dispatcher.run_until_idle()

    traces = {answer["content"]: trace_id_of(answer) for answer in client.messages}
    assert traces == {sent["content"]: trace_id_of(sent) for sent in requests}
    assert len(set(traces.values())) == 3


def test_messages_without_a_trace_start_one_each(router: Router) -> None:
    inbox(router, "a")
    first, second = request("a"), request("a")
    router.post(first)
    router.post(second)
    assert trace_id_of(first) is not None
    assert trace_id_of(first) != trace_id_of(second)
    assert first["message_id"] != second["message_id"]


def test_one_message_reaches_every_receiver_once(router: Router, dispatcher: Dispatcher) -> None:
    a, b = inbox(router, "a"), inbox(router, "b")
    router.post(request(["a", "b", "a"], content="hi"))
    dispatcher.run_until_idle()
    assert [m["content"] for m in a.messages] == ["hi"]
    assert [m["content"] for m in b.messages] == ["hi"]
    assert a.messages[0]["receiver"] == ["a", "b", "a"]


def test_a_full_mailbox_answers_minus_3_and_nothing_is_lost(
    runtime: Runtime, router: Router, dispatcher: Dispatcher, burst: bytes
) -> None:
    sink = inbox(router, "sink", capacity=10)
    kv = InMemoryKeyValueStore(1024)
    attach(router, runtime, runtime.load(burst), "burst", kv=kv)
    router.post(request("burst", content={"to": "sink", "count": 25}))
    dispatcher.run_until_idle(max_turns=1)  # burst runs; sink has not had a turn yet

    assert (kv.get(b"ok"), kv.get(b"full"), kv.get(b"other")) == (b"10", b"15", b"0")
    assert router.post(request("sink")) == Status.MAILBOX_FULL
    dispatcher.run_until_idle()
    assert [m["content"]["seq"] for m in sink.messages] == list(range(1, 11))
    endpoint = router.get("sink")
    assert endpoint is not None
    assert len(endpoint.mailbox) == 0


def test_a_broadcast_is_refused_whole_when_one_mailbox_is_full(
    router: Router, dispatcher: Dispatcher
) -> None:
    a, b = inbox(router, "a", capacity=5), inbox(router, "b", capacity=1)
    assert router.post(request("b")) == Status.OK
    assert router.post(request(["a", "b"])) == Status.MAILBOX_FULL
    dispatcher.run_until_idle()
    assert (len(a.messages), len(b.messages)) == (0, 1)


def test_order_is_kept_for_each_sender_and_receiver_with_two_workers(
    runtime: Runtime, router: Router, burst: bytes
) -> None:
    sink_box = inbox(router, "box", capacity=2000)
    for name in ("b1", "b2"):
        attach(router, runtime, runtime.load(burst), name)
    with running(router, workers=2) as dispatcher:
        router.post(request("b1", content={"to": "box", "count": 600}))
        router.post(request("b2", content={"to": "box", "count": 600}))
        assert dispatcher.wait_idle()
    by_sender: dict[str, list[int]] = {"b1": [], "b2": []}
    for message in sink_box.messages:
        by_sender[message["sender"]].append(message["content"]["seq"])
    assert by_sender == {"b1": list(range(1, 601)), "b2": list(range(1, 601))}


def test_an_unknown_receiver_gives_the_sender_a_failure_and_a_dead_letter(
    router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    router.post(request("nobody", reply_with="q1", conversation_id="c1"))
    dispatcher.run_until_idle()

    [failure] = client.messages
    assert failure["performative"] == "failure"
    assert failure["sender"] == PLATFORM
    assert failure["in_reply_to"] == "q1"
    assert failure["conversation_id"] == "c1"
    assert failure["content"] == {"error": "routing", "reason": "no agent named 'nobody'"}
    [letter] = router.dead_letters.recent()
    assert (letter.receiver, letter.reason) == ("nobody", "no agent named 'nobody'")
    assert letter.message["reply_with"] == "q1"


def test_a_handler_error_answers_requests_with_failure_but_not_informs(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    attach(router, runtime, runtime.load(CRASHER), "crasher")
    router.post(request("crasher", reply_with="r9"))
    router.post({"performative": "inform", "sender": "client", "receiver": "crasher"})
    dispatcher.run_until_idle()

    [failure] = client.messages
    assert failure["performative"] == "failure"
    assert failure["sender"] == "crasher"
    assert failure["in_reply_to"] == "r9"
    assert failure["content"]["error"] == "system"
    assert "unreachable" in failure["content"]["reason"]
    assert [letter.message["performative"] for letter in router.dead_letters.recent()] == [
        "request",
        "inform",
    ]


def test_a_malformed_send_is_answered_minus_1_and_not_understood(
    runtime: Runtime, router: Router, dispatcher: Dispatcher, burst: bytes
) -> None:
    kv = InMemoryKeyValueStore(1024)
    burst_tap, _ = tap(router, runtime, burst, "burst", kv=kv)
    router.post(request("burst", content={"to": "Not A Name", "count": 1}))
    dispatcher.run_until_idle()

    assert kv.get(b"other") == b"1"
    answers = [m for m in burst_tap.messages() if m["performative"] == "not-understood"]
    [answer] = answers
    assert answer["sender"] == PLATFORM
    assert answer["content"]["message"] == {
        "performative": "inform",
        "receiver": "Not A Name",
        "content": {"seq": 1},
    }
    assert "receiver" in answer["content"]["reason"]
    assert "not an agent name" in answer["content"]["reason"]


def test_batches_go_in_one_call_in_order_and_a_single_message_goes_alone(
    runtime: Runtime, router: Router, dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    batcher, _ = tap(router, runtime, LOGGER, "batcher")
    for n in range(5):
        router.post({"performative": "inform", "receiver": "batcher", "content": n})
    with caplog.at_level(logging.INFO, logger="caxton.agent.batcher"):
        dispatcher.run_until_idle()
        router.post({"performative": "inform", "receiver": "batcher", "content": 5})
        dispatcher.run_until_idle()

    assert [len(messages) for messages, *_ in batcher.deliveries] == [5, 1]
    [(batch_level, batch), (one_level, one)] = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert batch_level == logging.WARNING  # the batch export logs at warn, see LOGGER
    assert [m["content"] for m in orjson.loads(batch)] == [0, 1, 2, 3, 4]
    assert one_level == logging.INFO
    assert orjson.loads(one)["content"] == 5


def test_agents_without_a_batch_export_get_one_call_per_message(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    echo, _ = tap(router, runtime, example("echo"), "echo")
    for n in range(5):
        router.post(request("echo", content=n))
    dispatcher.run_until_idle()
    assert [len(messages) for messages, *_ in echo.deliveries] == [1] * 5
    assert [m["content"] for m in client.messages] == [0, 1, 2, 3, 4]


def test_two_agents_run_at_once_on_two_workers_but_one_agent_never_twice(
    runtime: Runtime, router: Router
) -> None:
    spinners = [tap(router, runtime, SPINNER, name)[0] for name in ("s1", "s2")]
    with running(router, workers=2) as dispatcher:
        for _ in range(4):
            for name in ("s1", "s2"):
                router.post({"performative": "inform", "receiver": name})
        assert dispatcher.wait_idle()

    for spinner in spinners:
        intervals = sorted((start, end) for _, _, start, end in spinner.deliveries)
        assert len(spinner.messages()) == 4
        assert all(end <= later for (_, end), (later, _) in itertools.pairwise(intervals))
    s1, s2 = ([(start, end) for *_, start, end in s.deliveries] for s in spinners)
    assert any(a0 < b1 and b0 < a1 for a0, a1 in s1 for b0, b1 in s2), "no overlap: one core"


def test_deregistering_keeps_what_waited_as_dead_letters(
    router: Router, dispatcher: Dispatcher
) -> None:
    inbox(router, "a")
    router.post(request("a", content=1))
    router.post(request("a", content=2))
    assert router.deregister("a") is not None
    dispatcher.run_until_idle()
    assert [letter.message["content"] for letter in router.dead_letters.recent()] == [1, 2]
    assert {letter.reason for letter in router.dead_letters.recent()} == {
        "agent 'a' stopped before delivery"
    }


def test_the_platform_name_and_taken_names_are_refused(runtime: Runtime, router: Router) -> None:
    with pytest.raises(RouterError, match="reserved"):
        router.endpoint(PLATFORM)
    attach(router, runtime, runtime.load(example("echo")), "echo")
    with pytest.raises(RouterError, match="already registered"):
        attach(router, runtime, runtime.load(example("echo")), "echo")
    assert runtime.running == 1


def test_posting_an_invalid_message_names_the_field(router: Router) -> None:
    with pytest.raises(ValueError, match="receiver: required"):
        router.post({"performative": "inform"})


def test_a_message_too_deep_to_encode_is_refused_not_crashed_on(
    router: Router, dispatcher: Dispatcher
) -> None:
    a = inbox(router, "a")
    content: Any = 1
    for _ in range(300):  # orjson writes at most 254 levels
        content = [content]
    assert router.post(request("a", content=content)) == Status.MALFORMED
    dispatcher.run_until_idle()
    assert a.messages == []
    [letter] = router.dead_letters.recent()
    assert letter.reason.startswith("cannot encode")


def test_replacing_an_agent_loses_and_reorders_nothing(runtime: Runtime, router: Router) -> None:
    client = inbox(router, "client")
    old, _ = tap(router, runtime, example("echo"), "svc")
    for n in range(10):
        router.post(request("svc", content=n))
    dispatcher = Dispatcher(router, workers=0, max_batch=4)
    dispatcher.run_until_idle(max_turns=1)  # svc handles 0..3; 4..9 wait
    router.post(request("svc", content=10))  # accepted during the swap

    new = Tap(old.agent)  # a second wrapper: which one handled what tells the versions apart
    assert router.replace("svc", new) is old
    dispatcher.run_until_idle()

    assert [m["content"] for m in old.messages()] == [0, 1, 2, 3]
    assert [m["content"] for m in new.messages()] == list(range(4, 11))
    assert [m["content"] for m in client.messages] == list(range(11))


def test_draining_delivers_what_waits_then_refuses_new_messages(
    runtime: Runtime, router: Router, dispatcher: Dispatcher
) -> None:
    client = inbox(router, "client")
    sandbox = attach(router, runtime, runtime.load(example("echo")), "echo")
    for n in range(3):
        router.post(request("echo", content=n))
    endpoint = router.get("echo")
    assert endpoint is not None

    dispatcher.drain(endpoint)
    router.post(request("echo", content="late", reply_with="r-late"))
    dispatcher.run_until_idle()

    assert [m["content"] for m in client.of("inform")] == [0, 1, 2]
    [refusal] = client.of("failure")
    assert refusal["in_reply_to"] == "r-late"
    assert "draining" in refusal["content"]["reason"]

    assert router.detach("echo") is endpoint
    assert endpoint.agent is None
    runtime.remove(sandbox)
    assert runtime.running == 0
    assert router.names() == ["client"]


def test_messages_to_the_platform_are_taken_without_an_answer() -> None:
    # An agent that answers everything (echo) must not bounce failures with the platform.
    router = Router()
    echoer = inbox(router, "echoer")
    router.post({"performative": "inform", "sender": "echoer", "receiver": "caxton"})
    Dispatcher(router, workers=0).run_until_idle()
    assert echoer.messages == []
    assert router.to_platform == 1
    assert router.dead_letters.recent() == []
