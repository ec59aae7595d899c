"""apply, sync, verify: the fleet as a whole."""

from __future__ import annotations

from typing import Any

import click

from kenv.cli.importing import read_text_file
from kenv.cli.main import App
from kenv.cli.options import complete_environment_names, dry_run_option
from kenv.cli.render import emit, output_option
from kenv.cli.workflow_support import parse_duration, workflow_context


@click.command()
@click.option("-f", "--file", "file", required=True, metavar="FILE", help="YAML list of environments ('-' for stdin).")
@click.option("--prune", is_flag=True, help="Delete environments that are not listed.")
@click.option(
    "--recreate", is_flag=True, help="Delete and create again environments that differ in what only that changes."
)
@click.option("--parallel", type=click.IntRange(1, 32), default=1, show_default=True, help="Creates at once.")
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="Per environment.")
@dry_run_option()
@output_option()
@click.pass_obj
def apply(
    app: App, file: str, prune: bool, recreate: bool, parallel: int, timeout_text: str, dry_run: bool, output: str
) -> None:
    """Make the inventory and clusters match FILE: create what is missing, change labels in place,
    report what differs in ways only recreating changes (provider, ports, subnet, node counts,
    version; --recreate does it, one environment at a time unless --parallel), report (or with
    --prune delete) what is not listed. Fields an entry leaves out accept what the record holds.

    The whole file is checked first, its entries against each other and the inventory; nothing
    changes when any of it is wrong (exit 2). With --dry-run it prints the exact plan, including
    the ports and subnets new entries would get, and exits 3 when applying would change anything.
    Without it, exit 3 when environments still need --recreate.

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
      kenv apply -f fleet.yaml --recreate
    """
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.apply import apply as apply_fleet
    from kenv.workflows.apply import parse_desired

    settings = app.settings()
    source = "stdin" if file == "-" else file
    desired = parse_desired(
        read_text_file(file),
        source,
        default_provider=settings.default_provider,
        default_node_port=settings.node_port,
    )
    timeout = parse_duration(timeout_text)
    ctx = workflow_context(app, dry_run=dry_run, prefix_names=parallel > 1)
    with ctx.recorded("apply", None) as outcome:
        report = apply_fleet(
            ctx, desired, prune=prune, parallel=parallel, timeout=timeout, recreate=recreate, source=source
        )
        outcome.ok = bool(report["ok"])
        outcome.detail = f"{source}: " + _apply_summary(report, dry_run=dry_run, prune=prune)
    if output != "table":
        emit(report, output)
    else:
        _print_apply(report, dry_run=dry_run, prune=prune)
    if not report["ok"]:
        failed = report["failed"]
        # The file was checked whole before anything changed: what fails now is an operation (exit 1).
        raise OperationFailed(
            f"apply: {len(failed)} environment(s) failed: {', '.join(str(r['environment']) for r in failed)}"
        )
    if dry_run and report["changed"]:
        raise ProblemsFound("apply --dry-run: applying would change the fleet", hint="apply without --dry-run")
    if report["needs_recreate"]:
        raise ProblemsFound(
            f"{', '.join(report['needs_recreate'])} differ(s) from {source} in ways only recreating changes",
            hint="rerun with --recreate to delete and create them again",
        )


def _apply_summary(report: dict[str, Any], *, dry_run: bool, prune: bool) -> str:
    created = report["created"]
    ok = sum(1 for r in created if r["ok"])
    parts = [
        f"{'would create' if dry_run else 'created'} {ok}/{len(created)}",
        f"{'would update' if dry_run else 'updated'} {len(report['updated'])}",
    ]
    if report["recreated"]:
        done = sum(1 for r in report["recreated"] if r["ok"])
        parts.append(f"{'would recreate' if dry_run else 'recreated'} {done}/{len(report['recreated'])}")
    if report["needs_recreate"]:
        parts.append(f"need --recreate {len(report['needs_recreate'])}")
    parts.append(f"unchanged {len(report['unchanged'])}")
    parts.append(f"not listed {len(report['not_listed'])}{' (pruned)' if prune and report['not_listed'] else ''}")
    return ", ".join(parts)


