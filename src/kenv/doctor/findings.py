"""What `kenv doctor` reports: findings with evidence, a fix, and their place in a cause chain.

A finding names one object as `Kind/namespace/name` (namespace empty for cluster-scoped objects:
`Namespace//stuck-ns`), says what is wrong in one line, lists the evidence that proves it (fields,
events, log lines, quoted as the cluster wrote them), and the fix: exact commands for this cluster,
how risky they are, and whether kenv can apply them itself. `caused_by` and `symptoms` link it into
a chain: the pods of a workload, the claims and services that fail because of it.

`to_dict` is the `-o json` contract (schema `kenv.doctor/v1`); its keys never change meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

SCHEMA = "kenv.doctor/v1"
Severity = Literal["info", "warning", "error", "critical"]
Risk = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
# Evidence lines quoted from logs or messages are cut here: a 10 MB log line must not become a finding.
MAX_EVIDENCE_CHARS = 400
MAX_EVIDENCE_LINES = 12
MAX_SUMMARY_CHARS = 1000
MAX_COMMAND_CHARS = 4000


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    """`Kind/namespace/name`; cluster-scoped objects keep the empty namespace: `Node//k3d-dev-server-0`."""
    return f"{kind}/{namespace or ''}/{name}"


def finding_id(rule: str, obj: str) -> str:
    """Stable across runs of the same snapshot: the rule and the object it is about."""
    return f"{rule}@{obj}"


def clip(text: str, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """One evidence line: control characters shown (a `\\r` is the point of some findings), cut at `limit`."""
    shown = text.replace("\r", "\\r").replace("\n", " ").replace("\t", " ")
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Fix:
    summary: str
    commands: tuple[str, ...] = ()
    risk: Risk = "low"
    automatic: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "commands": list(self.commands),
            "risk": self.risk,
            "automatic": self.automatic,
        }


NO_FIX = Fix("no fix is known; read the evidence", (), "low", False)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    object: str
    summary: str
    evidence: tuple[str, ...] = ()
    fix: Fix = NO_FIX
    symptoms: tuple[str, ...] = ()
    caused_by: str | None = None
    # Objects whose own finding, if there is one, is the cause of this one (the engine links them):
    # a Service's selected pods, a claim's helper pod, the CoreDNS pods behind an app's DNS failures.
    suspects: tuple[str, ...] = field(default=(), compare=False)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", finding_id(self.rule, self.object))
        # A hostile snapshot can name a 10 MB image: what is printed stays readable.
        object.__setattr__(self, "summary", clip(self.summary, MAX_SUMMARY_CHARS))
        if any(len(command) > MAX_COMMAND_CHARS for command in self.fix.commands):
            commands = tuple(clip(command, MAX_COMMAND_CHARS) for command in self.fix.commands)
            object.__setattr__(self, "fix", replace(self.fix, commands=commands))
        lines = tuple(clip(line) for line in self.evidence[:MAX_EVIDENCE_LINES])
        if len(self.evidence) > MAX_EVIDENCE_LINES:
            lines += (f"... and {len(self.evidence) - MAX_EVIDENCE_LINES} more",)
        object.__setattr__(self, "evidence", lines)

    def with_links(self, caused_by: str | None, symptoms: Iterable[str]) -> Finding:
        return replace(self, caused_by=caused_by, symptoms=tuple(dict.fromkeys(symptoms)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "object": self.object,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix.to_dict(),
            "caused_by": self.caused_by,
            "symptoms": list(self.symptoms),
        }


@dataclass(frozen=True)
class Skipped:
    """A rule that did not run because the snapshot lacks what it reads: said, never guessed."""

    rule: str
    needs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "needs": list(self.needs)}


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[threshold]
