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
    """One line per check that passed or was skipped on request (what was looked at), then the
    findings as `kenv doctor ENV` shows them: the same renderer, the same JSON."""
    if output != "table":
        emit(report.to_dict(), output)
        return
    from kenv.cli.doctor_render import render_report
    from kenv.doctor.host_rules import SKIPPED_ON_REQUEST, missing_text

    shown = [check for check in report.checks if check.status == "ok" or check.summary == SKIPPED_ON_REQUEST]
    width = max((len(check.id) for check in shown), default=0)
    screen = terminal_width()
    for check in shown:
        line = f"{STATUS_LABELS[check.status]:<5} {check.id:<{width}}  {check.summary}"
        click.echo(line if screen is None else truncate(line, screen))
    if shown:
        click.echo("")
    render_report(report.report, lacks=missing_text, noun="checks")
