"""The lifecycle state machine: every (state, action) pair, the docs' table, and mypy."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mypy.api
import pytest

from caxton.agents import (
    STATES,
    Action,
    AgentState,
    Draining,
    Failed,
    Loaded,
    Module,
    Removed,
    Running,
    StateName,
    Stopped,
    Transition,
    Unloaded,
    apply,
)
from caxton.errors import CaxtonError, ErrorClass, LifecycleError

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
V1 = Module("1" * 64, "1.0.0")
V2 = Module("2" * 64, "2.0.0")
V3 = Module("3" * 64, "3.0.0")

# The table in docs/lifecycle.md, as data: state -> action -> the state it leads to.
TABLE: dict[StateName, dict[Action, StateName]] = {
    StateName.UNLOADED: {
        Action.LOAD: StateName.LOADED,
        Action.FAIL: StateName.FAILED,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.LOADED: {
        Action.START: StateName.RUNNING,
        Action.STOP: StateName.STOPPED,
        Action.FAIL: StateName.FAILED,
        Action.UNLOAD: StateName.UNLOADED,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.RUNNING: {
        Action.STOP: StateName.DRAINING,
        Action.DRAIN: StateName.DRAINING,
        Action.FAIL: StateName.FAILED,
        Action.RESTART: StateName.RUNNING,
        Action.RELOAD: StateName.RUNNING,
        Action.ROLLBACK: StateName.RUNNING,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.DRAINING: {
        Action.STOP: StateName.STOPPED,
        Action.FAIL: StateName.FAILED,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.STOPPED: {
        Action.START: StateName.RUNNING,
        Action.RELOAD: StateName.STOPPED,
        Action.ROLLBACK: StateName.STOPPED,
        Action.UNLOAD: StateName.UNLOADED,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.FAILED: {
        Action.RESTART: StateName.RUNNING,
        Action.RELOAD: StateName.LOADED,
        Action.ROLLBACK: StateName.LOADED,
        Action.UNLOAD: StateName.UNLOADED,
        Action.REMOVE: StateName.REMOVED,
    },
    StateName.REMOVED: {},
}


def entered(name: str, to: StateName, module: Module | None) -> Transition:
    return Transition(
        agent=name, from_state=None, to_state=to, action=Action.CREATE, at=T0, module=module
    )


def sample(state: StateName) -> AgentState:
    """An agent `x` in `state`, running V2 with V1 as its previous version where it has one."""
    module = None if state in (StateName.UNLOADED, StateName.REMOVED) else V2
    e = entered("x", state, module)
    match state:
        case StateName.UNLOADED:
            return Unloaded(name="x", entered=e)
        case StateName.LOADED:
            return Loaded(name="x", entered=e, module=V2, previous=V1)
        case StateName.RUNNING:
            return Running(name="x", entered=e, module=V2, previous=V1)
        case StateName.DRAINING:
            return Draining(name="x", entered=e, module=V2, previous=V1)
        case StateName.STOPPED:
            return Stopped(name="x", entered=e, module=V2, previous=V1)
        case StateName.FAILED:
            return Failed(name="x", entered=e, module=V2, previous=V1, reason="boom")
        case StateName.REMOVED:
            return Removed(name="x", entered=e)


def arguments(state: AgentState, action: Action) -> dict[str, object]:
    """What `apply` needs for `action` in `state`, and nothing more."""
    args: dict[str, object] = {"at": T1, "reason": "because"}
    if action in (Action.LOAD, Action.RELOAD) or (
        action is Action.FAIL and isinstance(state, Unloaded)
    ):
        args["module"] = V3
    return args


def docs_table() -> tuple[list[Action], dict[StateName, dict[Action, StateName]]]:
    """The columns and rows of the transition table in docs/lifecycle.md."""
    text = (ROOT / "docs" / "lifecycle.md").read_text()
    lines = text[text.index("| state | load |") :].splitlines()
    columns = [Action(cell.strip()) for cell in lines[0].strip("|").split("|")[1:]]
    table: dict[StateName, dict[Action, StateName]] = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table[StateName(cells[0])] = {
            action: StateName(cell)
            for action, cell in zip(columns, cells[1:], strict=True)
            if cell != "-"
        }
    return columns, table


def test_docs_table_is_the_code_table() -> None:
    columns, table = docs_table()
    assert table == TABLE
    assert set(columns) == set(Action) - {Action.CREATE}
    assert set(TABLE) == set(StateName) == {cls.state for cls in STATES}


@pytest.mark.parametrize("state_name", list(StateName))
@pytest.mark.parametrize("action", list(Action))
def test_apply_every_pair(state_name: StateName, action: Action) -> None:
    state = sample(state_name)
    target = TABLE[state_name].get(action)
    if target is None:
        with pytest.raises(LifecycleError) as caught:
            apply(state, action, **arguments(state, action))  # type: ignore[arg-type]
        error = caught.value
        assert (error.agent, error.state, error.action) == ("x", state_name, action)
        allowed = ", ".join(TABLE[state_name]) or "none"
        assert str(error) == f"cannot {action} agent 'x': it is {state_name} (allowed: {allowed})"
        assert error.error_class is ErrorClass.VALIDATION
        return
    after = apply(state, action, **arguments(state, action))  # type: ignore[arg-type]
    assert after.state is target
    assert after.name == "x"
    t = after.entered
    assert (t.agent, t.from_state, t.to_state, t.action, t.at, t.reason) == (
        "x", state_name, target, action, T1, "because",
    )  # fmt: skip
    assert t.module == getattr(after, "module", None)
    assert after.since == T1


@pytest.mark.parametrize("state_name", list(StateName))
def test_allowed_is_the_table_row(state_name: StateName) -> None:
    assert sample(state_name).allowed == tuple(TABLE[state_name])


def test_the_issue_example_message() -> None:
    loaded = Unloaded.create("x", at=T0).load(V1, at=T0)
    with pytest.raises(LifecycleError) as caught:
        apply(loaded, "drain", at=T1)
    assert (
        str(caught.value)
        == "cannot drain agent 'x': it is Loaded (allowed: start, stop, fail, unload, remove)"
    )
    assert isinstance(caught.value, CaxtonError)


def test_unknown_action_is_refused_naming_it() -> None:
    with pytest.raises(LifecycleError, match=r"cannot explode agent 'x': no such action") as caught:
        apply(sample(StateName.RUNNING), "explode", at=T1)
    assert (caught.value.state, caught.value.action) == (StateName.RUNNING, "explode")
    assert "create" not in str(caught.value)


def test_the_pair_is_judged_before_the_arguments() -> None:
    # An illegal pair with a bad argument still names the state, not the argument.
    with pytest.raises(LifecycleError, match="it is Loaded"):
        apply(sample(StateName.LOADED), "reload", at=T1)


@pytest.mark.parametrize(
    ("state_name", "action", "extra", "problem"),
    [
        (StateName.UNLOADED, "load", {}, "a module is required"),
        (StateName.UNLOADED, "fail", {"reason": "bad"}, "a module is required"),
        (StateName.RUNNING, "reload", {}, "a module is required"),
        (StateName.LOADED, "start", {"module": V3}, "start takes no module"),
        (StateName.RUNNING, "fail", {"reason": "r", "module": V3}, "fail takes no module"),
        (StateName.RUNNING, "stop", {"retry_at": T1}, "stop takes no retry time"),
        (StateName.RUNNING, "fail", {}, "a reason is required"),
        (StateName.LOADED, "fail", {"reason": "  "}, "a reason is required"),
        (StateName.RUNNING, "reload", {"module": V2}, "it already has module 2.0.0 (222222222222)"),
    ],
)
def test_apply_checks_arguments(
    state_name: StateName, action: str, extra: dict[str, object], problem: str
) -> None:
    with pytest.raises(LifecycleError) as caught:
        apply(sample(state_name), action, at=T1, **extra)  # type: ignore[arg-type]
    assert str(caught.value) == f"cannot {action} agent 'x': {problem}"
    assert caught.value.state == state_name


FRESH = Unloaded.create("x", at=T0).load(V1, at=T0)


@pytest.mark.parametrize(
    "no_previous",
    [FRESH.start(at=T1), FRESH.start(at=T1).stop(at=T1).stop(at=T1), FRESH.fail("boom", at=T1)],
    ids=["Running", "Stopped", "Failed"],
)
def test_rollback_needs_a_previous_version(no_previous: Running | Stopped | Failed) -> None:
    # Entered through `load`, none of these has a previous version.
    assert no_previous.previous is None
    assert Action.ROLLBACK not in no_previous.allowed
    allowed = ", ".join(a for a in TABLE[no_previous.state] if a is not Action.ROLLBACK)
    message = (
        f"cannot rollback agent 'x': it is {no_previous.state} with no previous version "
        f"(allowed: {allowed})"
    )
    with pytest.raises(LifecycleError) as caught:
        apply(no_previous, "rollback", at=T1)
    assert str(caught.value) == message
    with pytest.raises(LifecycleError) as typed:
        no_previous.rollback(at=T1)
    assert str(typed.value) == message
    reloaded = apply(no_previous, "reload", at=T1, module=V3)
    assert isinstance(reloaded, Running | Stopped | Loaded)
    assert (reloaded.module, reloaded.previous) == (V3, V1)


def test_reload_and_rollback_swap_versions() -> None:
    running = Unloaded.create("x", at=T0).load(V1, at=T0).start(at=T0)
    assert (running.module, running.previous) == (V1, None)
    v2 = running.reload(V2, at=T1, reason="deploy 2")
    assert (v2.module, v2.previous) == (V2, V1)
    assert (v2.entered.module, v2.entered.reason) == (V2, "deploy 2")
    back = v2.rollback(at=T1)
    assert (back.module, back.previous) == (V1, V2)
    again = back.rollback(at=T1)
    assert (again.module, again.previous) == (V2, V1)
    failed = again.fail("crashed", at=T1)
    fixed = failed.reload(V3, at=T1)
    assert isinstance(fixed, Loaded)
    assert (fixed.module, fixed.previous) == (V3, V2)
    rolled = failed.rollback(at=T1)
    assert (rolled.module, rolled.previous) == (V1, V2)


def test_failure_keeps_its_reason_and_retry_time() -> None:
    running = sample(StateName.RUNNING)
    retry = T1 + timedelta(seconds=2)
    failed = apply(running, "fail", at=T1, reason="5 handler errors", retry_at=retry)
    assert isinstance(failed, Failed)
    assert (failed.reason, failed.retry_at, failed.module) == ("5 handler errors", retry, V2)
    rejected = Unloaded.create("y", at=T0).fail("module rejected: export: missing", V1, at=T1)
    assert (rejected.reason, rejected.module, rejected.previous) == (
        "module rejected: export: missing", V1, None,
    )  # fmt: skip
    restarted = failed.restart(at=T1)
    assert isinstance(restarted, Running)
    assert (restarted.module, restarted.previous) == (V2, V1)


def test_a_whole_life_records_every_step() -> None:
    s0 = Unloaded.create("echo", at=T0, reason="deployed by ops")
    steps: list[AgentState] = [s0]
    state: AgentState = s0
    for action, kwargs in [
        ("load", {"module": V1}),
        ("start", {}),
        ("reload", {"module": V2}),
        ("rollback", {}),
        ("drain", {}),
        ("stop", {}),
        ("start", {}),
        ("fail", {"reason": "trap"}),
        ("restart", {}),
        ("stop", {}),
        ("stop", {}),
        ("unload", {}),
        ("remove", {}),
    ]:
        state = apply(state, action, at=T1, **kwargs)  # type: ignore[arg-type]
        steps.append(state)
    history = [(s.entered.from_state, s.entered.action, s.entered.to_state) for s in steps]
    assert history[0] == (None, Action.CREATE, StateName.UNLOADED)
    assert [h[2] for h in history] == [
        "Unloaded", "Loaded", "Running", "Running", "Running", "Draining", "Stopped",
        "Running", "Failed", "Running", "Draining", "Stopped", "Unloaded", "Removed",
    ]  # fmt: skip
    # Each step leaves from where the previous one arrived.
    assert all(a[2] == b[0] for a, b in itertools.pairwise(history))
    assert state.allowed == ()


def test_transitions_need_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Unloaded.create("x", at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(sample(StateName.LOADED), "start", at=datetime(2025, 1, 1))


def test_states_refuse_a_transition_that_does_not_lead_to_them() -> None:
    with pytest.raises(ValueError, match="cannot be entered by a transition to Loaded"):
        Running(name="x", module=V1, entered=entered("x", StateName.LOADED, V1))
    with pytest.raises(ValueError, match="entered with"):
        Running(name="x", module=V1, entered=entered("x", StateName.RUNNING, V2))
    with pytest.raises(ValueError, match="needs a reason"):
        Failed(name="x", module=V1, reason="", entered=entered("x", StateName.FAILED, V1))
    with pytest.raises(ValueError, match="name must not be empty"):
        Unloaded.create("", at=T0)


@pytest.mark.parametrize(
    ("sha256", "version", "problem"),
    [
        ("A" * 64, "1", "64 lowercase hex"),
        ("1" * 63, "1", "64 lowercase hex"),
        ("1" * 64, "", "empty"),
    ],
)
def test_module_is_validated(sha256: str, version: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Module(sha256, version)
    assert str(V1) == "1.0.0 (111111111111)"


# -- mypy rejects illegal transitions -------------------------------------------------

PRELUDE = """\
from datetime import UTC, datetime
from caxton.agents import Loaded, Module, Running, Unloaded, apply
T = datetime(2025, 1, 1, tzinfo=UTC)
M = Module("1" * 64, "1")
loaded = Unloaded.create("x", at=T).load(M, at=T)
"""

ILLEGAL = {
    "drain a Loaded agent": "loaded.drain(at=T)",
    "stop a Stopped agent": "loaded.start(at=T).stop(at=T).stop(at=T).stop(at=T)",
    "start a Running agent": "loaded.start(at=T).start(at=T)",
    "reload a Loaded agent": "loaded.reload(M, at=T)",
    "restart an Unloaded agent": 'Unloaded.create("y", at=T).restart(at=T)',
    "remove a Removed agent": "loaded.remove(at=T).remove(at=T)",
    "fail a Stopped agent": 'loaded.start(at=T).stop(at=T).stop(at=T).fail("r", at=T)',
    "Failed is not Running": 'running: Running = loaded.fail("r", at=T)',
    "Draining is not Running": "running2: Running = loaded.start(at=T).drain(at=T)",
    "apply's result is not narrowed": 'apply(loaded, "start", at=T).stop(at=T)',
}

LEGAL = """\
r = loaded.start(at=T).reload(Module("2" * 64, "2"), at=T).rollback(at=T)
f = r.fail("boom", at=T)
again: Running = f.restart(at=T)
stopped = again.drain(at=T).stop(at=T)
gone = stopped.reload(Module("3" * 64, "3"), at=T).unload(at=T).remove(at=T)
fixed: Loaded = f.reload(Module("4" * 64, "4"), at=T)
state = apply(fixed, "start", at=T)
match state:
    case Running():
        state.drain(at=T)
    case _:
        pass
