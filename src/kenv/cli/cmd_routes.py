"""`kenv routes`: HAProxy's routes, rendered whole from the inventory."""

from __future__ import annotations

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option

COLUMNS = [
    ("ENVIRONMENT", "environment"),
    ("HOSTS", "hosts"),
    ("BACKEND", "backend"),
    ("HTTPS BACKEND", "https_backend"),
    ("STATE", "state"),
]


@click.group()
def routes() -> None:
    """HAProxy, the single host entry: one route per environment, rendered from the inventory.

    \b
    Examples:
      kenv routes show                  every route, and why an environment has none
      kenv routes show -o json
      kenv routes sync                  render, validate, replace, reload gracefully
      kenv routes sync --dry-run        the diff of the configuration (exit 3 if it would change)
      kenv routes sync --no-prune       keep the routes of environments not found running now
    """


def _rows(data: dict[str, object]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for key in ("management", "routes"):
        entries = data[key]
        assert isinstance(entries, list)
        for entry in entries:
            row = dict(entry)
            row["hosts"] = " ".join(row["hosts"])
            row["backend"] = row["backend"] or "-"
            row["https_backend"] = row.get("https_backend") or "-"
            row["state"] = row["state"] if row["state"] != "skipped" else f"skipped: {row['reason']}"
            rows.append(row)
    return rows


@routes.command()
@output_option()
@click.pass_obj
def show(app: App, output: str) -> None:
    """Show the routes a sync would write, and whether the live configuration has them.

    \b
    Examples:
      kenv routes show
      kenv routes show -o yaml
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.workflows.routes import show_routes

    ctx = workflow_context(app, dry_run=False)
    result = show_routes(ctx)
    data = result.to_dict()
    if output != "table":
        emit(data, output)
        return
    emit(_rows(data), output, columns=COLUMNS, empty="No environments.")
    state = "running" if result.running else "not running"
    sync = "out of date: run `kenv routes sync`" if result.changed else "up to date"
    click.echo(f"HAProxy ({result.runtime}) {state}; {result.config} is {sync}")


@routes.command()
@click.option("--prune/--no-prune", default=True, show_default=True, help="Drop routes of environments not found.")
@dry_run_option()
@output_option()
@click.pass_obj
def sync(app: App, prune: bool, dry_run: bool, output: str) -> None:
    """Render the whole configuration, check it with `haproxy -c`, replace the live one and reload
    without dropping a request; start HAProxy when it does not run.

    \b
    Examples:
      kenv routes sync
      kenv routes sync --dry-run
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import ProblemsFound
    from kenv.workflows.routes import sync_routes

    ctx = workflow_context(app, dry_run=dry_run)
    result = sync_routes(ctx, prune=prune)
    if output != "table":
        emit(result.to_dict() | {"diff": result.diff}, output)
    elif dry_run:
        click.echo(result.diff, nl=False)
        for argv in ctx.runner.planned:
            click.echo("would run: " + " ".join(argv))
    else:
        routed = sum(1 for e in result.entries if e.backend)
        what = "reloaded" if result.reloaded else ("started" if result.changed else "unchanged")
        click.echo(f"routes: {routed} environment(s) routed; HAProxy {what}")
    if dry_run and result.changed:
        raise ProblemsFound("routes sync --dry-run: the configuration would change", hint="run it without --dry-run")
