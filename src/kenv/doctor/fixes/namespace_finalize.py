"""Let a namespace stuck Terminating go (namespace.stuck-terminating): high risk, needs --force.

The plan first lists what blocks it (the finding's evidence: remaining objects and their
finalizers, failing APIServices, the namespace's conditions); removing those is the real fix.
The last resort clears `spec.finalizers` through the `finalize` subresource (`kubectl replace
--raw /api/v1/namespaces/NS/finalize -f -`, a PUT of the namespace with the list emptied): a
plain patch or replace of the namespace does not touch `spec.finalizers`, which only that
subresource updates. What remains in the namespace is orphaned, not cleaned up."""

from __future__ import annotations

from kenv.doctor.findings import Finding
from kenv.doctor.fixes import PlannedFix, Step
from kenv.doctor.fixes._shared import document, manifest, parse_object
from kenv.doctor.index import Index, dig, seq


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    _, _, name = parse_object(finding.object)
    namespace = index.get("Namespace", "", name)
    if namespace is None:
        return None
    finalizers = [f for f in seq(dig(namespace, "spec", "finalizers")) if isinstance(f, str)]
    body = manifest(namespace, keep_version=False)
    body.setdefault("spec", {})["finalizers"] = []
    diff = [
        "what blocks it (remove these first if you can; kenv does not delete them):",
        *(f"  {line}" for line in finding.evidence),
        f"Namespace {name} spec.finalizers: {finalizers} -> [] (through /api/v1/namespaces/{name}/finalize)",
        "whatever remains in it is orphaned, not cleaned up",
    ]
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="remove-namespace-finalizers",
        summary=f"remove the finalizers of namespace {name} so that its deletion completes",
        risk="high",
        automatic=True,
        diff=tuple(diff),
        steps=(
            Step(
                f"clear namespace {name}'s spec.finalizers through the finalize subresource",
                ("replace", "--raw", f"/api/v1/namespaces/{name}/finalize", "-f", "-"),
                stdin=document(body),
            ),
        ),
    )
