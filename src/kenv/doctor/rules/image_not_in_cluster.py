"""image.not-in-cluster: the image is on the host (or nowhere), not inside the cluster's nodes."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import NOT_IN_CLUSTER, PullFailure, import_commands
from kenv.doctor.rules._images import image_findings, restart


def explain(index: Index, members: list[PullFailure]) -> tuple[str, list[str], Fix]:
    image = members[0].container.image
    in_nodes, on_host = index.in_nodes(image), index.on_host(image)
    evidence = []
    if in_nodes is False:
        evidence.append(f"no node of the cluster holds {image}")
    if on_host is True:
        evidence.append(f"the host's Docker holds {image}: it was built or pulled there, never imported")
        summary = (
            f"{image} is on the host but not inside the cluster: the nodes' containerd cannot see the host's images"
        )
    elif on_host is False:
        evidence.append(f"the host's Docker does not hold {image} either")
        summary = f"{image} is in no registry the nodes can read and in no node: build or pull it, then import it"
    else:
        summary = f"{image} cannot be pulled (not found or access denied) and is not inside the cluster's nodes"
    if not any(m.messages for m in members):
        evidence.append("the snapshot holds no pull error message (no Failed events): the cause is a guess")
    commands = (*import_commands(index, [image]), restart(index, members))
    fix = Fix(
        f"import {image} into the cluster's nodes (or fix the reference if the name is wrong), then restart the pods",
        commands,
        "low",
        True,
    )
    return summary, evidence, fix


def check(index: Index) -> Iterator[Finding]:
    yield from image_findings(index, NOT_IN_CLUSTER, "error", explain)


RULE = Rule(
    id=NOT_IN_CLUSTER,
    severity="error",
    summary=(
        "An image the pods need is not inside the cluster and no registry gives it (pull access denied / not found)."
    ),
    doc=(
        "A local cluster's nodes run their own containerd: an image built or pulled on the host is not "
        "there until it is imported. kubelet then asks the registry, which answers `not found` or "
        "`pull access denied ... insufficient_scope`. The fix names the import command of this "
        "cluster's tool (k3d image import, kind load docker-image, minikube image load) or kenv images sync."
    ),
    bad=(
        'Failed to pull image "myapp:1.0": ... pull access denied, repository does not exist or may require '
        "authorization"
    ),
    good="kenv images sync dev myapp:1.0   # or: k3d image import myapp:1.0 -c dev",
    check=check,
)
