"""Convert a ConfigMap's CRLF scripts to LF (script.crlf), then restart the pods that crash on them.

Only the keys the rule found (script-looking values with `\\r\\n`) change; other values, CRLF
or not, stay as they are. The ConfigMap is written back with `kubectl replace -f -` carrying its
`resourceVersion`: if someone changed it since the snapshot, the API refuses (Conflict) instead
of losing their change. The fix at the source (the repository's file, `.gitattributes`) stays the
user's: the next deploy would bring the CRLF back."""

from __future__ import annotations

from kenv.doctor.findings import Finding
from kenv.doctor.fixes import PlannedFix, Step
from kenv.doctor.fixes._shared import document, manifest, parse_object, restart_steps
from kenv.doctor.index import Index, mapping
from kenv.doctor.rules.script_crlf import crashing_users, crlf_scripts


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    _, namespace, name = parse_object(finding.object)
    keys = crlf_scripts(index).get((namespace, name))
    config = index.get("ConfigMap", namespace, name)
    if not keys or config is None:
        return None
    fixed = manifest(config, keep_version=True)
    data = dict(mapping(fixed.get("data")))
    diff = []
    for key, count in keys:
        value = data.get(key)
        if isinstance(value, str):
            data[key] = value.replace("\r\n", "\n")
            diff.append(f"ConfigMap {namespace}/{name} data[{key!r}]: {count} line end(s) \\r\\n -> \\n")
    fixed["data"] = data
    steps = [
        Step(
            f"write ConfigMap {namespace}/{name} back with LF line ends (kubectl replace)",
            ("-n", namespace, "replace", "-f", "-"),
            stdin=document(fixed),
        )
    ]
    by_workload: dict[tuple[str, str, str], list[str]] = {}
    for c in crashing_users(index, (namespace, name)):
        by_workload.setdefault(index.workload(c.pod), []).append(c.pod_name)
    for (kind, pod_namespace, owner), pods in sorted(by_workload.items()):
        restart = restart_steps(index, kind, pod_namespace, owner, pods)
        steps += restart
        diff += [step.describe for step in restart]
    diff.append("then fix the script at its source: sed -i 's/\\r$//' FILE; echo '*.sh text eol=lf' >> .gitattributes")
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="convert-crlf",
        summary=f"convert the scripts of ConfigMap {namespace}/{name} to LF and restart the pods running them",
        risk="low",
        automatic=True,
        diff=tuple(diff),
        steps=tuple(steps),
    )
