"""kenv images check / sync: is every wanted image inside every node, and get the missing ones in
(issue 8 §5).

Each node is listed once (`crictl images -o json` through the provider's node exec). Sync then
handles only what some node lacks:

1. tag references the host's Docker engine does not hold are pulled (`images.pull.ensure_on_host`:
   mirrors in order, then upstream, bounded retries, `parallel` at once);
2. ONE provider import call for all of them (`k3d image import`, `kind load docker-image`);
3. digest references go another way: `docker save` drops the registry digest (moby#22011), so a
   node would hold the image but not `name@digest` and kubelet would pull it anyway (kind#2734).
   They are copied into OCI archives that keep the registry's manifest (`images.archive`, skopeo)
   and imported with ONE `Provider.import_archives` call;
4. what was imported is pinned against kubelet image GC where the runtime honours containerd's
   CRI label (see `PINNING`);
5. every node is listed again to verify.

Nothing is pulled or imported when nothing is missing. Results are data: one cell per image x node.

States of a cell: `present` (there before), `missing` (check: not there; sync --dry-run: would be
imported), `imported` (sync: not there before, there after), `failed` (sync: still not there, or
the node could not be listed), `unknown` (check: the node could not be listed).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.images.nodes import CRICTL_IMAGES, NodePlan, parse_crictl_listing, pin_argv, plan, presence_key
from kenv.images.reference import InvalidReference, Reference, parse_reference
from kenv.inventory.model import Environment
from kenv.providers.base import Provider
from kenv.runtime.process import failure
from kenv.workflows.context import WorkflowContext

__all__ = [
    "JSON_KEYS",
    "PINNING",
    "Cell",
    "ImagesResult",
    "PullAlways",
    "SyncRequest",
    "check_images",
    "parse_reference_lines",
    "read_nodes",
    "read_reference_file",
    "run_sync",
    "sync_images",
]

# The -o json contract of `kenv images check` and `kenv images sync` (pinned by a test).
JSON_KEYS = {
    "top": (
        "operation",
        "environment",
        "provider",
        "dry_run",
        "nodes",
        "images",
        "pulls",
        "import",
        "pin",
        "pull_always",
        "ok",
    ),
    "node": ("name", "error"),
    "image": ("ref", "familiar", "nodes"),
    "cell": ("node", "state", "reason", "pinned"),
    "pull": ("ref", "ok", "source", "tried", "error"),
    "tried": ("endpoint", "reason"),
    "import": ("argv", "images", "archives", "error"),  # argv: the planned command(s), in a dry run only
    "archive": ("path", "refs", "format", "keeps_digest"),
    "pin": ("supported", "argv", "errors"),
    "pin_error": ("node", "ref", "error"),
    "pull_always": ("ref", "source"),
}

# Whether kenv can pin imported images against kubelet's image GC, per provider. containerd's CRI
# marks an image pinned when it carries `io.cri-containerd.pinned=pinned` (pkg/cri/labels, read
# by pkg/cri/store/image/image.go since containerd v1.7; internal/cri in v2) and kubelet's GC
# skips pinned images (CRI `Image.pinned`). k3s pins only what it imports itself from its airgap
# directory (pkg/agent/containerd: io.cattle.k3s.pinned + the CRI label); `k3d image import`
# runs a plain `ctr image import --all-platforms` (k3d pkg/client/tools.go, v5.8.3) and kind a
# plain `ctr images import` (kind pkg/cluster/nodeutils/util.go), so neither pins. The nodes run
# containerd v1.7 (k3s v1.31.x) and v1.7.24 / v2.0.2 (kind v0.26 / v0.27 base image). minikube
# runs the docker runtime through cri-dockerd, which has no pinning: there it is reported as
# not supported.
PINNING = {"k3d": True, "kind": True, "minikube": False}


@dataclass(frozen=True)
class PullAlways:
    """A container that pulls on every start whatever the node holds (imagePullPolicy Always, or
    `:latest`/no tag with no policy): side-loading its image does not keep kubelet off the
    registry. `where` says it for people, `source` for programs."""

    ref: str
    where: str
    source: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "source": self.source}


@dataclass
class SyncRequest:
    """What to sync: references, components (`images.components`), and how many host pulls at once.
    `origin` is how the command line named them, for a rerun hint."""

    refs: tuple[Reference, ...] = ()
    components: tuple[str, ...] = ()
    parallel: int = 4
    pull_always: tuple[PullAlways, ...] = ()
    origin: str = ""
    # Filled in by `run_sync` (create reads it to print the table).
    result: ImagesResult | None = None


@dataclass(frozen=True)
class Cell:
    node: str
    state: str
    reason: str | None = None
    pinned: bool | None = None  # None: not known (not held, node unread, or the runtime cannot pin)

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "state": self.state, "reason": self.reason, "pinned": self.pinned}


@dataclass(frozen=True)
class Listing:
    """Every node listed once: what each holds (None: could not be listed), what is pinned, why not read."""

    held: dict[str, frozenset[str] | None]
    pinned: dict[str, frozenset[str]]
    errors: dict[str, str]


@dataclass
class ImagesResult:
    operation: str  # check | sync
    environment: str
    provider: str
    images: tuple[Reference, ...]
    nodes: tuple[str, ...]
    node_errors: dict[str, str] = field(default_factory=dict)
    cells: dict[str, list[Cell]] = field(default_factory=dict)  # canonical -> one cell per node
    pulls: list[Any] = field(default_factory=list)  # images.pull.PullOutcome
    import_images: tuple[str, ...] = ()
    import_argv: tuple[tuple[str, ...], ...] = ()
    import_error: str | None = None
    archives: list[Any] = field(default_factory=list)  # images.archive.Archive
    pin_supported: bool = True
    pin_argv: tuple[tuple[str, ...], ...] = ()
    pin_errors: list[tuple[str, str, str]] = field(default_factory=list)  # node, ref, error
    pull_always: tuple[PullAlways, ...] = ()
    dry_run: bool = False

    def with_state(self, *states: str) -> list[tuple[str, Cell]]:
        return [(image, cell) for image, cells in self.cells.items() for cell in cells if cell.state in states]

    @property
    def ok(self) -> bool:
        """Nothing failed or unknown; for check (and a sync dry run's plan aside) nothing missing."""
        if self.with_state("failed", "unknown"):
            return False
        return self.operation == "sync" or not self.with_state("missing")

    @property
    def nothing_read(self) -> bool:
        return bool(self.nodes) and len(self.node_errors) == len(self.nodes)

    @property
    def would_change(self) -> bool:
        """A dry run found something to pull, save or import."""
        return bool(self.import_images)

    @property
    def planned(self) -> tuple[tuple[str, ...], ...]:
        """Every command a dry run would run, in order: pulls and saves, imports, pins."""
        return (*self.import_argv, *self.pin_argv)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "environment": self.environment,
            "provider": self.provider,
            "dry_run": self.dry_run,
            "nodes": [{"name": n, "error": self.node_errors.get(n)} for n in self.nodes],
            "images": [
                {"ref": r.canonical, "familiar": r.familiar, "nodes": [c.to_json() for c in self.cells[r.canonical]]}
                for r in self.images
            ],
            "pulls": [
                {
                    "ref": p.ref.canonical,
                    "ok": p.ok,
                    "source": p.source,
                    "tried": [{"endpoint": e, "reason": r} for e, r in p.tried],
                    "error": p.error,
                }
                for p in self.pulls
            ],
            "import": {
                "argv": [list(a) for a in self.import_argv],
                "images": list(self.import_images),
                "archives": [
                    {
                        "path": str(a.path),
                        "refs": [r.canonical for r in a.refs],
                        "format": a.format,
                        "keeps_digest": a.keeps_digest,
                    }
                    for a in self.archives
                ],
                "error": self.import_error,
            },
            "pin": {
                "supported": self.pin_supported,
                "argv": [list(a) for a in self.pin_argv],
                "errors": [{"node": n, "ref": r, "error": e} for n, r, e in self.pin_errors],
            },
            "pull_always": [p.to_json() for p in self.pull_always],
            "ok": self.ok,
        }


