"""kenv images prefetch / bundle / load: images for machines with no registry access (issue 8 §5).

prefetch: every image onto the host (mirrors in order, then upstream; `images.pull`).
bundle:   the images onto the host, then archives of them (`images.archive`) in ONE tar file with a
          manifest, `kenv-bundle.json`, written atomically (a temporary file beside the target,
          renamed at the end; nothing is left behind when anything fails).
load:     the manifest and every member's size and sha256 checked before anything is imported,
          then ONE provider import call for all the bundle's archives, then every node listed to
          verify (`workflows.images.read_nodes`).

A bundle is a plain (uncompressed: image layers in it are compressed already, or are
docker-save tars whose compression would cost more time than it saves) tar:

    kenv-bundle.json     {"format": "kenv-bundle", "version": 1, "created": ISO-8601 UTC,
                          "archives": [{"file", "format", "keeps_digest", "size", "sha256"}],
                          "images": [{"ref", "familiar", "digest", "archive"}]}
    images.docker.tar    docker save of the tag references (when there are any)
    images.oci.tar       oci-archive of the digest references (when there are any)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.images.archive import Archive, save_archive
from kenv.images.nodes import plan
from kenv.images.pull import PullOutcome, ensure_on_host
from kenv.images.reference import InvalidReference, Reference, parse_reference
from kenv.workflows.context import WorkflowContext
from kenv.workflows.images import Cell, read_nodes

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "MANIFEST_NAME",
    "BundleManifest",
    "LoadResult",
    "load_bundle",
    "prefetch",
    "read_bundle",
    "write_bundle",
]

BUNDLE_FORMAT = "kenv-bundle"
BUNDLE_VERSION = 1
MANIFEST_NAME = "kenv-bundle.json"
_CHUNK = 1 << 20
_MANIFEST_LIMIT = 16 << 20  # a manifest larger than this is not one kenv wrote


def prefetch(
    ctx: WorkflowContext, refs: Sequence[Reference], *, parallel: int = 4, timeout: float = 300.0
) -> list[PullOutcome]:
    """Every reference onto the host; one outcome per distinct reference (see `ensure_on_host`)."""
    supply = ctx.settings.images
    return ensure_on_host(
        ctx.runner,
        supply,
        refs,
        parallel=parallel,
        timeout=timeout,
        progress=lambda text: ctx.progress.note("prefetch", text),
    )


@dataclass(frozen=True)
class BundleManifest:
    """What `kenv-bundle.json` says: the archives (member name -> facts) and the images."""

    created: str
    archives: dict[str, dict[str, Any]]
    images: tuple[dict[str, Any], ...]

    @property
    def refs(self) -> tuple[Reference, ...]:
        return tuple(parse_reference(image["ref"]) for image in self.images)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "created": self.created,
            "archives": [{"file": name, **facts} for name, facts in self.archives.items()],
            "images": list(self.images),
        }


def _digest_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _manifest(archives: Sequence[Archive]) -> BundleManifest:
    entries: dict[str, dict[str, Any]] = {}
    images: list[dict[str, Any]] = []
    for archive in archives:
        size, sha256 = _digest_file(archive.path)
        entries[archive.path.name] = {
            "format": archive.format,
            "keeps_digest": archive.keeps_digest,
            "size": size,
            "sha256": sha256,
        }
        images.extend(
            {"ref": ref.canonical, "familiar": ref.familiar, "digest": ref.digest, "archive": archive.path.name}
            for ref in archive.refs
        )
    created = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return BundleManifest(created, entries, tuple(images))


@dataclass
class BundleResult:
    path: Path
    outcomes: list[PullOutcome]
    manifest: BundleManifest | None = None
    planned: tuple[tuple[str, ...], ...] = ()

    @property
    def failed(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if not o.ok]


def write_bundle(
    ctx: WorkflowContext, refs: Sequence[Reference], output: Path, *, force: bool = False, parallel: int = 4
) -> BundleResult:
    """Pull what is missing onto the host, archive every image, and write the bundle at `output`
    atomically. The target is checked first (a directory, an existing file without `force`, a
    missing directory: InvalidInput, nothing pulled). Pull failures: a BundleResult whose
    `failed` is not empty and no file. In a dry run nothing is written: `planned` lists the
    commands."""
    from kenv.inventory.files import check_target

    if not refs:
        raise InvalidInput("no images named", hint="give image references, --component C or --env ENV")
    target = check_target(output, force=force)
    # Digest references come from the registry by skopeo; only tag references must be on the host.
    tagged = [r for r in refs if r.digest is None]
    outcomes = prefetch(ctx, tagged, parallel=parallel) if tagged else []
    result = BundleResult(target, outcomes)
    if result.failed:
        return result
    planned_before = len(ctx.runner.planned)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".work", dir=target.parent))
    partial = work / "bundle.tar"
    try:
        ctx.progress.note("bundle", f"archiving {len(refs)} image(s)")
        archives = save_archive(ctx.runner, ctx.settings.images, refs, work)
        if ctx.dry_run:
            result.planned = tuple(ctx.runner.planned[planned_before:])
            return result
        manifest = _manifest(archives)
        ctx.progress.note("bundle", f"writing {target}")
        with tarfile.open(partial, "w") as tar:
            _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest.to_json(), indent=2).encode())
            for archive in archives:
                tar.add(archive.path, arcname=archive.path.name, recursive=False)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        if target.exists() and not force:  # made meanwhile by someone else
            raise InvalidInput(f"cannot write {output}: it already exists", hint="use --force to replace it")
        os.replace(partial, target)
        result.manifest = manifest
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- reading a bundle -------------------------------------------------------------------------


def _not_bundle(path: Path, why: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(
        f"{path} is not a usable kenv bundle: {why}",
        hint=hint or "make it again with `kenv images bundle -o FILE ...`",
    )


def _parse_manifest(path: Path, raw: bytes) -> BundleManifest:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _not_bundle(path, f"{MANIFEST_NAME} is not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise _not_bundle(path, f"{MANIFEST_NAME} does not say format {BUNDLE_FORMAT!r}")
    if data.get("version") != BUNDLE_VERSION:
        raise _not_bundle(
            path,
            f"bundle version {data.get('version')!r}; this kenv reads version {BUNDLE_VERSION}",
            hint="load it with the kenv that made it, or make it again",
        )
    archives: dict[str, dict[str, Any]] = {}
    for entry in data.get("archives") or []:
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or "/" in name or name in (".", "..", MANIFEST_NAME):
            raise _not_bundle(path, f"{MANIFEST_NAME} names an archive {name!r} that is not a plain file name")
        size, sha256 = entry.get("size"), entry.get("sha256")
        if not isinstance(size, int) or not isinstance(sha256, str) or len(sha256) != 64:
            raise _not_bundle(path, f"{MANIFEST_NAME} gives no size and sha256 for {name}")
        archives[name] = {k: v for k, v in entry.items() if k != "file"}
    images: list[dict[str, Any]] = []
    for image in data.get("images") or []:
        if not isinstance(image, dict) or image.get("archive") not in archives:
            raise _not_bundle(path, f"{MANIFEST_NAME} lists an image outside its archives: {image!r}")
        try:
            parse_reference(str(image.get("ref")))
        except InvalidReference as exc:
            raise _not_bundle(path, f"{MANIFEST_NAME} lists {exc.message}") from exc
        images.append(image)
    if not archives or not images:
        raise _not_bundle(path, f"{MANIFEST_NAME} lists no archives or no images")
    return BundleManifest(str(data.get("created") or ""), archives, tuple(images))


def _copy_checked(source: IO[bytes], destination: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with destination.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def read_bundle(path: Path, directory: Path) -> tuple[BundleManifest, list[Path]]:
    """Check the bundle at `path` and extract its archives into `directory`: the manifest first,
    then every member, whose size and sha256 must be the manifest's. Anything else in the file,
    a member missing, or a member that differs: InvalidInput naming it (exit 2)."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory, not a bundle file", hint="give the file `kenv images bundle` wrote")
    if not path.exists():
        raise InvalidInput(f"{path}: no such file", hint="give the file `kenv images bundle` wrote")
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise _not_bundle(path, f"not a tar file ({exc})") from exc
    extracted: list[Path] = []
    try:
        first = tar.next()
        if first is None or first.name != MANIFEST_NAME or not first.isfile():
            raise _not_bundle(path, f"it does not start with {MANIFEST_NAME}")
        if first.size > _MANIFEST_LIMIT:
            raise _not_bundle(path, f"{MANIFEST_NAME} is {first.size} bytes, too large for a manifest")
        handle = tar.extractfile(first)
        assert handle is not None
        manifest = _parse_manifest(path, handle.read())
        seen: set[str] = set()
        while (member := tar.next()) is not None:
            name = member.name
            if name not in manifest.archives or name in seen or not member.isfile():
                raise _not_bundle(path, f"it holds {name!r}, which its manifest does not list", hint=None)
            seen.add(name)
            facts = manifest.archives[name]
            source = tar.extractfile(member)
            assert source is not None
            destination = directory / name
            size, sha256 = _copy_checked(source, destination)
            if size != facts["size"] or sha256 != facts["sha256"]:
                raise _not_bundle(
                    path,
                    f"{name} is {size} bytes with sha256 {sha256[:12]}..., the manifest says "
                    f"{facts['size']} bytes with sha256 {str(facts['sha256'])[:12]}... (damaged or altered)",
                )
            extracted.append(destination)
        missing = sorted(set(manifest.archives) - seen)
        if missing:
            raise _not_bundle(path, f"{', '.join(missing)} listed in its manifest is not in the file (truncated?)")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise _not_bundle(path, f"the tar file is damaged ({exc})") from exc
    finally:
        tar.close()
    return manifest, extracted


