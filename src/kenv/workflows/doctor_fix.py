"""`kenv doctor ENV --fix`: plan the allow-listed fixes of a live diagnosis, apply the ones the
user accepts, then capture a new snapshot and judge it again to say what each fix achieved.

The phases are separate so that the command line shows each plan (its diff first) and asks
before anything changes:

1. `prepare`: capture and judge (as `kenv doctor ENV`), plan a fix for each finding whose rule
   has one (`kenv.doctor.fixes`), causes first; for an import, the exact `kenv images sync` plan
   (a dry run of the images workflow: the same code path that then imports);
2. `apply_fix`: run one plan's steps in order, stopping at the first that fails; each applied
   fix is recorded in the history (`doctor-fix`);
3. `recheck`: a new snapshot judged by the same rules; while a fix that was applied is still
   found, wait (restarted pods take time on a real cluster) up to `wait` seconds;
4. `outcome`: per plan, fixed / not-fixed (still found) / failed (why) / what was not applied.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from kenv.doctor.engine import Report, analyse, select_rules
from kenv.doctor.fixes import PlannedFix, Step, plan_fix
from kenv.doctor.index import Index
from kenv.errors import ExternalCommandError, KenvError
from kenv.runtime.kubectl import Kubectl
from kenv.runtime.process import Runner
from kenv.workflows.context import WorkflowContext

KUBECTL_TIMEOUT = 120.0
POLL_SECONDS = 5.0

FIXED = "fixed"
NOT_FIXED = "not-fixed"
FAILED = "failed"
APPLIED = "applied"  # done, not yet checked
REFUSED = "refused"  # high risk without --force
DECLINED = "declined"  # the user said no
MANUAL = "manual"  # kenv shows it, the user applies it


@dataclass
class Prepared:
    report: Report
    plans: list[PlannedFix]
    # finding id -> the commands the import would run (a dry run of kenv images sync)
    sync_plans: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Outcome:
    plan: PlannedFix
    state: str
    detail: str = ""

    def to_dict(self, environment: str) -> dict[str, Any]:
        return {**self.plan.to_dict(environment), "outcome": self.state, "detail": self.detail}


def prepare(ctx: WorkflowContext, name: str, *, rule_ids: Collection[str] = ()) -> Prepared:
    from kenv.workflows.doctor_snapshot import capture_snapshot

    rules = select_rules(rule_ids)
    snapshot = capture_snapshot(ctx, name)
    ctx.progress.note(name, f"judging the snapshot with {len(rules)} rule(s)")
    report = analyse(snapshot, rules, warnings=snapshot.warnings)
    index = Index(snapshot)
    plans = [plan for finding in report.findings if (plan := plan_fix(finding, index)) is not None]
    prepared = Prepared(report, plans)
    for plan in plans:
        images = [image for step in plan.steps for image in step.images]
        if images:
            prepared.sync_plans[plan.finding] = sync_plan(ctx, name, images)
    return prepared


def sync_plan(ctx: WorkflowContext, name: str, images: list[str]) -> list[str]:
    """What `kenv images sync NAME IMAGES --dry-run` would run: the images workflow itself, with a
    runner that records instead of running what changes anything."""
    import shlex

    from kenv.workflows.images import sync_images

    dry = replace(ctx, runner=Runner(dry_run=True, env=ctx.runner.env), dry_run=True)
    try:
        result = sync_images(dry, name, _request(images))
    except KenvError as exc:
        return [f"(the import cannot be planned: {exc.one_line()})"]
    if not result.import_images:
        return ["(every node already holds it: nothing to import)"]
    return [shlex.join(argv) for argv in result.planned]


def _request(images: list[str]) -> Any:
    from kenv.images.reference import parse_reference
    from kenv.workflows.images import SyncRequest

    return SyncRequest(tuple(parse_reference(image) for image in images), origin="kenv doctor --fix")


def apply_fix(ctx: WorkflowContext, name: str, plan: PlannedFix) -> Outcome:
    """Run the plan's steps in order; the first that fails ends it (FAILED, with why)."""
    with ctx.recorded("doctor-fix", name) as record:
        record.detail = f"{plan.kind} {plan.object}"
        for step in plan.steps:
            ctx.progress.note(name, step.describe)
            error = _run_step(ctx, name, step)
            if error is not None:
                record.ok, record.error = False, error
                return Outcome(plan, FAILED, f"{step.describe}: {error}")
        record.ok = True
    return Outcome(plan, APPLIED)


def _run_step(ctx: WorkflowContext, name: str, step: Step) -> str | None:
    try:
        if step.images:
            from kenv.workflows.images import sync_images

            result = sync_images(ctx, name, _request(list(step.images)))
            if not result.ok:
                failed = [
                    f"{image} on {cell.node}: {cell.reason or cell.state}"
                    for image, cell in result.with_state("failed", "unknown")
                ]
                return result.import_error or "; ".join(failed) or "the import did not reach every node"
            return None
        env = ctx.inventory().get(name)
        provider = ctx.provider(env.provider)
        kubectl = Kubectl(ctx.runner, ctx.kubeconfig_path(name), provider.context_name(env), timeout=KUBECTL_TIMEOUT)
        ctx.runner.run(kubectl.argv(*step.kubectl), timeout=KUBECTL_TIMEOUT, mutating=True, input_text=step.stdin)
    except ExternalCommandError as exc:
        said = (
            f"{exc.message} ({exc.stderr_tail})"
            if exc.stderr_tail and exc.stderr_tail not in exc.message
            else exc.message
        )
        return " ".join(said.split())  # one line: the result table and the exit message stay readable
    except KenvError as exc:
        return exc.one_line()
    return None


def recheck(
    ctx: WorkflowContext, name: str, outcomes: list[Outcome], *, rule_ids: Collection[str] = (), wait: float = 60.0
) -> Report:
    """A new snapshot judged again; polled while an applied fix is still found, up to `wait` s."""
    from kenv.workflows.doctor_snapshot import capture_snapshot

    rules = select_rules(rule_ids)
    deadline = time.monotonic() + wait
    while True:
        ctx.progress.note(name, "taking a new snapshot to check the fixes")
        snapshot = capture_snapshot(ctx, name)
        report = analyse(snapshot, rules, warnings=snapshot.warnings)
        pending = [o for o in outcomes if o.state == APPLIED and still_found(report, o.plan) is not None]
        if not pending or time.monotonic() + POLL_SECONDS > deadline:
            return report
        ctx.progress.note(name, f"{len(pending)} fix(es) not visible yet; looking again in {POLL_SECONDS:.0f}s")
        time.sleep(POLL_SECONDS)


def still_found(report: Report, plan: PlannedFix) -> str | None:
    """The summary of the finding that still reports what the plan fixes, if any."""
    for finding in report.findings:
        if finding.rule == plan.rule and finding.object == plan.object:
            return finding.summary
    return None


def judge(outcomes: list[Outcome], after: Report) -> list[Outcome]:
    judged = []
    for outcome in outcomes:
        if outcome.state != APPLIED:
            judged.append(outcome)
            continue
        still = still_found(after, outcome.plan)
        judged.append(
            replace(outcome, state=NOT_FIXED, detail=f"still found: {still}")
            if still
            else replace(outcome, state=FIXED)
        )
    return judged