# -- reference lists (--from FILE, --images-from FILE) -------------------------------------------


def parse_reference_lines(text: str, origin: str) -> list[Reference]:
    """One reference per line; `#` starts a comment, blank lines are skipped. A bad line is
    InvalidInput naming `origin:line` and the reference's own error."""
    refs: list[Reference] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line.split()) > 1:
            raise InvalidInput(
                f"{origin}:{number}: {line!r} is more than one reference",
                hint="write one image reference per line",
            )
        try:
            refs.append(parse_reference(line))
        except InvalidReference as exc:
            raise InvalidInput(f"{origin}:{number}: {exc.message}", hint=exc.hint or "fix that line") from exc
    return refs


def read_reference_file(path: str, stdin_text: str | None = None) -> list[Reference]:
    """The references listed in a file (`-`: the text read from stdin, given by the caller)."""
    if path == "-":
        return parse_reference_lines(stdin_text or "", "<stdin>")
    file = Path(path)
    if file.is_dir():
        raise InvalidInput(
            f"{path} is a directory, not a list of images", hint="give a file with one reference per line"
        )
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file", hint="give a file with one reference per line") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.strerror})", hint="check the path and permissions") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not a text file", hint="give a file with one reference per line") from exc
    return parse_reference_lines(text, path)


# -- listing nodes ----------------------------------------------------------------------------


