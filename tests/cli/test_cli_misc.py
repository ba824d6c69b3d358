"""`caxton capability|backup|completion`, exit codes as a real process, the types the CLI
parses against the OpenAPI document, and bench/cli.py."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from benchmarks import run_quick
from caxton.api.app import create_app
from caxton.api.types import Agent, Backup, CapabilityList
from caxton.cli import client as client_module
from caxton.cli import main
from caxton.store import Store
from conftest import ALLOC
from live import Live, caxton, decode_as

CAPABLE_DECLARED = '{"name":"translate","version":"2.0","description":"words, elsewhere"}'
_DECLARED_WAT = CAPABLE_DECLARED.replace('"', '\\"')  # a WAT string literal's body
# Declares one capability in caxton_init and ignores every message.
CAPABLE_WAT = f"""(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1) {ALLOC}
  (data (i32.const 64) "{_DECLARED_WAT}")
  (func (export "caxton_init") (param i32 i32) (result i32)
    (drop (call $reg (i32.const 64) (i32.const {len(CAPABLE_DECLARED)})))
    (i32.const 0))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""


CAXTON = Path(sys.executable).with_name("caxton")  # the venv's entry point script


def process(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`caxton args...` as a real process: the installed script, as a user runs it."""
    return subprocess.run(
        [str(CAXTON), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def deploy_capable(live: Live, tmp_path: Path, name: str = "linguist") -> None:
    source = tmp_path / f"{name}.wat"
    source.write_text(CAPABLE_WAT)
    result = caxton(live, "agent", "deploy", str(source), "--name", name)
    assert result.exit_code == 0, result.output


# ---- capability ----


def test_capability_search(live: Live, tmp_path: Path) -> None:
    deploy_capable(live, tmp_path)
    table = caxton(live, "capability", "search", "translate")
    assert table.exit_code == 0, table.output
    header, _rule, row = table.stdout.splitlines()
    assert header.split() == ["AGENT", "STATE", "CAPABILITY", "VERSION", "DESCRIPTION"]
    assert row.split() == ["linguist", "Running", "translate", "2.0", "words,", "elsewhere"]

    found = decode_as(
        CapabilityList, caxton(live, "capability", "search", "translate", output="json").stdout
    )
    assert [(item.agent, item.version) for item in found.items] == [("linguist", "2.0")]

    nobody = caxton(live, "capability", "search", "juggle")
    assert (nobody.exit_code, nobody.stdout) == (0, "no deployed agent offers 'juggle'\n")
    assert caxton(live, "agent", "list", "--capability", "translate").stdout.count("\n") == 3


# ---- backup ----


def test_backup_create_then_restore_into_a_fresh_directory(live: Live, tmp_path: Path) -> None:
    deploy_capable(live, tmp_path)
    created = caxton(live, "backup", "create")
    assert created.exit_code == 0, created.output
    path = Path(created.stdout.strip())
    assert path.parent == tmp_path / "data" / "backups"
    assert path.is_file()

    named = decode_as(
        Backup, caxton(live, "backup", "create", "--name", "nightly.db", output="json").stdout
    )
    assert Path(named.path).name == "nightly.db"
    assert named.size_bytes == Path(named.path).stat().st_size
    assert caxton(live, "backup", "create", "--name", "../escape.db").exit_code == 2

    fresh = tmp_path / "restored"
    restored = caxton(live, "backup", "restore", str(path), "--data-dir", str(fresh))
    assert restored.exit_code == 0, restored.output
    assert "caxton server start --data-dir" in restored.stderr
    with Store.open(fresh) as store:
        names = {record.name for record in store.agents.all()}
        assert names == {"echo", "ping", "pong", "linguist"}
        assert [p.agent_name for p in store.capabilities.providers("translate")] == ["linguist"]


def test_restore_refuses_a_directory_with_a_database_unless_forced(
    live: Live, tmp_path: Path
) -> None:
    backup = Path(caxton(live, "backup", "create").stdout.strip())
    target = tmp_path / "target"
    with Store.open(target) as store:  # a database with nothing in it
        assert store.agents.all() == []

    refused = caxton(live, "backup", "restore", str(backup), "--data-dir", str(target))
    assert refused.exit_code == 5
    assert "holds a database already" in refused.stderr
    assert "Stop the server" in refused.stderr
    assert "--force" in refused.stderr

    forced = caxton(
        live, "backup", "restore", str(backup), "--data-dir", str(target), "--force", output="json"
    )
    assert forced.exit_code == 0, forced.output
    assert decode_as(Backup, forced.stdout).path == str(target / "caxton.db")
    assert [kept.name.split(".before-restore-")[0] for kept in target.glob("*.before-restore-*")]
    with Store.open(target) as store:
        assert {record.name for record in store.agents.all()} == {"echo", "ping", "pong"}

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    unusable = caxton(live, "backup", "restore", str(junk), "--data-dir", str(tmp_path / "new"))
    assert unusable.exit_code == 1
    assert "use another backup" in unusable.stderr


# ---- completion ----


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "#compdef caxton"), ("fish", "complete ")],
)
def test_completion_prints_each_shells_script(shell: str, marker: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert "_CAXTON_COMPLETE" in result.stdout
    assert CliRunner().invoke(main, ["completion", "tcsh"]).exit_code == 2


def test_completion_completes_commands_and_agent_names_from_the_server(live: Live) -> None:
    def complete(words: str) -> list[str]:
        where = str(len(words.split()) - 1)
        done = process(_CAXTON_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=where)
        assert done.returncode == 0, done.stderr
        return [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]

    assert complete("caxton ag") == ["agent"]
    assert "deploy" in complete("caxton agent d")
    assert complete(f"caxton --url {live.url} agent get p") == ["ping", "pong"]
    assert complete(f"caxton --url {live.url} invoke e") == ["echo"]
    assert complete("caxton --url http://127.0.0.1:9 agent get p") == []  # nobody there


# ---- exit codes, as a real process ----


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_no_server_exits_3_and_says_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    for args in (("agent", "list"), ("invoke", "echo"), ("message", "list", "--follow")):
        done = process("--url", url, *args)
        assert done.returncode == 3, (args, done.stderr)
        assert f"no Caxton server is running at {url}" in done.stderr
        assert "caxton server start" in done.stderr
        assert "Traceback" not in done.stderr


def test_exit_codes_of_a_real_process(live: Live) -> None:
    assert process("--url", live.url, "agent", "list").returncode == 0
    assert process("--url", live.url, "agent", "get", "nobody").returncode == 4
    assert process("--url", live.url, "agent", "stop", "pong").returncode == 0
    assert process("--url", live.url, "agent", "stop", "pong").returncode == 5
    assert process("--url", live.url, "agent", "list", "--limit", "0").returncode == 2
    assert process("--url", live.url, "invoke", "ping", "--timeout", "0.1").returncode == 6
    from_env = process("agent", "get", "echo", CAXTON_URL=live.url, CAXTON_OUTPUT="json")
    assert decode_as(Agent, from_env.stdout).name == "echo"


# ---- the CLI and the server share their types ----


def _normalised(schema: Any) -> Any:
    """FastAPI leaves out `"default": null` where pydantic writes it; nothing else differs."""
    if isinstance(schema, dict):
        kept = {key: value for key, value in schema.items() if (key, value) != ("default", None)}
        return {key: _normalised(value) for key, value in kept.items()}
    if isinstance(schema, list):
        return [_normalised(value) for value in schema]
    return schema


def _route(paths: dict[str, Any], path: str) -> str:
    for template in paths:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            return template
    raise AssertionError(f"the CLI called {path}, which /openapi.json does not describe")


def test_every_answer_the_cli_parses_is_the_model_openapi_names_for_that_route(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run every remote command; each model the CLI parsed an answer with must be the one
    the server's OpenAPI document names for that route and status, with the same schema."""
    parsed: list[tuple[str, str, int, type[Any]]] = []
    original = client_module.decode

    def recording(reply: client_module.Reply, kind: type[client_module.T]) -> client_module.T:
        path = urlsplit(reply.url).path
        parsed.append((reply.method.lower(), path, reply.status, kind))
        return original(reply, kind)

    monkeypatch.setattr(client_module, "decode", recording)
    source = tmp_path / "talker.wat"
    source.write_text(CAPABLE_WAT)
    conversation = "drift-1"
    for args in (
        ("agent", "deploy", str(source), "--name", "talker"),
        ("agent", "list"),
        ("agent", "get", "talker"),
        ("agent", "stop", "talker"),
        ("agent", "start", "talker"),
        ("agent", "drain", "talker"),
        ("agent", "reload", "echo", str(source), "--version", "2"),
        ("agent", "rollback", "echo"),
        ("agent", "logs", "echo"),
        ("message", "send", "--to", "echo", "--conversation", conversation),
        ("message", "list"),
        ("conversation", "show", conversation),
        ("invoke", "echo", "--content", "1"),
        ("job", "submit", "echo", "--content", "1"),
        ("job", "list"),
        ("capability", "search", "translate"),
        ("events",),
        ("backup", "create"),
        ("tool", "server", "add", "nowhere", "--url", "http://127.0.0.1:9/mcp"),
        ("tool", "server", "list"),
        ("tool", "list"),
        ("tool", "grant", "talker", "nowhere/*"),
        ("tool", "grants", "talker"),
        ("tool", "revoke", "talker", "nowhere/*"),
        ("tool", "server", "remove", "nowhere"),
        ("audit", "list"),
        ("audit", "verify"),
        ("audit", "export"),
    ):
        result = caxton(live, *args)
        assert result.exit_code == 0, (args, result.output)
    job_id = live.get("/jobs").json()["items"][0]["id"]
    for args in (("job", "get", job_id), ("job", "wait", job_id)):
        assert caxton(live, *args).exit_code == 0

    document = create_app(live.server).openapi()
    paths, components = document["paths"], document["components"]["schemas"]
    seen = set()
    for method, path, status, model in parsed:
        template = _route(paths, path)
        content = paths[template][method]["responses"][str(status)]["content"]
        ref = content["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{model.__name__}", (method, template)
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            assert _normalised(components[name]) == _normalised(nested), name
        assert _normalised(components[model.__name__]) == _normalised(schema), model.__name__
        seen.add((method, template))
    agents, jobs = "/api/v1/agents", "/api/v1/jobs"
    assert seen == {  # every route the CLI reads an answer from
        ("post", agents), ("get", agents), ("get", f"{agents}/{{name}}"),
        *(("post", f"{agents}/{{name}}/{verb}")
          for verb in ("start", "stop", "drain", "reload", "rollback", "invoke")),
        ("get", f"{agents}/{{name}}/logs"),
        ("post", "/api/v1/messages"), ("get", "/api/v1/messages"),
        ("get", "/api/v1/conversations/{conversation_id}"),
        ("post", jobs), ("get", jobs), ("get", f"{jobs}/{{job_id}}"),
        ("get", "/api/v1/capabilities"), ("post", "/api/v1/backups"),
        ("get", "/api/v1/events"),
        ("post", "/api/v1/tools/servers"), ("get", "/api/v1/tools/servers"),
        ("get", "/api/v1/tools"),
        ("post", f"{agents}/{{name}}/tools"), ("get", f"{agents}/{{name}}/tools"),
        ("get", "/api/v1/audit"), ("get", "/api/v1/audit/verify"),
    }  # fmt: skip


# ---- bench/cli.py ----


def test_the_quick_cli_benchmark_prints_its_figures() -> None:
    result = run_quick("cli.py")
    names = ("python_pass_ms", "caxton_version_ms", "caxton_help_ms", "caxton_agent_list_ms")
    for name in names:
        assert result[name]["runs"] == 5
        assert 0 < result[name]["p50"] <= result[name]["p90"]
    assert result["python_pass_ms"]["p50"] < result["caxton_version_ms"]["p50"]
    assert set(result["meets_targets"]) == {"version_p50_ms_max", "agent_list_p50_ms_max"}
    assert set(result["imports_ms"]) >= {"click", "http.client", "msgspec"}
