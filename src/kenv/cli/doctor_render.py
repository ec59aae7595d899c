"""The doctor's table: findings as a cause tree, shared by `kenv doctor ENV`, `kenv doctor host`
and `kenv up`'s preflight (one look for every finding, whatever the rules judged)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kenv.doctor.engine import Report
    from kenv.doctor.findings import Finding, Skipped

SEVERITIES = ("info", "warning", "error", "critical")
COLOURS = {"critical": ("magenta", True), "error": ("red", True), "warning": ("yellow", False), "info": ("cyan", False)}


def snapshot_lacks(skip: Skipped) -> str:
    """Why a cluster rule was skipped: its parts are not in the snapshot."""
    return f"{', '.join(skip.needs)} (not in the snapshot; kenv doctor snapshot has it)"


def _colour() -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _severity(label: str, colour: bool) -> str:
    word = f"{label.upper():<8}"
    if not colour:
        return word
    fg, bold = COLOURS.get(label, ("white", False))
    return click.style(word, fg=fg, bold=bold)


def render_report(report: Report, *, lacks: Callable[[Skipped], str] = snapshot_lacks, noun: str = "rules") -> None:
    """The cause tree: each finding's block indented under the finding it is caused by; then
    the skipped rules (`lacks` says what each needed) and the counts."""
    from kenv.cli.render import terminal_width

    colour, width = _colour(), terminal_width()
    depths = _depths(report.findings)
    for finding in report.findings:
        _render_finding(finding, depths.get(finding.id, 0), colour, width)
    for skip in report.skipped:
        for part in _wrap(f"skipped: {skip.rule} needs {lacks(skip)}", "", width, follow="  "):
            click.echo(part)
    counts = [f"{report.count(s)} {s}" for s in reversed(SEVERITIES) if report.count(s)]
    if report.findings:
        roots = sum(1 for f in report.findings if f.caused_by is None)
        # Root causes are worth counting only when something hangs under another.
        causes = f", {roots} root cause(s)" if roots < len(report.findings) else ""
        click.echo(f"{len(report.findings)} finding(s) ({', '.join(counts)}){causes}; -o json for every detail")
    else:
        click.echo(f"No problems found ({len(report.rules)} {noun}).")


def _depths(findings: tuple[Finding, ...]) -> dict[str, int]:
    depths: dict[str, int] = {}
    for finding in findings:  # tree order: a cause is always before what it causes
        depths[finding.id] = depths.get(finding.caused_by or "", -1) + 1 if finding.caused_by else 0
    return depths


def _render_finding(finding: Finding, depth: int, colour: bool, width: int | None) -> None:
    pad = "    " * depth
    lead = "\u2514\u2500 " if depth else ""
    click.echo(f"{pad}{lead}{_severity(finding.severity, colour)} {finding.object}  [{finding.rule}]")
    inner = pad + ("   " if depth else "") + "  "
    lines: list[str] = [finding.summary]
    lines += [f"- {line}" for line in finding.evidence]
    if finding.symptoms:
        shown = ", ".join(finding.symptoms[:5]) + (
            f" and {len(finding.symptoms) - 5} more" if len(finding.symptoms) > 5 else ""
        )
        lines.append(f"symptoms: {shown}")
    applies = "kenv can apply it" if finding.fix.automatic else "by hand"
    lines.append(f"fix ({finding.fix.risk} risk, {applies}): {finding.fix.summary}")
    # What is wrong and why is read in full on a terminal: wrapped at word boundaries, never cut;
    # commands stay one line each, to be copied whole.
    for line in lines:
        for part in _wrap(line, inner, width):
            click.echo(part)
    for command in finding.fix.commands:
        click.echo(f"{inner}  $ {command}")
    click.echo("")


def _wrap(line: str, indent: str, width: int | None, follow: str | None = None) -> list[str]:
    if width is None or len(indent) + len(line) <= width:
        return [indent + line]
    import textwrap

    follow = indent + (follow if follow is not None else "  ")
    wrapped = textwrap.wrap(
        line,
        width=max(width, len(indent) + 20),
        initial_indent=indent,
        subsequent_indent=follow,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped or [indent + line]
