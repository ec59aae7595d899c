"""Allow-listed fixes for cluster findings: pure planning, nothing here runs anything.

A plan says what kenv would change, as a diff a person reads before saying yes (which object,
which field, before -> after; for an import, the exact `kenv images sync` it runs), and the steps
that make the change: kubectl calls (arguments after `kubectl`, with their stdin) and image
syncs. `kenv.workflows.doctor_fix` shows the plans, asks, applies them and checks the result with
a new snapshot.

Only the rules listed in `PLANNERS` get a plan; a finding of any other rule is fixed by hand
(its `fix.commands`). A plan with `automatic=False` is shown, never applied: the mirror/proxy
change needs the cluster recreated with a new config, which is the user's call.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kenv.doctor.findings import Finding, Risk
from kenv.doctor.index import Index


@dataclass(frozen=True)
class Step:
    """One change: a kubectl call (`kubectl` and the cluster's kubeconfig are added when run),
    or, with `images`, `kenv images sync ENV IMAGE...` through the images workflow."""

    describe: str
    kubectl: tuple[str, ...] = ()
    stdin: str | None = None
    images: tuple[str, ...] = ()

    def command(self, environment: str) -> str:
        """The step as a person would type it (a stdin document is shown under it)."""
        if self.images:
            return shlex.join(["kenv", "images", "sync", environment, *self.images])
        line = shlex.join(["kubectl", *self.kubectl])
        return line + ("  # stdin: the document below" if self.stdin is not None else "")

    def to_dict(self, environment: str) -> dict[str, Any]:
        return {
            "describe": self.describe,
            "command": self.command(environment),
            "kubectl": list(self.kubectl) if self.kubectl else None,
            "stdin": self.stdin,
            "images": list(self.images),
        }


@dataclass(frozen=True)
class PlannedFix:
    finding: str  # the finding's id
    rule: str
    object: str
    kind: str  # what sort of fix: import-image, mirror-config, replace-digest, ...
    summary: str
    risk: Risk
    automatic: bool
    diff: tuple[str, ...]  # before -> after, one line each
    steps: tuple[Step, ...] = ()

    def to_dict(self, environment: str) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "rule": self.rule,
            "object": self.object,
            "kind": self.kind,
            "summary": self.summary,
            "risk": self.risk,
            "automatic": self.automatic,
            "diff": list(self.diff),
            "steps": [step.to_dict(environment) for step in self.steps],
        }


Planner = Callable[[Finding, Index], "PlannedFix | None"]


def planners() -> dict[str, Planner]:
    """Rule id -> the planner of its fix. Imported on use: a diagnosis without --fix never pays."""
    from kenv.doctor.fixes import configmap_crlf, coredns, digest, image_import, mirrors, namespace_finalize

    return {
        "image.not-in-cluster": image_import.plan,
        "image.never-pull": image_import.plan,
        "image.registry-unreachable": mirrors.plan,
        "image.digest-not-found": digest.plan,
        "dns.coredns-bind-denied": coredns.plan,
        "script.crlf": configmap_crlf.plan,
        "namespace.stuck-terminating": namespace_finalize.plan,
    }


def plan_fix(finding: Finding, index: Index) -> PlannedFix | None:
    """The plan for this finding, or None when its rule has no allow-listed fix."""
    planner = planners().get(finding.rule)
    return planner(finding, index) if planner is not None else None
