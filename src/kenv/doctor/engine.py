"""Runs the rules over a snapshot and links what they find into cause chains.

The cluster rules judge an `Index` over a cluster snapshot, the host rules a `HostSnapshot`
(`judge` runs either: it knows only a rule's id, needs and check).

Rules are pure and independent: each reads the shared `Index` and yields findings, and may name
`suspects`, objects whose own finding (if any rule made one) is its cause. The engine then links
them: a finding hangs under the first finding (most severe first) whose object or symptoms is one of
its suspects, unless that would close a loop; a cause lists the objects of what hangs under it among
its symptoms. A rule that raises becomes a `doctor.rule-crashed` finding and the others still run; a
rule that needs a part the snapshot lacks is skipped and reported as such, never run on a guess.
"""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from kenv.doctor.findings import SCHEMA, SEVERITY_RANK, Finding, Fix, Skipped, at_or_above
from kenv.doctor.index import Index, SnapshotLike
from kenv.doctor.rules import ClusterRule, Rule, load_rules
from kenv.errors import InvalidInput

log = logging.getLogger("kenv.doctor")

RULE_CRASHED = "doctor.rule-crashed"
Subject = TypeVar("Subject")


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]  # in tree order: each cause followed by what hangs under it
    skipped: tuple[Skipped, ...]
    rules: tuple[str, ...]  # the ids of the rules that ran
    warnings: tuple[str, ...] = ()  # what the snapshot loader had to skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "findings": [finding.to_dict() for finding in self.findings],
            "skipped": [skip.to_dict() for skip in self.skipped],
        }

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def fails(self, threshold: str) -> bool:
        return any(at_or_above(finding.severity, threshold) for finding in self.findings)

    def depth(self, finding: Finding) -> int:
        by_id = {f.id: f for f in self.findings}
        depth, current = 0, finding
        while current.caused_by and current.caused_by in by_id and depth < len(by_id):
            depth, current = depth + 1, by_id[current.caused_by]
        return depth


_LOADED: list[tuple[ClusterRule, ...]] = []


def all_rules() -> tuple[ClusterRule, ...]:
    """Every rule, its modules imported on first use (kenv doctor host never pays for them)."""
    if not _LOADED:
        _LOADED.append(load_rules())
    return _LOADED[0]


def select_rules(ids: Collection[str] = ()) -> tuple[ClusterRule, ...]:
    """The rules named (all when none is); an unknown id is refused with the known ones listed."""
    rules = all_rules()
    if not ids:
        return rules
    known = {rule.id for rule in rules}
    unknown = sorted(set(ids) - known)
    if unknown:
        raise InvalidInput(
            f"unknown rule {', '.join(unknown)}",
            hint=f"`kenv doctor rules` lists them: {', '.join(sorted(known))}",
        )
    return tuple(rule for rule in rules if rule.id in ids)


def analyse(snapshot: SnapshotLike, rules: Sequence[ClusterRule] | None = None, warnings: Iterable[str] = ()) -> Report:
    # The indexes and findings are hundreds of thousands of small acyclic objects: the cyclic
    # collector would walk them again and again for nothing (a third of the time at 10,000 pods).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyse(snapshot, tuple(all_rules() if rules is None else rules), tuple(warnings))
    finally:
        if collecting:
            gc.enable()


def _analyse(snapshot: SnapshotLike, chosen: tuple[ClusterRule, ...], warnings: tuple[str, ...]) -> Report:
    return judge(Index(snapshot), chosen, snapshot.has, warnings)


def judge(
    subject: Subject, chosen: Sequence[Rule[Subject]], has: Callable[[str], bool], warnings: tuple[str, ...] = ()
) -> Report:
    """Run rules over what they judge (a cluster's index, the host's snapshot), the same way for
    both: a rule missing a part (`has`) is skipped, a crash is a finding, then the links."""
    found: list[Finding] = []
    skipped: list[Skipped] = []
    for rule in chosen:
        missing = tuple(part for part in rule.needs if not has(part))
        if missing:
            skipped.append(Skipped(rule.id, missing))
            continue
        try:
            found.extend(rule.check(subject))
        except Exception as exc:
            log.debug("rule %s crashed", rule.id, exc_info=True)
            found.append(crashed(rule.id, exc))
    order = {rule.id: position for position, rule in enumerate(chosen)}
    return Report(tuple(link(found, order)), tuple(skipped), tuple(r.id for r in chosen), warnings)


def crashed(rule_id: str, exc: Exception) -> Finding:
    """What a rule that raised leaves behind: a finding naming it and where it broke."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    return Finding(
        rule=RULE_CRASHED,
        severity="error",
        object=f"Rule//{rule_id}",
        summary=f"rule {rule_id} crashed ({type(exc).__name__}: {exc}); the other rules ran",
        evidence=(f"at {where.filename.rsplit('/', 1)[-1]}:{where.lineno} in {where.name}",) if where else (),
        fix=Fix("report it with the snapshot (kenv doctor --debug shows the traceback)", (), "low", False),
    )


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    """Ids made unique: one workload can have two findings of a rule (two images it cannot pull)."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        count = seen.get(finding.id, 0) + 1
        seen[finding.id] = count
        result.append(finding if count == 1 else replace(finding, id=f"{finding.id}#{count}"))
    return result


def link(findings: Iterable[Finding], order: dict[str, int] | None = None) -> list[Finding]:
    """Cause links from suspects, symptoms folded into their causes, and the tree order."""
    rank = order or {}
    items = _unique(findings)
    # Most severe first, then rule order: the cause a finding hangs under is the weightiest candidate.
    items.sort(key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), rank.get(f.rule, len(rank)), f.object, f.id))
    holders: dict[str, list[str]] = {}
    for finding in items:
        for ref in (finding.object, *finding.symptoms):
            holders.setdefault(ref, []).append(finding.id)
    cause: dict[str, str] = {}
    for finding in items:
        if finding.caused_by is not None:
            cause[finding.id] = finding.caused_by
            continue
        for suspect in finding.suspects:
            candidate = next(
                (h for h in holders.get(suspect, ()) if h != finding.id and not _reaches(cause, h, finding.id)), None
            )
            if candidate is not None:
                cause[finding.id] = candidate
                break
    ids = {f.id for f in items}
    children: dict[str | None, list[Finding]] = {}
    linked = []
    under: dict[str, list[str]] = {}
    for finding in items:
        if cause.get(finding.id) in ids:
            under.setdefault(cause[finding.id], []).append(finding.object)
    for finding in items:
        parent = cause.get(finding.id)
        parent = parent if parent in ids else None
        extra = under.get(finding.id, [])
        linked.append(finding.with_links(parent, [*finding.symptoms, *(o for o in extra if o != finding.object)]))
    for finding in linked:
        children.setdefault(finding.caused_by, []).append(finding)
    ordered: list[Finding] = []
    stack = list(reversed(children.get(None, [])))
    while stack:  # depth first, without recursion: a chain may be long
        current = stack.pop()
        ordered.append(current)
        stack.extend(reversed(children.get(current.id, [])))
    return ordered


def _reaches(cause: dict[str, str], start: str, target: str) -> bool:
    """Whether following causes from `start` reaches `target` (a link target→start would loop)."""
    seen = set()
    current: str | None = start
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = cause.get(current)
    return False
