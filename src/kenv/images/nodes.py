"""What a node holds, from `crictl images -o json`, and which wanted images each node lacks (pure).

crictl prints the CRI `ListImagesResponse` as JSON (cmd/crictl/image.go and util.go:
`protojson.MarshalOptions{EmitDefaultValues: true, Indent: "  "}`, so camelCase names, empty lists
as `[]` and the uint64 size as a string):
`{"images": [{"id", "repoTags": [...], "repoDigests": [...], "size": "<string>", "uid",
"username", "spec", "pinned"}]}`. A node holds an image by tag when the tag's canonical form is in
`repoTags`; an image named by digest is held only when `name@digest` is in `repoDigests`
(reference/images.md §3). Untagged images (`<none>`) and anything that is not a valid reference
are ignored, so one odd entry never hides the others.

An entry's `pinned` is true when the image carries containerd's CRI label
`io.cri-containerd.pinned=pinned` (containerd pkg/cri/store/image/image.go, v1.7.24): kubelet's
image garbage collection skips it. `PIN_LABEL` and `pin_argv` add that label with ctr
(cmd/ctr/commands/images/images.go `labelCommand`: `ctr images label <name> <key>=<value>...`).

Both sides are compared by `presence_key`: the canonical form of a tag reference
(`docker.io/library/busybox:1.36`), `name@digest` for a digest reference (a tag written beside
the digest does not count: the digest decides).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kenv.errors import ExternalCommandError
from kenv.images.reference import InvalidReference, Reference, parse_reference
from kenv.runtime.process import parse_json

__all__ = [
    "CRICTL_IMAGES",
    "PIN_LABEL",
    "NodeListing",
    "NodePlan",
    "held_refs",
    "node_listing",
    "parse_crictl_images",
    "parse_crictl_listing",
    "pin_argv",
    "pin_name",
    "plan",
    "presence_key",
]

CRICTL_IMAGES = ("crictl", "images", "-o", "json")
# containerd's CRI label that keeps an image from kubelet's garbage collection
# (pkg/cri/labels/labels.go PinnedImageLabelKey/PinnedImageLabelValue, containerd v1.7 and v2).
PIN_LABEL = "io.cri-containerd.pinned=pinned"


def presence_key(ref: Reference) -> str:
    """The string a node's listing must contain for `ref` to count as present."""
    if ref.digest is not None:
        return f"{ref.name}@{ref.digest}"
    return ref.canonical


def pin_name(ref: Reference) -> str:
    """The containerd image name an import creates for `ref`: the canonical tag reference (a
    `docker save` archive names images by RepoTags); `name@digest` for a digest reference, the
    name `images/archive.py` always writes into the OCI layout's
    `org.opencontainers.image.ref.name` annotations, which `ctr images import` names images by."""
    if ref.digest is not None:
        return f"{ref.name}@{ref.digest}"
    return ref.canonical


def pin_argv(ref: Reference) -> tuple[str, ...]:
    """The command, run inside a node, that pins `ref` against kubelet image GC. `-n k8s.io` is
    the CRI namespace: kind's ctr needs it, k3s's ctr defaults to it (k3s pkg/ctr/main.go)."""
    return ("ctr", "-n", "k8s.io", "images", "label", pin_name(ref), PIN_LABEL)


def _key(text: object) -> str | None:
    if not isinstance(text, str) or not text or text.startswith("<none>"):
        return None
    try:
        return presence_key(parse_reference(text))
    except InvalidReference:
        return None


@dataclass(frozen=True)
class NodeListing:
    """What one node holds (presence keys) and which of those are pinned against GC."""

    held: frozenset[str]
    pinned: frozenset[str]


def held_refs(listing: object, argv: Sequence[str] = CRICTL_IMAGES) -> frozenset[str]:
    """The presence keys of every tag and digest in a decoded crictl listing."""
    return node_listing(listing, argv).held


def node_listing(listing: object, argv: Sequence[str] = CRICTL_IMAGES) -> NodeListing:
    """Presence keys of every tag and digest in a decoded crictl listing, and the pinned ones."""
    # protojson omits an empty repeated field: `{}` (or a null list) is an empty node.
    images = (listing.get("images") or []) if isinstance(listing, dict) else None
    if not isinstance(images, list):
        shown = " ".join(str(listing).split())[:120]
        raise ExternalCommandError(
            f"`{' '.join(argv)}` printed JSON without an images list: {shown}",
            argv=list(argv),
            returncode=0,
            stderr_tail=shown,
            hint="check the node's crictl version",
        )
    keys: set[str] = set()
    pinned: set[str] = set()
    for image in images:
        if not isinstance(image, dict):
            continue
        for field in ("repoTags", "repoDigests"):
            values = image.get(field) or []
            for value in values if isinstance(values, list) else ():
                key = _key(value)
                if key is not None:
                    keys.add(key)
                    if image.get("pinned") is True:
                        pinned.add(key)
    return NodeListing(frozenset(keys), frozenset(pinned))


def parse_crictl_images(text: str, argv: Sequence[str] = CRICTL_IMAGES) -> frozenset[str]:
    """What `crictl images -o json` printed, as presence keys; no output is an empty node, anything
    that is not JSON is an ExternalCommandError naming the command."""
    return parse_crictl_listing(text, argv).held


def parse_crictl_listing(text: str, argv: Sequence[str] = CRICTL_IMAGES) -> NodeListing:
    """Like `parse_crictl_images`, keeping which images are pinned."""
    return node_listing(parse_json(argv, text, empty={"images": []}), argv)


@dataclass(frozen=True)
class NodePlan:
    """Per node, which wanted images (canonical) it lacks; `unread` nodes could not be listed."""

    wanted: tuple[Reference, ...]
    missing: Mapping[str, tuple[str, ...]]
    present: Mapping[str, tuple[str, ...]]
    unread: tuple[str, ...] = ()

    @property
    def missing_images(self) -> tuple[str, ...]:
        """Every image some read node lacks, in the order wanted (each once)."""
        lacking = {image for images in self.missing.values() for image in images}
        return tuple(r.canonical for r in self.wanted if r.canonical in lacking)

    @property
    def complete(self) -> bool:
        return not self.unread and not any(self.missing.values())


def plan(wanted: Iterable[Reference], held: Mapping[str, frozenset[str] | None]) -> NodePlan:
    """Compare the wanted references with what each node holds (None: the node could not be read)."""
    unique: dict[str, Reference] = {}
    for ref in wanted:
        unique.setdefault(ref.canonical, ref)
    refs = tuple(unique.values())
    missing: dict[str, tuple[str, ...]] = {}
    present: dict[str, tuple[str, ...]] = {}
    unread: list[str] = []
    for node, keys in held.items():
        if keys is None:
            unread.append(node)
            continue
        missing[node] = tuple(r.canonical for r in refs if presence_key(r) not in keys)
        present[node] = tuple(r.canonical for r in refs if presence_key(r) in keys)
    return NodePlan(refs, missing, present, tuple(unread))
