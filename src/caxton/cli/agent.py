"""`caxton agent ...`: agents on a server (deploy, list, act, logs), and `run` on this machine.

Every command but `run` talks to the server at --url through the REST API
and imports nothing heavier than http.client, msgspec and the API types;
`run` loads the runtime (wasmtime) in-process, so its imports wait inside it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from caxton.api.types import Agent, AgentList, AgentLogLine, AgentLogs
from caxton.cli import render
from caxton.cli.context import EXIT_FAILED, context

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from caxton.local import Event

STATES = ("Unloaded", "Loaded", "Running", "Draining", "Stopped", "Failed")
PAGE = 1000  # agents asked for per request (the server's maximum)
_DEFAULT_URL = "http://127.0.0.1:8080"


def complete_agent_name(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of agent names, from the server (nothing when it does not answer)."""
    from click.shell_completion import CompletionItem

    from caxton.cli.client import CliError
    from caxton.cli.context import load_client_config, make_client

    try:
        params = ctx.find_root().params
        config = load_client_config()
        url = params.get("url") or config.get("url") or _DEFAULT_URL
        client = make_client(str(url).rstrip("/"), params.get("token"), config, timeout=1.0)
        try:
            page = client.get("/agents", AgentList, params={"limit": PAGE})
        finally:
            client.close()
    except (CliError, click.UsageError):
        return []
    return [CompletionItem(item.name) for item in page.items if item.name.startswith(incomplete)]


# Each use adds a fresh argument: click builds the parameter when the decorator is applied.
name_argument = click.argument("name", shell_complete=complete_agent_name)
signature_option = click.option(
    "--signature",
    "signature_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="MODULE's signature file (`caxton signing sign`). "
    "Default: MODULE.sig, sent whenever it exists beside MODULE.",
)
no_signature_option = click.option(
    "--no-signature", "unsigned", is_flag=True, help="Send no signature, even if MODULE.sig exists."
)


@click.group()
def agent() -> None:
    """Deploy, inspect and control agents on a server; run one here with `run`."""


# ---- deploy, reload ----


@agent.command("deploy")
@click.argument("module", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The agent's name (1-63 of a-z 0-9 -).")
@click.option("--version", "version", default=None, help="A version label (server default: 1).")
@click.option("--config", "config_text", default=None, help="JSON object given to caxton_init.")
@click.option(
    "--limits",
    "limits_text",
    default=None,
    help="JSON object of limits, e.g. '{\"deadline_ms\": 500}' (docs/runtime.md).",
)
@click.option("--memory", type=click.IntRange(min=1), default=None, help="Memory ceiling, bytes.")
@click.option("--fuel", type=click.IntRange(min=1), default=None, help="Fuel per message.")
@click.option("--no-start", is_flag=True, help="Deploy it Loaded; start it later.")
@signature_option
@no_signature_option
def deploy(
    module: Path,
    name: str,
    version: str | None,
    config_text: str | None,
    limits_text: str | None,
    memory: int | None,
    fuel: int | None,
    no_start: bool,
    signature_file: Path | None,
    unsigned: bool,
) -> None:
    """Upload MODULE (.wasm, or .wat compiled here) and deploy it as --name.

    --memory and --fuel override memory_bytes and fuel_per_message in
    --limits. MODULE.sig, when it exists, is sent as the module's signature
    (or --signature FILE; --no-signature sends none). Exits 5 when the name is
    taken, 2 when an option or the signature is refused, 1 when the agent ends
    Failed (a module that fails validation or caxton_init): it stays
    deployed, Failed, with the reason.
    """
    limits = render.json_object("--limits", limits_text) if limits_text else {}
    if memory is not None:
        limits["memory_bytes"] = memory
    if fuel is not None:
        limits["fuel_per_message"] = fuel
    params: dict[str, str] = {"name": name, "start": "false" if no_start else "true"}
    if version is not None:
        params["version"] = version
    if config_text is not None:
        params["config"] = orjson.dumps(render.json_object("--config", config_text)).decode()
    if limits:
        params["limits"] = orjson.dumps(limits).decode()
    upload = _Upload.of(module, signature_file, unsigned)
    deployed = (
        context()
        .client()
        .post("/agents", Agent, body=upload.body, params=params, content_type=upload.content_type)
    )
    headline = f"deployed {deployed.name} {deployed.version}: {deployed.state}{upload.note}"
    _show_agent(deployed, headline)
    _fail_if_failed(deployed)


@agent.command("reload")
@name_argument
@click.argument("module", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="The new version's label.")
@signature_option
@no_signature_option
def reload(
    name: str, module: Path, version: str, signature_file: Path | None, unsigned: bool
) -> None:
    """Hot-reload agent NAME with a new MODULE version (rollback returns to the old one).

    MODULE.sig, when it exists, is sent as the module's signature (or
    --signature FILE; --no-signature sends none).
    """
    upload = _Upload.of(module, signature_file, unsigned)
    reloaded = (
        context()
        .client()
        .post(
            f"/agents/{render.part(name)}/reload",
            Agent,
            body=upload.body,
            params={"version": version},
            content_type=upload.content_type,
        )
    )
    headline = f"reloaded {reloaded.name}: now {reloaded.version}, {reloaded.state}{upload.note}"
    _show_agent(reloaded, headline)
    _fail_if_failed(reloaded)


@dataclass(frozen=True, slots=True)
class _Upload:
    """A module as sent: raw `application/wasm` when unsigned, else multipart with its signature.

    Multipart rather than the X-Caxton-Signature header: the client (cli/client.py)
    sends only headers of its own, and the server reads the same fields either way.
    """

    body: bytes
    content_type: str
    note: str  # for the headline: the signature file sent, or nothing

    @classmethod
    def of(cls, module: Path, signature_file: Path | None, unsigned: bool) -> _Upload:
        found = _signature_file(module, signature_file, unsigned)
        if found is None:
            return cls(_module_bytes(module), "application/wasm", "")
        if module.suffix == ".wat":
            raise click.BadParameter(
                f"{found} cannot be the signature of {module}: the server checks the .wasm it "
                "receives; compile the module, sign the .wasm, and deploy that",
                param_hint="--signature",
            )
        import secrets  # here: it costs milliseconds that unsigned commands need not pay

        signature = _signature_text(found)
        # RFC 7578 form-data. A random boundary: 128 bits no module can be made to contain.
        boundary = f"caxton-{secrets.token_hex(16)}"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="signature"\r\n\r\n'
                f"{signature}\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="module"; filename="module.wasm"\r\n'
                "Content-Type: application/wasm\r\n\r\n"
            ).encode()
            + _module_bytes(module)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return cls(body, f"multipart/form-data; boundary={boundary}", f" (signature {found})")


