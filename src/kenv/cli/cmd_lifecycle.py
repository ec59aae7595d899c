"""create, delete, start, stop, kubeconfig."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import (
    complete_environment_names,
    dry_run_option,
    environment_options,
    provider_option,
)
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.workflows.images import SyncRequest


from kenv.cli.workflow_support import finish, parse_duration, run_recorded, workflow_context

CREATE_EPILOG = """\b
Examples:
  kenv create dev                                  k3d, ports and subnet allocated
  kenv create qa --provider kind --agents 2
  kenv create perf --provider minikube --k8s-version v1.31.0 --timeout 10m
  kenv create dev --dry-run                        print every step and command, change nothing
  kenv create dev --images-from images.txt         then sync those images into every node
  kenv create dev --component system --component verify
"""


@click.command(epilog=CREATE_EPILOG)
@click.argument("name", shell_complete=complete_environment_names)
@environment_options
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="How long the cluster may take.")
@click.option("--keep-on-failure", is_flag=True, help="Leave what a failed run created, for inspection.")
@click.option("--memory", metavar="SIZE", help="Memory limit per node, e.g. 4g. [default: node_memory in config]")
@click.option("--cpus", metavar="N", help="CPU limit per node (minikube). [default: node_cpus in config]")
@click.option(
    "--images-from",
    "images_from",
    metavar="FILE",
    help="Once the cluster is ready, sync the images listed in FILE into every node (as `kenv images sync`).",
)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="C",
    help="Once the cluster is ready, sync a component's images (system, verify, ...; all; repeatable).",
)
@dry_run_option()
@output_option()
@click.pass_obj
def create(
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
    timeout_text: str,
    keep_on_failure: bool,
    memory: str | None,
    cpus: str | None,
    images_from: str | None,
    components: tuple[str, ...],
    dry_run: bool,
    output: str,
) -> None:
    """Create environment NAME: record it (allocating ports and subnet), create its network and
    cluster, write its own kubeconfig, wait until every node is Ready.

    With --images-from/--component, the images are then synced into every node exactly as
    `kenv images sync` does, and the table is printed; if that fails, create exits 1 and the
    environment stays created and recorded (rerun the `kenv images sync` it names).

    A failed run marks the environment failed and rolls back what it created; rerunning the same
    command resumes. Your default kubeconfig is not touched (see `kenv kubeconfig NAME --merge`).
    """
    from kenv.inventory.spec_choices import create_spec
    from kenv.providers.base import NodeResources
    from kenv.settings import parse_node_cpus, parse_node_memory
    from kenv.workflows.create import CreateRequest, create_environment

    settings = app.settings()
    record = app.inventory().find(name)
    spec, explicit = create_spec(
        settings,
        name,
        recorded_provider=record.provider if record else None,
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
    )
    # Checked here as they are in a config file, so a typo is refused before anything happens.
    if memory is not None:
        memory = parse_node_memory(memory, "--memory")
        explicit |= {"memory"}
    if cpus is not None:
        cpus = parse_node_cpus(cpus, "--cpus")
        explicit |= {"cpus"}
    request = CreateRequest(
        spec=spec,
        explicit=explicit,
        timeout=parse_duration(timeout_text),
        keep_on_failure=keep_on_failure,
        resources=NodeResources(cpus=cpus or settings.node_cpus, memory=memory or settings.node_memory),
        images=_images_request(images_from, components),
    )
    ctx = workflow_context(app, dry_run=dry_run)
    result = run_recorded(ctx, "create", name, lambda: create_environment(ctx, request))
    if request.images is not None and request.images.result is not None and output == "table":
        from kenv.cli.images_report import print_cells

        print_cells(request.images.result)
    finish(result, output)


def _images_request(images_from: str | None, components: tuple[str, ...]) -> SyncRequest | None:
    """--images-from/--component as a sync request; a bad file or component is refused (exit 2)
    before anything is created."""
    if images_from is None and not components:
        return None
    import shlex

    from kenv.cli.images_report import check_components, gather
    from kenv.workflows.images import SyncRequest

    refs, _ = gather((), images_from, ())
    chosen = check_components(components)
    origin = " ".join(
        [*(["--from", shlex.quote(images_from)] if images_from else []), *(f"--component {c}" for c in chosen)]
    )
    return SyncRequest(tuple(refs), chosen, origin=origin)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@click.option("--keep-record", is_flag=True, help="Keep the record (status absent) and its allocations.")
@provider_option(help_text="Provider of a cluster that has no record.")
@dry_run_option()
@output_option()
@click.pass_obj
def delete(app: App, name: str, keep_record: bool, provider: str | None, dry_run: bool, output: str) -> None:
    """Delete environment NAME: its cluster, network, kubeconfig and record. Deleting something
    already gone succeeds.

    \b
    Examples:
      kenv delete qa
      kenv delete qa --keep-record      keep its ports and subnet reserved
      kenv delete stray --provider kind a cluster kenv has no record of
    """
    from kenv.workflows.delete import DeleteRequest, delete_environment

    request = DeleteRequest(name, keep_record=keep_record, provider=provider)
    ctx = workflow_context(app, dry_run=dry_run)
    finish(run_recorded(ctx, "delete", name, lambda: delete_environment(ctx, request)), output)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@dry_run_option()
@output_option()
@click.pass_obj
def start(app: App, name: str, dry_run: bool, output: str) -> None:
    """Start the stopped cluster of environment NAME."""
    from kenv.workflows.lifecycle import start_environment

    ctx = workflow_context(app, dry_run=dry_run)
    finish(run_recorded(ctx, "start", name, lambda: start_environment(ctx, name)), output)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@dry_run_option()
@output_option()
@click.pass_obj
def stop(app: App, name: str, dry_run: bool, output: str) -> None:
    """Stop the cluster of environment NAME (its record and allocations stay)."""
    from kenv.workflows.lifecycle import stop_environment

    ctx = workflow_context(app, dry_run=dry_run)
    finish(run_recorded(ctx, "stop", name, lambda: stop_environment(ctx, name)), output)


@click.command()
@click.argument("name", shell_complete=complete_environment_names)
@click.option("--merge", is_flag=True, help="Also merge it into your default kubeconfig (current context unchanged).")
@dry_run_option()
@output_option()
@click.pass_obj
def kubeconfig(app: App, name: str, merge: bool, dry_run: bool, output: str) -> None:
    """Print the path of NAME's own kubeconfig (refreshed from the cluster).

    \b
    Examples:
      export KUBECONFIG=$(kenv kubeconfig dev)
      kenv kubeconfig dev --merge && kubectl config use-context k3d-dev
    """
    from kenv.workflows.lifecycle import kubeconfig as get_kubeconfig

    result = get_kubeconfig(workflow_context(app, dry_run=dry_run), name, merge=merge)
    if output == "table":
        click.echo(result["kubeconfig"])
        if merge:
            click.echo(f"merged context {result['context']} into {result['merged_into']}", err=True)
        return
    emit(result, output)
