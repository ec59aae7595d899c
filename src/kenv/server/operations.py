"""What each job runs: the workflow the CLI command of the same name runs, with the same request
built from the same inputs, in a WorkflowContext of its own whose progress is the job's events,
recorded in the history as the CLI records it."""

from __future__ import annotations

from collections.abc import Callable

from kenv.errors import OperationFailed
from kenv.runtime.process import Runner
from kenv.server.errors import failure_body
from kenv.server.jobs import JobOutcome, JobProgress
from kenv.settings import Settings
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import WorkflowResult


def job_context(settings: Settings, progress: JobProgress, *, dry_run: bool) -> WorkflowContext:
    return WorkflowContext(settings, runner=Runner(dry_run=dry_run), progress=progress, dry_run=dry_run)


def workflow_outcome(result: WorkflowResult) -> JobOutcome:
    """The workflow's `-o json` document, and its failure as the CLI's error would say it."""
    if result.ok:
        return JobOutcome(result=result.to_dict())
    error = failure_body(result.failure_message(), result.exit_code or 1, result.cause)
    return JobOutcome(result=result.to_dict(), error=error)


def recorded_workflow(
    settings: Settings,
    operation: str,
    name: str,
    work: Callable[[WorkflowContext], WorkflowResult],
    *,
    dry_run: bool = False,
) -> Callable[[JobProgress], JobOutcome]:
    """A job running one workflow, logged in the history as `kenv <operation>` logs it."""

    def run(progress: JobProgress) -> JobOutcome:
        ctx = job_context(settings, progress, dry_run=dry_run)
        try:
            with ctx.recorded(operation, name) as outcome:
                result = work(ctx)
                outcome.of(result)
            return workflow_outcome(result)
        finally:
            ctx.close()

    return run


def verify_job(settings: Settings, name: str) -> Callable[[JobProgress], JobOutcome]:
    """`kenv verify NAME`: the report list it prints with -o json; unhealthy fails the job (exit 3)."""

    def run(progress: JobProgress) -> JobOutcome:
        from kenv.errors import ProblemsFound
        from kenv.server.errors import error_body
        from kenv.workflows.verify import verify_environment

        ctx = job_context(settings, progress, dry_run=False)
        try:
            report = verify_environment(ctx, ctx.inventory().get(name))
        finally:
            ctx.close()
        document = [report.to_dict()]
        if report.healthy:
            return JobOutcome(result=document)
        problems = ProblemsFound(f"unhealthy: {name}", hint="see the checks that failed")
        return JobOutcome(result=document, error=error_body(problems, 500))

    return run


def images_sync_job(
    settings: Settings, name: str, refs: list[str], components: list[str], *, dry_run: bool
) -> Callable[[JobProgress], JobOutcome]:
    """`kenv images sync NAME REF... --component C...`: the sync JSON as the result."""
    from kenv.images.components import check_component
    from kenv.images.reference import parse_reference
    from kenv.workflows.images import SyncRequest

    # Bad references or components are refused before the job exists (400), as the CLI refuses them.
    request = SyncRequest(tuple(parse_reference(r) for r in refs), tuple(check_component(c) for c in components))

    def run(progress: JobProgress) -> JobOutcome:
        from kenv.server.errors import error_body
        from kenv.workflows.images import sync_failure, sync_images

        ctx = job_context(settings, progress, dry_run=dry_run)
        try:
            result = sync_images(ctx, name, request)
        finally:
            ctx.close()
        failure = sync_failure(name, result)
        if failure is not None:
            return JobOutcome(result=result.to_json(), error=error_body(OperationFailed(failure)))
        return JobOutcome(result=result.to_json())

    return run
