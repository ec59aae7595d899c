"""kenv up: preflight this machine, bootstrap the platform (unless --no-platform), then create
the configured environments that do not exist yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option
from kenv.errors import InvalidInput, OperationFailed, ProblemsFound

if TYPE_CHECKING:
    from kenv.workflows.context import WorkflowContext


def _inventory_summary(app: App) -> dict[str, object]:
    from kenv.inventory import schema
    from kenv.inventory.database import mask_url

    settings = app.settings()
    inventory = app.inventory()
    envs = inventory.environments()
    return {
        "database": mask_url(settings.db_url),
        "backend": inventory.dialect,
        "schema_version": schema.status(inventory.db).current,
        "environments": len(envs),
        "names": [e.name for e in envs],
        "config_file": str(settings.config_path),
    }


def _run_by_make() -> bool:
    import os

    return os.environ.get("KENV_RUN_BY") == "make run"


def _rerun_advice() -> str:
    """How to go on despite the host errors, in the terms of whatever ran kenv: flags cannot be
    added to `make run` itself, only through its ARGS."""
    if _run_by_make():
        return "or rerun with `make run ARGS=--skip-preflight` (or `.venv/bin/kenv up --skip-preflight`)"
    return "or rerun with `kenv up --skip-preflight`"


def _no_platform_advice() -> str:
    if _run_by_make():
        return "`make run ARGS=--no-platform` for the environments alone"
    return "`kenv up --no-platform` for the environments alone"


def _bootstrap_first(
    ctx: WorkflowContext, platform: bool, only: str | None, skip: str | None, timeout: float, output: str
) -> dict[str, object]:
    """`kenv bootstrap` before the environments, as `make run` users expect (the predecessor's
    bootstrap.sh ran first too); each step already done is skipped, so a rerun costs the checks
    only. Never with --no-platform."""
    from kenv.workflows.bootstrap import BootstrapRequest, run_bootstrap, select, split_names

    if not platform:
        return {}
    chosen = select(split_names(only), split_names(skip))
    with ctx.recorded("bootstrap", None) as outcome:
        report = run_bootstrap(ctx, BootstrapRequest(chosen, explicit=bool(only), timeout=timeout))
        outcome.of(report.result)
    if output == "table":
        verb = "planned" if ctx.dry_run else "done"
        click.echo(
            f"platform:  {verb}"
            + (f" (not available yet: {', '.join(report.unavailable)})" if report.unavailable else "")
        )
        for component, url in sorted(report.urls.items()):
            click.echo(f"           {component} {url}")
        for component, path in sorted(report.credentials.items()):
            click.echo(f"           {component} credential kept in {path} (0600)")
    if not report.result.ok:
        raise OperationFailed(
            f"bootstrap failed: {report.result.error}; fix that, then rerun (it resumes), or {_no_platform_advice()}",
            exit_code=report.result.exit_code or 1,
            trace=report.result.traceback,
        )
    return {"platform": report.to_dict()}


@click.command()
@click.option("--skip-preflight", is_flag=True, help="Do not stop on host problems (they are still listed).")
@click.option("--parallel", type=click.IntRange(1, 32), default=2, show_default=True, help="Creates at once.")
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="Per environment.")
@click.option(
    "--platform/--no-platform",
    "platform",
    default=True,
    show_default=True,
    help="Bootstrap the platform first (`kenv bootstrap`); --no-platform creates the environments alone.",
)
@click.option("--platform-only", "platform_only", metavar="C,...", help="Bootstrap only these components.")
@click.option("--platform-skip", "platform_skip", metavar="C,...", help="Bootstrap every component but these.")
@dry_run_option()
@output_option()
@click.pass_obj
def up(
    app: App,
    skip_preflight: bool,
    parallel: int,
    timeout_text: str,
    platform: bool,
    platform_only: str | None,
    platform_skip: str | None,
    dry_run: bool,
    output: str,
) -> None:
    """Initialise the inventory (on first use), check this machine, bootstrap the platform
    (`kenv bootstrap`: HAProxy, Portainer, devops with Argo CD, GitOps, PostgreSQL; each step
    already done is skipped), then create the environments listed in config (`environments`,
    default: dev) that do not exist yet.

    Host errors and critical problems (no Docker engine, a missing tool, a full disk...) stop
    here with how to fix them, exit 3; warnings are shown and do not stop. Running it again only
    creates what is missing.

    \b
    Examples:
      kenv up
      kenv up --dry-run
      KENV_ENVIRONMENTS=dev,qa kenv up --parallel 2
      kenv up --no-platform                environments only, no platform
      make run ARGS='--no-platform'        the same through make
      kenv up --platform-skip portainer    the platform without Portainer
    """
    from kenv.cli.host_report import render_host_report, run_host_preflight
    from kenv.cli.workflow_support import parse_duration, workflow_context
    from kenv.workflows.apply import Desired, apply, spec_for_name

    if not platform and (platform_only or platform_skip):
        raise InvalidInput(
            "--platform-only/--platform-skip choose what to bootstrap", hint="drop them, or drop --no-platform"
        )
    if platform:  # unknown component names are refused before anything runs
        from kenv.workflows.bootstrap import select, split_names

        select(split_names(platform_only), split_names(platform_skip))
    settings = app.settings()
    summary = _inventory_summary(app)
    if output == "table":
        click.echo(
            f"inventory: {summary['database']} ({summary['backend']}, schema v{summary['schema_version']}),"
            f" {summary['environments']} environment(s)"
        )
        click.echo(f"config:    {summary['config_file']}")
    report = run_host_preflight(app)
    blocking = report.blocking
    if output == "table" and (report.problems_found or blocking):
        click.echo("")
        render_host_report(report, "table")
    if blocking and not skip_preflight:
        if output != "table":
            emit({**summary, "preflight": report.to_dict(), "created": []}, output)
        raise ProblemsFound(f"the host check found {blocking} error(s); fix them (see above), {_rerun_advice()}")
    desired = [Desired(spec_for_name(name, settings), frozenset()) for name in settings.environments]
    ctx = workflow_context(app, dry_run=dry_run, prefix_names=parallel > 1)
    bootstrap = _bootstrap_first(ctx, platform, platform_only, platform_skip, parse_duration(timeout_text), output)
    result = apply(ctx, desired, prune=False, parallel=parallel, timeout=parse_duration(timeout_text))
    summary = _inventory_summary(app)
    if output != "table":
        emit({**summary, "preflight": report.summary(), **bootstrap, **result}, output)
    else:
        created = result["created"]
        verb = "would create" if dry_run else "created"
        click.echo(
            f"{verb} {sum(1 for r in created if r['ok'])}/{len(created)}; "
            f"already running: {', '.join(result['unchanged']) or 'none'}"
        )
        click.echo(f"environments: {', '.join(str(n) for n in summary['names']) or 'none'}")  # type: ignore[attr-defined]
    if not result["ok"]:
        failures = [
            f"create {item['environment']} failed: {item['error']}" for item in result["created"] if not item["ok"]
        ]
        raise OperationFailed("; ".join(failures) or "kenv up failed")
