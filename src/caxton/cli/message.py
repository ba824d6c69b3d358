"""`caxton message ...`: ACL messages on the command line, no server needed."""

from __future__ import annotations

import sys
from typing import Any

import click

from caxton.acl import (
    decode_fipa,
    decode_json,
    encode_fipa,
    encode_json,
    validate_message,
    validate_shape,
)
from caxton.errors import InvalidMessage

EXIT_INVALID = 2
FORMATS = ("json", "fipa")


@click.group()
def message() -> None:
    """Work with ACL messages: convert them between representations."""


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
    stderr, when the input is not a message.
    """
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
    return decode_json(data) if source == "json" else decode_fipa(data)


def _encode(target: str, decoded: dict[str, Any], pretty: bool) -> bytes:
    if target == "json":
        return encode_json(decoded, pretty=pretty)
    return encode_fipa(decoded, pretty=pretty).encode()