def _signature_file(module: Path, given: Path | None, unsigned: bool) -> Path | None:
    """The signature file to send: --signature, else MODULE.sig if it exists; None for none."""
    if unsigned:
        if given is not None:
            raise click.UsageError("--signature and --no-signature contradict each other")
        return None
    if given is not None:
        return given
    beside = module.with_name(module.name + ".sig")
    return beside if beside.is_file() else None


def _signature_text(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        raise click.BadParameter(
            f"{path} is not a signature file (base64 text, as `caxton signing sign` writes)",
            param_hint="--signature",
        ) from None


def _module_bytes(path: Path) -> bytes:
    """The module's bytes; WebAssembly text (.wat) is compiled here first."""
    from caxton.module_files import read_module

    try:
        return read_module(path)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


# ---- list, get ----


@agent.command("list")
@click.option(
    "--state", type=click.Choice(STATES, case_sensitive=False), default=None, help="Only these."
)
@click.option("--capability", default=None, help="Only agents offering this capability.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N (default: all).")
def list_agents(state: str | None, capability: str | None, limit: int | None) -> None:
    """The agents on the server, by name, with their state and counters."""
    cli = context()
    client = cli.client()
    params: dict[str, Any] = {}
    if state is not None:
        params["state"] = next(s for s in STATES if s.lower() == state.lower())
    if capability is not None:
        params["capability"] = capability
    items: list[Agent] = []
    cursor: str | None = None
    while True:
        wanted = PAGE if limit is None else min(PAGE, limit - len(items))
        more = {"cursor": cursor} if cursor is not None else {}
        page = client.get("/agents", AgentList, params={**params, **more, "limit": wanted})
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or (limit is not None and len(items) >= limit):
            break
    if cli.json:
        render.emit(AgentList(items=items, next_cursor=cursor))
        return
    render.table(
        ("NAME", "STATE", "VERSION", "IN", "OUT", "HANDLED", "ERRORS", "CAPABILITIES"),
        (_row(item) for item in items),
        styles={1: render.STATE_STYLES},
        empty="no agents match" if params else "no agents; deploy one with `caxton agent deploy`",
    )


def _row(item: Agent) -> tuple[object, ...]:
    counters = item.counters
    if counters is None:
        numbers: tuple[object, ...] = ("-", "-", "-", "-")
    else:
        numbers = (
            counters.messages_in,
            counters.messages_out,
            counters.messages_handled,
            sum(counters.errors.values()),
        )
    return (item.name, item.state, item.version, *numbers, ", ".join(item.capabilities))


@agent.command("get")
@name_argument
def get(name: str) -> None:
    """Everything about agent NAME: state, version, config, limits and counters."""
    _show_agent(context().client().get(f"/agents/{render.part(name)}", Agent), None)


def _show_agent(item: Agent, headline: str | None) -> None:
    if context().json:
        render.emit(item)
        return
    if headline is not None:
        click.echo(headline)
        return
    pairs: list[tuple[str, object]] = [
        ("name", item.name),
        ("state", item.state),
        ("version", item.version),
        ("id", item.id),
        ("module", f"sha256:{item.module_sha256}"),
    ]
    if item.reason:
        pairs.append(("reason", item.reason))
    pairs += [
        ("capabilities", ", ".join(item.capabilities) or "-"),
        ("config", render.brief(item.config, 100)),
        ("limits", render.brief(item.limits, 100)),
    ]
    counters = item.counters
    if counters is None:
        pairs.append(("counters", "- (no instance)"))
    else:
        errors = ", ".join(f"{kind} {count}" for kind, count in sorted(counters.errors.items()))
        pairs += [
            ("messages in", counters.messages_in),
            ("messages out", counters.messages_out),
            ("handled", counters.messages_handled),
            ("mailbox", f"{counters.mailbox_depth} waiting (peak {counters.mailbox_peak})"),
            ("errors", errors or "none"),
            ("fuel used", counters.fuel_used),
            ("memory", f"{counters.memory_bytes} bytes"),
        ]
    render.fields(pairs, styles=render.STATE_STYLES)


def _fail_if_failed(item: Agent) -> None:
    """Exit 1 when the agent ended Failed (a rejected module, a failing caxton_init...)."""
    if item.state != "Failed":
        return
    click.echo(
        f"caxton: agent {item.name} failed: {item.reason}\n"
        f"  fix the module and `caxton agent reload {item.name} FILE --version V`, "
        f"or `caxton agent remove {item.name}`",
        err=True,
    )
    click.get_current_context().exit(EXIT_FAILED)


# ---- actions ----


def _action(verb: str, summary: str) -> None:
    @agent.command(verb, help=summary)
    @name_argument
    def command(name: str) -> None:
        after = context().client().post(f"/agents/{render.part(name)}/{verb}", Agent)
        _show_agent(after, f"{after.name}: {after.state} ({after.version})")
        _fail_if_failed(after)


_action("start", "Start agent NAME (Loaded or Stopped). Exits 5 if its state does not allow it.")
_action("stop", "Stop agent NAME once its mailbox is delivered. Exits 5 if it is not running.")
_action("drain", "Deliver what waits for agent NAME, then stop it.")
_action("rollback", "Put agent NAME back on its previous version. Exits 5 if there is none.")


@agent.command("remove")
@name_argument
def remove(name: str) -> None:
    """Remove agent NAME and everything it holds (its state and mailbox). Cannot be undone."""
    context().client().request("DELETE", f"/agents/{render.part(name)}")
    if not context().json:
        click.echo(f"removed {name}")


# ---- logs ----


@agent.command("logs")
@name_argument
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines; Ctrl-C ends it.")
@click.option(
    "--after", type=click.IntRange(min=0), default=None, help="Only lines after this seq."
)
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Lines first."
)
def logs(name: str, follow: bool, after: int | None, limit: int) -> None:
    """The log lines of agent NAME, as `time level agent: text`; --follow for new ones too.

    With --output json: the AgentLogs page, or with --follow one JSON line per log line.
    """
    cli = context()
    client = cli.client()
    path = f"/agents/{render.part(name)}/logs"
    page = client.get(path, AgentLogs, params={"limit": limit, "after": after})
    if cli.json and not follow:
        render.emit(page)
        return
    try:
        for line in page.items:
            _print_log(line)
        if follow:  # from the page's last_seq: whatever is logged after the page, once
            for _, data in client.events(path, {"follow": "true", "after": page.last_seq}):
                _print_log(client.decode_json(data, AgentLogLine))
    except KeyboardInterrupt:  # Ctrl-C: the usual way to stop following, not an error
        return


