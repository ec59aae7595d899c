"""bootstrap, teardown: the platform around the environments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option
from kenv.errors import InvalidInput, OperationFailed, ProblemsFound

if TYPE_CHECKING:
    from kenv.workflows.bootstrap import BootstrapReport
    from kenv.workflows.context import WorkflowContext

COMPONENTS_HELP = "network, haproxy, portainer, devops, storage, argocd, gitops, postgres, inventory"

BOOTSTRAP_EPILOG = f"""Components, in order: {COMPONENTS_HELP}. Each step is skipped when
already done; a rerun after a failure or a kill resumes.

\b
Examples:
  kenv bootstrap                          the whole platform
  kenv bootstrap --dry-run                every step and command, nothing changed (exit 3 if any would)
  kenv bootstrap --only network,haproxy
  kenv bootstrap --skip portainer -o json
  kenv bootstrap --move-inventory         and the inventory into the platform's PostgreSQL
"""


def run_platform_bootstrap(
    ctx: WorkflowContext,
    only: str | None,
    skip: str | None,
    timeout: float,
    output: str,
    show_secrets: bool,
    *,
    move_inventory: bool = False,
) -> BootstrapReport:
    """Run bootstrap and print its summary (shared with `kenv up`); raises as the CLI exits."""
    from kenv.workflows.bootstrap import BootstrapRequest, run_bootstrap, select, split_names

    chosen = select(split_names(only), split_names(skip))
    if move_inventory and "inventory" not in chosen:
        raise InvalidInput(
            "--move-inventory needs the inventory step", hint="leave inventory in --only / out of --skip"
        )
    request = BootstrapRequest(chosen, explicit=bool(only), timeout=timeout, move_inventory=move_inventory)
    report = run_bootstrap(ctx, request)
    if output != "table":
        emit(report.to_dict(), output)
    else:
        _print_report(report, show_secrets)
    if not report.result.ok:
        raise OperationFailed(
            f"bootstrap failed: {report.result.error}; fix that, then run `kenv bootstrap` again (it resumes)",
            exit_code=report.result.exit_code or 1,
            trace=report.result.traceback,
        )
    return report


def _print_report(report: BootstrapReport, show_secrets: bool) -> None:
    from pathlib import Path

    verb = "planned" if report.result.dry_run else "done"
    click.echo(f"bootstrap: {verb} in {report.result.seconds:.1f}s")
    if report.unavailable:
        click.echo(f"not available yet in this kenv (left out): {', '.join(report.unavailable)}")
    for component, url in sorted(report.urls.items()):
        click.echo(f"{component:<10} {url}")
    for component, path in sorted(report.credentials.items()):
        line = f"{component:<10} credential kept in {path} (0600)"
        if show_secrets and Path(path).is_file():
            line += ": " + Path(path).read_text(encoding="utf-8").strip()
        click.echo(line)
    for advice in report.advice:
        click.echo(advice)


@click.command(epilog=BOOTSTRAP_EPILOG)
@click.option("--only", metavar="C,...", help="Only these components.")
@click.option("--skip", metavar="C,...", help="Every component but these.")
@click.option(
    "--timeout",
    "timeout_text",
    default="300s",
    show_default=True,
    help="For the devops environment, PostgreSQL's rollout, and PostgreSQL answering (--move-inventory).",
)
@click.option("--show-secrets", is_flag=True, help="Print the generated passwords too (they are kept in 0600 files).")
@click.option(
    "--move-inventory",
    is_flag=True,
    help="Copy the inventory into the platform's PostgreSQL (verified) and point db_url there.",
)
@dry_run_option()
@output_option()
@click.pass_obj
def bootstrap(
    app: App,
    only: str | None,
    skip: str | None,
    timeout_text: str,
    show_secrets: bool,
    move_inventory: bool,
    dry_run: bool,
    output: str,
) -> None:
    """Build the platform: the shared Docker network, HAProxy, Portainer, the devops environment
    with local-path storage and Argo CD, the GitOps repository, PostgreSQL through Argo CD."""
    from kenv.cli.workflow_support import parse_duration, workflow_context

    ctx = workflow_context(app, dry_run=dry_run)
    with ctx.recorded("bootstrap", None) as outcome:
        report = run_platform_bootstrap(
            ctx, only, skip, parse_duration(timeout_text), output, show_secrets, move_inventory=move_inventory
        )
        outcome.of(report.result)
    if dry_run and report.would_change:
        raise ProblemsFound("bootstrap --dry-run: the platform would change", hint="run it without --dry-run")


TEARDOWN_EPILOG = """\b
Examples:
  kenv teardown --dry-run       what would go
  kenv teardown                 every environment (the platform stays)
  kenv teardown --all           and the platform: HAProxy, Portainer, devops, kenv's networks/volumes
"""


@click.command(epilog=TEARDOWN_EPILOG)
@click.option("--all", "everything", is_flag=True, help="Remove the platform too, after the environments.")
@dry_run_option()
@output_option()
@click.pass_obj
def teardown(app: App, everything: bool, dry_run: bool, output: str) -> None:
    """Delete every environment (as `kenv delete` does, each removed from the platform), then
    with --all the platform itself. Only what kenv made goes."""
    from kenv.cli.workflow_support import workflow_context
    from kenv.workflows.teardown import teardown as run_teardown

    ctx = workflow_context(app, dry_run=dry_run)
    report = run_teardown(ctx, everything=everything)
    if output != "table":
        emit(report.to_dict(), output)
    else:
        verb = "would delete" if dry_run else "deleted"
        names = [r.environment for r in report.environments if r.ok]
        click.echo(f"teardown: {verb} {len(names)} environment(s){': ' + ', '.join(names) if names else ''}")
        if report.platform is not None:
            click.echo(f"platform: {'planned' if dry_run else 'removed' if report.platform.ok else 'failed'}")
    if not report.ok:
        failed = [r for r in [*report.environments, report.platform] if r is not None and not r.ok]
        raise OperationFailed(
            "; ".join(f"{r.workflow} {r.environment} failed: {r.error}" for r in failed),
            hint="fix that, then run `kenv teardown" + (" --all" if everything else "") + "` again",
        )
    if dry_run and report.would_change:
        raise ProblemsFound("teardown --dry-run: something would be removed", hint="run it without --dry-run")
