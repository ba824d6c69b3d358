"""The C SDK (src/caxton/sdk/c): its examples, its API and its project template, as real wasm.

The examples are built with their own Makefile (and the SDK's caxton.mk),
warnings as errors. The API is exercised through small agents written here,
each next to the assertions on what it does, built with tests/toolchain.py.
Everything runs in `caxton.testing`'s harness, the sandbox a server uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import wasmtime
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.cli import main
from caxton.runtime import Runtime
from caxton.testing import Agent, Harness, ToolFailure
from toolchain import BUILD_TIMEOUT_S, EXAMPLES, build_c_agent, find_clang

# tests/ is on sys.path (pytest's "prepend" import mode): see tests/test_examples.py.

EXAMPLE_AGENTS = ("echo", "ping", "pong", "cnet_initiator", "cnet_participant")
# ABI v1: the exports a C agent has, and where its imports may come from.
EXPORTS = {"memory", "_initialize", "caxton_alloc", "caxton_init", "caxton_handle"}
IMPORT_MODULES = {"caxton", "wasi_snapshot_preview1"}
# The SDK and the examples build without a warning from any of these.
STRICT = "-Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes -Wcast-qual -Wformat=2 -Wundef"


def make(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`make` in `directory` with the clang the other builds use; fails the test on an error."""
    settings = [f"CLANG={find_clang()}"]
    if sysroot := os.environ.get("CAXTON_WASI_SYSROOT"):
        settings.append(f"WASI_SYSROOT={sysroot}")
    result = subprocess.run(
        ["make", "-C", str(directory), *settings, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, f"make {' '.join(arguments)}:\n{result.stdout}{result.stderr}"
    return result


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/agents/c built by its Makefile into a directory of its own."""
    out = tmp_path_factory.mktemp("c-sdk-examples")
    make(EXAMPLES, f"BUILD={out}", f"CFLAGS=-O2 {STRICT} -Werror")
    return out


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The agents below, each built from its source with the SDK."""
    sources = tmp_path_factory.mktemp("c-sdk-probes")
    built = sources / "build"
    wasm = {}
    for name, text in PROBES.items():
        source = sources / f"{name}.c"
        source.write_text(text)
        wasm[name] = build_c_agent(source, built)
    return wasm


# ---- the examples ----


def test_every_example_has_the_abi_exports_and_no_foreign_imports(examples: Path) -> None:
    engine = wasmtime.Engine()
    for name in EXAMPLE_AGENTS:
        module = wasmtime.Module.from_file(engine, str(examples / f"{name}.wasm"))
        assert {export.name for export in module.exports} == EXPORTS, name
        assert {item.module for item in module.imports} <= IMPORT_MODULES, name


def test_echo_answers_with_the_same_content(caxton: Harness, examples: Path) -> None:
    echo = caxton.load(examples / "echo.wasm", name="echo")
    content = {"hello": "world", "n": [1, 2.5, None, True], "nested": {"s": 'a"b'}}

    turn = echo.request(content, protocol="fipa-request")

    reply = turn.reply()
    assert turn.ok, turn.error
    assert reply["performative"] == "inform"
    assert reply["content"] == content
    assert reply["in_reply_to"] == turn.message["reply_with"]
    assert reply["conversation_id"] == turn.message["conversation_id"]
    assert reply["protocol"] == "fipa-request"
    assert echo.logs == [("info", "echo ready")]


def test_ping_and_pong_play_three_rounds(caxton: Harness, examples: Path) -> None:
    ping = caxton.load(examples / "ping.wasm", name="ping")
    caxton.load(examples / "pong.wasm", name="pong")

    conversation = caxton.run({"performative": "request", "receiver": "ping", "content": "go"})

    assert conversation.errors == []
    exchanged = [(m["sender"], m["performative"], m["content"]) for m in conversation.messages[1:]]
    assert exchanged == [
        turn
        for n in (1, 2, 3)
        for turn in (("ping", "request", {"ping": n}), ("pong", "inform", {"pong": n}))
    ]
    assert len({m["conversation_id"] for m in conversation.messages[1:]}) == 1
    assert ping.logs[-1] == ("info", "done after 3 rounds")
    assert ping.kv["rounds_done"] == b"3"


def cfp(task: Any, conversation: str = "c-1") -> dict[str, Any]:
    return {
        "performative": "cfp",
        "sender": "boss",
        "content": task,
        "protocol": "fipa-contract-net",
        "conversation_id": conversation,
        "reply_with": f"{conversation}-cfp",
    }


def test_the_participant_proposes_then_does_the_work(caxton: Harness, examples: Path) -> None:
    bidder = caxton.load(examples / "cnet_participant.wasm", name="bidder", config={"cost": 4})

    proposal = bidder.handle(cfp({"numbers": [1, 2, 39]})).reply()

    assert proposal == {
        **proposal,
        "performative": "propose",
        "receiver": "boss",
        "content": {"cost": 4},
        "protocol": "fipa-contract-net",
        "conversation_id": "c-1",
        "in_reply_to": "c-1-cfp",
        "reply_with": "bidder/c-1",
    }
    assert bidder.kv["task/c-1"] == b'{"numbers":[1,2,39]}'

    award = {
        "performative": "accept-proposal",
        "sender": "boss",
        "conversation_id": "c-1",
        "in_reply_to": "bidder/c-1",
        "reply_with": "c-1-accept",
        "content": {"cost": 4},
    }
    result = bidder.handle(award).reply()

    assert (result["performative"], result["content"]) == ("inform", {"result": 42})
    assert (result["in_reply_to"], result["protocol"]) == ("c-1-accept", "fipa-contract-net")
    assert "task/c-1" not in bidder.kv
    assert bidder.logs[1:] == [("info", "proposed 4 in c-1"), ("info", "did the work in c-1: 42")]


@pytest.mark.parametrize(
    ("config", "task", "reason"),
    [
        ({"refuse": True}, {"numbers": [1]}, "not taking work"),
        ({"cost": 1}, {"numbers": [1, "2"]}, "task needs numbers: an array of integers"),
        ({"cost": 1}, [1, 2], "task needs numbers: an array of integers"),
    ],
)
def test_the_participant_refuses(
    caxton: Harness, examples: Path, config: dict[str, Any], task: Any, reason: str
) -> None:
    bidder = caxton.load(examples / "cnet_participant.wasm", name="bidder", config=config)

    refusal = bidder.handle(cfp(task)).reply()

    assert (refusal["performative"], refusal["content"]) == ("refuse", {"reason": reason})
    assert refusal["in_reply_to"] == "c-1-cfp"
    assert list(bidder.kv) == []


def test_an_award_without_a_kept_task_is_a_failure(caxton: Harness, examples: Path) -> None:
    bidder = caxton.load(examples / "cnet_participant.wasm", name="bidder", config={"cost": 1})

    turn = bidder.handle(
        {"performative": "accept-proposal", "conversation_id": "c-9", "reply_with": "a"}
    )

    reply = turn.reply()
    assert (reply["performative"], reply["content"]) == (
        "failure",
        {"reason": "no task in this conversation"},
    )
    assert (reply["in_reply_to"], reply["conversation_id"]) == ("a", "c-9")


def test_a_rejected_participant_forgets_the_task(caxton: Harness, examples: Path) -> None:
    bidder = caxton.load(examples / "cnet_participant.wasm", name="bidder", config={"cost": 1})
    bidder.handle(cfp({"numbers": [1]}))
    assert "task/c-1" in bidder.kv

    turn = bidder.handle({"performative": "reject-proposal", "conversation_id": "c-1"})

    assert turn.sent == []
    assert "task/c-1" not in bidder.kv
    assert turn.logs == [("info", "rejected in c-1")]


def test_a_contract_net_ends_with_the_cheapest_doing_the_work(
    caxton: Harness, examples: Path
) -> None:
    boss = caxton.load(examples / "cnet_initiator.wasm", name="boss")
    bidders: dict[str, dict[str, Any]] = {
        "p-1": {"cost": 9},
        "p-2": {"cost": 3},
        "p-3": {"refuse": True},
    }
    for name, config in bidders.items():
        caxton.load(examples / "cnet_participant.wasm", name=name, config=config)
    task = {"participants": ["p-1", "p-2", "p-3"], "task": {"numbers": [5, 6]}, "deadline_ms": 500}

    conversation = caxton.run({"performative": "request", "receiver": "boss", "content": task})

    assert conversation.errors == []
    assert conversation.performatives() == [
        "request",
        "cfp",
        "propose",
        "propose",
        "refuse",
        "accept-proposal",
        "reject-proposal",
        "inform",
    ]
    accept, reject = conversation.messages[5:7]
    assert (accept["receiver"], accept["in_reply_to"]) == ("p-2", "p-2/boss-1")
    assert (reject["receiver"], reject["in_reply_to"]) == (["p-1"], "boss-1-cfp")
    assert boss.kv.json("outcome") == {"winner": "p-2", "cost": 3, "result": 11, "proposals": 2}
    assert sorted(boss.kv) == ["cnet/boss-1", "counter", "outcome"]


# ---- JSON and messages ----

MIRROR = r"""
#include <stdlib.h>
#include "caxton.h"

static caxton_json *string_or_null(const char *text) {
    return text != NULL ? caxton_json_new_string(text) : caxton_json_new_null();
}

/* Answers with the message as it parsed it, and what each accessor read of it. */
static int on_message(const caxton_message *msg) {
    static const struct {
        const char *name;
        const char *(*read)(const caxton_message *);
    } fields[] = {
        {"performative", caxton_message_performative}, {"sender", caxton_message_sender},
        {"conversation_id", caxton_message_conversation_id},
        {"reply_with", caxton_message_reply_with}, {"in_reply_to", caxton_message_in_reply_to},
        {"protocol", caxton_message_protocol}, {"ontology", caxton_message_ontology},
        {"language", caxton_message_language}, {"encoding", caxton_message_encoding},
        {"reply_by", caxton_message_reply_by}, {"message_id", caxton_message_id},
    };
    caxton_json *read = caxton_json_new_object();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        caxton_json_set(read, fields[i].name, string_or_null(fields[i].read(msg)));
    caxton_json *receivers = caxton_json_new_array();
    for (size_t i = 0; i < caxton_message_receiver_count(msg); i++)
        caxton_json_append(receivers, string_or_null(caxton_message_receiver(msg, i)));
    char *content_text = caxton_message_content_text(msg, NULL);
    const caxton_json *tag = caxton_message_get(msg, "x-tag");

    caxton_json *seen = caxton_json_new_object();
    caxton_json_set(seen, "message", caxton_json_copy(caxton_message_json(msg)));
    caxton_json_set(seen, "fields", read);
    caxton_json_set(seen, "receivers", receivers);
    caxton_json_set(seen, "content_text", string_or_null(content_text));
    caxton_json_set(seen, "x_tag", tag != NULL ? caxton_json_copy(tag) : caxton_json_new_null());
    free(content_text);
    return caxton_reply(msg, "inform", seen) != CAXTON_OK;
}

CAXTON_AGENT(NULL, on_message)
"""

TRICKY_TEXT = (
    'quote " backslash \\ slash / newline \n return \r tab \t bell \x07 nul \x00 del \x7f'
    " latin é, cjk 漢字, emoji 😀 (a surrogate pair in JSON), separator \u2028"
)
TRICKY: dict[str, Any] = {
    "performative": "inform",
    "receiver": ["mirror", "observer"],
    "content": {
        "text": TRICKY_TEXT,
        "numbers": [0, -0.0, 1.5, -2.5e-3, 1e300, 9223372036854775807, -9223372036854775808],
        "nested": {"deep": [[[{"a": [True, False, None]}]]], "empty": {}, "none": []},
        "": "an empty name",
    },
    "protocol": "fipa-request",
    "ontology": "arithmetic",
    "language": "json",
    "encoding": "utf-8",
    "reply_by": "2026-11-25T10:15:00.123Z",
    "reply_with": "r-é",
    "in_reply_to": "q-0",
    "x-tag": {"list": ["x", {"y": None}], "quote": '"'},
    "x-count": 3,
}


def test_a_tricky_message_survives_parse_and_serialize(
    caxton: Harness, probes: dict[str, Path]
) -> None:
    mirror = caxton.load(probes["mirror"], name="mirror")

    turn = mirror.handle(TRICKY)

    seen = turn.reply()["content"]
    assert seen["message"] == turn.message
    assert seen["message"]["content"]["text"] == TRICKY_TEXT
    assert seen["fields"] == {
        "performative": "inform",
        "sender": "tester",
        "conversation_id": turn.message["conversation_id"],
        "reply_with": "r-é",
        "in_reply_to": "q-0",
        "protocol": "fipa-request",
        "ontology": "arithmetic",
        "language": "json",
        "encoding": "utf-8",
        "reply_by": "2026-11-25T10:15:00.123Z",
        "message_id": turn.message["message_id"],
    }
    assert seen["receivers"] == ["mirror", "observer"]
    assert seen["x_tag"] == TRICKY["x-tag"]
    # Compact JSON, escaping only what must be: the same text the host's orjson writes.
    assert seen["content_text"] == (
        '{"text":"quote \\" backslash \\\\ slash / newline \\n return \\r tab \\t'
        " bell \\u0007 nul \\u0000 del \x7f latin é, cjk 漢字, emoji 😀 (a surrogate pair in"
        ' JSON), separator \u2028",'
        '"numbers":[0,-0.0,1.5,-0.0025,1e+300,9223372036854775807,-9223372036854775808],'
        '"nested":{"deep":[[[{"a":[true,false,null]}]]],"empty":{},"none":[]},'
        '"":"an empty name"}'
    )


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def mirror(caxton_runtime: Runtime, probes: dict[str, Path]) -> Iterator[Agent]:
    with Harness(caxton_runtime) as harness:
        yield harness.load(probes["mirror"], name="mirror")


@settings(max_examples=300, deadline=None)
@given(content=JSON_VALUES)
def test_any_content_is_written_back_as_the_host_wrote_it(mirror: Agent, content: Any) -> None:
    seen = mirror.handle({"performative": "inform", "content": content}).reply()["content"]

    assert seen["content_text"] == orjson.dumps(content).decode()
    assert seen["message"]["content"] == content


def test_a_message_with_one_receiver_and_no_content(
    caxton: Harness, probes: dict[str, Path]
) -> None:
    mirror = caxton.load(probes["mirror"], name="mirror")

    seen = mirror.handle({"performative": "query-if"}).reply()["content"]

    assert seen["receivers"] == ["mirror"]
    assert seen["content_text"] is None
    assert seen["fields"]["protocol"] is None
    assert seen["x_tag"] is None


COMPOSER = r"""
#include "caxton.h"

/* Composes a message with every setter, sends it, then answers; logs each status. */
static int on_message(const caxton_message *msg) {
    caxton_message *m = caxton_message_new("inform");
    caxton_message_add_receiver(m, "a");
    caxton_message_add_receiver(m, "b");
    caxton_message_add_receiver(m, "c");
    caxton_info("malformed content: %s",
                caxton_status_text(caxton_message_set_content_text(m, "{oops")));
    caxton_message_set_content_text(m, "{\"n\": [1, 2]}");
    caxton_message_set_conversation_id(m, "conv");
    caxton_message_set_reply_with(m, "rw");
    caxton_message_set_in_reply_to(m, "irt");
    caxton_message_set_protocol(m, "fipa-query");
    caxton_message_set_ontology(m, "onto");
    caxton_message_set_language(m, "json");
    caxton_message_set_reply_by_ms(m, 1764500100123);
    caxton_message_set(m, "x-priority", caxton_json_new_int(2));
    caxton_message_set_string(m, "x-note", "dropped");
    caxton_message_remove(m, "x-note");
    caxton_message_set_performative(m, "query-ref");
    caxton_info("sent: %s", caxton_status_text(caxton_send(m)));

    caxton_message_remove(m, "receiver");
    caxton_info("without a receiver: %s", caxton_status_text(caxton_send(m)));
    caxton_message_free(m);

    caxton_message *reply = caxton_reply_new(msg, "confirm");
    caxton_message_set_ontology(reply, "onto");
    caxton_info("reply: %s", caxton_status_text(caxton_send(reply)));
    caxton_message_free(reply);
    caxton_info("no sender: %s", caxton_status_text(caxton_reply(NULL, "inform", NULL)));
    return 0;
}

CAXTON_AGENT(NULL, on_message)
"""


def test_a_message_composed_with_every_setter(caxton: Harness, probes: dict[str, Path]) -> None:
    composer = caxton.load(probes["composer"], name="composer")

    turn = composer.request("go", protocol="fipa-request")

    composed, reply = turn.sent
    del composed["message_id"]
    assert composed == {
        "performative": "query-ref",
        "sender": "composer",
        "receiver": ["a", "b", "c"],
        "content": {"n": [1, 2]},
        "conversation_id": "conv",
        "reply_with": "rw",
        "in_reply_to": "irt",
        "protocol": "fipa-query",
        "ontology": "onto",
        "language": "json",
        "reply_by": "2025-11-30T10:55:00.123Z",
        "x-priority": 2,
    }
    assert reply == {
        **reply,
        "performative": "confirm",
        "receiver": "tester",
        "in_reply_to": turn.message["reply_with"],
        "conversation_id": turn.message["conversation_id"],
        "protocol": "fipa-request",
        "ontology": "onto",
    }
    logs = [text for level, text in turn.logs if level == "info"]
    assert logs == [
        "malformed content: malformed",
        "sent: ok",
        "without a receiver: malformed",
        "reply: ok",
        "no sender: invalid",
    ]


JSON_PROBE = r"""
#include <math.h>
#include <stdlib.h>
#include "caxton.h"

static caxton_json *serialized(const caxton_json *value) {
    char *text = caxton_json_serialize(value, NULL);
    caxton_json *string = text != NULL ? caxton_json_new_string(text) : caxton_json_new_null();
    free(text);
    return string;
}

/* The built value of the "build" request: every setter and builder once. */
static caxton_json *build(void) {
    caxton_json *object = caxton_json_new_object();
    caxton_json_set_int(object, "a", 1);
    caxton_json_set_string(object, "b", "two");
    caxton_json_set_bool(object, "c", 0);
    caxton_json_set(object, "d", caxton_json_new_double(0.1));
    caxton_json *list = caxton_json_new_array();
    caxton_json_append(list, caxton_json_new_null());
    caxton_json_append(list, caxton_json_new_stringn("x\0y", 3));
    caxton_json_append(list, caxton_json_new_int(-9));
    caxton_json_set(object, "list", list);
    caxton_json_set_string(object, "a", "replaced in place");
    caxton_json_set_int(object, "gone", 0);
    caxton_json_remove(object, "gone");
    return object;
}

static caxton_verdict work(const caxton_message *request, caxton_json **content, void *user) {
    (void)user;
    const caxton_json *ask = caxton_message_content(request);
    caxton_json *answer = caxton_json_new_object();
    *content = answer;
    const char *text = caxton_json_get_string(ask, "parse");
    const char *key = caxton_json_get_string(ask, "kv");
    const caxton_json *pair = caxton_json_get(ask, "equal");
    double number;
    if (text != NULL) {
        size_t len = caxton_json_string_length(caxton_json_get(ask, "parse"));
        caxton_json *value = caxton_json_parse(text, len);
        int64_t integer;
        caxton_json_set(answer, "json", value != NULL ? serialized(value) : caxton_json_new_null());
        caxton_json_set(answer, "int", caxton_json_int(value, &integer)
                                           ? caxton_json_new_int(integer) : caxton_json_new_null());
        caxton_json_free(value);
    } else if (key != NULL) {
        char *bytes;
        size_t len;
        if (caxton_kv_get(key, &bytes, &len) != 1) return CAXTON_FAILURE;
        caxton_json *value = caxton_json_parse(bytes, len);
        caxton_json *string = caxton_json_new_stringn(bytes, len);
        caxton_json_set(answer, "json", value != NULL ? serialized(value) : caxton_json_new_null());
        caxton_json_set(answer, "as_string", serialized(string));
        caxton_json_free(value);
        caxton_json_free(string);
        free(bytes);
    } else if (caxton_json_double(caxton_json_get(ask, "double"), &number)) {
        caxton_json *value = caxton_json_new_double(number);
        caxton_json_set(answer, "text", value != NULL ? serialized(value) : caxton_json_new_null());
        caxton_json_free(value);
    } else if (pair != NULL) {
        caxton_json_set_bool(answer, "equal", caxton_json_equal(caxton_json_at(pair, 0),
                                                                caxton_json_at(pair, 1)));
    } else if (caxton_json_get(ask, "build") != NULL) {
        caxton_json *built = build();
        caxton_json_set(answer, "json", serialized(built));
        caxton_json_set_int(answer, "size", (int64_t)caxton_json_size(built));
        caxton_json_set_string(answer, "last_key", caxton_json_key(caxton_json_at(built, 4)));
        caxton_json_free(built);
        caxton_json_set_bool(answer, "nan", caxton_json_new_double(NAN) == NULL);
    } else {
        caxton_json_free(answer);
        *content = caxton_reason("what?");
        return CAXTON_NOT_UNDERSTOOD;
    }
    return CAXTON_INFORM;
}

static int on_message(const caxton_message *msg) {
    return caxton_request_serve(msg, work, NULL) < 0;
}

CAXTON_AGENT(NULL, on_message)
"""


@pytest.fixture
def json_probe(caxton: Harness, probes: dict[str, Path]) -> Agent:
    return caxton.load(probes["json_probe"], name="json-probe")


def ask(agent: Agent, content: Any) -> Any:
    turn = agent.request(content)
    reply = turn.reply()
    assert turn.ok, turn.error
    assert reply["performative"] == "inform", reply
    return reply["content"]


@pytest.mark.parametrize(
    ("text", "compact"),
    [
        (' { "a" : [ 1 , 2 ] ,\n\t"b":{} }\r\n', '{"a":[1,2],"b":{}}'),
        ('"\\u00e9\\u6f22\\ud83d\\ude00\\/"', '"é漢😀/"'),
        ('"\\b\\f\\n\\r\\t\\u0001\\u001f"', '"\\b\\f\\n\\r\\t\\u0001\\u001f"'),
        ("-0", "-0"),
        ("0.000", "0.000"),
        ("2.50e+10", "2.50e+10"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ('{"a":1,"a":2}', '{"a":1,"a":2}'),
        ("[" * 256 + "]" * 256, "[" * 256 + "]" * 256),
    ],
)
def test_parse_accepts_json_and_serializes_it_compact(
    json_probe: Agent, text: str, compact: str
) -> None:
    assert ask(json_probe, {"parse": text})["json"] == compact


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "{",
        '{"a":1,}',
        "[1,]",
        "[1 2]",
        '{"a" 1}',
        "{a:1}",
        "01",
        "1.",
        ".5",
        "1e",
        "+1",
        "- 1",
        "NaN",
        "Infinity",
        "tru",
        "nul",
        "'x'",
        '"unterminated',
        '"tab\tinside"',
        '"\\x"',
        '"\\u12"',
        '"\\ud800"',
        '"\\udc00"',
        '"\\ud800\\u0041"',
        "[] []",
        "[" * 257 + "]" * 257,
    ],
)
def test_parse_refuses_what_is_not_json(json_probe: Agent, text: str) -> None:
    assert ask(json_probe, {"parse": text})["json"] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-17", -17),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("1.0", None),
        ("1e2", None),
        ('"1"', None),
    ],
)
def test_integers_are_read_exactly_or_not_at_all(
    json_probe: Agent, text: str, value: int | None
) -> None:
    assert ask(json_probe, {"parse": text})["int"] == value