def read_nodes(provider: Provider, env: Environment, nodes: Sequence[str]) -> Listing:
    """One `crictl images -o json` per node: what each holds (None when it could not be listed),
    what is pinned and, for nodes not read, the reason in one line."""
    held: dict[str, frozenset[str] | None] = {}
    pinned: dict[str, frozenset[str]] = {}
    errors: dict[str, str] = {}
    for node in nodes:
        try:
            result = provider.exec_in_node(env, node, list(CRICTL_IMAGES))
            if not result.ok:
                raise failure(result)
            listing = parse_crictl_listing(result.stdout, result.argv)
            held[node], pinned[node] = listing.held, listing.pinned
        except KenvError as exc:
            held[node] = None
            errors[node] = exc.one_line()
    return Listing(held, pinned, errors)


def _wanted(
    ctx: WorkflowContext, env: Environment, refs: Sequence[Reference], components: Sequence[str]
) -> list[Reference]:
    wanted = list(refs)
    if components:
        from kenv.images.components import component_images

        # kind's system images follow the node image its create picked (by the kind release).
        version = ctx.node_version(env)
        for component in components:
            wanted.extend(component_images(component, env.provider, version))
    return wanted


def _prepare(
    ctx: WorkflowContext, name: str, refs: Sequence[Reference], components: Sequence[str]
) -> tuple[Environment, Provider, list[str], list[Reference]]:
    env = ctx.inventory().get(name)
    wanted = _wanted(ctx, env, refs, components)
    if not wanted:
        raise InvalidInput(
            "no images named", hint="give image references, --from FILE, --component C or --discover PATH"
        )
    if not facts_for(env.provider).managed:
        raise InvalidInput(
            f"{name!r} is an external cluster: kenv cannot reach into its nodes",
            hint="push the images to a registry it pulls from",
        )
    ctx.ensure_tools(env.provider)
    provider = ctx.provider(env.provider)
    nodes = provider.node_names(env)
    if not nodes:
        raise KenvError(f"environment {name!r} has no nodes", hint=f"run `kenv create {name}`")
    return env, provider, nodes, wanted


def _pinned(result: ImagesResult, listing: Listing, node: str, ref: Reference) -> bool | None:
    if not result.pin_supported or node not in listing.pinned:
        return None
    return presence_key(ref) in listing.pinned[node]


def _cells_before(
    result: ImagesResult, nodes_plan: NodePlan, listing: Listing, missing_state: str, unread_state: str
) -> None:
    for ref in nodes_plan.wanted:
        cells = []
        for node in result.nodes:
            if node in result.node_errors:
                cells.append(Cell(node, unread_state, result.node_errors[node]))
            elif ref.canonical in nodes_plan.missing[node]:
                cells.append(Cell(node, missing_state))
            else:
                cells.append(Cell(node, "present", pinned=_pinned(result, listing, node, ref)))
        result.cells[ref.canonical] = cells


def _listed(
    ctx: WorkflowContext, operation: str, name: str, refs: Sequence[Reference], components: Sequence[str]
) -> tuple[ImagesResult, NodePlan, Environment, Provider, Listing]:
    """What check and sync both start with: every node listed once, and the plan from it."""
    env, provider, nodes, wanted = _prepare(ctx, name, refs, components)
    ctx.progress.note(name, f"listing images in {len(nodes)} node(s)")
    listing = read_nodes(provider, env, nodes)
    nodes_plan = plan(wanted, listing.held)
    result = ImagesResult(
        operation,
        name,
        env.provider,
        nodes_plan.wanted,
        tuple(nodes),
        listing.errors,
        pin_supported=PINNING.get(env.provider, False),
        dry_run=ctx.dry_run,
    )
    return result, nodes_plan, env, provider, listing


