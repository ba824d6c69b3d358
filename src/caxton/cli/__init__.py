"""The `caxton` command line."""

from __future__ import annotations

import click

from caxton import __version__
from caxton.cli.agent import agent
from caxton.cli.demo import demo
from caxton.cli.message import message


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="caxton")
def main() -> None:
    """Caxton: an application server for multi-agent systems."""


main.add_command(agent)
main.add_command(demo)
main.add_command(message)

__all__ = ["main"]
