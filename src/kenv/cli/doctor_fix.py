"""`kenv doctor ENV --fix [--yes] [--force]`: each plan shown as a diff first, asked for (unless
--yes), applied, then judged again on a new snapshot. The workflow is
`kenv.workflows.doctor_fix`; this module prints and asks."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import click

from kenv.cli.main import App
from kenv.cli.render import emit
from kenv.errors import OperationFailed, ProblemsFound

if TYPE_CHECKING:
    from kenv.doctor.fixes import PlannedFix
    from kenv.workflows.doctor_fix import Outcome, Prepared

STATE_WORDS = {
    "fixed": "fixed",
    "not-fixed": "NOT fixed",
    "failed": "FAILED",
    "refused": "refused",
    "declined": "declined",
    "manual": "by hand",
}
# Why a plan was not applied, said after its line in the result.
NOT_APPLIED = {
    "refused": "high risk: rerun with --force to apply it",
    "declined": "not applied",
    "manual": "kenv shows it, does not apply it",
}
# A stdin document longer than this is cut in the table (-o json has it whole).
MAX_DOCUMENT_LINES = 40


def run_fix(
    app: App,
    name: str,
    *,
    rule_ids: Collection[str],
    yes: bool,
    force: bool,
    wait: float,
    fail_on: str,
    output: str,
) -> None:
    from kenv.cli.workflow_support import workflow_context
    from kenv.workflows import doctor_fix as flow

    ctx = workflow_context(app, dry_run=False)
    prepared = flow.prepare(ctx, name, rule_ids=rule_ids)
    table = output == "table"
    say = click.echo if table else _quiet
    for warning in prepared.report.warnings:
        click.echo(f"warning: snapshot: {warning}", err=True)
    _announce(prepared, say)
    outcomes: list[Outcome] = []
    asking = _Asking()
    for number, plan in enumerate(prepared.plans, start=1):
        _show(plan, number, len(prepared.plans), name, prepared, say)
        if not plan.automatic:
            outcomes.append(flow.Outcome(plan, flow.MANUAL))
        elif plan.risk == "high" and not force:
            outcomes.append(flow.Outcome(plan, flow.REFUSED, "high risk: needs --force"))
        elif not yes and (asking.stopped or not _confirm(plan, asking)):
            outcomes.append(flow.Outcome(plan, flow.DECLINED))
        else:
            outcome = flow.apply_fix(ctx, name, plan)
            say(f"  -> {'applied' if outcome.state == flow.APPLIED else 'FAILED: ' + outcome.detail}")
            outcomes.append(outcome)
        say("")
    after = prepared.report
    if any(o.state == flow.APPLIED for o in outcomes):
        after = flow.recheck(ctx, name, outcomes, rule_ids=rule_ids, wait=wait)
        outcomes = flow.judge(outcomes, after)
    if table:
        _summary(outcomes, after, name)
    else:
        data: dict[str, Any] = after.to_dict()
        data["fixes"] = [o.to_dict(name) for o in outcomes]
        emit(data, output)
    failed = [o for o in outcomes if o.state == flow.FAILED]
    if failed:
        raise OperationFailed(
            f"{len(failed)} fix(es) failed: " + "; ".join(f"{o.plan.object}: {o.detail}" for o in failed)
        )
    if after.fails(fail_on):
        from kenv.doctor.findings import at_or_above

        worst = sum(1 for f in after.findings if at_or_above(f.severity, fail_on))
        raise ProblemsFound(f"{worst} finding(s) at or above {fail_on} remain")


def _quiet(*_: Any, **__: Any) -> None:
    """With -o json/yaml stdout holds the document only."""


def _announce(prepared: Prepared, say: Any) -> None:
    findings = len(prepared.report.findings)
    if not findings:
        say(f"No problems found ({len(prepared.report.rules)} rules): nothing to fix.")
        return
    say(f"{findings} finding(s); {len(prepared.plans)} with a fix kenv knows (causes first):")
    say("")


def _show(plan: PlannedFix, number: int, total: int, name: str, prepared: Prepared, say: Any) -> None:
    applies = "kenv applies it" if plan.automatic else "by hand"
    say(f"fix {number}/{total} [{plan.rule}] {plan.object} ({plan.risk} risk, {applies})")
    say(f"  {plan.summary}")
    say("  diff:")
    for line in plan.diff:
        say(f"    {line}")
    if plan.steps:
        say("  runs:")
    for step in plan.steps:
        say(f"    $ {step.command(name)}")
        if step.images:
            for command in prepared.sync_plans.get(plan.finding, []):
                say(f"        {command}")
        if step.stdin is not None:
            lines = step.stdin.splitlines()
            for line in lines[:MAX_DOCUMENT_LINES]:
                say(f"        {line}")
            if len(lines) > MAX_DOCUMENT_LINES:
                say(f"        ... {len(lines) - MAX_DOCUMENT_LINES} more line(s); -o json has the whole document")


class _Asking:
    """Whether to keep asking: after an interrupt or the end of input, no more questions."""

    stopped = False


def _confirm(plan: PlannedFix, asking: _Asking) -> bool:
    try:
        return click.confirm(f"Apply fix to {plan.object}?", default=False, err=True)
    except click.Abort:  # Ctrl-C or the end of input: nothing more is applied
        click.echo("", err=True)
        asking.stopped = True
        return False


def _summary(outcomes: list[Outcome], after: Any, name: str) -> None:
    if outcomes:
        click.echo("Result:")
    for outcome in outcomes:
        word = STATE_WORDS.get(outcome.state, outcome.state)
        reason = outcome.detail if outcome.state in ("not-fixed", "failed") else NOT_APPLIED.get(outcome.state, "")
        detail = f": {reason}" if reason else ""
        click.echo(f"  {word:<9} [{outcome.plan.rule}] {outcome.plan.object}{detail}")
    remaining = len(after.findings)
    click.echo(
        f"{remaining} finding(s) remain; `kenv doctor {name}` shows them." if remaining else "No finding remains."
    )