def _print_log(line: AgentLogLine) -> None:
    if context().json:
        render.emit_line(line)
    else:
        click.echo(f"{render.when(line.at)} {line.level} {line.agent}: {line.text}")


# ---- new: a project from a template ----


_NEXT_STEPS = {
    "c": "make            # build/{name}.wasm (clang, wasi-libc)",
    "rust": "make            # build/{name}.wasm (rustc with the wasm32-wasi target)",
    "assemblyscript": "make            # npm install once, then build/{name}.wasm",
}


@agent.command("new")
@click.argument("name")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["c", "rust", "assemblyscript"]),
    required=True,
    help="The agent's language.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the project (default: ./NAME).",
)
def new(name: str, language: str, directory: Path | None) -> None:
    """Start a project for agent NAME: source, the SDK, a build and a test of its own.

    \b
      caxton agent new greeter --lang c
      cd greeter && make && make test
      caxton agent deploy build/greeter.wasm --name greeter

    Exits 2 if NAME is not an agent name or the directory is not empty.
    """
    from caxton.scaffold import ScaffoldError, new_project

    target = directory or Path(name)
    try:
        written = new_project(name, language, target)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from None
    cli = context()
    if cli.json:
        render.emit_json({"directory": str(target), "files": [str(path) for path in written]})
        return
    click.echo(f"created {target}/ ({len(written)} files): a {language} agent named {name}")
    click.echo(f"  cd {target}")
    click.echo("  " + _NEXT_STEPS[language].format(name=name))
    click.echo("  make test        # its own test, with caxton.testing (pytest)")
    click.echo(f"  caxton agent deploy build/{name}.wasm --name {name}")


