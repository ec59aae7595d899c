"""The host preflight, run and rendered: shared by `kenv doctor host` and `kenv up`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import emit, terminal_width, truncate

if TYPE_CHECKING:
    from kenv.doctor.host_rules import HostReport

FINDING_COLUMNS = [("SEVERITY", "severity"), ("ID", "id"), ("FINDING", "title"), ("FIX", "fix")]
STATUS_LABELS = {"ok": "ok", "skipped": "skip"}


def run_host_preflight(app: App, *, skip: Collection[str] = (), scan: Sequence[Path] = ()) -> HostReport:
    """Capture this machine's facts and judge them; `kenv up` runs this before touching anything.

    An inventory that cannot be opened is a finding, not a failure: every other check still runs.
    Scripts are looked for in `scan` only: no setting names a GitOps repository to add to it.
    """
    from kenv.doctor.host_rules import evaluate
    from kenv.doctor.host_snapshot import capture_host_snapshot
    from kenv.errors import KenvError
    from kenv.runtime.process import Runner

    settings = app.settings()
    try:
        environments = app.inventory().environments()
        inventory_error = None
    except KenvError as exc:
        # The finding carries its own fix; the error's hint would repeat it in the title.
        environments, inventory_error = None, " ".join(exc.message.split())
    snapshot = capture_host_snapshot(Runner(), settings, environments, inventory_error=inventory_error, scan=scan)
    return evaluate(snapshot, skip=skip)


def render_host_report(report: HostReport, output: str) -> None:
    if output != "table":
        emit(report.to_dict(), output)
        return
    width = max(len(check.id) for check in report.checks)
    screen = terminal_width()
    for check in report.checks:
        if check.status in STATUS_LABELS:
            line = f"{STATUS_LABELS[check.status]:<5} {check.id:<{width}}  {check.summary}"
            click.echo(line if screen is None else truncate(line, screen))
    findings = [finding.to_dict() for finding in report.findings]
    if findings:
        click.echo("")
        # What is wrong and how to fix it are read in full: wrapped, never cut.
        emit(findings, "table", columns=FINDING_COLUMNS, wrap=("title", "fix"))
    errors, warnings, info = report.count("error"), report.count("warning"), report.count("info")
    if report.problems_found:
        click.echo(f"\n{errors} error(s), {warnings} warning(s), {info} info; `-o yaml` explains why each matters")
    else:
        click.echo(f"\nNo problems found ({len(report.checks)} checks{f', {info} info' if info else ''}).")
