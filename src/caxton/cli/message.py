"""`caxton message ...`: send messages and read the server's history; `convert` works offline."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

import click
import orjson

from caxton.cli import render
from caxton.cli.context import context

if TYPE_CHECKING:
    from caxton.api.types import MessageRecord

EXIT_INVALID = 2
FORMATS = ("json", "fipa")
FIPA_ACL = "application/fipa-acl"


@click.group()
def message() -> None:
    """Send ACL messages to agents, read recent ones, convert between representations."""


# ---- send ----


@message.command("send")
@click.option(
    "--to", "receivers", multiple=True, help="The receiving agent; repeat for more than one."
)
@click.option("--performative", "-p", default="inform", show_default=True, help="The act.")
@click.option("--content", "content_text", default=None, help="The content, as JSON.")
@click.option("--conversation", default=None, help="conversation_id (default: a new one).")
@click.option("--protocol", default=None, help="e.g. fipa-request.")
@click.option("--from", "sender", default=None, help="The sender's name (default: gateway).")
@click.option("--fipa", "fipa_text", default=None, help="A whole message in FIPA string syntax.")
@click.option(
    "--file",
    "file",
    type=click.File("rb"),
    default=None,
    help="A whole message from FILE ('-' for stdin): JSON, or FIPA syntax if it starts with '('.",
)
def send(
    receivers: tuple[str, ...],
    performative: str,
    content_text: str | None,
    conversation: str | None,
    protocol: str | None,
    sender: str | None,
    fipa_text: str | None,
    file: IO[bytes] | None,
) -> None:
    """Send one message; prints its message_id and conversation_id.

    Build it from --to and the other options, or give a whole message with
    --fipa TEXT or --file FILE. Exits 2 when the server finds the message
    malformed or invalid (the error names the field).
    """
    from caxton.api.types import AclMessage, SendResult

    if fipa_text is not None and file is not None:
        raise click.UsageError("give --fipa or --file, not both")
    built = {"--to": receivers, "--content": content_text, "--conversation": conversation,
             "--protocol": protocol, "--from": sender}  # fmt: skip
    clashing = [flag for flag, value in built.items() if value]
    if (fipa_text is not None or file is not None) and clashing:
        whole = "--fipa" if fipa_text is not None else "--file"
        raise click.UsageError(f"{whole} holds the whole message: drop {clashing[0]}")
    body: bytes | AclMessage
    if fipa_text is not None:
        body, kind = fipa_text.encode(), FIPA_ACL
    elif file is not None:
        body = file.read()
        kind = FIPA_ACL if body.lstrip().startswith(b"(") else "application/json"
    elif not receivers:
        raise click.UsageError("say who receives it with --to NAME (or give --fipa or --file)")
    else:
        draft = AclMessage(
            performative=performative,
            sender=sender,
            receiver=receivers[0] if len(receivers) == 1 else list(receivers),
            content=None if content_text is None else render.json_value("--content", content_text),
            protocol=protocol,
            conversation_id=conversation,
        )
        body, kind = draft, "application/json"
    cli = context()
    sent = cli.client().post("/messages", SendResult, body=body, content_type=kind)
    if cli.json:
        render.emit(sent)
    else:
        click.echo(f"sent {sent.message_id} (conversation {sent.conversation_id or '-'})")


# ---- list ----


@message.command("list")
@click.option("--agent", default=None, help="Only messages from or to this agent.")
@click.option("--conversation", default=None, help="Only this conversation's messages.")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Newest N."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new ones; Ctrl-C ends it.")
def list_messages(agent: str | None, conversation: str | None, limit: int, follow: bool) -> None:
    """The newest messages the server routed, oldest first; --follow for new ones too.

    With --output json: the MessageList page, or with --follow one message a line.
    """
    from caxton.api.types import MessageList

    cli = context()
    client = cli.client()
    chosen = (("agent", agent), ("conversation", conversation))
    filters = {key: value for key, value in chosen if value is not None}
    page = client.get("/messages", MessageList, params={**filters, "limit": limit})
    if cli.json and not follow:
        render.emit(page)
        return
    if not follow:
        render.table(
            ("SEQ", "TIME", "PERFORMATIVE", "FROM", "TO", "CONVERSATION", "CONTENT"),
            (_row(record) for record in page.items),
            empty="no messages",
        )
        return
    try:
        for record in page.items:
            _print_message(record.seq, record.message)
        # From the page's last_seq: whatever is routed after the page, once.
        params = {**filters, "follow": "true", "after": page.last_seq}
        for seq, data in client.events("/messages", params):
            _print_message(seq, orjson.loads(data))
    except KeyboardInterrupt:  # Ctrl-C: the usual way to stop following, not an error
        return


def _row(record: MessageRecord) -> tuple[object, ...]:
    message = record.message
    receiver = message.get("receiver")
    return (
        record.seq,
        render.when(record.at),
        message.get("performative", "?"),
        message.get("sender") or "-",
        ", ".join(receiver) if isinstance(receiver, list) else receiver or "-",
        message.get("conversation_id") or "-",
        render.brief(message.get("content"), 50),
    )


def _print_message(seq: int | None, message: dict[str, Any]) -> None:
    """One message as it was routed (ABI v1's JSON form); a line of text for people."""
    if context().json:
        render.emit_line(message)
        return
    receiver = message.get("receiver")
    to = ", ".join(receiver) if isinstance(receiver, list) else receiver or "-"
    click.echo(
        f"{seq if seq is not None else '-'} {message.get('performative', '?')} "
        f"{message.get('sender') or '-'} -> {to} [{message.get('conversation_id') or '-'}] "
        f"{render.brief(message.get('content'), 80)}"
    )


# ---- convert: offline ----


@message.command("convert")
@click.option(
    "--from", "source", type=click.Choice(FORMATS), required=True, help="What stdin holds."
)
@click.option(
    "--to", "target", type=click.Choice(FORMATS), required=True, help="What to write on stdout."
)
@click.option(
    "--pretty", is_flag=True, help="Indented JSON, or one FIPA parameter a line (default compact)."
)
@click.option(
    "--validate",
    is_flag=True,
    help="Also apply ABI v1's rules (agent names, reply_by...); receiver stays optional.",
)
def convert(source: str, target: str, pretty: bool, validate: bool) -> None:
    """Read one ACL message on stdin and write it on stdout in another representation.

    JSON is ABI v1's form; FIPA is the string representation of FIPA SC00070
    (docs/acl.md has the mapping). Only the types and keys are checked unless
    --validate is given. Exits 0 on success and 2, with a one-line error on
    stderr, when the input is not a message. Needs no server.
    """
    from caxton.acl import validate_message, validate_shape
    from caxton.errors import InvalidMessage

    data = sys.stdin.buffer.read()
    try:
        decoded = _decode(source, data)
        if validate:
            validate_message(decoded, require_receiver=False)
        else:
            validate_shape(decoded)
        output = _encode(target, decoded, pretty)
    except InvalidMessage as error:
        one_line = str(error).replace("\r", "\\r").replace("\n", "\\n")
        click.echo(f"caxton: message convert: {one_line}", err=True)
        sys.exit(EXIT_INVALID)
    sys.stdout.buffer.write(output + b"\n")
    sys.stdout.flush()


def _decode(source: str, data: bytes) -> dict[str, Any]:
    from caxton.acl import decode_fipa, decode_json

    return decode_json(data) if source == "json" else decode_fipa(data)


def _encode(target: str, decoded: dict[str, Any], pretty: bool) -> bytes:
    from caxton.acl import encode_fipa, encode_json

    if target == "json":
        return encode_json(decoded, pretty=pretty)
    return encode_fipa(decoded, pretty=pretty).encode()
