"""Let CoreDNS bind :53 again (dns.coredns-bind-denied): a JSON patch of its container's
securityContext, then a restart.

k3s's manifests/coredns.yaml and kubeadm's CoreDNS Deployment
(cmd/kubeadm/app/phases/addons/dns/manifests.go) both give the container
`capabilities: {add: [NET_BIND_SERVICE], drop: [all]}` with `allowPrivilegeEscalation: false`
and `readOnlyRootFilesystem: true`: the added capability is what lets a non-root CoreDNS bind a
port below 1024. The patch adds it (creating `securityContext` or `capabilities` when the spec
has none, as a JSON patch `add` needs the parent). When it is already there and the bind is still
denied, the process does not keep the capability (no file capability in the image): the patch
then runs it as root with nothing dropped, which is the older manifests' way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kenv.doctor.findings import Finding, object_ref
from kenv.doctor.fixes import PlannedFix, Step
from kenv.doctor.fixes._shared import ROLLING, parse_object
from kenv.doctor.index import Index, dig, mapping, seq
from kenv.doctor.rules._common import containers
from kenv.doctor.rules._dns import bind_denied_lines, is_coredns

BIND = "NET_BIND_SERVICE"


def bind_patch(container_spec: Mapping[str, Any], base: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON patch for a container whose securityContext is at `base`, and its diff lines."""
    security = mapping(container_spec.get("securityContext"))
    caps = mapping(security.get("capabilities"))
    add = [c for c in seq(caps.get("add")) if isinstance(c, str)]
    patch: list[dict[str, Any]]
    if not any(c.upper() in (BIND, "CAP_" + BIND) for c in add):
        if "securityContext" not in container_spec:
            patch = [{"op": "add", "path": base, "value": {"capabilities": {"add": [BIND]}}}]
        elif "capabilities" not in security:
            patch = [{"op": "add", "path": f"{base}/capabilities", "value": {"add": [BIND]}}]
        else:
            patch = [{"op": "add", "path": f"{base}/capabilities/add", "value": [*add, BIND]}]
        return patch, [f"securityContext.capabilities.add: {add} -> {[*add, BIND]}"]
    drop = [c for c in seq(caps.get("drop")) if isinstance(c, str)]
    patch = [
        {"op": "add", "path": f"{base}/capabilities/drop", "value": []},
        {"op": "add", "path": f"{base}/runAsUser", "value": 0},
        {"op": "add", "path": f"{base}/runAsNonRoot", "value": False},
    ]
    lines = [
        f"securityContext.capabilities.drop: {drop} -> []",
        f"securityContext.runAsUser: {security.get('runAsUser', '(unset)')} -> 0",
        f"securityContext.runAsNonRoot: {security.get('runAsNonRoot', '(unset)')} -> False",
    ]
    return patch, lines


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    kind, namespace, name = parse_object(finding.object)
    if kind not in ROLLING:
        return None
    denied = [
        c
        for c in containers(index)
        if is_coredns(c.pod)
        and object_ref(*index.workload(c.pod)) == finding.object
        and bind_denied_lines(index, c)
    ]
    if not denied:
        return None
    first = denied[0]
    workload = index.get(kind, namespace, name)
    template = dig(workload, "spec", "template", "spec", "containers") if workload is not None else None
    spec = first.spec
    if isinstance(template, list) and first.index < len(template) and isinstance(template[first.index], dict):
        spec = template[first.index]  # the template is what the patch changes
    base = f"/spec/template/spec/containers/{first.index}/securityContext"
    patch, lines = bind_patch(spec, base)
    where = f"{kind} {namespace}/{name} containers[{first.index}] ({first.name})"
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="coredns-security-context",
        summary=f"let {kind} {namespace}/{name} bind port 53 and restart it",
        risk="medium",
        automatic=True,
        diff=(*tuple(f"{where}.{line}" for line in lines), f"restart {kind} {namespace}/{name}"),
        steps=(
            Step(
                f"patch {kind} {namespace}/{name}'s securityContext",
                ("-n", namespace, "patch", kind.lower(), name, "--type=json", "-p", json.dumps(patch)),
            ),
            Step(
                f"restart {kind} {namespace}/{name}",
                ("-n", namespace, "rollout", "restart", f"{kind.lower()}/{name}"),
            ),
        ),
    )
