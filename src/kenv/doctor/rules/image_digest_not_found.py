"""image.digest-not-found: an `@sha256:` reference the registry (often a re-pushing mirror) lacks."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import DIGEST_NOT_FOUND, PullFailure, import_commands, kubectl, q
from kenv.doctor.rules._images import image_findings


def explain(index: Index, members: list[PullFailure]) -> tuple[str, list[str], Fix]:
    c = members[0].container
    image = c.image
    without = image.split("@", 1)[0]
    kind, namespace, name = index.workload(c.pod)
    summary = f"{image} is a digest reference the registry {members[0].registry_host} does not have"
    evidence = [
        "a mirror that re-pushed the image has other digests; an image loaded with kind load or k3d image "
        "import has no repo digest, so a digest reference always goes to the registry"
    ]
    commands = fix_commands(index, Finding(DIGEST_NOT_FOUND, "error", object_ref(kind, namespace, name), summary))
    commands += [c for c in import_commands(index, [image]) if c.startswith("kenv ")]
    fix = Fix(
        f"refer to {without} without the digest, or copy the image keeping its digest "
        "(kenv images sync imports digest references from an OCI archive, digest kept)",
        tuple(commands),
        "medium",
        True,
    )
    return summary, evidence, fix


def fix_commands(index: Index, finding: Finding) -> list[str]:
    """What `kenv doctor --fix` applies for this finding, as lines to type: the planner's own
    steps (a guarded JSON patch: `test` the old image, then `replace` it), so that what is shown
    is what is applied. A Job is recreated from a document (its template cannot change), which
    only --fix can build; a bare pod's image cannot change at all."""
    from kenv.doctor.fixes.digest import plan

    planned = plan(finding, index)
    lines = []
    for step in planned.steps if planned is not None else ():
        if step.stdin is None:
            lines.append(f"{kubectl(index)} {shlex.join(step.kubectl)}")
        elif index.cluster.environment:
            lines.append(
                f"kenv doctor {q(index.cluster.environment)} --fix --rule {DIGEST_NOT_FOUND}  # {step.describe}"
            )
        else:
            kind, namespace, name = finding.object.split("/", 2)
            lines.append(
                f"{kubectl(index)} -n {q(namespace)} get {kind.lower()} {q(name)} -o json > {q(name)}.json"
                "  # drop the digest, spec.selector and the controller-uid labels; kubectl replace --force -f it"
            )
    return lines


def check(index: Index) -> Iterator[Finding]:
    yield from image_findings(index, DIGEST_NOT_FOUND, "error", explain)


RULE = Rule(
    id=DIGEST_NOT_FOUND,
    severity="error",
    summary="A digest reference (@sha256:) is not in the registry: manifest unknown / not found.",
    doc=(
        "A digest pins the exact bytes: a mirror (--image-repository) that re-pushed the image has other "
        "digests, so `name:tag@sha256:...` is `manifest unknown` there. Refer to the tag, or copy the image "
        "with its digest preserved."
    ),
    bad="image: registry.cn-hangzhou.aliyuncs.com/google_containers/kube-webhook-certgen:v1.4.0@sha256:44d1d0e9...",
    good="image: registry.cn-hangzhou.aliyuncs.com/google_containers/kube-webhook-certgen:v1.4.0",
    check=check,
)
