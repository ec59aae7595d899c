"""The mirror/proxy change for image.registry-unreachable: shown, never applied.

The nodes get their mirrors and proxy when the cluster is created (`kenv create` renders the
config's `[images]` table into each tool's form), so the change is a config edit and a recreate,
which only the user can decide. The plan prints the snippet to add and the command that shows
what the nodes were given."""

from __future__ import annotations

from kenv.doctor.findings import Finding
from kenv.doctor.fixes import PlannedFix
from kenv.doctor.fixes._shared import failures_of
from kenv.doctor.index import Index

# The registry as kenv's `[images]` mirrors key it: Docker Hub's API host is written docker.io.
CONFIG_KEYS = {"registry-1.docker.io": "docker.io", "index.docker.io": "docker.io"}


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    failures = failures_of(index, finding)
    if not failures:
        return None
    host = failures[0].registry_host
    key = CONFIG_KEYS.get(host, host)
    environment = index.cluster.environment or "ENV"
    diff = (
        "add to kenv's config file (kenv config path shows where), then recreate the environment:",
        "  [images]",
        f'  mirrors = {{"{key}" = ["https://<a mirror of {key} the nodes can reach>"]}}',
        '  https_proxy = "http://<proxy>:<port>"   # or a proxy instead of (or as well as) the mirror',
        f"what {environment}'s nodes were given: kenv images mirrors show {environment}",
        f"or import the image from the host now: kenv images sync {environment} {failures[0].container.image}",
    )
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="mirror-config",
        summary=f"give the nodes a mirror of {key} or a proxy (a config change and a recreate: by hand)",
        risk="low",
        automatic=False,
        diff=diff,
    )
