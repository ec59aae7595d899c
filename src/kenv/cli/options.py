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


def environment_options(command: F) -> F:
    """The options that describe an environment, shared by `register` and `create` (see kenv.inventory.spec_choices)."""
    options = [
        provider_option(),
        click.option("--role", type=click.Choice(["business", "management"]), default="business", show_default=True),
        click.option("--subnet", metavar="CIDR|auto|none", help="Docker subnet (k3d, minikube). [default: auto]"),
        click.option("--http-port", metavar="N|auto|none", help="Host port for HTTP ingress. [default: auto]"),
        click.option("--https-port", metavar="N|auto|none", help="Host port for HTTPS ingress. [default: auto]"),
        click.option("--pf-port", metavar="N|auto|none", help="Host port for port-forwards. [default: auto]"),
        click.option("--api-port", metavar="N|auto|none", help="Host port of the Kubernetes API. [default: auto]"),
        click.option("--node-port", type=int, help="In-cluster ingress NodePort (30000-32767). [default: 30080]"),
        click.option("--servers", type=int, default=1, show_default=True, help="Control-plane nodes."),
        click.option("--agents", type=int, default=0, show_default=True, help="Worker nodes."),
        click.option("--k8s-version", metavar="V", help="Kubernetes version (v1.31.5-k3s1 for k3d) or a node image."),
        click.option(
            "--label",
            "labels",
            multiple=True,
            metavar="KEY=VALUE",
            help="Label (repeatable); on an existing record, create replaces its labels.",
        ),
        click.option("--allow-privileged-port", is_flag=True, help="Allow host ports below 1024."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


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
