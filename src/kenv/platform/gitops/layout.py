"""Where things live in the GitOps repository, and what an environment's directory holds.

    README.md                        what this repository is (written with the first commit)
    environments/<name>/             one directory per environment in the inventory
        README.md                    provider, role: for people browsing the repository
        kustomization.yaml           an empty Kustomization labelled with the environment
    archive/<name>-<UTC timestamp>/  a deleted environment's directory, moved, never removed
    postgres/                        the platform PostgreSQL (kenv postgres deploy --via gitops)

The ApplicationSet in the devops cluster pairs `environments/*` with the cluster Secret whose
`kenv.io/env` label equals the directory's name, so a directory is what an environment
receives; the kustomization is empty until someone puts manifests next to it (ArgoCD syncs an
empty set happily, and `kubectl kustomize` renders nothing). Nothing secret is ever written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

ENVIRONMENTS = "environments"
ARCHIVE = "archive"
BRANCH = "main"
# The label keys (and the type's values) of the cluster Secrets ArgoCD holds
# (platform/argocd/objects.py), so what the directory says matches what the cluster is labelled.
LABEL_ENVIRONMENT = "kenv.io/env"
LABEL_PROVIDER = "kenv.io/provider"
LABEL_ROLE = "kenv.io/type"
_STAMP = "%Y%m%dT%H%M%SZ"
_ARCHIVED = re.compile(r"(?P<name>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?")

ROOT_README = b"""# kenv GitOps repository

Written by kenv; ArgoCD in the devops cluster syncs it.

- `environments/<name>/`: one directory per environment (an ApplicationSet targets each one at
  the cluster of the same name);
- `archive/<name>-<UTC time>/`: a deleted environment's directory, kept;
- `postgres/`: the platform PostgreSQL.

Nothing secret is kept here: passwords live in 0600 files under kenv's data directory and in
Kubernetes Secrets.
"""


def environment_dir(name: str) -> str:
    return f"{ENVIRONMENTS}/{name}"


def archive_dir(name: str, when: datetime, taken: Iterable[str] = ()) -> str:
    """`archive/<name>-<UTC timestamp>`; a suffix when the same second is already taken (an
    environment deleted, re-created and deleted again within one second)."""
    base = f"{ARCHIVE}/{name}-{when.astimezone(UTC).strftime(_STAMP)}"
    used = set(taken)
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def environment_files(name: str, provider: str, role: str) -> dict[str, bytes]:
    """The files of `environments/<name>/`, by path from the repository root. Deterministic: the
    same environment gives the same bytes, so adding it again commits nothing."""
    kind = "management" if role == "management" else "business"
    labels = {LABEL_ENVIRONMENT: name, LABEL_PROVIDER: provider, LABEL_ROLE: kind}
    pairs = "".join(f"      {key}: {_yaml_scalar(value)}\n" for key, value in labels.items())
    kustomization = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "# Put this environment's manifests next to this file and list them here.\n"
        "resources: []\n"
        "labels:\n"
        "  - includeSelectors: false\n"
        "    pairs:\n" + pairs
    )
    readme = (
        f"# {name}\n\n"
        f"Environment `{name}` ({provider}, {role}), created by kenv. ArgoCD applies what this\n"
        f"directory's kustomization.yaml lists to the cluster registered as `{name}`.\n"
    )
    base = environment_dir(name)
    return {f"{base}/README.md": readme.encode(), f"{base}/kustomization.yaml": kustomization.encode()}


def _yaml_scalar(value: str) -> str:
    """A label value as YAML reads it back as the same string (names like `on`, `1` or `null`
    would otherwise become booleans, numbers or nothing)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Tree:
    """What the repository holds, by kenv's layout."""

    environments: tuple[str, ...]
    archived: tuple[str, ...]  # directory names under archive/

    def archived_names(self) -> tuple[str, ...]:
        names = []
        for entry in self.archived:
            match = _ARCHIVED.fullmatch(entry)
            names.append(match.group("name") if match else entry)
        return tuple(sorted(set(names)))


def read_tree(paths: Iterable[str]) -> Tree:
    """The layout from `git ls-files` output (paths from the root)."""
    environments: set[str] = set()
    archived: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] == ENVIRONMENTS:
            environments.add(parts[1])
        elif len(parts) >= 3 and parts[0] == ARCHIVE:
            archived.add(parts[1])
    return Tree(tuple(sorted(environments)), tuple(sorted(archived)))


def archive_changes(files: Mapping[str, bytes], name: str, target: str) -> dict[str, bytes | None]:
    """Move every file of `environments/<name>/` under `target`: the new paths with the same
    bytes, the old ones deleted (None)."""
    prefix = environment_dir(name) + "/"
    changes: dict[str, bytes | None] = {}
    for path, content in files.items():
        if path.startswith(prefix):
            changes[f"{target}/{path[len(prefix) :]}"] = content
            changes[path] = None
    return changes


@dataclass(frozen=True)
class SyncPlan:
    add: tuple[str, ...]
    archive: tuple[str, ...]


def sync_plan(present: Iterable[str], inventory: Iterable[str]) -> SyncPlan:
    """Which directories to add (in the inventory, not in the repository) and to archive (in the
    repository, no longer in the inventory)."""
    have, want = set(present), set(inventory)
    return SyncPlan(tuple(sorted(want - have)), tuple(sorted(have - want)))


def sync_message(added: Iterable[str], archived: Iterable[str]) -> str:
    """`environments: add a, b; archive c` (the subject of a sync's commit)."""
    parts = []
    if added := list(added):
        parts.append("add " + ", ".join(added))
    if archived := list(archived):
        parts.append("archive " + ", ".join(archived))
    return "environments: " + ("; ".join(parts) or "sync with the inventory")
