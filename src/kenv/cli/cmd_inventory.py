"""register, list, get, unregister, history."""

from __future__ import annotations

import sys

import click

from kenv.cli.main import App
from kenv.cli.options import (
    complete_environment_names,
    dry_run_option,
    environment_options,
    label_filter_option,
)
from kenv.cli.render import LIST_FORMATS, emit, output_option
from kenv.settings import PROVIDERS

LIST_COLUMNS = [
    ("NAME", "name"),
    ("PROVIDER", "provider"),
    ("ROLE", "role"),
    ("STATUS", "status"),
    ("SUBNET", "subnet"),
    ("HTTP", "http_port"),
    ("HTTPS", "https_port"),
    ("PF", "pf_port"),
    ("API", "api_port"),
    ("NODEPORT", "node_port"),
]

REGISTER_EPILOG = """\b
Examples:
  kenv register dev                               k3d, every port and the subnet chosen by kenv
  kenv register qa --provider kind --http-port 18080 --https-port 18443
  kenv register legacy --subnet 10.101.0.0/16 --skip-host-checks   adopt a running cluster
  kenv register ext --provider external --label team=payments
"""


@click.command(epilog=REGISTER_EPILOG)
@click.argument("name")
@environment_options
@click.option(
    "--skip-host-checks",
    is_flag=True,
    help="Do not test ports/subnets against this machine (adopting a running cluster).",
)
@dry_run_option()
@output_option()
@click.pass_obj
def register(
    app: App,
    name: str,
    provider: str | None,
    role: str,
    subnet: str | None,
    http_port: str | None,
    https_port: str | None,
    pf_port: str | None,
    api_port: str | None,
    node_port: int | None,
    servers: int,
    agents: int,
    k8s_version: str | None,
    labels: tuple[str, ...],
    allow_privileged_port: bool,
    skip_host_checks: bool,
    dry_run: bool,
    output: str,
) -> None:
    """Record environment NAME in the inventory without creating a cluster.

    Values given as 'auto' (the default) are allocated: the lowest free port of each purpose's
    range, skipping ports another process holds, and the lowest free subnet of the pool,
    skipping Docker networks. Explicit values are checked the same way.
    """
    from kenv.inventory.repository import AllocationPolicy
    from kenv.inventory.spec_choices import spec_from_choices
    from kenv.runtime.host import LiveHostProbe

    settings = app.settings()
    spec, _ = spec_from_choices(
        settings,
        name,
        provider=provider,
        role=role,
        subnet=subnet,
        ports={"http": http_port, "https": https_port, "pf": pf_port, "api": api_port},
        node_port=node_port,
        servers=servers,
        agents=agents,
        k8s_version=k8s_version,
        labels=labels,
        allow_privileged_port=allow_privileged_port,
        check_host=not skip_host_checks,
    )
    inventory = app.inventory()
    env = inventory.register(spec, AllocationPolicy.from_settings(settings), LiveHostProbe(), dry_run=dry_run)
    if dry_run:
        click.echo("dry-run: would record this environment (nothing was written):", err=True)
    emit(env.to_dict(), output)


@click.command("list")
# Not provider_option: that one names the default provider, and a filter has no default.
@click.option("--provider", type=click.Choice(PROVIDERS), help="Only this provider's environments. [default: all]")
@label_filter_option()
@output_option(LIST_FORMATS)
@click.pass_obj
def list_environments(app: App, provider: str | None, labels: tuple[str, ...], output: str) -> None:
    """List environments in the inventory.

    \b
    Examples:
      kenv list
      kenv list -o json --provider kind
      kenv list --label team=payments -o csv
    """
    from kenv.inventory.model import JSON_KEYS
    from kenv.inventory.validation import parse_labels

    envs = app.inventory().environments(provider=provider, labels=parse_labels(labels))
    emit([env.to_dict() for env in envs], output, columns=LIST_COLUMNS, keys=JSON_KEYS)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@output_option()
@click.pass_obj
def get(app: App, name: str, output: str) -> None:
    """Show environment NAME.

    \b
    Example:
      kenv get dev -o yaml
    """
    emit(app.inventory().get(name).to_dict(), output)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@dry_run_option()
@output_option()
@click.pass_obj
def unregister(app: App, name: str, dry_run: bool, output: str) -> None:
    """Remove NAME's record and free its ports and subnet. No cluster is touched.

    \b
    Example:
      kenv unregister old-qa
    """
    inventory = app.inventory()
    if dry_run:
        env = inventory.get(name)
        click.echo(f"dry-run: would remove {name!r} and free its ports and subnet (nothing was written)", err=True)
    else:
        env = inventory.unregister(name)
        sys.stderr.write(f"unregistered {name!r}; its cluster, if any, was left untouched\n")
    emit(env.to_dict(), output)


@click.command()
@click.argument("name", required=False, shell_complete=complete_environment_names)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@output_option()
@click.pass_obj
def history(app: App, name: str | None, limit: int, output: str) -> None:
    """Operations recorded in the inventory, newest first (optionally for NAME only)."""
    rows = app.inventory().operations(name, limit)
    columns = [
        ("ID", "id"),
        ("ENVIRONMENT", "environment"),
        ("OPERATION", "operation"),
        ("STATUS", "status"),
        ("ACTOR", "actor"),
        ("STARTED", "started_at"),
        ("ERROR", "error"),
    ]
    emit(rows, output, columns=columns, empty="No operations recorded.")
