"""What an environment needs, component by component.

`system` is the cluster's own system: the upstream image list of the exact version kenv creates
(`images/system_lists.py`). Every other component is what kenv installs, and is defined by the
manifests kenv ships for it under `kenv/manifests/<component>/`: its images are what kenv's own
discovery finds in them, never a list kept by hand. Adding a component is adding a directory of
manifests.

    COMPONENTS                               ("system", "verify", ...)
    component_images("verify", "k3d", None)  [Reference(docker.io/library/busybox:1.36)]
    component_images("all", "kind", "v1.31.12")
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from kenv.errors import InvalidInput
from kenv.images.reference import Reference, parse_reference

SYSTEM = "system"
ALL = "all"
MANIFEST_PACKAGE = "kenv"
MANIFEST_DIR = "manifests"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _manifest_components() -> tuple[str, ...]:
    """The directories under kenv/manifests (a listing, no file is read)."""
    root = files(MANIFEST_PACKAGE) / MANIFEST_DIR
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))))


COMPONENTS: tuple[str, ...] = (SYSTEM, *_manifest_components())


@dataclass(frozen=True)
class ComponentImage:
    """One image a component needs and where kenv knows it from: a system list (its source) or
    a shipped manifest (`manifests/<component>/<file>` with the path inside the document)."""

    reference: Reference
    component: str
    where: str


def check_component(component: str) -> str:
    """`component` itself when it is known or "all"; else InvalidInput naming the known ones."""
    if component == ALL or component in COMPONENTS:
        return component
    raise InvalidInput(
        f"unknown component {component!r}",
        hint=f"choose one of: {', '.join((ALL, *COMPONENTS))}",
    )


def component_images(component: str, provider: str, k8s_version: str | None) -> list[Reference]:
    """The images `component` ("all" = every component) needs in an environment of `provider`
    created with `k8s_version`, each once (by canonical reference), in a stable order. A system
    list unknown for that version contributes nothing (see `system_lists.system_list`)."""
    seen: dict[str, Reference] = {}
    for entry in component_entries(component, provider, k8s_version):
        seen.setdefault(entry.reference.canonical, entry.reference)
    return list(seen.values())


def component_entries(component: str, provider: str, k8s_version: str | None) -> list[ComponentImage]:
    """Like `component_images`, keeping every (image, component, where) so callers can say why."""
    check_component(component)
    names = COMPONENTS if component == ALL else (component,)
    entries: list[ComponentImage] = []
    for name in names:
        if name == SYSTEM:
            from kenv.images.system_lists import system_list

            listing = system_list(provider, k8s_version)
            entries += [ComponentImage(r, SYSTEM, f"system list ({listing.version})") for r in listing.references]
        else:
            entries += list(manifest_images(name))
    return entries


@cache
def manifest_images(component: str) -> tuple[ComponentImage, ...]:
    """Discovery over the manifests kenv ships for `component` (definite finds only: a probable
    find in kenv's own manifests would be a guess about what kenv installs)."""
    from kenv.images.discovery import DEFINITE, Discovery, discover_text

    directory = files(MANIFEST_PACKAGE) / MANIFEST_DIR / component
    discovery = Discovery()
    for item in sorted(directory.iterdir(), key=lambda p: p.name):
        if item.is_file() and item.name.endswith(MANIFEST_SUFFIXES):
            discover_text(item.read_text(encoding="utf-8"), f"{MANIFEST_DIR}/{component}/{item.name}", discovery)
    return tuple(
        ComponentImage(parse_reference(image.ref), component, f"{source.file}: {source.path}")
        for image in discovery.images.values()
        if image.tier == DEFINITE
        for source in image.sources
    )


def dns_check_image() -> str:
    """The image of `kenv verify`'s DNS check pod, as its manifest writes it."""
    from kenv.images.discovery import Discovery, discover_text

    item = files(MANIFEST_PACKAGE) / MANIFEST_DIR / "verify" / "dns-check.yaml"
    discovery = discover_text(item.read_text(encoding="utf-8"), "dns-check.yaml", Discovery())
    images = list(discovery.images.values())
    if len(images) != 1:
        raise InvalidInput(f"manifests/verify/dns-check.yaml names {len(images)} images, not one")
    return images[0].sources[0].as_written
