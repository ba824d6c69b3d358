"""`caxton completion bash|zsh|fish`: the shell script that completes caxton's commands.

It is click's own completion (the `_CAXTON_COMPLETE=bash_source caxton`
mechanism): the script calls `caxton` back with `_CAXTON_COMPLETE` set, and
agent names are completed from the server at --url when it answers.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_CAXTON_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL; load it from your shell's start-up file.

    \b
      bash: eval "$(caxton completion bash)"   in ~/.bashrc
      zsh:  eval "$(caxton completion zsh)"    in ~/.zshrc
      fish: caxton completion fish > ~/.config/fish/completions/caxton.fish
    """
    from click.shell_completion import get_completion_class

    from caxton.cli import main

    kind = get_completion_class(shell)
    if kind is None:  # click knows all three; kept for a click that drops one
        raise click.UsageError(f"this click cannot complete {shell}")
    click.echo(kind(main, {}, "caxton", COMPLETE_VAR).source())