# -- loading into an environment --------------------------------------------------------------


@dataclass
class LoadResult:
    environment: str
    provider: str
    bundle: Path
    images: tuple[Reference, ...]
    nodes: tuple[str, ...] = ()
    cells: dict[str, list[Cell]] = field(default_factory=dict)  # canonical -> one cell per node
    node_errors: dict[str, str] = field(default_factory=dict)
    import_error: str | None = None
    import_argv: tuple[tuple[str, ...], ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.import_error is None and not any(
            c.state in ("failed", "unknown") for cells in self.cells.values() for c in cells
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": "load",
            "environment": self.environment,
            "provider": self.provider,
            "bundle": str(self.bundle),
            "dry_run": self.dry_run,
            "nodes": [{"name": n, "error": self.node_errors.get(n)} for n in self.nodes],
            "images": [
                {"ref": r.canonical, "familiar": r.familiar, "nodes": [c.to_json() for c in self.cells[r.canonical]]}
                for r in self.images
            ],
            "import": {"argv": [list(a) for a in self.import_argv], "error": self.import_error},
            "ok": self.ok,
        }


def load_bundle(ctx: WorkflowContext, bundle: Path, name: str) -> LoadResult:
    """Verify `bundle`, import all its archives into `name` in ONE provider call, then list every
    node to verify each image is there. Recorded in the history (`images-load`)."""
    env = ctx.inventory().get(name)
    if not facts_for(env.provider).managed:
        raise InvalidInput(
            f"{name!r} is an external cluster: kenv cannot load archives into its nodes",
            hint="push the images to a registry it pulls from",
        )
    with tempfile.TemporaryDirectory(prefix="kenv-load-") as scratch:
        ctx.progress.note(name, f"checking {bundle}")
        manifest, archives = read_bundle(bundle, Path(scratch))
        with ctx.environment_lock(name), ctx.recorded("images-load", name) as outcome:
            result = _load(ctx, env, manifest, archives, bundle)
            outcome.ok = result.ok
            outcome.detail = f"{len(result.images)} image(s) from {bundle.name}"
            outcome.error = result.import_error or (None if result.ok else "not every image is in every node")
    return result


def _load(ctx: WorkflowContext, env: Any, manifest: BundleManifest, archives: list[Path], bundle: Path) -> LoadResult:
    ctx.ensure_tools(env.provider)
    provider = ctx.provider(env.provider)
    nodes = provider.node_names(env)
    if not nodes:
        raise KenvError(f"environment {env.name!r} has no nodes", hint=f"run `kenv create {env.name}`")
    refs = manifest.refs
    result = LoadResult(env.name, env.provider, bundle, refs, tuple(nodes), dry_run=ctx.dry_run)
    ctx.progress.note(env.name, f"importing {len(archives)} archive(s) with {len(refs)} image(s)")
    planned_before = len(ctx.runner.planned)
    try:
        provider.import_archives(env, archives)
    except KenvError as exc:
        result.import_error = exc.one_line()
    if ctx.dry_run:
        result.import_argv = tuple(ctx.runner.planned[planned_before:])
        result.cells = {r.canonical: [Cell(n, "missing", "would be imported") for n in nodes] for r in refs}
        return result
    ctx.progress.note(env.name, f"verifying {len(nodes)} node(s)")
    listing = read_nodes(provider, env, nodes)
    errors = listing.errors
    result.node_errors = errors
    verified = plan(refs, listing.held)
    for ref in verified.wanted:
        cells = []
        for node in nodes:
            if node in errors:
                cells.append(Cell(node, "failed", f"could not list the node: {errors[node]}"))
            elif ref.canonical in verified.missing[node]:
                cells.append(Cell(node, "failed", result.import_error or "not in the node after the import"))
            else:
                cells.append(Cell(node, "imported"))
        result.cells[ref.canonical] = cells
    return result
