"""`kenv doctor [ENV] [--snapshot FILE]`: a snapshot read from a file or captured live, judged by
the cluster rules. Reading only: nothing here changes the cluster."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from kenv.doctor.engine import Report, analyse, select_rules
from kenv.workflows.context import WorkflowContext


def diagnose_file(path: Path, *, rule_ids: Collection[str] = (), environment: str | None = None) -> Report:
    """Judge a snapshot file (kenv's or a kubectl List). `environment` names the kenv environment
    it came from when the file does not, so that the fixes use its commands."""
    from kenv.doctor.snapshot import read_snapshot_file

    rules = select_rules(rule_ids)  # an unknown rule is refused before the file is read
    snapshot = read_snapshot_file(path)
    if environment and not snapshot.environment:
        snapshot = replace(snapshot, environment=environment)
    return analyse(snapshot, rules, warnings=snapshot.warnings)


def diagnose_environment(ctx: WorkflowContext, name: str, *, rule_ids: Collection[str] = ()) -> Report:
    """Capture the environment's snapshot (read-only kubectl, crictl and docker calls) and judge it."""
    from kenv.workflows.doctor_snapshot import capture_snapshot

    rules = select_rules(rule_ids)
    snapshot = capture_snapshot(ctx, name)
    ctx.progress.note(name, f"judging the snapshot with {len(rules)} rule(s)")
    return analyse(snapshot, rules, warnings=snapshot.warnings)
