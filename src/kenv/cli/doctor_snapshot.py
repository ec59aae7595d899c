"""`kenv doctor snapshot ENV -o FILE`: capture an environment's snapshot into a file (the format
of docs/snapshot-format.md), for `kenv doctor --snapshot FILE` here or on another machine."""

from __future__ import annotations

from pathlib import Path

import click

from kenv.cli.main import App
from kenv.cli.options import complete_environment_names


@click.command(
    "snapshot",
    short_help="Capture ENV's objects, unhealthy containers' logs and images into a file.",
)
@click.argument("name", metavar="ENV", shell_complete=complete_environment_names)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=True, path_type=Path),
    metavar="FILE",
    help="Where to write the snapshot (JSON, mode 0600).",
)
@click.option("--anonymize", is_flag=True, help="Mask the names of your namespaces, objects and environment.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--no-logs", is_flag=True, help="Do not read the logs of unhealthy containers.")
@click.option("--no-images", is_flag=True, help="Do not list the images inside the nodes and on the host.")
@click.pass_obj
def snapshot(app: App, name: str, output: Path, anonymize: bool, force: bool, no_logs: bool, no_images: bool) -> None:
    """Capture environment ENV into FILE: one `kubectl get TYPE -A -o json` per resource type
    (pods, events, claims, volumes, storage classes, ConfigMaps, namespaces, nodes, workloads,
    services, endpoints, API services; never Secrets), the current and previous log tails of
    unhealthy containers, and the images inside each node and on the host. A type the cluster
    does not serve or lets you list is left out with a warning; the file says what was collected.

    FILE is written atomically with mode 0600 and never over an existing file without --force.
    With --anonymize, the names of your namespaces, objects, containers and the environment are
    masked consistently (the same name gets the same mask everywhere); image references, kinds,
    reasons and kube-system components are kept, so the rules still apply.

    Exit codes: 0 written, 1 the cluster could not be read, 2 bad input (unknown ENV, FILE exists
    or is a directory).

    \b
    Examples:
      kenv doctor snapshot dev -o dev.json
      kenv doctor snapshot dev -o /tmp/dev-anon.json --anonymize --force
      kenv doctor --snapshot dev.json          judge it later, anywhere
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.doctor.snapshot import dump_snapshot
    from kenv.inventory.files import check_target, write_file
    from kenv.workflows.doctor_snapshot import capture_snapshot

    check_target(output, force=force)  # refused before the cluster is asked anything
    ctx = workflow_context(app, dry_run=False)
    captured = capture_snapshot(ctx, name, logs=not no_logs, images=not no_images)
    if anonymize:
        from kenv.doctor.anonymize import anonymize as mask

        captured = mask(captured)
    written = write_file(output, dump_snapshot(captured), force=force, mode=0o600)
    parts = sorted(captured.collected)
    click.echo(f"{written}: {len(parts)} part(s) collected: {', '.join(parts)}")
    for warning in captured.warnings:
        click.echo(f"warning: {warning}", err=True)
