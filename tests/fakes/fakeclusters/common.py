"""Small helpers shared by the tool modules."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping

FAKES_BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str = "") -> None:
    sys.stderr.write(text + "\n")


def go_json(value: object, indent: int | None = None) -> str:
    """JSON like Go's encoding/json (compact; <, >, & escaped as \\u00XX)."""
    if indent is None:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(value, indent=indent, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_time(rfc3339: str) -> str:
    """Docker-style RFC3339Nano timestamp for a stored RFC3339 time."""
    return rfc3339.replace("Z", ".000000000Z") if "." not in rfc3339 else rfc3339


def human_age(rfc3339: str) -> str:
    """kubectl's AGE column (k8s.io/apimachinery duration.HumanDuration)."""
    try:
        then = time.mktime(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except ValueError:
        return "<unknown>"
    secs = max(0, int(time.time() - then))
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def table(rows: list[list[str]], padding: int = 3, minwidth: int = 6) -> str:
    """Left-aligned columns like Go's text/tabwriter as k3d/kubectl configure it
    (cell width = max(minwidth, longest cell + padding); last column unpadded)."""
    if not rows:
        return ""
    ncols = max(len(r) for r in rows)
    widths = [max(minwidth, max((len(r[i]) for r in rows if i < len(r)), default=0) + padding) for i in range(ncols)]
    lines = []
    for row in rows:
        cells = [cell if i == len(row) - 1 else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("".join(cells))
    return "\n".join(lines)


_MEM_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$", re.IGNORECASE)


def ram_in_bytes(text: str) -> int:
    """docker/go-units RAMInBytes (binary multiples)."""
    match = _MEM_RE.match(text.strip())
    if not match:
        raise ValueError(f"invalid size: '{text}'")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}[match.group(2).lower()]
    return int(float(match.group(1)) * mult)


def human_size(size: float) -> str:
    """docker/go-units HumanSize (decimal multiples, %.4g)."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.4g}{units[i]}"


def images_in_archive(path: str) -> list[str]:
    """Image names inside a `docker save`/OCI tarball (empty if unknown)."""
    import tarfile

    try:
        with tarfile.open(path) as tar:
            names = tar.getnames()
            if "manifest.json" in names:
                member = tar.extractfile("manifest.json")
                data = json.load(member) if member else []
                return [tag for entry in data for tag in (entry.get("RepoTags") or [])]
            if "index.json" in names:
                member = tar.extractfile("index.json")
                data = json.load(member) if member else {}
                result = []
                for manifest in data.get("manifests", []):
                    ann = manifest.get("annotations") or {}
                    ref = ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name")
                    if ref:
                        result.append(ref)
                return result
    except (OSError, tarfile.TarError, ValueError):
        return []
    return []


def archive_error(path: str) -> str | None:
    """What `ctr image import` says about a file that is not an image archive (None: it is one).

    containerd's importer (images/archive/importer.go, as shipped in k3s, kind and minikube nodes)
    reads the tar stream: a file that is no tar fails with Go's archive/tar error, a tar with
    neither `index.json` (OCI layout) nor `manifest.json` (docker save) as unrecognized."""
    import tarfile

    try:
        with tarfile.open(path) as tar:
            names = set(tar.getnames())
    except (OSError, tarfile.TarError):
        return "ctr: archive/tar: invalid tar header"
    if "index.json" not in names and "manifest.json" not in names:
        return "ctr: unrecognized image format"
    return None


# -- the Docker engine the fakes pretend to talk to ---------------------------------------

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def docker_down(environ: Mapping[str, str]) -> bool:
    """KENV_FAKE_DOCKER_DOWN=1: every Docker call fails as if the engine were stopped."""
    return environ.get("KENV_FAKE_DOCKER_DOWN", "") not in ("", "0", "false")


def docker_host(environ: Mapping[str, str]) -> str:
    return environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def docker_down_message(environ: Mapping[str, str]) -> str:
    """The Docker client's connection error (moby client errors.go connectionFailed):
    what `docker` prints and what k3d (docker/docker client v27) wraps, when nothing
    answers on the socket."""
    return f"Cannot connect to the Docker daemon at {docker_host(environ)}. Is the docker daemon running?"


def crictl_images(refs: list[str], command: str, pinned: set[str] | frozenset[str] = frozenset()) -> str:
    """`crictl images` inside a node: its table, or with `-o json` the protojson document
    cri-tools prints (cmd/crictl/image.go: outputAsJSON, protojson with EmitDefaultValues and a
    two-space indent: every field present, `size` a string, empty lists as []). `pinned`: the
    images labelled io.cri-containerd.pinned=pinned (`"pinned": true`)."""
    import hashlib
    import json
    import os

    # KENV_FAKE_NODE_IMAGES (deviation, for tests only): what every node holds besides its own, as
    # a node image with them preloaded would (images no test can pull: ingress-nginx's, by digest)
    refs = [*refs, *(r for r in os.environ.get("KENV_FAKE_NODE_IMAGES", "").split(",") if r and r not in refs)]
    words = command.split()
    as_json = "-o" in words and words[words.index("-o") + 1 : words.index("-o") + 2] == ["json"]
    as_json = as_json or "--output=json" in words or "-ojson" in words
    if not as_json:
        rows = [["IMAGE", "TAG", "IMAGE ID", "SIZE"]]
        for ref in refs:
            repo, _, tag = ref.rpartition(":")
            rows.append([repo, tag, hashlib.sha256(ref.encode()).hexdigest()[:13], "10.1MB"])
        return table(rows, padding=3, minwidth=0)
    # containerd's CRI (pkg/cri/.../helpers.go parseImageReferences) lists a name with a digest
    # (`ctr import` of an OCI index whose ref.name is `name@sha256:...`) under repoDigests.
    images = [
        {
            "id": "sha256:" + hashlib.sha256(ref.encode()).hexdigest(),
            "repoTags": [] if "@" in ref else [ref],
            "repoDigests": [ref] if "@" in ref else [],
            "size": "10590000",
            "uid": None,
            "username": "",
            "spec": None,
            "pinned": ref in pinned,
        }
        for ref in refs
    ]
    return json.dumps({"images": images}, indent=2)
