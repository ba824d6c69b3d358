"""Tests for caxton.runtime.memory: limits derived from machine memory and CAXTON_* settings."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.errors import ConfigError
from caxton.runtime.memory import MemoryConfiguration

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
TIB = 1024 * GIB
PAGE = 64 * KIB

MAX_VAR = "CAXTON_MAX_MEMORY_PERCENT"
AGENT_VAR = "CAXTON_AGENT_MEMORY_PERCENT"
OVERHEAD_VAR = "CAXTON_MESSAGE_OVERHEAD_PERCENT"
ALL_VARS = (MAX_VAR, AGENT_VAR, OVERHEAD_VAR)

MACHINES = [512 * MIB, 1 * GIB, 2 * GIB, 8 * GIB, 24 * GIB, 64 * GIB, 256 * GIB, 1 * TIB]


def assert_invariants(config: MemoryConfiguration) -> None:
    overhead = config.message_overhead_percent
    ceiling = config.agent_memory_bytes * (1 - overhead / 100)
    assert config.max_message_bytes < ceiling
    # ...and it is the largest such integer.
    assert config.max_message_bytes + 1 >= ceiling
    assert config.agent_memory_bytes % PAGE == 0
    assert 2 * MIB <= config.agent_memory_bytes <= 4 * GIB
    assert config.max_message_bytes >= 4 * KIB
    assert config.agent_memory_bytes <= config.caxton_memory_bytes <= config.system_memory_bytes


def test_class_constants() -> None:
    assert MemoryConfiguration.WASM_PAGE_BYTES == PAGE
    assert MemoryConfiguration.WASM32_MAX_MEMORY_BYTES == 4 * GIB
    assert MemoryConfiguration.MIN_AGENT_MEMORY_BYTES == 2 * MIB
    assert MemoryConfiguration.MIN_MESSAGE_BYTES == 4 * KIB


@pytest.mark.parametrize("system", MACHINES, ids=lambda n: f"{n // MIB}MiB")
def test_defaults_across_machines(system: int) -> None:
    config = MemoryConfiguration.compute(system)

    assert_invariants(config)
    assert config.system_memory_bytes == system
    assert config.caxton_memory_bytes == system // 2
    uncapped = system // 2 // 10
    assert config.agent_memory_bytes == min(uncapped, 4 * GIB) // PAGE * PAGE
    assert (config.max_memory_percent, config.agent_memory_percent) == (50.0, 10.0)
    assert config.message_overhead_percent == 20.0


@pytest.mark.parametrize("system", [256 * GIB, 1 * TIB], ids=["256GiB", "1TiB"])
def test_agent_memory_capped_at_wasm32_address_space(system: int) -> None:
    assert MemoryConfiguration.compute(system).agent_memory_bytes == 4 * GIB


def test_exact_values_for_512_mib() -> None:
    config = MemoryConfiguration.compute(512 * MIB)
    # Caxton gets half: 256 MiB. An agent gets 10% of that, 26_843_545.6 bytes, which is
    # 409.6 pages of 64 KiB, rounded down to 409 pages.
    assert config.caxton_memory_bytes == 268_435_456
    assert config.agent_memory_bytes == 409 * 65_536 == 26_804_224
    # 80% of 26_804_224 is 21_443_379.2; the largest integer strictly below it.
    assert config.max_message_bytes == 21_443_379


def test_exact_values_for_1_tib() -> None:
    config = MemoryConfiguration.compute(TIB)
    # Caxton gets 512 GiB; 10% of that (51.2 GiB) is capped at 4 GiB, already whole pages.
    assert config.caxton_memory_bytes == 549_755_813_888
    assert config.agent_memory_bytes == 4_294_967_296
    # 80% of 4 GiB is 3_435_973_836.8; the largest integer strictly below it.
    assert config.max_message_bytes == 3_435_973_836


def test_integral_ceiling_gives_strictly_smaller_message_size() -> None:
    # 4 GiB with no overhead: the ceiling is exactly 4 GiB, so the message must be 1 less.
    config = MemoryConfiguration.compute(TIB, message_overhead_percent=0)
    assert config.max_message_bytes == 4 * GIB - 1


percent = st.one_of(
    st.integers(min_value=1, max_value=100).map(float),
    st.floats(min_value=0, max_value=100, exclude_min=True),
)
overhead_percent = st.one_of(
    st.integers(min_value=0, max_value=99).map(float),
    st.floats(min_value=0, max_value=100, exclude_max=True),
)


def compute_or_error(
    system: int, max_percent: float, agent_percent: float, overhead: float
) -> MemoryConfiguration | ConfigError:
    try:
        return MemoryConfiguration.compute(system, max_percent, agent_percent, overhead)
    except ConfigError as error:
        return error


# database=None: no example database under .hypothesis/, so runs do not depend on past ones.
@settings(database=None, max_examples=500)
@given(
    system=st.integers(min_value=512 * MIB, max_value=TIB),
    max_percent=percent,
    agent_percent=percent,
    overhead=overhead_percent,
)
def test_property_invariant_or_config_error(
    system: int, max_percent: float, agent_percent: float, overhead: float
) -> None:
    outcome = compute_or_error(system, max_percent, agent_percent, overhead)
    if isinstance(outcome, ConfigError):
        assert outcome.setting in ALL_VARS
        assert "give the machine more memory" in str(outcome)
        return
    config = outcome
    assert config.max_message_bytes < config.agent_memory_bytes * (1 - overhead / 100)
    assert_invariants(config)


@settings(database=None)
@given(
    system=st.integers(min_value=512 * MIB, max_value=TIB),
    max_percent=percent,
    agent_percent=percent,
    overhead=overhead_percent,
)
def test_property_environment_matches_compute(
    system: int, max_percent: float, agent_percent: float, overhead: float
) -> None:
    env = {MAX_VAR: repr(max_percent), AGENT_VAR: repr(agent_percent), OVERHEAD_VAR: repr(overhead)}
    expected = compute_or_error(system, max_percent, agent_percent, overhead)
    if isinstance(expected, ConfigError):
        with pytest.raises(ConfigError) as from_env:
            MemoryConfiguration.from_environment(env, system)
        assert from_env.value.setting == expected.setting
        return
    assert MemoryConfiguration.from_environment(env, system) == expected


BAD_PERCENTS = ["abc", "", " ", "0", "0.0", "-5", "-0.1", "100.5", "101", "nan", "inf", "1e3"]
BAD_OVERHEADS = ["abc", "", "-1", "-0.001", "100", "100.0", "150", "nan", "inf"]
BAD_VALUES = [
    *((var, text) for var in (MAX_VAR, AGENT_VAR) for text in BAD_PERCENTS),
    *((OVERHEAD_VAR, text) for text in BAD_OVERHEADS),
]


@pytest.mark.parametrize(("var", "text"), BAD_VALUES)
def test_bad_environment_value_names_variable(var: str, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.from_environment({var: text}, system_memory_bytes=8 * GIB)
    assert caught.value.setting == var
    assert repr(text) in str(caught.value)
    assert str(caught.value).startswith(f"{var}: must be a number")


def test_bad_value_message_format() -> None:
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.from_environment({AGENT_VAR: "abc"}, system_memory_bytes=8 * GIB)
    assert str(caught.value) == (
        "CAXTON_AGENT_MEMORY_PERCENT: must be a number greater than 0 and at most 100, got 'abc'"
    )


@pytest.mark.parametrize(
    ("kwargs", "var"),
    [
        ({"max_memory_percent": 0}, MAX_VAR),
        ({"max_memory_percent": -1}, MAX_VAR),
        ({"max_memory_percent": 100.01}, MAX_VAR),
        ({"max_memory_percent": float("nan")}, MAX_VAR),
        ({"agent_memory_percent": 0}, AGENT_VAR),
        ({"agent_memory_percent": 250}, AGENT_VAR),
        ({"message_overhead_percent": 100}, OVERHEAD_VAR),
        ({"message_overhead_percent": -1}, OVERHEAD_VAR),
    ],
)
def test_compute_bad_values_name_variable(kwargs: dict[str, float], var: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.compute(8 * GIB, **kwargs)
    assert caught.value.setting == var


@pytest.mark.parametrize("text", ["100", "100.0", "1e2", " 25 "])
def test_accepted_percent_texts(text: str) -> None:
    config = MemoryConfiguration.from_environment({MAX_VAR: text}, system_memory_bytes=8 * GIB)
    assert config.max_memory_percent == float(text)


def test_zero_overhead_is_accepted() -> None:
    config = MemoryConfiguration.from_environment({OVERHEAD_VAR: "0"}, system_memory_bytes=8 * GIB)
    assert config.message_overhead_percent == 0.0
    assert config.max_message_bytes == config.agent_memory_bytes - 1


def test_agent_memory_below_minimum_names_agent_percent() -> None:
    # 0.5% of 256 MiB is 1.28 MiB, rounded down to 20 pages (1.25 MiB): below 2 MiB.
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.compute(512 * MIB, agent_memory_percent=0.5)
    error = caught.value
    assert error.setting == AGENT_VAR
    message = str(error)
    assert str(20 * PAGE) in message
    assert str(2 * MIB) in message
    assert "raise CAXTON_AGENT_MEMORY_PERCENT" in message
    assert "give the machine more memory" in message


def test_agent_memory_below_minimum_from_environment() -> None:
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.from_environment({AGENT_VAR: "0.5"}, system_memory_bytes=512 * MIB)
    assert caught.value.setting == AGENT_VAR


def test_agent_memory_below_minimum_with_full_agent_share_names_max_percent() -> None:
    # The agent already gets all of Caxton's memory: only Caxton's share can grow.
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.compute(512 * MIB, max_memory_percent=0.1, agent_memory_percent=100)
    assert caught.value.setting == MAX_VAR
    assert "raise CAXTON_MAX_MEMORY_PERCENT" in str(caught.value)


def test_message_size_below_minimum_names_overhead_percent() -> None:
    # 512 MiB * 10% * 10% is 5.12 MiB, 81 pages; 0.05% of that is about 2.6 KiB.
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.compute(
            512 * MIB,
            max_memory_percent=10,
            agent_memory_percent=10,
            message_overhead_percent=99.95,
        )
    error = caught.value
    assert error.setting == OVERHEAD_VAR
    assert str(4 * KIB) in str(error)
    assert "give the machine more memory" in str(error)


def test_smallest_accepted_agent_memory() -> None:
    # 2 MiB exactly is allowed: 512 MiB * 50% * 0.78125% = 2 MiB.
    config = MemoryConfiguration.compute(512 * MIB, agent_memory_percent=0.78125)
    assert config.agent_memory_bytes == 2 * MIB


def test_non_positive_system_memory_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        MemoryConfiguration.compute(0)
    assert caught.value.setting == "system_memory_bytes"


def test_from_environment_defaults_when_env_empty() -> None:
    config = MemoryConfiguration.from_environment({}, system_memory_bytes=8 * GIB)
    assert config == MemoryConfiguration.compute(8 * GIB)
    assert config.max_memory_percent == 50.0
    assert config.agent_memory_percent == 10.0
    assert config.message_overhead_percent == 20.0


def test_from_environment_ignores_unrelated_variables() -> None:
    env = {"PATH": "/bin", "CAXTON_OTHER": "abc"}
    config = MemoryConfiguration.from_environment(env, system_memory_bytes=8 * GIB)
    assert config == MemoryConfiguration.compute(8 * GIB)


def test_from_environment_reads_settings() -> None:
    env = {MAX_VAR: "25", AGENT_VAR: "12.5", OVERHEAD_VAR: "30"}
    config = MemoryConfiguration.from_environment(env, system_memory_bytes=64 * GIB)
    assert config == MemoryConfiguration.compute(64 * GIB, 25, 12.5, 30)
    # 64 GiB * 25% = 16 GiB; 12.5% of that = 2 GiB, already whole pages.
    assert config.agent_memory_bytes == 2 * GIB
    # 70% of 2 GiB is 1_503_238_553.6.
    assert config.max_message_bytes == 1_503_238_553


def test_from_environment_reads_system_memory_from_psutil(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(total=24 * GIB))
    config = MemoryConfiguration.from_environment({})
    assert config.system_memory_bytes == 24 * GIB
    assert config == MemoryConfiguration.compute(24 * GIB)


def test_from_environment_logs_limits_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="caxton.runtime.memory")
    config = MemoryConfiguration.from_environment({}, system_memory_bytes=8 * GIB)

    records = [r for r in caplog.records if r.name == "caxton.runtime.memory"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "\n" not in message
    assert "8192.0 MiB" in message  # system
    assert "4096.0 MiB" in message  # caxton
    assert "409.6 MiB" in message  # agent: 10% of 4 GiB, rounded down to 6553 pages
    extra = record.__dict__
    assert extra["system_memory_bytes"] == 8 * GIB
    assert extra["caxton_memory_bytes"] == config.caxton_memory_bytes
    assert extra["agent_memory_bytes"] == config.agent_memory_bytes == 6553 * PAGE
    assert extra["max_message_bytes"] == config.max_message_bytes
    assert extra["max_memory_percent"] == 50.0
    assert extra["agent_memory_percent"] == 10.0
    assert extra["message_overhead_percent"] == 20.0


def test_compute_does_not_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="caxton.runtime.memory")
    MemoryConfiguration.compute(8 * GIB)
    assert [r for r in caplog.records if r.name == "caxton.runtime.memory"] == []


def test_configuration_is_frozen() -> None:
    config = MemoryConfiguration.compute(8 * GIB)
    with pytest.raises(AttributeError):
        config.agent_memory_bytes = 1  # type: ignore[misc]  # frozen: must raise


@pytest.fixture
def config() -> MemoryConfiguration:
    return MemoryConfiguration.compute(8 * GIB)  # 20% overhead


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        (2 * MIB, 4 * KIB),
        (2 * MIB, 1_677_721),  # 80% of 2 MiB is 1_677_721.6
        (4 * GIB, 3_435_973_836),  # 80% of 4 GiB is 3_435_973_836.8
        (100 * MIB + 12_345, 64 * KIB),
    ],
)
def test_check_limits_accepts(config: MemoryConfiguration, memory: int, message: int) -> None:
    config.check_limits(memory, message)


@pytest.mark.parametrize(
    ("memory", "message", "setting"),
    [
        (2 * MIB - 1, 4 * KIB, "memory_bytes"),
        (0, 4 * KIB, "memory_bytes"),
        (4 * GIB + 1, 4 * KIB, "memory_bytes"),
        (2 * MIB, 4 * KIB - 1, "max_message_bytes"),
        (2 * MIB, 0, "max_message_bytes"),
        (2 * MIB, 1_677_722, "max_message_bytes"),  # above 80% of 2 MiB
        (10 * MIB, 8 * MIB, "max_message_bytes"),  # exactly 80%: not strictly below
        (4 * GIB, 3_435_973_837, "max_message_bytes"),
    ],
)
def test_check_limits_refuses(
    config: MemoryConfiguration, memory: int, message: int, setting: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config.check_limits(memory, message)
    assert caught.value.setting == setting
    assert str(message if setting == "max_message_bytes" else memory) in str(caught.value)


def test_check_limits_uses_configured_overhead() -> None:
    config = MemoryConfiguration.compute(8 * GIB, message_overhead_percent=50)
    config.check_limits(4 * MIB, 2 * MIB - 1)
    with pytest.raises(ConfigError) as caught:
        config.check_limits(4 * MIB, 2 * MIB)
    assert caught.value.setting == "max_message_bytes"


def test_largest_message_for(config: MemoryConfiguration) -> None:
    assert config.largest_message_for(config.agent_memory_bytes) == config.max_message_bytes
    assert config.largest_message_for(2 * MIB) == 1_677_721  # 80% of 2 MiB is 1_677_721.6
    assert config.largest_message_for(10 * MIB) == 8 * MIB - 1  # 80% is exactly 8 MiB
    config.check_limits(10 * MIB, config.largest_message_for(10 * MIB))


@settings(database=None)
@given(
    memory=st.integers(min_value=2 * MIB, max_value=4 * GIB),
    overhead=overhead_percent,
)
def test_property_largest_message_for_passes_check_limits(memory: int, overhead: float) -> None:
    config = MemoryConfiguration.compute(8 * GIB, message_overhead_percent=min(overhead, 99))
    largest = config.largest_message_for(memory)
    assert largest < memory * (1 - config.message_overhead_percent / 100)
    if largest >= 4 * KIB:
        config.check_limits(memory, largest)
        with pytest.raises(ConfigError):
            config.check_limits(memory, largest + 1)
