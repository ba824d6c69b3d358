"""`caxton signing keygen|sign|verify`: ed25519 keys for agent modules, used on this machine.

Nothing here talks to a server. A server trusts the public keys named by
`signing.trusted_keys` and, by `signing.policy`, checks or requires the
signature that `caxton agent deploy` sends. cryptography is imported inside
each command (through caxton.security.signing), so listing the commands
stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import orjson

from caxton.cli.context import EXIT_CONFLICT, EXIT_FAILED, EXIT_USAGE, context

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
T = TypeVar("T")


@click.group()
def signing() -> None:
    """Make ed25519 signing keys, and sign and verify agent modules.

    A server that trusts the public key (signing.trusted_keys) accepts the
    modules signed with the private one; `caxton agent deploy` sends
    MODULE.sig along when it exists.
    """


@signing.command("keygen")
@click.option(
    "--out",
    "prefix",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write PREFIX.key (private, mode 0600) and PREFIX.pub (public).",
)
def keygen(prefix: Path) -> None:
    """Make a key pair: PREFIX.key signs (keep it secret), PREFIX.pub is for servers to trust.

    Prints the key's id, which names the signer wherever a signature is
    checked. Exits 5, writing nothing, when either file exists.
    """
    from caxton.cli.client import CliError
    from caxton.security.signing import write_key_pair

    try:
        written = write_key_pair(prefix)
    except FileExistsError as error:
        raise CliError(
            f"{error.filename} exists; keys are never overwritten: choose another --out",
            EXIT_CONFLICT,
        ) from None
    except OSError as error:
        raise CliError(f"cannot write {error.filename}: {error.strerror}", EXIT_FAILED) from None
    _report(
        {"key_id": written.key_id, "private": str(written.private), "public": str(written.public)},
        f"key {written.key_id}: {written.private} signs (keep it secret), "
        f"{written.public} verifies (give it to the servers that trust you)",
    )


@signing.command("sign")
@click.argument("module", type=_FILE)
@click.option("--key", "key_file", required=True, type=_FILE, help="The private key (PREFIX.key).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The signature file to write (default: MODULE.sig, replaced if there).",
)
def sign(module: Path, key_file: Path, out: Path | None) -> None:
    """Sign MODULE's exact bytes with --key, into MODULE.sig (base64 and a newline).

    Sign the .wasm that is deployed: the server checks the bytes it receives,
    so a .wat (compiled by `agent deploy`) is refused here.
    """
    from caxton.security import signing as signatures

    if module.suffix == ".wat":
        raise click.BadParameter(
            f"{module} is WebAssembly text; compile it and sign the .wasm, which is what "
            "the server receives and checks",
            param_hint="MODULE",
        )
    key = _config(lambda: signatures.load_private_key(key_file, label="--key"))
    target = out or signatures.signature_path(module)
    target.write_bytes(signatures.sign(module.read_bytes(), key))
    signer = signatures.key_id(key.public_key())
    _report(
        {"module": str(module), "signature": str(target), "key_id": signer},
        f"signed {module} with key {signer}: {target}",
    )


@signing.command("verify")
@click.argument("module", type=_FILE)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A public key (PREFIX.pub), or a directory of *.pem public keys.",
)
@click.option(
    "--signature",
    "signature_file",
    type=_FILE,
    default=None,
    help="The signature file (default: MODULE.sig).",
)
def verify(module: Path, key_path: Path, signature_file: Path | None) -> None:
    """Check MODULE's signature against --key, as a server trusting it would.

    Exits 0 when the signature is by the key (or one of the directory's),
    1 when it is not, or is not a signature at all.
    """
    from caxton.cli.client import CliError
    from caxton.errors import SignatureRefused
    from caxton.security.signing import TrustedKeys, decode_signature, signature_path

    path = signature_file or signature_path(module)
    if not path.is_file():
        raise click.BadParameter(f"{path} does not exist", param_hint="--signature")
    trusted = _config(lambda: TrustedKeys.load(key_path, label="--key"))
    try:
        signer = trusted.signer(module.read_bytes(), decode_signature(path.read_bytes()))
    except SignatureRefused as error:
        raise CliError(f"{module}: {path}: {error}", EXIT_FAILED) from None
    if signer is None:
        raise CliError(
            f"{module}: BAD signature: {path} was not made over these bytes by "
            f"{trusted.describe()}",
            EXIT_FAILED,
        )
    _report(
        {"module": str(module), "signature": str(path), "key_id": signer, "ok": True},
        f"{module}: good signature by key {signer}",
    )


def _config(load: Callable[[], T]) -> T:
    """`load()`, its ConfigError (a key file that is no key) made a usage error (exit 2)."""
    from caxton.cli.client import CliError
    from caxton.errors import ConfigError

    try:
        return load()
    except ConfigError as error:
        raise CliError(str(error), EXIT_USAGE) from None


def _report(data: dict[str, object], line: str) -> None:
    """`data` as JSON with --output json, else `line`."""
    if context().json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(line)
