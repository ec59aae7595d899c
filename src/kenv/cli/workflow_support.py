"""What every workflow command needs: a context bound to the CLI's progress display, the
result printed and turned into an exit code, durations parsed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import emit

if TYPE_CHECKING:
    from kenv.workflows.context import WorkflowContext
    from kenv.workflows.engine import WorkflowResult


def workflow_context(app: App, *, dry_run: bool, prefix_names: bool = False) -> WorkflowContext:
    from kenv.cli.progress import StepPrinter
    from kenv.runtime.process import Runner
    from kenv.workflows.context import WorkflowContext

    printer = StepPrinter(prefix_names=prefix_names)
    ctx = WorkflowContext(
        app.settings(),
        runner=Runner(dry_run=dry_run),
        progress=printer,
        dry_run=dry_run,
        create_inventory=app.may_create_inventory(),
    )
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
        raise OperationFailed(
            result.failure_message(),
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