"""


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, set[int]], str]:
    """mypy --strict over one illegal snippet (a line per mistake) and one legal one."""
    root = tmp_path_factory.mktemp("mypy")
    illegal = PRELUDE + "".join(f"{line}  # {why}\n" for why, line in ILLEGAL.items())
    (root / "illegal.py").write_text(illegal)
    (root / "legal.py").write_text(PRELUDE + LEGAL)
    # An empty config: the project's own (pyproject.toml) would add its `files`.
    (root / "none.ini").write_text("[mypy]\n")
    stdout, stderr, _status = mypy.api.run([
        "--strict", "--no-error-summary", "--show-error-codes",
        "--config-file", str(root / "none.ini"),
        "--cache-dir", str(root / "cache"),
        "--python-version", "3.11",
        str(root / "illegal.py"), str(root / "legal.py"),
    ])  # fmt: skip
    assert not stderr, stderr
    lines: dict[str, set[int]] = {"illegal.py": set(), "legal.py": set()}
    for match in re.finditer(r"^.*?(\w+\.py):(\d+): error:", stdout, re.MULTILINE):
        lines[match[1]].add(int(match[2]))
    return lines, stdout


def test_mypy_accepts_legal_transitions(mypy_report: tuple[dict[str, set[int]], str]) -> None:
    lines, stdout = mypy_report
    assert lines["legal.py"] == set(), stdout
    # The prelude, shared by both files, type-checks too: errors start after it.
    assert min(lines["illegal.py"]) > PRELUDE.count("\n"), stdout


@pytest.mark.parametrize("why", list(ILLEGAL))
def test_mypy_rejects_illegal_transition(
    why: str, mypy_report: tuple[dict[str, set[int]], str]
) -> None:
    lines, stdout = mypy_report
    line = PRELUDE.count("\n") + list(ILLEGAL).index(why) + 1
    assert line in lines["illegal.py"], f"{why}: no error on line {line}\n{stdout}"


def test_mypy_names_the_state_and_action(mypy_report: tuple[dict[str, set[int]], str]) -> None:
    _, stdout = mypy_report
    assert '"Loaded" has no attribute "drain"' in stdout
    assert '"Failed", variable has type "Running"' in stdout
