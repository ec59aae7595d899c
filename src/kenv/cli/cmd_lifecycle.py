"""create, delete, start, stop, kubeconfig."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import (
    complete_environment_names,
    dry_run_option,
    environment_options,
    provider_option,
    spec_from_flags,
)
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.workflows.context import WorkflowContext
    from kenv.workflows.engine import WorkflowResult


def workflow_context(app: App, *, dry_run: bool, prefix_names: bool = False) -> WorkflowContext:
    from kenv.cli.progress import StepPrinter
    from kenv.runtime.process import Runner
    from kenv.workflows.context import WorkflowContext

    printer = StepPrinter(prefix_names=prefix_names)
    ctx = WorkflowContext(app.settings(), runner=Runner(dry_run=dry_run), progress=printer, dry_run=dry_run)
    click.get_current_context().call_on_close(ctx.close)
    click.get_current_context().call_on_close(printer.close)
    return ctx


def finish(result: WorkflowResult, output: str) -> None:
    """Print the result; a failed workflow exits as its failed step's error would (2 for refused
    input, 1 for a failed operation), with that step's traceback under --debug."""
    from kenv.errors import OperationFailed

    if output != "table":
        emit(result.to_dict(), output)
    elif result.ok:
        verb = "planned" if result.dry_run else "done"
        click.echo(f"{result.workflow} {result.environment}: {verb} in {result.seconds:.1f}s")
    if not result.ok:
        rolled = f"; rolled back: {', '.join(result.rolled_back)}" if result.rolled_back else ""
        raise OperationFailed(
            f"{result.workflow} {result.environment} failed: {result.error}{rolled}",
            exit_code=result.exit_code or 1,
            trace=result.traceback,
        )


def run_recorded(ctx: WorkflowContext, operation: str, name: str, work: Callable[[], WorkflowResult]) -> WorkflowResult:
    """Run one workflow and log how it ended in the history (failures too)."""
    with ctx.recorded(operation, name) as outcome:
        result = work()
        outcome.of(result)
    return result


def parse_duration(text: str) -> float:
    from kenv.errors import InvalidInput

    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(value[:-1]) * units[value[-1]] if value and value[-1] in units else float(value)
    except ValueError as exc:
        raise InvalidInput(f"timeout {text!r} is not a duration", hint="write it like 300, 300s, 5m") from exc
    if not 1 <= seconds <= 24 * 3600:
        raise InvalidInput(f"timeout {text!r} is out of range", hint="use between 1s and 24h")
    return seconds


CREATE_EPILOG = """\b
Examples:
  kenv create dev                                  k3d, ports and subnet allocated
  kenv create qa --provider kind --agents 2
  kenv create perf --provider minikube --k8s-version v1.31.0 --timeout 10m
  kenv create dev --dry-run                        print every step and command, change nothing
"""


@click.command(epilog=CREATE_EPILOG)
@click.argument("name", shell_complete=complete_environment_names)
@environment_options
@click.option("--timeout", "timeout_text", default="300s", show_default=True, help="How long the cluster may take.")
@click.option("--keep-on-failure", is_flag=True, help="Leave what a failed run created, for inspection.")
@click.option("--memory", metavar="SIZE", help="Memory limit per node, e.g. 4g. [default: node_memory in config]")
@click.option("--cpus", metavar="N", help="CPU limit per node (minikube). [default: node_cpus in config]")
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
    dry_run: bool,
    output: str,
) -> None:
    """Create environment NAME: record it (allocating ports and subnet), create its network and
    cluster, write its own kubeconfig, wait until every node is Ready.

    A failed run marks the environment failed and rolls back what it created; rerunning the same
    command resumes. Your default kubeconfig is not touched (see `kenv kubeconfig NAME --merge`).
    """
    from kenv.providers.base import NodeResources
    from kenv.workflows.create import CreateRequest, create_environment

    settings = app.settings()
    record = app.inventory().find(name)
    spec, explicit = spec_from_flags(
        settings,
        name,
        # An existing record's provider wins over the configured default.
        provider=provider or (record.provider if record else None),
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
    if provider is None:
        explicit -= {"provider"}
    request = CreateRequest(
        spec=spec,
        explicit=explicit,
        timeout=parse_duration(timeout_text),
        keep_on_failure=keep_on_failure,
        resources=NodeResources(cpus=cpus or settings.node_cpus, memory=memory or settings.node_memory),
    )
    ctx = workflow_context(app, dry_run=dry_run)
    finish(run_recorded(ctx, "create", name, lambda: create_environment(ctx, request)), output)


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