def _print_apply(report: dict[str, Any], *, dry_run: bool, prune: bool) -> None:
    verbs = {
        "create": "would create" if dry_run else "create",
        "resume": "would resume" if dry_run else "resume",
        "update": "would update" if dry_run else "update",
        "recreate": "would recreate" if dry_run else "recreate",
        "needs-recreate": "needs recreate",
    }
    for entry in report["entries"]:
        action = entry["action"]
        if action == "none":
            continue
        what = "; ".join(f"{c['field']} {_value(c['recorded'])} -> {_value(c['desired'])}" for c in entry["changes"])
        if action in ("create", "resume", "recreate") and entry["ports"] is not None:
            ports = ", ".join(f"{p} {v}" for p, v in entry["ports"].items()) or "no host ports"
            what = "; ".join(part for part in (what, f"{ports}; subnet {entry['subnet'] or 'none'}") if part)
        suffix = " (use --recreate)" if action == "needs-recreate" else ""
        click.echo(f"{verbs.get(action, action)} {entry['environment']}" + (f": {what}" if what else "") + suffix)
    click.echo(_apply_summary(report, dry_run=dry_run, prune=prune))
    for item in report["failed"]:
        click.echo(f"  {item['environment']} ({item['workflow']}): {item['error']}", err=True)
    if report["not_listed"] and not prune:
        click.echo(f"not listed (kept; --prune deletes them): {', '.join(report['not_listed'])}")


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return "none" if value is None else str(value)


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
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.sync import converge, detect_drift

    ctx = workflow_context(app, dry_run=dry_run)
    drift, unreachable = detect_drift(ctx)
    for text in unreachable:
        click.echo(f"kenv: warning: could not list {text}", err=True)
    if dry_run or not drift:
        rows = [d.to_dict() for d in drift]
        for row in rows:
            if row["action"] == "prune" and not prune:
                # What this sync would do: without --prune an orphan is only reported.
                row["action"] = "none (use --prune)"
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
        if not dry_run:
            with ctx.recorded("sync", None) as outcome:
                outcome.detail = "no drift"
        if drift:
            orphans = any(d.action == "prune" for d in drift) and not prune
            raise ProblemsFound(
                f"{len(drift)} drift item(s) found",
                hint="run `kenv sync` to converge" + (" (with --prune to delete the orphans)" if orphans else ""),
            )
        return
    with ctx.recorded("sync", None) as outcome:
        outcomes = converge(ctx, drift, prune=prune)
        errors = [o for o in outcomes if o["error"]]
        outcome.ok = not errors
        outcome.detail = "; ".join(
            f"{o['environment']} {o['kind']}: {o['action'] if o['done'] else 'not done'}" for o in outcomes
        )
        outcome.error = "; ".join(f"{o['environment']}: {o['error']}" for o in errors) or None
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
    if errors:
        raise OperationFailed(f"sync: {len(errors)} of {len(outcomes)} item(s) failed")
    left = [o for o in outcomes if not o["done"]]
    if left:
        raise ProblemsFound(
            f"{len(left)} drift item(s) left: {', '.join(str(o['environment']) for o in left)}",
            hint="see the ACTION column (orphans go with --prune; port or subnet drift needs a recreate)",
        )


@click.command()
@click.argument("names", nargs=-1, shell_complete=complete_environment_names)
@click.option(
    "--dns-image",
    default=None,
    metavar="REF",
    help="Image for the DNS check pod (default: the verify manifest's, see `kenv images list --component verify`).",
)
@output_option()
@click.pass_obj
def verify(app: App, names: tuple[str, ...], dns_image: str | None, output: str) -> None:
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
        from kenv.errors import ProblemsFound

        unhealthy = [r.environment for r in reports if not r.healthy]
        raise ProblemsFound(f"unhealthy: {', '.join(unhealthy)}", hint="see the FAIL rows above")
