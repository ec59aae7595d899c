"""Shell completion scripts."""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    Examples:
      eval "$(kenv completion bash)"                       # current bash session
      kenv completion bash > ~/.local/share/bash-completion/completions/kenv
      kenv completion zsh > "${fpath[1]}/_kenv"
      kenv completion fish > ~/.config/fish/completions/kenv.fish
    """
    from click.shell_completion import get_completion_class

    from kenv.cli.main import cli

    completer_class = get_completion_class(shell)
    assert completer_class is not None
    completer = completer_class(cli, {}, "kenv", "_KENV_COMPLETE")
    click.echo(completer.source())
