"""Delivery into one sandbox: batches, budgets, counters, and threads."""

from __future__ import annotations

import threading

import orjson
import pytest

from caxton.errors import FuelExhausted, MessageTooLarge
from caxton.runtime import Runtime
from conftest import LOGGER, RecordingHost, start


def test_batch_arrives_as_one_array_in_order(runtime: Runtime, host: RecordingHost) -> None:
    agent = start(runtime, LOGGER, host)
    assert agent.accepts_batches
    messages = [{"performative": "inform", "content": n} for n in range(5)]
    agent.handle_batch(orjson.dumps(messages), len(messages))
    assert len(host.logs) == 1
    assert orjson.loads(host.logs[0][1]) == messages
    assert agent.messages_handled == 5


def test_fuel_used_is_reported_and_counted(runtime: Runtime, host: RecordingHost) -> None:
    agent = start(runtime, LOGGER, host)
    used = [agent.handle(b"{}") for _ in range(3)]
    assert all(fuel > 0 for fuel in used)
    assert agent.fuel_consumed == sum(used)


def test_budget_is_per_message(runtime: Runtime, host: RecordingHost) -> None:
    """A budget that one message fits in is granted afresh to the next."""
    agent = start(runtime, LOGGER, host)
    need = agent.handle(b"{}")
    limits = runtime.config.default_limits.override(runtime.config.memory, fuel_per_message=need)
    tight = start(runtime, LOGGER, host, name="tight", limits=limits)
    for _ in range(10):
        assert tight.handle(b"{}") == need
    # wasmtime checks fuel at function entries and loop heads, so go well under.
    short = runtime.config.default_limits.override(
        runtime.config.memory, fuel_per_message=need // 4
    )
    with pytest.raises(FuelExhausted):
        start(runtime, LOGGER, host, name="short", limits=short).handle(b"{}")


def test_oversized_inbound_message_is_refused_before_the_agent_runs(
    runtime: Runtime, host: RecordingHost
) -> None:
    agent = start(runtime, LOGGER, host)
    with pytest.raises(MessageTooLarge, match="max_inbound_bytes"):
        agent.handle(b" " * (agent.limits.max_inbound_bytes + 1))
    assert host.logs == []


def test_two_agents_run_on_two_threads(runtime: Runtime) -> None:
    hosts = [RecordingHost(), RecordingHost()]
    agents = [start(runtime, LOGGER, h, name=f"a{i}") for i, h in enumerate(hosts)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for n in range(2000):
                agents[index].handle(b'{"n":%d}' % n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for host in hosts:
        assert [orjson.loads(text)["n"] for _, text in host.logs] == list(range(2000))


def test_one_agent_shared_by_threads_runs_one_message_at_a_time(
    runtime: Runtime, host: RecordingHost
) -> None:
    agent = start(runtime, LOGGER, host)

    def work() -> None:
        for _ in range(1000):
            agent.handle(b'{"performative":"inform"}')

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert agent.messages_handled == 2000
    assert all(text == '{"performative":"inform"}' for _, text in host.logs)
