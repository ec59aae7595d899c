"""Options shared by several commands, and shell-completion helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from kenv.settings import PROVIDERS

F = TypeVar("F", bound=Callable[..., Any])


def complete_environment_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Names from the inventory; completion must never fail loudly, so any error yields nothing."""
    del param
    try:
        from kenv.cli.main import App

        app = ctx.find_object(App) or App()
        names = [env.name for env in app.inventory().environments()]
    except Exception:  # noqa: BLE001 - a broken completion must not print a traceback into the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def provider_option(default: str | None = None, help_text: str = "Cluster provider.") -> Callable[[F], F]:
    return click.option(
        "--provider",
        type=click.Choice(PROVIDERS),
        default=default,
        help=help_text + " [default: from config, k3d]",
    )


def dry_run_option() -> Callable[[F], F]:
    return click.option("--dry-run", is_flag=True, help="Print the exact plan and change nothing.")


def label_filter_option() -> Callable[[F], F]:
    return click.option(
        "--label",
        "labels",
        multiple=True,
        metavar="KEY=VALUE",
        help="Only environments with this label (repeatable).",
    )