@pytest.mark.parametrize(
    ("raw", "as_string"),
    [
        (b"caf\xc3\xa9", '"café"'),
        (b"\xff", '"\ufffd"'),
        (b"a\xc3", '"a\ufffd"'),
        (b"\xc0\xaf", '"\ufffd\ufffd"'),  # an overlong '/'
        (b"\xed\xa0\x80", '"\ufffd\ufffd\ufffd"'),  # a surrogate in UTF-8
        (b"\xf4\x90\x80\x80", '"\ufffd\ufffd\ufffd\ufffd"'),  # past U+10FFFF
    ],
)
def test_bytes_that_are_not_utf8_are_refused_by_parse_and_replaced_on_output(
    json_probe: Agent, raw: bytes, as_string: str
) -> None:
    json_probe.kv["raw"] = b'"' + raw + b'"'
    answer = ask(json_probe, {"kv": "raw"})
    valid = raw == b"caf\xc3\xa9"
    assert answer["json"] == ('"café"' if valid else None)
    json_probe.kv["raw"] = raw
    assert ask(json_probe, {"kv": "raw"})["as_string"] == as_string


@pytest.mark.parametrize(
    ("number", "text"),
    [(0.1, "0.1"), (1 / 3, "0.3333333333333333"), (1e300, "1e+300"), (-2.5, "-2.5"), (3.0, "3")],
)
def test_doubles_are_written_in_their_shortest_exact_form(
    json_probe: Agent, number: float, text: str
) -> None:
    answer = ask(json_probe, {"double": number})["text"]
    assert answer == text
    assert float(answer) == number


