"""The images a cluster's own system runs, per provider and pinned version, read from the upstream
lists shipped as package data (`kenv/images/data/*.txt`).

Each data file names its source (repository, tag, path) and the date it was read in its leading
`#` lines, then holds one reference per line. Which file answers for an environment follows what
kenv creates: k3d runs `rancher/k3s:<tag>` (`providers/k3d.py`), kind `kindest/node:<tag>`
(`providers/kind.py`), minikube the Kubernetes version it is given or its own default. A version
with no file is not an error: the list says it is unknown for that version.

kind's default node image depends on the kind release installed (`providers/kind.py`
`node_image`), which only a process can ask: callers pass the image the provider chose
(`WorkflowContext.node_version`); a kind `k8s_version` of None means kind picked its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from kenv.images.reference import InvalidReference, Reference, parse_reference

DATA_PACKAGE = "kenv.images"
DATA_DIR = "data"
# minikube v1.38.1 pkg/minikube/constants/constants.go: DefaultKubernetesVersion.
MINIKUBE_DEFAULT_KUBERNETES = "v1.35.1"
MINIKUBE_VERSION = "v1.38.1"


@dataclass(frozen=True)
class SystemList:
    """`version` says what the list is for (`k3s v1.31.5+k3s1`); `known` is False when kenv ships
    no list for it, and then `source` says so in words and `references` is empty."""

    provider: str
    version: str
    known: bool
    source: str
    file: str | None
    references: tuple[Reference, ...]

    def to_json(self) -> dict[str, object]:
        return {"provider": self.provider, "version": self.version, "known": self.known, "source": self.source}


def _k3d_key(k8s_version: str | None) -> tuple[str, str | None]:
    from kenv.providers.k3d import DEFAULT_IMAGE

    image = _image(k8s_version, "rancher/k3s", DEFAULT_IMAGE)
    reference = _parse(image)
    if reference is None or reference.path != "rancher/k3s" or not reference.tag:
        return f"image {image}", None
    # Docker tags cannot hold `+`: k3s tags its images v1.31.5-k3s1 for release v1.31.5+k3s1.
    head, sep, build = reference.tag.rpartition("-k3s")
    version = f"{head}+k3s{build}" if sep else reference.tag
    return f"k3s {version}", f"k3s-{version}.txt"


def _kind_key(k8s_version: str | None) -> tuple[str, str | None]:
    from kenv.providers.kind import node_image

    # The same choice as the create's `--image`; files are named by tag (kind v0.28.0 and v0.29.0
    # published two builds of v1.33.1 that bake the same images).
    image = node_image(k8s_version, None)
    if image is None:
        return "kind's own default node image (its release is unknown to kenv)", None
    reference = _parse(image)
    if reference is None or reference.path != "kindest/node" or not reference.tag:
        return f"image {image}", None
    return f"kindest/node {reference.tag}", f"kindest-node-{reference.tag}.txt"


def _minikube_key(k8s_version: str | None) -> tuple[str, str | None]:
    version = k8s_version or MINIKUBE_DEFAULT_KUBERNETES
    if not version.startswith("v"):
        version = "v" + version
    return f"minikube {MINIKUBE_VERSION} Kubernetes {version}", f"minikube-{MINIKUBE_VERSION}-kubernetes-{version}.txt"


def _image(k8s_version: str | None, repository: str, default: str) -> str:
    """The node image the provider module would use (the same rule as its `image()`)."""
    if not k8s_version:
        return default
    return k8s_version if ("/" in k8s_version or ":" in k8s_version) else f"{repository}:{k8s_version}"


def _parse(text: str) -> Reference | None:
    try:
        return parse_reference(text)
    except InvalidReference:
        return None


_KEYS = {"k3d": _k3d_key, "kind": _kind_key, "minikube": _minikube_key}


def system_list(provider: str, k8s_version: str | None) -> SystemList:
    """The system image list for an environment of `provider` created with `k8s_version`."""
    key = _KEYS.get(provider)
    if key is None:
        return SystemList(provider, "", False, f"kenv does not create {provider} clusters: no system list", None, ())
    version, file = key(k8s_version)
    if file is None or file not in data_files():
        return SystemList(provider, version, False, f"unknown for version {version}", None, ())
    source, references = load(file)
    return SystemList(provider, version, True, source, file, references)


@lru_cache(maxsize=1)
def data_files() -> frozenset[str]:
    from importlib.resources import files

    return frozenset(p.name for p in (files(DATA_PACKAGE) / DATA_DIR).iterdir() if p.name.endswith(".txt"))


@cache
def load(file: str) -> tuple[str, tuple[Reference, ...]]:
    """(source, references) of one data file: the `# source:` line and every reference line."""
    from importlib.resources import files

    text = (files(DATA_PACKAGE) / DATA_DIR / file).read_text(encoding="utf-8")
    source = ""
    references: list[Reference] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            label, _, value = line[1:].strip().partition(":")
            if label.strip().lower() == "source" and not source:
                source = value.strip()
            continue
        if line:
            try:
                references.append(parse_reference(line))
            except InvalidReference as exc:
                raise InvalidReference(f"{DATA_DIR}/{file} line {number}: {exc.message}") from exc
    return source or f"{DATA_DIR}/{file}", tuple(references)
