"""`kenv postgres`: render, deploy and operate the platform's PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option

if TYPE_CHECKING:
    from kenv.platform.postgres.params import Params

F = TypeVar("F", bound=Callable[..., Any])
PROFILES = ("web", "oltp", "dw", "mixed")  # kenv.platform.postgres.tuning.PROFILES, without its import


@click.group()
def postgres() -> None:
    """PostgreSQL for the platform: render, deploy, back up, restore, upgrade, status.

    \b
    Examples:
      kenv postgres render --memory 2Gi --profile web -o ./postgres
      kenv postgres deploy --env devops --via gitops
      kenv postgres deploy --env devops --via apply --dry-run
      kenv postgres backup --env devops
      kenv postgres restore --to-time '2026-12-01 10:00:00+00' --data-dir /srv/pg-restored --port 5440 --local URL
      kenv postgres status -o json
      kenv postgres upgrade --to 16.6 --dry-run
    """


def render_options(command: F) -> F:
    """The options that shape the rendered directory, shared by `render` and `deploy`."""
    options = [
        click.option(
            "--memory", metavar="SIZE", default="2Gi", show_default=True, help="Memory of the pod (request = limit)."
        ),
        click.option("--cpu", type=int, metavar="N", default=2, show_default=True, help="CPUs the settings assume."),
        click.option("--max-connections", type=int, metavar="N", help="[default: web 200, oltp 300, dw 40, mixed 100]"),
        click.option("--storage", metavar="SIZE", default="20Gi", show_default=True, help="Data volume size."),
        click.option(
            "--wal-archive-storage", metavar="SIZE", default="10Gi", show_default=True, help="WAL archive volume size."
        ),
        click.option(
            "--version", "pg_version", type=int, metavar="MAJOR", default=16, show_default=True, help="13 to 17."
        ),
        click.option("--namespace", metavar="NS", default="infra", show_default=True, help="Namespace to run in."),
        click.option("--profile", type=click.Choice(PROFILES), default="web", show_default=True, help="Workload."),
        click.option("--tls", is_flag=True, help="Require TLS (hostssl, TLSv1.3) with the Secret postgres-tls."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def params_from(options: dict[str, Any]) -> Params:
    from kenv.platform.postgres.params import Params

    return Params(
        memory=options["memory"],
        cpu=options["cpu"],
        max_connections=options["max_connections"],
        storage=options["storage"],
        wal_archive_storage=options["wal_archive_storage"],
        version=options["pg_version"],
        namespace=options["namespace"],
        profile=options["profile"],
        tls=options["tls"],
    ).validate()


@postgres.command()
@render_options
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Directory to write.")
@click.option("--force", is_flag=True, help="Replace a directory that is not empty.")
def render(out: Path, force: bool, **options: Any) -> None:
    """Write a kustomize directory for one tuned, locked-down PostgreSQL (no Secret in it).

    The settings come from pgtune's formulas (docs/postgres.md); the admin password is a Secret
    that `kenv postgres deploy` creates in the cluster.

    \b
    Examples:
      kenv postgres render -o ./postgres                     2Gi, web, 200 connections
      kenv postgres render --memory 8Gi --cpu 4 --profile oltp -o ./postgres --force
      kenv postgres render --tls --namespace data -o ./postgres
      kubectl kustomize ./postgres                           what it applies
    """
    from kenv.platform.postgres.output import write_directory
    from kenv.platform.postgres.render import render_files, tune

    params = params_from(options)
    files = render_files(params)
    target = write_directory(files, out, force=force)
    settings = tune(params).settings
    summary = ", ".join(
        f"{key} {settings[key]}"
        for key in ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "max_connections")
    )
    click.echo(f"rendered {len(files)} files into {target} ({params.image}; {summary})")


@postgres.command()
@click.option(
    "--env", "environment", metavar="ENV", default="devops", show_default=True, help="Environment to deploy to."
)
@click.option(
    "--via",
    type=click.Choice(["apply", "gitops"]),
    default="apply",
    show_default=True,
    help="kubectl apply -k, or a commit to the GitOps repository.",
)
@click.option("--show-secret", is_flag=True, help="Print the admin password.")
@click.option(
    "--timeout",
    "timeout_text",
    metavar="DURATION",
    default="300s",
    show_default=True,
    help="How long to wait for readiness.",
)
@dry_run_option()
@render_options
@click.pass_obj
def deploy(
    app: App, /, environment: str, via: str, show_secret: bool, timeout_text: str, dry_run: bool, **options: Any
) -> None:
    """Deploy PostgreSQL to an environment and wait until it is ready.

    The admin password is generated once, kept in the Secret postgres-admin and in a 0600 file
    under the data directory (secrets/ENV/postgres.env), and reaches kubectl on stdin only.
    --via apply runs `kubectl apply -k` with the environment's kubeconfig; --via gitops commits the
    rendered directory to the platform GitOps repository (DATA/gitops, path postgres/), never the
    Secret. When the pod does not become ready, the doctor names why.

    \b
    Examples:
      kenv postgres deploy --env devops
      kenv postgres deploy --env devops --memory 4Gi --profile oltp --dry-run
      kenv postgres deploy --env devops --via gitops --timeout 10m
      kenv postgres deploy --env devops --show-secret
    """
    from kenv.cli.workflow_support import parse_duration, workflow_context
    from kenv.workflows.postgres_deploy import DeployRequest
    from kenv.workflows.postgres_deploy import deploy as run_deploy

    params = params_from(options)
    timeout = parse_duration(timeout_text)
    ctx = workflow_context(app, dry_run=dry_run)
    result = run_deploy(ctx, DeployRequest(environment, params, via=via, timeout=timeout))
    if dry_run:
        import shlex

        click.echo(f"dry run: PostgreSQL {params.version} to {environment} via {via}; would run:")
        for argv in result.planned:
            click.echo("  " + shlex.join(argv))
        click.echo(f"  (Secret {result.admin_state}; manifests: {result.manifests})")
        raise SystemExit(3 if result.planned else 0)
    click.echo(f"secret postgres-admin: {result.admin_state} (local copy {result.secret_file}, mode 0600)")
    click.echo(f"manifests: {result.manifests}")
    click.echo(f"ready: {result.rollout}")
    if show_secret:
        click.echo(f"password: {result.password}")


# `kenv postgres upgrade` lives in a module of its own (minor by image bump, major into a new instance).
from kenv.cli.postgres_upgrade import upgrade as _upgrade  # noqa: E402

postgres.add_command(_upgrade)


# Operations (backup, backups, restore, status, psql, port-forward) live in a module of their own.
def _add_operations() -> None:
    from kenv.cli.postgres_ops import COMMANDS

    for command in COMMANDS:
        postgres.add_command(command)


_add_operations()
