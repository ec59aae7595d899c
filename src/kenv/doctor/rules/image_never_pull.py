"""image.never-pull: imagePullPolicy Never and the image is not in the node (ErrImageNeverPull)."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import NEVER_PULL, PullFailure, import_commands
from kenv.doctor.rules._images import image_findings, restart


def explain(index: Index, members: list[PullFailure]) -> tuple[str, list[str], Fix]:
    image = members[0].container.image
    summary = f"{image} is not in the node and its pull policy Never forbids pulling it"
    evidence = [f"imagePullPolicy: {members[0].container.pull_policy or 'Never'}"]
    fix = Fix(
        f"import {image} into every node (policy Never never pulls), then restart the pods",
        (*import_commands(index, [image]), restart(index, members)),
        "low",
        True,
    )
    return summary, evidence, fix


def check(index: Index) -> Iterator[Finding]:
    yield from image_findings(index, NEVER_PULL, "error", explain)


RULE = Rule(
    id=NEVER_PULL,
    severity="error",
    summary="imagePullPolicy: Never and the image is not inside the node (ErrImageNeverPull).",
    doc=(
        "With pull policy Never kubelet only uses what the node holds: "
        '`Container image "<img>" is not present with pull policy of Never`. Import the image.'
    ),
    bad="imagePullPolicy: Never   # and myapp:dev was never imported",
    good="kenv images sync dev myapp:dev   # then the same pod starts",
    check=check,
)