# ---- run: in-process, no server ----


@agent.command("run")
@click.argument("module", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Agent name (default: the file's stem).")
@click.option("--config", "config_text", default="{}", help="JSON object given to caxton_init.")
@click.option(
    "--message",
    "messages",
    multiple=True,
    help="An ACL message as JSON, delivered in order; repeat for more. "
    "receiver defaults to the agent, sender to 'user'.",
)
@click.option("--fuel", type=int, default=None, help="Fuel per handled message.")
@click.option("--memory", type=int, default=None, help="Linear memory ceiling in bytes.")
@click.option("--timeout-ms", type=int, default=None, help="Wall-clock deadline per message.")
def run(
    module: Path,
    name: str | None,
    config_text: str,
    messages: tuple[str, ...],
    fuel: int | None,
    memory: int | None,
    timeout_ms: int | None,
) -> None:
    """Load one agent in-process and deliver MESSAGEs to it, printing one JSON event a line.

    Events: sent, log, error, capability, tool_call and handled. Messages the
    agent sends to itself are delivered too. Exits 0 when the run completed,
    whatever the agent did, and 1 when the module is refused or fails to start.
    """
    from caxton.cli.options import json_object, limits_from, make_runtime, read_module
    from caxton.errors import AgentInitFailed, ModuleRejected
    from caxton.local import LocalNetwork

    agent_name = name or _default_name(module)
    config = json_object("--config", config_text)
    inbound = [_inbound(json_object("--message", text), agent_name) for text in messages]
    with make_runtime() as runtime:
        limits = limits_from(
            runtime, fuel_per_message=fuel, memory_bytes=memory, deadline_ms=timeout_ms
        )
        network = LocalNetwork(runtime, _print_event)
        try:
            loaded = runtime.load(read_module(module), memory_bytes=limits.memory_bytes)
            network.start(loaded, agent_name, config=config, limits=limits)
        except (ModuleRejected, AgentInitFailed) as error:
            _print_event(
                {"event": "error", "class": error.error_class.value, "reason": error.reason}
            )
            click.echo(f"caxton: {module}: {error}", err=True)
            sys.exit(EXIT_FAILED)  # as deploy does for a module that ends Failed
        network.run(inbound)


def _default_name(module: Path) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in module.stem.lower()).strip("-")
    return cleaned if cleaned[:1].isalpha() else f"agent-{cleaned}"[:63]


def _inbound(message: dict[str, Any], agent_name: str) -> dict[str, Any]:
    message.setdefault("receiver", agent_name)
    message.setdefault("sender", "user")
    return message


def _print_event(event: Event) -> None:
    sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
    sys.stdout.flush()