def check_images(
    ctx: WorkflowContext,
    name: str,
    refs: Sequence[Reference],
    *,
    components: Sequence[str] = (),
    pull_always: Sequence[PullAlways] = (),
) -> ImagesResult:
    """Read-only: each node listed once, every image x node present, missing or unknown."""
    result, nodes_plan, _env, _provider, listing = _listed(ctx, "check", name, refs, components)
    result.pull_always = tuple(pull_always)
    _cells_before(result, nodes_plan, listing, "missing", "unknown")
    return result


# -- sync -------------------------------------------------------------------------------------


def named_cells(pairs: Sequence[tuple[str, Cell]]) -> str:
    """`image on node, ...`: the first ten of image x node cells, and how many more."""
    shown = [f"{image} on {cell.node}" for image, cell in pairs[:10]]
    more = f" (+{len(pairs) - 10} more)" if len(pairs) > 10 else ""
    return ", ".join(shown) + more


def sync_failure(name: str, result: ImagesResult) -> str | None:
    """The one line a failed sync is reported with (the CLI's error, the API's job error); None: it did not fail."""
    if result.import_error:
        return f"import into {name} failed: {result.import_error}"
    if not result.ok:
        return f"images sync {name}: {named_cells(result.with_state('failed', 'unknown'))} failed"
    return None


def sync_images(ctx: WorkflowContext, name: str, request: SyncRequest) -> ImagesResult:
    """Get every missing image into the nodes (see the module doc), under the environment's lock.
    Recorded in the history (`images-sync`) unless a dry run."""
    ctx.inventory().get(name)  # an unknown name is refused before a lock file is made for it
    with ctx.environment_lock(name):
        return run_sync(ctx, name, request)


def run_sync(ctx: WorkflowContext, name: str, request: SyncRequest) -> ImagesResult:
    """`sync_images` for a caller that already holds the environment's lock (create)."""
    with ctx.recorded("images-sync", name) as outcome:
        result = _sync(ctx, name, request)
        result.pull_always = request.pull_always
        request.result = result
        outcome.ok = result.ok
        outcome.error = result.import_error or (None if result.ok else _failure_summary(result))
        imported = len(result.with_state("imported"))
        outcome.detail = (
            f"imported {len(result.import_images)} image(s) ({imported} image x node)"
            if result.import_images
            else "nothing missing"
        )
    return result


def _sync(ctx: WorkflowContext, name: str, request: SyncRequest) -> ImagesResult:
    result, nodes_plan, env, provider, listing = _listed(ctx, "sync", name, request.refs, request.components)
    lacking = set(nodes_plan.missing_images)
    missing = [r for r in nodes_plan.wanted if r.canonical in lacking]
    result.import_images = tuple(r.canonical for r in missing)
    if not missing:
        _cells_before(result, nodes_plan, listing, "missing", "failed")
        return result
    planned_before = len(ctx.runner.planned)
    failures = _supply_and_import(ctx, result, env, provider, missing, request.parallel)
    result.import_argv = tuple(ctx.runner.planned[planned_before:])
    imported = [r for r in missing if r.canonical not in failures]
    _pin(ctx, result, env, provider, imported)
    if ctx.dry_run:
        _cells_before(result, nodes_plan, listing, "missing", "failed")
        return result
    ctx.progress.note(name, f"verifying {len(result.nodes)} node(s)")
    after = read_nodes(provider, env, result.nodes)
    verified = plan(nodes_plan.wanted, after.held)
    pin_failed = {(node, ref): error for node, ref, error in result.pin_errors}
    for ref in nodes_plan.wanted:
        image = ref.canonical
        cells = []
        for node in result.nodes:
            if node in after.errors:
                cells.append(Cell(node, "failed", f"could not list the node: {after.errors[node]}"))
            elif image not in verified.missing[node]:
                was_there = listing.held.get(node) is not None and image not in nodes_plan.missing[node]
                pinned = _pinned(result, after, node, ref)
                reason = pin_failed.get((node, image))
                cells.append(
                    Cell(
                        node,
                        "present" if was_there else "imported",
                        f"not pinned against image GC: {reason}" if reason else None,
                        pinned,
                    )
                )
            else:
                reason = failures.get(image) or result.import_error or "not in the node after the import"
                cells.append(Cell(node, "failed", reason))
        result.cells[image] = cells
    result.node_errors = after.errors  # the nodes as they are now
    return result


