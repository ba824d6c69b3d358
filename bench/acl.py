"""Benchmark of the ACL layer: validation and the JSON and FIPA codecs, per message.

Prints one JSON object on stdout (medians and percentiles over repeated runs).
Each figure is one full trip of a message through a codec: decode the bytes,
`validate_message`, encode again. The baseline, measured in the same process,
is bare `orjson.loads` + `orjson.dumps` of the same JSON bytes, so
`acl_overhead_us` (the JSON trip minus the baseline) is what Caxton's layer
adds to the parsing any server does anyway, and the ratios compare across
machines.

    python bench/acl.py            # full run, about 15 seconds
    python bench/acl.py --quick    # smoke run, a few seconds
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

import timing
from caxton.acl import (
    decode_fipa,
    decode_json,
    encode_fipa,
    encode_json,
    validate_message,
    validate_outbound,
)
from timing import machine, mean_ns, no_gc, p50, summary

TARGETS = {"acl_overhead_us_max": 5.0}

# A typical small message (~70 bytes), as an agent sends it, and one with 1 KiB of content.
SMALL = b'{"performative":"inform","sender":"a","receiver":"b","content":1}'
CONTENT_1K = orjson.dumps(
    {
        "performative": "request",
        "sender": "buyer",
        "receiver": "seller",
        "protocol": "fipa-request",
        "conversation_id": "c-1",
        "reply_with": "r-1",
        "content": "x" * 1024,
    }
)
MESSAGES = {"small": SMALL, "content_1k": CONTENT_1K}


@dataclass(frozen=True)
class Plan:
    """How many batches of how many messages."""

    batches: int
    per_batch: int


FULL = Plan(batches=15, per_batch=20_000)
QUICK = Plan(batches=5, per_batch=1_000)


# ---- the trips ----


def json_trip(data: bytes) -> bytes:
    message = decode_json(data)
    validate_message(message)
    return encode_json(message)


def fipa_trip(data: bytes) -> bytes:
    message = decode_fipa(data)
    validate_message(message)
    return encode_fipa(message).encode()


def baseline_trip(data: bytes) -> bytes:
    return orjson.dumps(orjson.loads(data))


def outbound_only(message: dict[str, Any]) -> Callable[[], object]:
    return lambda: validate_outbound(message)


# ---- timing ----


def measure(actions: dict[str, Callable[[], object]], plan: Plan) -> dict[str, list[float]]:
    """Per-call means of each action, one per batch; actions take turns within a batch,
    so drift affects them alike."""
    for action in actions.values():
        for _ in range(max(200, plan.per_batch // 10)):
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(plan.batches):
        with no_gc():
            for name, action in actions.items():
                samples[name].append(mean_ns(action, plan.per_batch) / 1e3)
    return samples


def check_trips() -> None:
    """The trips give the messages back, or the figures would measure a failure."""
    for data in MESSAGES.values():
        message = orjson.loads(data)
        if orjson.loads(json_trip(data)) != message:
            raise RuntimeError("the JSON trip changed the message")
        fipa = encode_fipa(message).encode()
        if decode_fipa(fipa_trip(fipa)) != message:
            raise RuntimeError("the FIPA trip changed the message")


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    check_trips()
    actions: dict[str, Callable[[], object]] = {}
    sizes: dict[str, dict[str, int]] = {}
    for kind, data in MESSAGES.items():
        fipa = encode_fipa(orjson.loads(data)).encode()
        sizes[kind] = {"json_bytes": len(data), "fipa_bytes": len(fipa)}
        actions[f"json/{kind}"] = functools.partial(json_trip, data)
        actions[f"fipa/{kind}"] = functools.partial(fipa_trip, fipa)
        actions[f"baseline/{kind}"] = functools.partial(baseline_trip, data)
        actions[f"outbound/{kind}"] = outbound_only(orjson.loads(data))
    samples = measure(actions, plan)

    def figures(family: str) -> dict[str, Any]:
        return {kind: summary(samples[f"{family}/{kind}"]) for kind in MESSAGES}

    def median(family: str, kind: str) -> float:
        return p50(samples[f"{family}/{kind}"])

    overhead = {
        kind: round(median("json", kind) - median("baseline", kind), 3) for kind in MESSAGES
    }
    results: dict[str, Any] = {
        "messages": sizes,
        "json_trip_us": figures("json"),
        "fipa_trip_us": figures("fipa"),
        "baseline_orjson_us": figures("baseline"),
        "validate_outbound_us": figures("outbound"),
        "acl_overhead_us": overhead,
        "json_vs_baseline": {
            kind: round(median("json", kind) / median("baseline", kind), 3) for kind in MESSAGES
        },
        "fipa_vs_baseline": {
            kind: round(median("fipa", kind) / median("baseline", kind), 3) for kind in MESSAGES
        },
        "fipa_vs_json": {
            kind: round(median("fipa", kind) / median("json", kind), 3) for kind in MESSAGES
        },
        "targets": TARGETS,
        "meets_targets": {
            "acl_overhead_us_max": max(overhead.values()) <= TARGETS["acl_overhead_us_max"]
        },
        "messages_per_batch": plan.per_batch,
        "machine": machine("orjson"),
        "quick": quick,
    }
    results["elapsed_s"] = round(time.perf_counter() - began, 2)
    return results


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
