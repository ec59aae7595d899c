"""Image archives on the host: files a provider can import into nodes that have no registry access.

Tag references -> ONE `docker save` of all of them (a docker-archive: `manifest.json` with
`RepoTags`, layers shared once; fast, and every provider imports it). `docker save` keeps no
registry digest (moby#22011: the archive holds the config and layers, not the manifest the
registry served; `ctr image import` of it makes a manifest with another digest), so a digest
reference cannot go that way. With skopeo, every digest reference is copied from the registry
(each mirror in order, then upstream) with `--preserve-digests` into ONE OCI image layout, under
two names: `name@digest` and, when a tag was written, `name:tag`; the layout is then tarred into
`images.oci.tar` (an oci-archive). `ctr image import` names containerd images after the index's
`org.opencontainers.image.ref.name` annotations, so the node holds the registry's own manifest
under `name@digest` (CRI lists it in repoDigests) and under `name:tag`. Without skopeo a digest
reference is refused with the reason and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kenv.errors import InvalidInput, KenvError
from kenv.images.pull import UPSTREAM, mirror_name
from kenv.images.reference import Reference
from kenv.runtime import images_host
from kenv.runtime.process import Runner, stderr_tail
from kenv.settings import ImageSupply

__all__ = [
    "DIGEST_ARCHIVE_NAME",
    "DOCKER_ARCHIVE",
    "OCI_ARCHIVE",
    "TAGGED_ARCHIVE_NAME",
    "Archive",
    "layout_names",
    "save_archive",
]

DOCKER_ARCHIVE = "docker-archive"
OCI_ARCHIVE = "oci-archive"
TAGGED_ARCHIVE_NAME = "images.docker.tar"
DIGEST_ARCHIVE_NAME = "images.oci.tar"


@dataclass(frozen=True)
class Archive:
    """One archive file and the images it holds."""

    path: Path
    refs: tuple[Reference, ...]
    format: str  # "oci-archive" | "docker-archive"
    keeps_digest: bool  # the registry's manifest is inside: name@digest verifies after import


def _insecure(supply: ImageSupply, endpoint: str) -> bool:
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    return endpoint.startswith("http://") or host in supply.insecure_registries


def _sources(supply: ImageSupply, ref: Reference) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """(endpoint, skopeo source, insecure) for each mirror in order, then upstream; and the
    mirrors that cannot be used at all, with why."""
    sources: list[tuple[str, str, bool]] = []
    unusable: list[str] = []
    for endpoint in supply.endpoints(ref.domain):
        try:
            sources.append((endpoint, f"docker://{mirror_name(endpoint, ref)}", _insecure(supply, endpoint)))
        except KenvError as exc:
            unusable.append(f"mirror {endpoint}: {exc.message}")
    upstream = f"docker://{ref.name}@{ref.digest}"
    sources.append((UPSTREAM, upstream, ref.domain in supply.insecure_registries))
    return sources, unusable


def layout_names(ref: Reference) -> tuple[str, ...]:
    """The names an imported digest reference gets: `name@digest` (containerd's CRI lists it under
    repoDigests, so the digest verifies in the node) and `name:tag` when a tag was written."""
    assert ref.digest is not None
    names = [f"{ref.name}@{ref.digest}"]
    if ref.tag is not None:
        names.append(f"{ref.name}:{ref.tag}")
    return tuple(names)


def _copy_digest_ref(runner: Runner, supply: ImageSupply, ref: Reference, layout: Path) -> None:
    """skopeo copy docker://<mirror or upstream>/<name>@<digest> into the OCI layout, once per name
    (the second copy finds every blob already there)."""
    env = images_host.proxy_env(supply.http_proxy, supply.https_proxy, (*supply.no_proxy, *supply.mirror_hosts))
    sources, tried = _sources(supply, ref)
    for endpoint, source, insecure in sources:
        reason = None
        for name in layout_names(ref):
            result = images_host.skopeo_copy(runner, source, f"oci:{layout}:{name}", insecure_source=insecure, env=env)
            if not result.ok:
                reason = stderr_tail(result.stderr) or stderr_tail(result.stdout) or f"exit code {result.returncode}"
                break
        if reason is None:
            return
        tried.append(f"{'upstream ' + ref.domain if endpoint == UPSTREAM else 'mirror ' + endpoint}: {reason}")
    raise KenvError(f"could not copy {ref.familiar} with its digest: " + "; ".join(tried))


def _tar_layout(layout: Path, path: Path) -> None:
    """An oci-archive is a tar of an OCI image layout (containers/image oci/archive)."""
    import tarfile

    with tarfile.open(path, "w") as tar:
        for item in sorted(layout.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(layout)), recursive=False)


def save_archive(runner: Runner, supply: ImageSupply, refs: Sequence[Reference], directory: Path) -> list[Archive]:
    """Write archives of `refs` into `directory` (which must exist): ONE docker-archive
    (`images.docker.tar`, `docker save`) for every tag reference, which must already be on the
    host (see `pull.ensure_on_host`); ONE oci-archive (`images.oci.tar`) for every digest
    reference, copied from the registry by skopeo with `--preserve-digests` (mirrors in order,
    then upstream; names: see `layout_names`).

    Raises KenvError, before writing anything, when a digest reference is given and skopeo is
    not installed (`docker save` would drop the digest: moby#22011); raises KenvError naming
    every endpoint that failed when a copy fails. In a dry run the commands are planned."""
    unique: dict[str, Reference] = {}
    for ref in refs:
        unique.setdefault(ref.canonical, ref)
    tagged = [r for r in unique.values() if r.digest is None]
    pinned = [r for r in unique.values() if r.digest is not None]
    if pinned and images_host.skopeo_path() is None:
        names = ", ".join(r.familiar for r in pinned[:3]) + (f" (+{len(pinned) - 3} more)" if len(pinned) > 3 else "")
        raise KenvError(
            f"{names}: a digest reference needs skopeo to keep its digest in an archive "
            "(docker save drops the registry digest, moby#22011)",
            hint="install skopeo (apt-get install skopeo / brew install skopeo), or reference the image by tag",
        )
    archives: list[Archive] = []
    if tagged:
        path = directory / TAGGED_ARCHIVE_NAME
        images_host.docker_save(runner, [r.canonical for r in tagged], path)
        archives.append(Archive(path, tuple(tagged), DOCKER_ARCHIVE, keeps_digest=False))
    if pinned:
        if ":" in str(directory):
            raise InvalidInput(
                f"{directory}: skopeo's oci: paths cannot hold a colon", hint="choose a directory without ':'"
            )
        import shutil
        import tempfile

        layout = Path(tempfile.mkdtemp(prefix=".kenv-oci-", dir=directory))
        try:
            for ref in pinned:
                _copy_digest_ref(runner, supply, ref, layout)
            path = directory / DIGEST_ARCHIVE_NAME
            if not runner.dry_run:
                _tar_layout(layout, path)
        finally:
            shutil.rmtree(layout, ignore_errors=True)
        archives.append(Archive(path, tuple(pinned), OCI_ARCHIVE, keeps_digest=True))
    return archives
