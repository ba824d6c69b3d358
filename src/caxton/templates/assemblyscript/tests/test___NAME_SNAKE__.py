"""__NAME__ answers requests: run with `make test` (pytest and the caxton.testing fixture)."""

from pathlib import Path

from caxton.testing import Harness

WASM = Path(__file__).resolve().parent.parent / "build" / "__NAME__.wasm"


def test_answers_a_request_with_a_greeting(caxton: Harness) -> None:
    agent = caxton.load(WASM, name="__NAME__")
    turn = agent.request({"name": "Ada"})
    reply = turn.reply()
    assert turn.ok, turn.error
    assert reply["performative"] == "inform"
    assert reply["content"] == {"greeting": "Hello, Ada!"}
    assert reply["in_reply_to"] == turn.message["reply_with"]
    assert ("info", "greeting Ada") in turn.logs


def test_does_not_understand_a_request_without_a_name(caxton: Harness) -> None:
    agent = caxton.load(WASM, name="__NAME__")
    reply = agent.request({"nom": "Ada"}).reply()
    assert reply["performative"] == "not-understood"
    assert reply["content"] == {"reason": "content needs a name"}


def test_registers_its_capability(caxton: Harness) -> None:
    agent = caxton.load(WASM, name="__NAME__")
    assert [c["name"] for c in agent.capabilities] == ["greet"]
    assert ("info", "__NAME__ ready") in agent.logs