def test_values_are_built_in_order_and_replaced_in_place(json_probe: Agent) -> None:
    answer = ask(json_probe, {"build": True})

    assert answer == {
        "json": '{"a":"replaced in place","b":"two","c":false,"d":0.1,'
        '"list":[null,"x\\u0000y",-9]}',
        "size": 5,
        "last_key": "list",
        "nan": True,
    }


@pytest.mark.parametrize(
    ("pair", "equal"),
    [
        ([{"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}], True),
        ([[1, 2], [2, 1]], False),
        ([1, 1.0], True),
        (["x", "x"], True),
        ([None, False], False),
        ([{"a": 1}, {"a": 1, "b": 2}], False),
    ],
)
def test_equality_is_of_json_values(json_probe: Agent, pair: list[Any], equal: bool) -> None:
    assert ask(json_probe, {"equal": pair})["equal"] is equal


# ---- key-value state, through the request helper ----

KEEPER = r"""
#include <stdlib.h>
#include <string.h>
#include "caxton.h"

/* {"op": "set"|"get"|"delete"|"incr"|"set_json"|"get_json", "key": ..., "value": ...} */
static caxton_verdict work(const caxton_message *request, caxton_json **content, void *user) {
    (void)user;
    const caxton_json *ask = caxton_message_content(request);
    const char *op = caxton_json_get_string(ask, "op");
    const char *key = caxton_json_get_string(ask, "key");
    if (op == NULL || key == NULL) {
        *content = caxton_reason("needs op and key");
        return CAXTON_REFUSE;
    }
    caxton_json *answer = caxton_json_new_object();
    *content = answer;
    if (strcmp(op, "set") == 0) {
        caxton_json_set_int(answer, "status",
                            caxton_kv_set_string(key, caxton_json_get_string(ask, "value")));
    } else if (strcmp(op, "get") == 0) {
        char *value;
        size_t len;
        int found = caxton_kv_get(key, &value, &len);
        caxton_json_set_int(answer, "found", found);
        if (found == 1) {
            caxton_json_set(answer, "value", caxton_json_new_stringn(value, len));
            caxton_json_set_int(answer, "length", (int64_t)len);
            caxton_json_set_bool(answer, "terminated", value[len] == '\0');
            free(value);
        }
    } else if (strcmp(op, "delete") == 0) {
        caxton_json_set_int(answer, "status", caxton_kv_delete(key));
    } else if (strcmp(op, "incr") == 0) {
        int64_t n = 0;
        caxton_json_set_bool(answer, "was_int", caxton_kv_get_int(key, &n));
        caxton_json_set_int(answer, "status", caxton_kv_set_int(key, n + 1));
        caxton_json_set_int(answer, "n", n + 1);
    } else if (strcmp(op, "set_json") == 0) {
        const caxton_json *value = caxton_json_get(ask, "value");
        caxton_json_set_int(answer, "status", caxton_kv_set_json(key, value));
    } else if (strcmp(op, "get_json") == 0) {
        caxton_json *value = caxton_kv_get_json(key);
        caxton_json_set(answer, "value", value != NULL ? value : caxton_json_new_string("absent"));
    } else {
        caxton_json_free(answer);
        *content = caxton_reason("unknown op");
        return CAXTON_NOT_UNDERSTOOD;
    }
    return CAXTON_INFORM;
}

static int on_message(const caxton_message *msg) {
    int served = caxton_request_serve(msg, work, NULL);
    if (served == 0) caxton_info("not a request: %s", caxton_message_performative(msg));
    return served < 0;
}

CAXTON_AGENT(NULL, on_message)
"""


@pytest.fixture
def keeper(caxton: Harness, probes: dict[str, Path]) -> Agent:
    return caxton.load(probes["keeper"], name="keeper")


def test_kv_set_get_and_delete(keeper: Agent) -> None:
    assert ask(keeper, {"op": "get", "key": "k"}) == {"found": 0}
    assert ask(keeper, {"op": "set", "key": "k", "value": "välue"}) == {"status": 0}
    assert keeper.kv["k"] == "välue".encode()
    assert ask(keeper, {"op": "get", "key": "k"}) == {
        "found": 1,
        "value": "välue",
        "length": 6,
        "terminated": True,
    }
    assert ask(keeper, {"op": "delete", "key": "k"}) == {"status": 0}
    assert "k" not in keeper.kv
    assert ask(keeper, {"op": "delete", "key": "k"}) == {"status": 0}


def test_kv_reads_a_value_larger_than_its_first_buffer(keeper: Agent) -> None:
    big = "".join(chr(0x41 + i % 26) for i in range(100_000))
    keeper.kv["big"] = big.encode()

    answer = ask(keeper, {"op": "get", "key": "big"})

    assert (answer["value"], answer["length"]) == (big, 100_000)


def test_kv_counts_in_decimal_digits(keeper: Agent) -> None:
    assert ask(keeper, {"op": "incr", "key": "n"}) == {"was_int": False, "status": 0, "n": 1}
    assert ask(keeper, {"op": "incr", "key": "n"})["n"] == 2
    assert keeper.kv["n"] == b"2"
    keeper.kv["n"] = b"2x"
    assert ask(keeper, {"op": "incr", "key": "n"}) == {"was_int": False, "status": 0, "n": 1}


def test_kv_keeps_json_compact(keeper: Agent) -> None:
    value = {"b": [1, {"c": None}], "a": "x"}
    assert ask(keeper, {"op": "set_json", "key": "j", "value": value}) == {"status": 0}
    assert keeper.kv["j"] == b'{"b":[1,{"c":null}],"a":"x"}'
    assert ask(keeper, {"op": "get_json", "key": "j"}) == {"value": value}
    keeper.kv["j"] = b"{not json"
    assert ask(keeper, {"op": "get_json", "key": "j"}) == {"value": "absent"}


def test_the_request_helper_answers_refuse_and_not_understood(keeper: Agent) -> None:
    refusal = keeper.request({"op": "get"}, protocol="fipa-request").reply()
    assert (refusal["performative"], refusal["content"]) == (
        "refuse",
        {"reason": "needs op and key"},
    )
    assert refusal["protocol"] == "fipa-request"

    puzzled = keeper.request({"op": "fly", "key": "k"}).reply()
    assert (puzzled["performative"], puzzled["content"]) == (
        "not-understood",
        {"reason": "unknown op"},
    )

    turn = keeper.handle({"performative": "inform", "content": 1})
    assert (turn.sent, turn.logs) == ([], [("info", "not a request: inform")])


# ---- tools and capabilities ----

CLOCK = r"""
#include <stdlib.h>
#include "caxton.h"

static caxton_message *waiting; /* the request being answered, until the tool answers */

static int on_init(const caxton_json *config) {
    const char *version = caxton_json_get_string(config, "version");
    return caxton_register_capability(
               "time", version != NULL ? version : "1.0.0", "Tells the time in a time zone",
               "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}") != CAXTON_OK;
}

static caxton_verdict work(const caxton_message *request, caxton_json **content, void *user) {
    (void)user;
    if (waiting != NULL) {
        *content = caxton_reason("busy");
        return CAXTON_REFUSE;
    }
    const char *tz = caxton_json_get_string(caxton_message_content(request), "tz");
    caxton_json *arguments = caxton_json_new_object();
    caxton_json_set_string(arguments, "timezone", tz != NULL ? tz : "UTC");
    int status = caxton_tool_call("time/now", arguments, "clock-1");
    caxton_json_free(arguments);
    if (status != CAXTON_OK) {
        *content = caxton_reason(caxton_status_text(status));
        return CAXTON_FAILURE;
    }
    waiting = caxton_message_copy(request);
    return CAXTON_AGREE;
}

static int on_message(const caxton_message *msg) {
    caxton_tool_result result;
    if (caxton_tool_result_of(msg, "clock-1", &result)) {
        caxton_json *answer = caxton_json_new_object();
        caxton_json_set_string(answer, "tool", result.tool);
        if (result.ok) {
            char *text = caxton_tool_text(&result);
            caxton_json_set_string(answer, "time", text);
            caxton_json_set(answer, "structured", result.structured != NULL
                                                      ? caxton_json_copy(result.structured)
                                                      : caxton_json_new_null());
            free(text);
        } else {
            caxton_json_set_string(answer, "error", result.error);
            caxton_json_set_string(answer, "reason", result.reason);
        }
        int status = caxton_reply(waiting, result.ok ? "inform" : "failure", answer);
        caxton_message_free(waiting);
        waiting = NULL;
        return status != CAXTON_OK;
    }
    if (caxton_request_serve(msg, work, NULL) < 0) return 1;
    return 0;
}

CAXTON_AGENT(on_init, on_message)
"""

CAPABILITY = {
    "name": "time",
    "version": "1.0.0",
    "description": "Tells the time in a time zone",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}


@pytest.fixture
def clock(caxton: Harness, probes: dict[str, Path]) -> Agent:
    return caxton.load(probes["clock"], name="clock")


def test_the_init_function_registers_a_capability(
    caxton: Harness, clock: Agent, probes: dict[str, Path]
) -> None:
    assert clock.capabilities == [CAPABILITY]
    other = caxton.load(probes["clock"], name="clock-2", config={"version": "2.0.0"})
    assert other.capabilities == [{**CAPABILITY, "version": "2.0.0"}]


def test_a_tool_call_and_its_answer(caxton: Harness, clock: Agent) -> None:
    caxton.tools.stub(
        "time/now",
        lambda arguments: {
            "content": [
                {"type": "text", "text": f"12:00 {arguments['timezone']}"},
                {"type": "image", "data": "", "mimeType": "image/png"},
                {"type": "text", "text": "(noon)"},
            ],
            "structured": {"hour": 12},
        },
    )

    turn = clock.request({"tz": "Europe/Paris"}, protocol="fipa-request")

    assert turn.ok, turn.error
    assert turn.tool_calls == [
        {"tool": "time/now", "arguments": {"timezone": "Europe/Paris"}, "reply_with": "clock-1"}
    ]
    agree, inform = turn.sent
    assert (agree["performative"], "content" in agree) == ("agree", False)
    assert inform["performative"] == "inform"
    assert inform["content"] == {
        "tool": "time/now",
        "time": "12:00 Europe/Paris\n(noon)",
        "structured": {"hour": 12},
    }
    # The answer goes to the requester, not to the platform that brought the result.
    assert inform["receiver"] == "tester"
    assert inform["in_reply_to"] == turn.message["reply_with"]
    assert inform["protocol"] == "fipa-request"


def test_a_failed_tool_call_is_answered_failure(caxton: Harness, clock: Agent) -> None:
    def broken(arguments: dict[str, Any]) -> dict[str, Any]:
        raise ToolFailure("the clock stopped", error="tool-error")

    caxton.tools.stub("time/now", broken)

    turn = clock.request({})

    assert [m["performative"] for m in turn.sent] == ["agree", "failure"]
    assert turn.sent[1]["content"] == {
        "tool": "time/now",
        "error": "tool-error",
        "reason": "the clock stopped",
    }


def test_a_tool_not_granted_is_refused_at_once(clock: Agent) -> None:
    reply = clock.request({}).reply()

    assert (reply["performative"], reply["content"]) == ("failure", {"reason": "not permitted"})


def test_other_messages_from_the_platform_are_not_tool_answers(clock: Agent) -> None:
    turn = clock.handle(
        {"performative": "inform", "sender": "caxton", "in_reply_to": "clock-1", "content": {}}
    )

    assert (turn.ok, turn.sent) == (True, [])


# ---- the request helper, initiator side ----

ASKER = r"""
#include "caxton.h"

/* From tester: {"to": name, "content": ...} is asked of `to`; answers are logged. */
static int on_message(const caxton_message *msg) {
    const caxton_json *content = caxton_message_content(msg);
    const char *to = caxton_json_get_string(content, "to");
    if (caxton_message_is(msg, "request") && to != NULL)
        return caxton_request_send(to, caxton_json_copy(caxton_json_get(content, "content")),
                                   "ask-1") != CAXTON_OK;
    caxton_verdict verdict = caxton_request_outcome(msg, "ask-1");
    if (verdict != CAXTON_SILENT) caxton_info("answer: %s", caxton_verdict_performative(verdict));
    else caxton_info("not an answer: %s", caxton_message_performative(msg));
    return 0;
}

CAXTON_AGENT(NULL, on_message)
"""


def test_a_request_is_sent_and_its_answer_classified(
    caxton: Harness, probes: dict[str, Path], examples: Path
) -> None:
    asker = caxton.load(probes["asker"], name="asker")
    caxton.load(examples / "pong.wasm", name="pong")
    caxton.load(probes["keeper"], name="keeper")

    conversation = caxton.run(
        {
            "performative": "request",
            "receiver": "asker",
            "content": {"to": "pong", "content": {"ping": 7}},
        }
    )

    request, inform = conversation.messages[1:]
    assert request == {
        **request,
        "performative": "request",
        "sender": "asker",
        "receiver": "pong",
        "protocol": "fipa-request",
        "reply_with": "ask-1",
        "content": {"ping": 7},
    }
    assert (inform["performative"], inform["in_reply_to"]) == ("inform", "ask-1")
    assert asker.logs == [("info", "answer: inform")]

    caxton.run(
        {"performative": "request", "receiver": "asker", "content": {"to": "keeper", "content": {}}}
    )
    assert asker.logs[-1] == ("info", "answer: refuse")
    asker.handle({"performative": "inform", "in_reply_to": "ask-2"})
    assert asker.logs[-1] == ("info", "not an answer: inform")


PROBES = {
    "mirror": MIRROR,
    "composer": COMPOSER,
    "json_probe": JSON_PROBE,
    "keeper": KEEPER,
    "clock": CLOCK,
    "asker": ASKER,
}


# ---- the project template ----


def test_a_new_c_project_builds_and_passes_its_own_test(tmp_path: Path) -> None:
    project = tmp_path / "price-quoter"
    result = CliRunner().invoke(
        main, ["agent", "new", "price-quoter", "--lang", "c", "--dir", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert (project / "src" / "price_quoter.c").is_file()
    assert (project / "caxton-sdk" / "caxton.h").is_file()

    make(project)
    assert (project / "build" / "price-quoter.wasm").is_file()
    tested = make(project, "test", f"PYTHON={sys.executable}")
    assert "3 passed" in tested.stdout
