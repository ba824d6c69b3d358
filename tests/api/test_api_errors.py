"""Errors over a real socket: RFC 9457 problem details with a stable `code`, by REST status."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import wasmtime

from caxton import __version__
from live import Live, live_server

WASM = {"content-type": "application/wasm"}
FIPA = {"content-type": "application/fipa-acl"}
JSON = {"content-type": "application/json"}
LIMIT = 4096  # max_request_bytes here: the echo module (about 2.5 KB) fits


def echo_wasm() -> bytes:
    text = resources.files("caxton.examples").joinpath("echo.wat").read_text()
    return bytes(wasmtime.wat2wasm(text))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("errors") / "data"
    with live_server(data, examples=True, max_request_bytes=LIMIT) as running:
        yield running


def problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The problem in `response`, checked to be RFC 9457 with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://caxton.dev/problems/{code}"
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body.get("field") == field
    return body


# 400


def test_malformed_json_is_400_with_the_position(live: Live) -> None:
    response = live.post("/messages", content=b'{"performative": ', headers=JSON)
    body = problem(response, 400, "malformed-message", field="message")
    assert "line 1" in body["detail"]


def test_malformed_fipa_is_400_naming_the_parameter(live: Live) -> None:
    response = live.post("/messages", content=b"(inform :receiver", headers=FIPA)
    body = problem(response, 400, "malformed-message", field="receiver")
    assert "column 18" in body["detail"]


def test_an_unreadable_form_is_400(live: Live) -> None:
    response = live.post(
        "/agents",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno end",
        headers={"content-type": "multipart/form-data"},  # no boundary
    )
    problem(response, 400, "malformed-form")


def test_a_cli_of_another_major_version_gets_400(live: Live) -> None:
    response = live.get("/agents", headers={"X-Caxton-CLI-Version": "99.0.0"})
    body = problem(response, 400, "incompatible-client")
    assert "99.0.0" in body["detail"]
    assert __version__ in body["detail"]
    same_major = f"{__version__.split('.')[0]}.999.0"
    assert live.get("/agents", headers={"X-Caxton-CLI-Version": same_major}).status_code == 200


# 404, 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/agents/nope"),
        ("DELETE", "/agents/nope"),
        ("POST", "/agents/nope/start"),
        ("POST", "/agents/nope/rollback"),
        ("POST", "/agents/nope/invoke"),
        ("GET", "/agents/nope/logs"),
    ],
)
def test_an_unknown_agent_is_404(live: Live, method: str, path: str) -> None:
    kwargs: dict[str, Any] = {"json": {"content": 1}} if path.endswith("invoke") else {}
    body = problem(live.client.request(method, path, **kwargs), 404, "agent-not-found")
    assert "'nope'" in body["detail"]


def test_an_unknown_route_is_404_pointing_at_the_document(live: Live) -> None:
    body = problem(live.get("/no/such/route"), 404, "not-found")
    assert "/openapi.json" in body["detail"]
    problem(live.client.get(f"{live.url}/nothing-here"), 404, "not-found")


def test_a_wrong_method_is_405(live: Live) -> None:
    problem(live.client.put("/agents"), 405, "method-not-allowed")


# 409


def test_a_taken_name_is_409(live: Live) -> None:
    response = live.post("/agents", params={"name": "echo"}, content=echo_wasm(), headers=WASM)
    body = problem(response, 409, "agent-exists")
    assert "'echo'" in body["detail"]


@pytest.mark.parametrize(
    ("action", "words"),
    [("rollback", "no previous version"), ("start", "it is Running")],
)
def test_an_illegal_transition_is_409_saying_what_is_allowed(
    live: Live, action: str, words: str
) -> None:
    body = problem(live.post(f"/agents/pong/{action}"), 409, "illegal-transition")
    assert words in body["detail"]
    assert "allowed:" in body["detail"]


# 413


def test_a_message_over_max_request_bytes_is_413(live: Live) -> None:
    big = b'{"performative": "inform", "receiver": "echo", "content": "' + b"x" * LIMIT + b'"}'
    body = problem(
        live.post("/messages", content=big, headers=JSON),
        413,
        "payload-too-large",
    )
    assert "max_request_bytes" in body["detail"]


def test_a_module_over_max_request_bytes_is_413_raw_or_multipart(live: Live) -> None:
    big = echo_wasm() + b"\0" * LIMIT
    raw = live.post("/agents", params={"name": "big"}, content=big, headers=WASM)
    problem(raw, 413, "payload-too-large")
    form = live.post("/agents", data={"name": "big"}, files={"module": ("big.wasm", big)})
    problem(form, 413, "payload-too-large")
    assert live.get("/agents/big").status_code == 404


def test_a_body_streamed_without_a_length_is_cut_off_at_the_limit(live: Live) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b" " * (LIMIT // 2)

    response = live.post("/messages", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    problem(response, 413, "payload-too-large")


# 415


def test_a_message_of_another_media_type_is_415(live: Live) -> None:
    response = live.post("/messages", content=b"hello", headers={"content-type": "text/plain"})
    body = problem(response, 415, "unsupported-media-type")
    assert "application/fipa-acl" in body["detail"]


def test_a_module_of_another_media_type_is_415(live: Live) -> None:
    response = live.post("/agents", params={"name": "x"}, json={"module": "AGFzbQ=="})
    body = problem(response, 415, "unsupported-media-type")
    assert "application/wasm" in body["detail"]


# 422


def test_a_bad_agent_name_is_422_naming_the_field(live: Live) -> None:
    response = live.post("/agents", params={"name": "Bad_Name"}, content=echo_wasm(), headers=WASM)
    problem(response, 422, "invalid-name", field="name")


def test_a_missing_name_is_422(live: Live) -> None:
    response = live.post("/agents", content=echo_wasm(), headers=WASM)
    problem(response, 422, "field-missing", field="name")


def test_config_that_is_not_a_json_object_is_422(live: Live) -> None:
    response = live.post(
        "/agents", params={"name": "cfg", "config": "[1, 2]"}, content=echo_wasm(), headers=WASM
    )
    problem(response, 422, "invalid-json", field="config")


def test_an_empty_version_is_422(live: Live) -> None:
    response = live.post(
        "/agents/echo/reload", params={"version": ""}, content=echo_wasm(), headers=WASM
    )
    problem(response, 422, "invalid-field", field="version")
    assert live.get("/agents/echo").json()["state"] == "Running"


def test_a_module_that_is_not_wasm_is_422_on_reload(live: Live) -> None:
    response = live.post(
        "/agents/echo/reload", params={"version": "9"}, content=b"not wasm", headers=WASM
    )
    problem(response, 422, "module-rejected", field="module")
    assert live.get("/agents/echo").json()["version"] == "1.0.0"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"performative": "shout", "receiver": "echo"}, "performative"),
        ({"performative": "inform", "receiver": "Not A Name"}, "receiver"),
        ({"performative": "inform"}, "receiver"),
    ],
)
def test_an_invalid_message_is_422_naming_the_field(
    live: Live, message: dict[str, Any], field: str
) -> None:
    problem(live.post("/messages", json=message), 422, "invalid-message", field=field)


def test_a_query_out_of_range_is_422_naming_the_parameter(live: Live) -> None:
    body = problem(live.get("/agents", params={"limit": 0}), 422, "invalid-request", "query.limit")
    assert "greater than or equal to 1" in body["detail"]


# 429


def test_a_full_mailbox_is_429_with_retry_after(tmp_path: Path) -> None:
    # No dispatcher threads: nothing is delivered, so a one-message mailbox stays full.
    with live_server(tmp_path / "data", examples=True, workers=0, mailbox_capacity=1) as live:
        message = {"performative": "inform", "receiver": "echo", "content": 1}
        assert live.post("/messages", json=message).status_code == 202
        full = live.post("/messages", json=message)
        body = problem(full, 429, "mailbox-full")
        assert full.headers["retry-after"] == "1"
        assert "'echo'" in body["detail"]
        invoked = live.post("/agents/echo/invoke", json={"content": 2, "timeout_s": 1})
        problem(invoked, 429, "mailbox-full")
        assert live.get("/agents/echo").json()["counters"]["mailbox_depth"] == 1


# Headers on every response


def test_every_response_carries_the_server_version(live: Live) -> None:
    responses = [
        live.client.get(f"{live.url}/health"),
        live.client.get(f"{live.url}/openapi.json"),
        live.get("/agents"),
        live.get("/agents/nope"),
        live.get("/no/such/route"),
        live.post("/messages", content=b"x" * (LIMIT + 1)),
        live.post("/messages", content=b"{", headers=JSON),
        live.get("/agents", headers={"X-Caxton-CLI-Version": "99.0.0"}),
        live.client.delete("/agents/nope"),
    ]
    assert {r.status_code for r in responses} == {200, 400, 404, 413}
    for response in responses:
        assert response.headers["x-caxton-version"] == __version__, response.request.url
