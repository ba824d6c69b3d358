"""Signed modules: keys, signatures, trusted keys, and signing.policy over the real API and CLI."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import wasmtime
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from caxton.cli import main
from caxton.errors import ConfigError, SignatureRefused
from caxton.security.signing import (
    KeyFiles,
    Policy,
    SigningPolicy,
    TrustedKeys,
    decode_signature,
    key_id,
    load_private_key,
    load_public_key,
    sign,
    verifies,
    write_key_pair,
)
from caxton.server.server import Server
from caxton.settings import AuthSettings, Settings, SigningSettings
from caxton.store import DATABASE_FILE
from live import Live, caxton, live_server

WASM = {"content-type": "application/wasm"}
SIGNATURE = "X-Caxton-Signature"
SIGNED_BY = "X-Caxton-Signed-By"


def echo(ready: str = "echo ready") -> bytes:
    """The example echo agent; another `ready` (10 characters) makes another module."""
    assert len(ready) == len("echo ready")  # the agent logs exactly that many bytes
    text = resources.files("caxton.examples").joinpath("echo.wat").read_text()
    return bytes(wasmtime.wat2wasm(text.replace("echo ready", ready)))


def signature_of(module: bytes, keys: KeyFiles) -> str:
    """The base64 signature, as a header carries it (the file adds a newline)."""
    return sign(module, load_private_key(keys.private)).decode().strip()


def run(*args: str) -> Result:
    """`caxton args...` with no server: the signing commands work on this machine."""
    return CliRunner().invoke(main, list(args))


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeyFiles, KeyFiles, Path]:
    """A trusted key pair, an untrusted one, and a directory holding the trusted public key."""
    where = tmp_path_factory.mktemp("keys")
    trusted, untrusted = write_key_pair(where / "release"), write_key_pair(where / "stranger")
    directory = where / "trusted"
    directory.mkdir()
    shutil.copy(trusted.public, directory / "release.pem")
    return trusted, untrusted, directory


@pytest.fixture(scope="module")
def trusted(keys: tuple[KeyFiles, KeyFiles, Path]) -> KeyFiles:
    return keys[0]


@pytest.fixture(scope="module")
def untrusted(keys: tuple[KeyFiles, KeyFiles, Path]) -> KeyFiles:
    return keys[1]


@contextmanager
def serving(root: Path, policy: Policy, trusted_keys: Path | None) -> Iterator[Live]:
    signing = SigningSettings(policy=policy, trusted_keys=trusted_keys)
    with live_server(root / "data", signing=signing) as live:
        yield live


@pytest.fixture(scope="module")
def verifying(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[KeyFiles, KeyFiles, Path]
) -> Iterator[Live]:
    with serving(tmp_path_factory.mktemp("verify"), "verify", keys[2]) as live:
        yield live


@pytest.fixture(scope="module")
def requiring(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[KeyFiles, KeyFiles, Path]
) -> Iterator[Live]:
    with serving(tmp_path_factory.mktemp("require"), "require", keys[0].public) as live:
        yield live


def deploy(live: Live, name: str, module: bytes, signature: str | None = None) -> httpx.Response:
    """A raw upload; the signature, if any, in its header."""
    headers = WASM if signature is None else {**WASM, SIGNATURE: signature}
    return live.post("/agents", params={"name": name}, content=module, headers=headers)


def refused(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    problem: dict[str, Any] = response.json()
    assert (problem["code"], problem["field"]) == (code, "signature"), problem
    return problem


def absent(live: Live, name: str) -> bool:
    return live.get(f"/agents/{name}").status_code == 404


# ---- keys ----


def test_keygen_writes_the_private_key_0600_and_the_public_key(tmp_path: Path) -> None:
    previous = os.umask(0)  # the mode must come from how the file is created, not the umask
    try:
        result = run("signing", "keygen", "--out", str(tmp_path / "release"))
    finally:
        os.umask(previous)

    assert result.exit_code == 0, result.output
    private, public = tmp_path / "release.key", tmp_path / "release.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS #8, unencrypted
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")  # SubjectPublicKeyInfo
    raw = load_public_key(public).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    ident = hashlib.sha256(raw).hexdigest()[:16]
    assert key_id(load_private_key(private).public_key()) == ident
    assert result.output.startswith(f"key {ident}: ")


def test_keygen_overwrites_nothing(tmp_path: Path) -> None:
    (tmp_path / "release.pub").write_text("mine")

    result = run("signing", "keygen", "--out", str(tmp_path / "release"))

    assert result.exit_code == 5, result.output
    assert "release.pub exists" in result.output
    assert not (tmp_path / "release.key").exists()  # not half a pair either
    assert (tmp_path / "release.pub").read_text() == "mine"


# ---- signatures ----


def test_sign_then_verify_round_trip(tmp_path: Path, keys: tuple[KeyFiles, KeyFiles, Path]) -> None:
    trusted, _, directory = keys
    module = tmp_path / "echo.wasm"
    module.write_bytes(echo())

    signed = run("signing", "sign", str(module), "--key", str(trusted.private))

    assert signed.exit_code == 0, signed.output
    text = (tmp_path / "echo.wasm.sig").read_text()
    assert re.fullmatch(r"[A-Za-z0-9+/]{86}==\n", text)
    assert verifies(module.read_bytes(), base64.b64decode(text), load_public_key(trusted.public))
    for key in (trusted.public, directory):
        checked = run("signing", "verify", str(module), "--key", str(key))
        assert checked.exit_code == 0, checked.output
        assert checked.output == f"{module}: good signature by key {trusted.key_id}\n"


def test_a_flipped_byte_in_the_module_or_the_signature_is_refused(
    tmp_path: Path, trusted: KeyFiles
) -> None:
    module = echo()
    raw = decode_signature(signature_of(module, trusted))
    public = load_public_key(trusted.public)
    assert verifies(module, raw, public)
    assert not verifies(flipped(module, 100), raw, public)
    assert not verifies(module, flipped(raw, 10), public)

    path = tmp_path / "echo.wasm"
    path.write_bytes(flipped(module, 100))
    (tmp_path / "echo.wasm.sig").write_bytes(base64.b64encode(raw) + b"\n")
    bad_module = run("signing", "verify", str(path), "--key", str(trusted.public))
    path.write_bytes(module)
    (tmp_path / "echo.wasm.sig").write_bytes(base64.b64encode(flipped(raw, 10)) + b"\n")
    bad_signature = run("signing", "verify", str(path), "--key", str(trusted.public))

    for result in (bad_module, bad_signature):
        assert result.exit_code == 1, result.output
        assert "BAD signature" in result.output
        assert f"by the trusted key {trusted.key_id}" in result.output


def test_signature_files_may_have_whitespace_around_and_nothing_else() -> None:
    raw = bytes(range(64))
    encoded = base64.b64encode(raw).decode()
    assert decode_signature(f"  \n{encoded}\r\n\n") == raw
    assert decode_signature(encoded.encode()) == raw
    for text in ("not base64!", base64.b64encode(raw[:63]).decode(), "é" * 88, encoded[:40]):
        with pytest.raises(SignatureRefused) as caught:
            decode_signature(text)
        assert caught.value.code == "signature-malformed"


def test_verify_says_what_is_wrong_with_a_key_or_signature_file(
    tmp_path: Path, trusted: KeyFiles
) -> None:
    module = tmp_path / "echo.wasm"
    module.write_bytes(echo())
    (tmp_path / "echo.wasm.sig").write_text("garbage\n")

    private_as_public = run("signing", "verify", str(module), "--key", str(trusted.private))
    malformed = run("signing", "verify", str(module), "--key", str(trusted.public))
    (tmp_path / "echo.wasm.sig").unlink()
    missing = run("signing", "verify", str(module), "--key", str(trusted.public))

    assert private_as_public.exit_code == 2, private_as_public.output
    assert "holds a private key" in private_as_public.output
    assert malformed.exit_code == 1, malformed.output
    assert "not base64" in malformed.output
    assert missing.exit_code == 2, missing.output
    assert "echo.wasm.sig does not exist" in missing.output


def test_sign_refuses_webassembly_text(tmp_path: Path, trusted: KeyFiles) -> None:
    source = tmp_path / "echo.wat"
    source.write_text("(module)")

    result = run("signing", "sign", str(source), "--key", str(trusted.private))

    assert result.exit_code == 2, result.output
    assert "sign the .wasm" in result.output
    assert not (tmp_path / "echo.wat.sig").exists()


def test_the_signing_commands_load_cryptography_only_when_run() -> None:
    probe = "import sys, caxton.cli.signing; print('cryptography' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


# ---- trusted keys ----


def broken_keys(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """(signing.trusted_keys, the file an error must name) for each way keys can be broken."""
    directory = tmp_path / "trusted"
    directory.mkdir()
    if kind == "missing":
        return tmp_path / "nowhere.pem", tmp_path / "nowhere.pem"
    if kind == "empty directory":
        (directory / "README").write_text("keys go here")
        return directory, directory
    culprit = directory / "b.pem"
    shutil.copy(write_key_pair(tmp_path / "good").public, directory / "a.pem")
    if kind == "garbage":
        culprit.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    else:  # a private key, put where the public one should be
        shutil.copy(write_key_pair(tmp_path / "oops").private, culprit)
    return directory, culprit


@pytest.mark.parametrize("kind", ["missing", "empty directory", "garbage", "private key"])
def test_a_broken_trusted_key_at_start_is_a_config_error_naming_it(
    tmp_path: Path, kind: str
) -> None:
    path, culprit = broken_keys(tmp_path, kind)
    data = tmp_path / "data"
    settings = Settings(
        data_dir=data,
        auth=AuthSettings(enabled=False),
        signing=SigningSettings(policy="verify", trusted_keys=path),
    )

    with pytest.raises(ConfigError) as caught:
        Server(settings)

    assert caught.value.setting == "signing.trusted_keys"
    assert str(culprit) in str(caught.value)
    assert not (data / DATABASE_FILE).exists()  # refused before anything was opened


def test_the_environment_sets_the_policy_and_a_directory_of_keys(
    tmp_path: Path, keys: tuple[KeyFiles, KeyFiles, Path]
) -> None:
    trusted, untrusted, _ = keys
    directory = tmp_path / "trusted"
    directory.mkdir()
    shutil.copy(trusted.public, directory / "release.pem")
    shutil.copy(untrusted.public, directory / "stranger.pem")
    (directory / "notes.txt").write_text("not a key, not read")
    env = {
        "HOME": str(tmp_path),
        "CAXTON_SIGNING_POLICY": "require",
        "CAXTON_SIGNING_TRUSTED_KEYS": str(directory),
    }

    policy = SigningPolicy.from_settings(Settings.load(env=env).signing)

    assert policy.policy == "require"
    assert set(policy.trusted.keys) == {trusted.key_id, untrusted.key_id}
    module = echo()
    assert policy.check(module, signature_of(module, untrusted)) == untrusted.key_id


def test_policies_without_a_server() -> None:
    key = Ed25519PrivateKey.generate()
    trusted = TrustedKeys({key_id(key.public_key()): key.public_key()})
    module = echo()
    good = sign(module, key)
    assert SigningPolicy("off", trusted).check(module, b"garbage") is None
    assert SigningPolicy("verify", trusted).check(module, None) is None
    assert SigningPolicy("verify", trusted).check(module, good) == key_id(key.public_key())
    with pytest.raises(SignatureRefused) as caught:
        SigningPolicy("require", trusted).check(module, None)
    assert caught.value.code == "signature-required"
    with pytest.raises(SignatureRefused) as caught:
        SigningPolicy("verify").check(module, good)  # no key trusted: nothing to verify with
    assert caught.value.code == "signature-invalid"


# ---- the policy over the API ----


def test_verify_takes_unsigned_and_trusted_modules_and_names_the_signer(
    verifying: Live, trusted: KeyFiles
) -> None:
    module = echo()
    signature = signature_of(module, trusted)
    multipart = {"module": ("echo.wasm", module, "application/wasm")}

    unsigned = deploy(verifying, "v-unsigned", module)
    by_header = deploy(verifying, "v-header", module, signature)
    by_field = verifying.post(
        "/agents", params={"name": "v-field"}, files=multipart, data={"signature": f"{signature}\n"}
    )
    by_file = verifying.post(
        "/agents",
        params={"name": "v-file"},
        files={**multipart, "signature": ("echo.wasm.sig", f"{signature}\n".encode())},
    )

    assert unsigned.status_code == 201, unsigned.text
    assert SIGNED_BY not in unsigned.headers
    for answer in (by_header, by_field, by_file):
        assert answer.status_code == 201, answer.text
        assert answer.headers[SIGNED_BY] == trusted.key_id
        assert answer.json()["state"] == "Running"


@pytest.mark.parametrize("case", ["other module", "untrusted key", "flipped", "malformed"])
def test_verify_refuses_a_bad_signature_and_stores_nothing(
    verifying: Live,
    trusted: KeyFiles,
    untrusted: KeyFiles,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = echo()
    signature = {
        "other module": signature_of(echo("echo again"), trusted),
        "untrusted key": signature_of(module, untrusted),
        "flipped": base64.b64encode(
            flipped(decode_signature(signature_of(module, trusted)), 0)
        ).decode(),
        "malformed": "c2lnbmVkPw==",
    }[case]
    name = f"bad-{case.replace(' ', '-')}"

    with caplog.at_level(logging.WARNING, logger="caxton.signing"):
        answer = deploy(verifying, name, module, signature)

    problem = refused(answer, "signature-malformed" if case == "malformed" else "signature-invalid")
    assert absent(verifying, name)
    if case != "malformed":
        assert f"the trusted key {trusted.key_id}" in problem["detail"]
    logged = [r for r in caplog.records if r.name == "caxton.signing"]
    assert logged
    assert name in logged[-1].getMessage()
    assert problem["code"] in logged[-1].getMessage()


def test_verify_with_no_trusted_key_refuses_any_signature(
    tmp_path: Path, trusted: KeyFiles
) -> None:
    module = echo()
    with serving(tmp_path, "verify", None) as live:
        signed = deploy(live, "signed", module, signature_of(module, trusted))
        unsigned = deploy(live, "unsigned", module)

        problem = refused(signed, "signature-invalid")
        assert "signing.trusted_keys" in problem["detail"]
        assert absent(live, "signed")
        assert unsigned.status_code == 201, unsigned.text


def test_off_ignores_signatures(tmp_path: Path, trusted: KeyFiles) -> None:
    with serving(tmp_path, "off", trusted.public) as live:
        answer = deploy(live, "anything", echo(), "not even base64")

        assert answer.status_code == 201, answer.text
        assert SIGNED_BY not in answer.headers


def test_require_refuses_unsigned_and_untrusted_modules(
    requiring: Live, trusted: KeyFiles, untrusted: KeyFiles
) -> None:
    module = echo()

    unsigned = deploy(requiring, "r-unsigned", module)
    stranger = deploy(requiring, "r-stranger", module, signature_of(module, untrusted))
    signed = deploy(requiring, "r-signed", module, signature_of(module, trusted))

    assert "signing.policy is require" in refused(unsigned, "signature-required")["detail"]
    refused(stranger, "signature-invalid")
    assert absent(requiring, "r-unsigned")
    assert absent(requiring, "r-stranger")
    assert signed.status_code == 201, signed.text
    assert signed.headers[SIGNED_BY] == trusted.key_id


def test_require_holds_for_updates(requiring: Live, trusted: KeyFiles, untrusted: KeyFiles) -> None:
    first, second = echo(), echo("echo again")
    assert deploy(requiring, "r-update", first, signature_of(first, trusted)).status_code == 201

    def reload(signature: str | None) -> httpx.Response:
        headers = WASM if signature is None else {**WASM, SIGNATURE: signature}
        return requiring.post(
            "/agents/r-update/reload", params={"version": "2"}, content=second, headers=headers
        )

    refused(reload(None), "signature-required")
    refused(reload(signature_of(second, untrusted)), "signature-invalid")
    refused(reload(signature_of(first, trusted)), "signature-invalid")  # the old module's
    assert requiring.get("/agents/r-update").json()["version"] == "1"
    updated = reload(signature_of(second, trusted))
    assert updated.status_code == 200, updated.text
    assert updated.headers[SIGNED_BY] == trusted.key_id
    assert updated.json()["module_sha256"] == hashlib.sha256(second).hexdigest()


# ---- the CLI sends signatures ----


def test_cli_deploy_sends_module_sig_by_itself(
    requiring: Live, trusted: KeyFiles, tmp_path: Path
) -> None:
    module = tmp_path / "echo.wasm"
    module.write_bytes(echo())
    unsigned = caxton(requiring, "agent", "deploy", str(module), "--name", "c-unsigned")
    assert run("signing", "sign", str(module), "--key", str(trusted.private)).exit_code == 0

    signed = caxton(requiring, "agent", "deploy", str(module), "--name", "c-signed")
    declined = caxton(
        requiring, "agent", "deploy", str(module), "--name", "c-declined", "--no-signature"
    )

    assert unsigned.exit_code == 2, unsigned.output
    assert "[signature-required]" in unsigned.output
    assert signed.exit_code == 0, signed.output
    assert signed.output == f"deployed c-signed 1: Running (signature {module}.sig)\n"
    assert declined.exit_code == 2, declined.output
    assert "[signature-required]" in declined.output


def test_cli_reload_sends_the_signature_it_is_given(
    requiring: Live, trusted: KeyFiles, tmp_path: Path
) -> None:
    first, second = tmp_path / "v1.wasm", tmp_path / "v2.wasm"
    first.write_bytes(echo())
    second.write_bytes(echo("echo again"))
    signature = tmp_path / "elsewhere.sig"
    signature.write_text(signature_of(second.read_bytes(), trusted))
    deployed = caxton(
        requiring,
        "agent",
        "deploy",
        str(first),
        "--name",
        "c-reload",
        "--signature",
        str(signature),
    )
    assert deployed.exit_code == 2, deployed.output  # v2's signature does not cover v1
    assert "[signature-invalid]" in deployed.output
    first_signature = tmp_path / "v1.wasm.sig"
    first_signature.write_text(signature_of(first.read_bytes(), trusted))
    assert caxton(requiring, "agent", "deploy", str(first), "--name", "c-reload").exit_code == 0

    reloaded = caxton(
        requiring,
        "agent",
        "reload",
        "c-reload",
        str(second),
        "--version",
        "2",
        "--signature",
        str(signature),
    )

    assert reloaded.exit_code == 0, reloaded.output
    assert reloaded.output.startswith("reloaded c-reload: now 2, Running (signature ")


def test_cli_deploy_will_not_sign_webassembly_text(verifying: Live, tmp_path: Path) -> None:
    source = tmp_path / "echo.wat"
    source.write_text(resources.files("caxton.examples").joinpath("echo.wat").read_text())
    (tmp_path / "echo.wat.sig").write_text("whatever\n")

    result = caxton(verifying, "agent", "deploy", str(source), "--name", "c-text")

    assert result.exit_code == 2, result.output
    assert "sign the .wasm" in result.output
    assert absent(verifying, "c-text")
