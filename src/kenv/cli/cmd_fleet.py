"""apply, sync, verify: the fleet as a whole."""

from __future__ import annotations

import sys

import click

from kenv.cli.cmd_csv import read_text_file
from kenv.cli.cmd_lifecycle import parse_duration, workflow_context
from kenv.cli.main import App
from kenv.cli.options import complete_environment_names, dry_run_option
from kenv.cli.render import emit, output_option


@click.command()
@click.option("-f", "--file", "file", required=True, metavar="FILE", help="YAML list of environments ('-' for stdin).")
@click.option("--prune", is_flag=True, help="Delete environments that are not listed.")
@click.option("--parallel", type=click.IntRange(1, 32), default=1, show_default=True, help="Creates at once.")
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="Per environment.")
@dry_run_option()
@output_option()
@click.pass_obj
def apply(app: App, file: str, prune: bool, parallel: int, timeout_text: str, dry_run: bool, output: str) -> None:
    """Make the inventory and clusters match FILE: create what is missing, report (or with --prune
    delete) what is not listed. The whole file is checked before anything changes.

    \b
    FILE:
      - name: dev
      - name: qa
        provider: kind
        agents: 1
        labels: {team: payments}
      - name: perf
        provider: minikube
        http_port: 18080
    \b
    Examples:
      kenv apply -f fleet.yaml --parallel 4
      kenv apply -f fleet.yaml --prune --dry-run
    """
    from kenv.workflows.apply import apply as apply_fleet
    from kenv.workflows.apply import parse_desired

    settings = app.settings()
    desired = parse_desired(
        read_text_file(file),
        "stdin" if file == "-" else file,
        default_provider=settings.default_provider,
        default_node_port=settings.node_port,
    )
    ctx = workflow_context(app, dry_run=dry_run, prefix_names=parallel > 1)
    report = apply_fleet(ctx, desired, prune=prune, parallel=parallel, timeout=parse_duration(timeout_text))
    if output != "table":
        emit(report, output)
    else:
        created = report["created"]
        ok = sum(1 for r in created if r["ok"])
        verb = "would create" if dry_run else "created"
        click.echo(
            f"{verb} {ok}/{len(created)}, unchanged {len(report['unchanged'])}, "
            f"not listed {len(report['not_listed'])}{' (pruned)' if prune else ''}"
        )
        for item in created:
            if not item["ok"]:
                click.echo(f"  {item['environment']}: {item['error']}", err=True)
        if report["not_listed"] and not prune:
            click.echo(f"not listed (kept; --prune deletes them): {', '.join(report['not_listed'])}")
    if not report["ok"]:
        sys.exit(1)


@click.command()
@click.option("--prune", is_flag=True, help="Also delete orphans: clusters kenv created that have no record.")
@dry_run_option()
@output_option()
@click.pass_obj
def sync(app: App, prune: bool, dry_run: bool, output: str) -> None:
    """Compare the inventory with the clusters that actually run, and converge.

    Missing clusters are created (resuming), clusters recorded as absent are deleted, statuses are
    corrected; port or subnet mismatches are reported. With --dry-run, exit 3 when there is drift.

    \b
    Examples:
      kenv sync --dry-run
      kenv sync --prune
    """
    from kenv.workflows.sync import converge, detect_drift

    ctx = workflow_context(app, dry_run=dry_run)
    drift, unreachable = detect_drift(ctx)
    for text in unreachable:
        click.echo(f"kenv: warning: could not list {text}", err=True)
    if dry_run or not drift:
        rows = [d.to_dict() for d in drift]
        if output != "table":
            emit({"drift": rows, "unreachable": unreachable}, output)
        elif rows:
            emit(
                rows,
                "table",
                columns=[
                    ("ENVIRONMENT", "environment"),
                    ("PROVIDER", "provider"),
                    ("DRIFT", "kind"),
                    ("DETAIL", "detail"),
                    ("ACTION", "action"),
                ],
            )
        else:
            click.echo("no drift: the inventory matches the clusters")
        if drift:
            sys.exit(3)
        return
    outcomes = converge(ctx, drift, prune=prune)
    if output != "table":
        emit({"drift": outcomes, "unreachable": unreachable}, output)
    else:
        emit(
            outcomes,
            "table",
            columns=[
                ("ENVIRONMENT", "environment"),
                ("DRIFT", "kind"),
                ("ACTION", "action"),
                ("DONE", "done"),
                ("ERROR", "error"),
            ],
        )
    if any(o["error"] for o in outcomes):
        sys.exit(1)
    if any(not o["done"] for o in outcomes):
        sys.exit(3)


@click.command()
@click.argument("names", nargs=-1, shell_complete=complete_environment_names)
@click.option("--dns-image", default="busybox:1.36", show_default=True, help="Image for the DNS check pod.")
@output_option()
@click.pass_obj
def verify(app: App, names: tuple[str, ...], dns_image: str, output: str) -> None:
    """Check environments (default: all recorded as present): API reachable, nodes Ready,
    kube-system pods running, in-cluster DNS resolving. Exit 3 when anything is unhealthy.

    \b
    Examples:
      kenv verify
      kenv verify dev qa -o json
    """
    from kenv.workflows.verify import verify_environment

    ctx = workflow_context(app, dry_run=False)
    inventory = ctx.inventory()
    envs = (
        [inventory.get(n) for n in names]
        if names
        else [e for e in inventory.environments() if e.desired_state == "present"]
    )
    reports = [verify_environment(ctx, env, dns_image=dns_image) for env in envs]
    if output != "table":
        emit([r.to_dict() for r in reports], output)
    else:
        rows = [{"environment": r.environment, **c.to_dict()} for r in reports for c in r.checks]
        for row in rows:
            row["ok"] = "ok" if row["ok"] else "FAIL"
        emit(
            rows,
            "table",
            columns=[("ENVIRONMENT", "environment"), ("CHECK", "check"), ("RESULT", "ok"), ("DETAIL", "detail")],
        )
    if not all(r.healthy for r in reports):
        sys.exit(3)
