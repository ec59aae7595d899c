"""image.digest-not-found: an `@sha256:` reference the registry (often a re-pushing mirror) lacks."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix
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
    commands = []
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        commands.append(
            f"{kubectl(index)} -n {q(namespace)} set image {kind.lower()}/{q(name)} {q(c.name)}={q(without)}"
        )
    elif kind in ("Job", "CronJob"):
        commands.append(
            f"{kubectl(index)} -n {q(namespace)} get {kind.lower()} {q(name)} -o json > {q(name)}.json"
            "  # drop the digest, spec.selector and the controller-uid labels, then delete and create it again"
        )
    commands += [c for c in import_commands(index, [image]) if c.startswith("kenv ")]
    fix = Fix(
        f"refer to {without} without the digest, or copy the image keeping its digest "
        "(kenv images sync imports digest references from an OCI archive, digest kept)",
        tuple(commands),
        "medium",
        True,
    )
    return summary, evidence, fix


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
