"""Schemathesis against the running server: no 5xx, and every answer as /openapi.json says.

Every operation gets a bounded number of generated requests, valid ones and
invalid ones; then the operations on one agent run again with the name of a
real agent, so they reach past the 404. Streams (`follow=true`) are pinned
off so that every request ends. The one 5xx allowed is the documented 504 of
an invoke whose agent did not answer in time (a generated `timeout_s` may be
1e-300 s). `POST /tools/servers` alone is not fuzzed: it starts the command it is given.

Driven through `operation.as_strategy()` and Hypothesis directly:
schemathesis's pytest plugin (`from_fixture(...).parametrize()`) relies on a
pytest internal that pytest 9 removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, CheckContext, GenerationMode, Response
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.openapi import from_url

from live import Live, live_server

Operation = APIOperation[Any, Any, Any, Any]


def no_unintended_server_error(
    ctx: CheckContext, response: Response, case: Case[Operation]
) -> bool | None:
    """`not_a_server_error`, but for the documented 504 of an agent that did not answer in time."""
    if response.status_code == 504 and response.json().get("code") == "invoke-timeout":
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_unintended_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_MODE = 25
TARGET = "target"
# Not fuzzed: a generated `POST /tools/servers` would make the server run whatever command
# it made up (or connect to any URL). tests/tools/test_tools_api.py sends it bad input instead.
# Nor `PUT /rate-limits/{scope}`: a generated limit on the global scope would answer the
# rest of the run with 429 (tests/security/test_ratelimit*.py send it bad input instead).
NOT_FUZZED = {("POST", "/api/v1/tools/servers"), ("PUT", "/api/v1/rate-limits/{scope}")}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("schema") / "data"
    # Short invoke timeouts: a generated invoke waits at most half a second.
    with live_server(
        data,
        examples=True,
        max_request_bytes=64 * 1024,
        invoke_timeout_s=0.2,
        invoke_max_timeout_s=0.5,
        job_timeout_s=0.5,
    ) as running:
        echo = resources.files("caxton.examples").joinpath("echo.wat").read_text()
        deployed = running.post(
            "/agents",
            params={"name": TARGET},
            content=bytes(wasmtime.wat2wasm(echo)),
            headers={"content-type": "application/wasm"},
        )
        assert deployed.status_code == 201, deployed.text
        yield running


@pytest.fixture(scope="module")
def operations(live: Live) -> list[Operation]:
    schema = from_url(f"{live.url}/openapi.json", headers=live.headers)
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in NOT_FUZZED:
            found.append(operation)
    assert len(found) == len(list(schema.get_all_operations())) - len(NOT_FUZZED)
    return found


def _fuzz(live: Live, operation: Operation, **fixed: Any) -> None:
    """Generated requests to `operation`, each checked; raises on the first failure."""
    if any(parameter.name == "follow" for parameter in operation.query):
        fixed["query"] = {"follow": "false"}  # a stream never ends on its own
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(
            max_examples=EXAMPLES_PER_MODE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode, **fixed))
        def check(case: Case[Operation]) -> None:
            case.call_and_validate(
                base_url=live.url, headers=live.headers, checks=CHECKS, timeout=30
            )

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, or only free strings): nothing to send.
            assert mode is GenerationMode.NEGATIVE, operation.label


def test_every_operation_answers_as_documented(live: Live, operations: list[Operation]) -> None:
    for operation in operations:
        _fuzz(live, operation)


def test_operations_on_a_real_agent_answer_as_documented(
    live: Live, operations: list[Operation]
) -> None:
    on_agent = [op for op in operations if "{name}" in op.path]
    assert len(on_agent) >= 9
    # Removal last: what comes before it finds the agent there.
    for operation in sorted(on_agent, key=lambda op: op.method.upper() == "DELETE"):
        _fuzz(live, operation, path_parameters={"name": TARGET})
    assert live.get(f"/agents/{TARGET}").status_code == 404


def test_the_document_describes_errors_as_problems(live: Live) -> None:
    document = live.client.get(f"{live.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "code" in schemas["Problem"]["properties"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            problem = operation["responses"]["4XX"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path)


def test_the_example_agents_still_answer_after_the_fuzzing(live: Live) -> None:
    answer = live.post("/agents/echo/invoke", json={"content": "still here", "timeout_s": 0.5})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"]["content"] == "still here"
