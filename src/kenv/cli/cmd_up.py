"""kenv up: preflight this machine, then create the configured environments that do not exist yet."""

from __future__ import annotations

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option
from kenv.errors import OperationFailed, ProblemsFound


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


def _rerun_advice() -> str:
    """How to go on despite the host errors, in the terms of whatever ran kenv: flags cannot be
    added to `make run` itself, only through its ARGS."""
    import os

    if os.environ.get("KENV_RUN_BY") == "make run":
        return "or rerun with `make run ARGS=--skip-preflight` (or `.venv/bin/kenv up --skip-preflight`)"
    return "or rerun with `kenv up --skip-preflight`"


@click.command()
@click.option("--skip-preflight", is_flag=True, help="Do not stop on host problems (they are still listed).")
@click.option("--parallel", type=click.IntRange(1, 32), default=2, show_default=True, help="Creates at once.")
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="Per environment.")
@dry_run_option()
@output_option()
@click.pass_obj
def up(app: App, skip_preflight: bool, parallel: int, timeout_text: str, dry_run: bool, output: str) -> None:
    """Initialise the inventory (on first use), check this machine, then create the environments
    listed in config (`environments`, default: dev) that do not exist yet.

    Host errors (no Docker engine, a missing tool, a full disk...) stop here with how to fix them,
    exit 3; warnings are shown and do not stop. Running it again only creates what is missing.

    \b
    Examples:
      kenv up
      kenv up --dry-run
      KENV_ENVIRONMENTS=dev,qa kenv up --parallel 2
    """
    from kenv.cli.host_report import render_host_report, run_host_preflight
    from kenv.cli.workflow_support import parse_duration, workflow_context
    from kenv.workflows.apply import Desired, apply, spec_for_name

    settings = app.settings()
    summary = _inventory_summary(app)
    if output == "table":
        click.echo(
            f"inventory: {summary['database']} ({summary['backend']}, schema v{summary['schema_version']}),"
            f" {summary['environments']} environment(s)"
        )
        click.echo(f"config:    {summary['config_file']}")
    report = run_host_preflight(app)
    blocking = report.count("error")
    if output == "table" and (report.problems_found or blocking):
        click.echo("")
        render_host_report(report, "table")
    if blocking and not skip_preflight:
        if output != "table":
            emit({**summary, "preflight": report.to_dict(), "created": []}, output)
        raise ProblemsFound(f"the host check found {blocking} error(s); fix them (see above), {_rerun_advice()}")
    desired = [Desired(spec_for_name(name, settings), frozenset()) for name in settings.environments]
    ctx = workflow_context(app, dry_run=dry_run, prefix_names=parallel > 1)
    result = apply(ctx, desired, prune=False, parallel=parallel, timeout=parse_duration(timeout_text))
    summary = _inventory_summary(app)
    if output != "table":
        emit({**summary, "preflight": report.to_dict()["summary"], **result}, output)
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