def _supply_and_import(
    ctx: WorkflowContext,
    result: ImagesResult,
    env: Environment,
    provider: Provider,
    missing: Sequence[Reference],
    parallel: int,
) -> dict[str, str]:
    """Host pulls, then ONE import call for the tag references and ONE archive import for the
    digest references. Returns, per image that could not be imported, why."""
    from kenv.images.pull import ensure_on_host

    name = env.name
    failures: dict[str, str] = {}
    errors: list[str] = []
    tagged = [r for r in missing if r.digest is None]
    by_digest = [r for r in missing if r.digest is not None]
    if tagged:
        ctx.progress.note(name, f"making sure {len(tagged)} image(s) are on the host")
        result.pulls = ensure_on_host(
            ctx.runner,
            ctx.settings.images,
            tagged,
            parallel=parallel,
            progress=lambda text: ctx.progress.note(name, text),
        )
        for outcome in result.pulls:
            if not outcome.ok:
                failures[outcome.ref.canonical] = outcome.error or "could not be pulled onto the host"
                ctx.progress.note(name, f"{outcome.ref.familiar}: not on the host, could not be pulled")
            elif outcome.source != "host":
                via = "upstream" if outcome.source == "upstream" else f"through {outcome.source}"
                ctx.progress.note(name, f"{outcome.ref.familiar}: {'would be ' if ctx.dry_run else ''}pulled {via}")
        ready = [r.canonical for r in tagged if r.canonical not in failures]
        if ready:
            ctx.progress.note(name, f"importing {len(ready)} image(s): {', '.join(ready)}")
            try:
                provider.import_images(env, ready)
            except KenvError as exc:
                errors.append(exc.one_line())
                failures.update(dict.fromkeys(ready, exc.one_line()))
    if by_digest:
        failures.update(_import_by_digest(ctx, result, env, provider, by_digest, errors))
    result.import_error = "; ".join(errors) or None
    return failures


def _import_by_digest(
    ctx: WorkflowContext,
    result: ImagesResult,
    env: Environment,
    provider: Provider,
    refs: Sequence[Reference],
    errors: list[str],
) -> dict[str, str]:
    """Digest references through OCI archives that keep the registry's manifest (moby#22011:
    `docker save` drops it; kind#2734: the node then shows no digest and kubelet pulls anyway)."""
    from kenv.images.archive import save_archive

    shown = ", ".join(r.familiar for r in refs)
    ctx.progress.note(env.name, f"copying {len(refs)} image(s) by digest into OCI archives: {shown}")
    parent = ctx.settings.data_dir / "cache"
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory = Path(tempfile.mkdtemp(prefix="images-", dir=parent))
    try:
        result.archives = save_archive(ctx.runner, ctx.settings.images, refs, directory)
        ctx.progress.note(env.name, f"importing {len(result.archives)} archive(s)")
        provider.import_archives(env, [a.path for a in result.archives])
    except KenvError as exc:
        errors.append(exc.one_line())
        return dict.fromkeys((r.canonical for r in refs), exc.one_line())
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {}


def _pin(
    ctx: WorkflowContext, result: ImagesResult, env: Environment, provider: Provider, refs: Sequence[Reference]
) -> None:
    """Label what was imported `io.cri-containerd.pinned=pinned` in every node that was listed,
    one `ctr images label` per image and node (ctr labels one image per call). A dry run plans
    the exact `docker exec` (k3d and kind nodes are Docker containers)."""
    if not refs:
        return
    if not result.pin_supported:
        ctx.progress.note(
            env.name, f"{env.provider} (docker runtime): imported images cannot be pinned against kubelet image GC"
        )
        return
    nodes = [n for n in result.nodes if n not in result.node_errors]
    if ctx.dry_run:
        result.pin_argv = tuple(("docker", "exec", node, *pin_argv(ref)) for node in nodes for ref in refs)
        return
    ctx.progress.note(env.name, f"pinning {len(refs)} image(s) against image GC in {len(nodes)} node(s)")
    for node in nodes:
        for ref in refs:
            try:
                answer = provider.exec_in_node(env, node, list(pin_argv(ref)))
                if not answer.ok:
                    raise failure(answer)
            except KenvError as exc:
                result.pin_errors.append((node, ref.canonical, exc.one_line()))


def _failure_summary(result: ImagesResult) -> str:
    failed = result.with_state("failed", "unknown")
    shown = "; ".join(f"{image} on {cell.node}: {cell.reason}" for image, cell in failed[:5])
    more = f" (+{len(failed) - 5} more)" if len(failed) > 5 else ""
    return shown + more
