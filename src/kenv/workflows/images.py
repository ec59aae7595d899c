"""kenv images check / sync: is every wanted image inside every node, and get the missing ones in
(issue 8 §5).

Each node is listed once (`crictl images -o json` through the provider's node exec); sync then
makes ONE provider import call for every image some node lacks, and lists every node again to
verify. Nothing is imported when nothing is missing. Results are data: one cell per image x node.

States of a cell: `present` (there before), `missing` (check: not there; sync --dry-run: would be
imported), `imported` (sync: not there before, there after), `failed` (sync: still not there, or
the node could not be listed), `unknown` (check: the node could not be listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.images.nodes import CRICTL_IMAGES, NodePlan, parse_crictl_images, plan
from kenv.images.reference import Reference
from kenv.inventory.model import Environment
from kenv.providers.base import Provider
from kenv.runtime.process import failure
from kenv.workflows.context import WorkflowContext

__all__ = ["JSON_KEYS", "Cell", "ImagesResult", "check_images", "read_nodes", "sync_images"]

# The -o json contract of `kenv images check` and `kenv images sync` (pinned by a test).
JSON_KEYS = {
    "top": ("operation", "environment", "provider", "dry_run", "nodes", "images", "import", "ok"),
    "node": ("name", "error"),
    "image": ("ref", "familiar", "nodes"),
    "cell": ("node", "state", "reason"),
    "import": ("argv", "images", "error"),  # argv: the planned command(s), in a dry run only
}


@dataclass(frozen=True)
class Cell:
    node: str
    state: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "state": self.state, "reason": self.reason}


@dataclass
class ImagesResult:
    operation: str  # check | sync
    environment: str
    provider: str
    images: tuple[Reference, ...]
    nodes: tuple[str, ...]
    node_errors: dict[str, str] = field(default_factory=dict)
    cells: dict[str, list[Cell]] = field(default_factory=dict)  # canonical -> one cell per node
    import_images: tuple[str, ...] = ()
    import_argv: tuple[tuple[str, ...], ...] = ()
    import_error: str | None = None
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
            "import": {
                "argv": [list(a) for a in self.import_argv],
                "images": list(self.import_images),
                "error": self.import_error,
            },
            "ok": self.ok,
        }


def read_nodes(
    provider: Provider, env: Environment, nodes: Sequence[str]
) -> tuple[dict[str, frozenset[str] | None], dict[str, str]]:
    """One `crictl images -o json` per node: what each holds (None when it could not be listed)
    and, for those, the reason in one line."""
    held: dict[str, frozenset[str] | None] = {}
    errors: dict[str, str] = {}
    for node in nodes:
        try:
            result = provider.exec_in_node(env, node, list(CRICTL_IMAGES))
            if not result.ok:
                raise failure(result)
            held[node] = parse_crictl_images(result.stdout, result.argv)
        except KenvError as exc:
            held[node] = None
            errors[node] = exc.one_line()
    return held, errors


def _prepare(ctx: WorkflowContext, name: str, refs: Sequence[Reference]) -> tuple[Environment, Provider, list[str]]:
    env = ctx.inventory().get(name)
    if not refs:
        raise InvalidInput("no images named", hint="give image references, or --discover PATH with manifests")
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
    return env, provider, nodes


def _cells_before(result: ImagesResult, nodes_plan: NodePlan, missing_state: str, unread_state: str) -> None:
    for ref in nodes_plan.wanted:
        cells = []
        for node in result.nodes:
            if node in result.node_errors:
                cells.append(Cell(node, unread_state, result.node_errors[node]))
            elif ref.canonical in nodes_plan.missing[node]:
                cells.append(Cell(node, missing_state))
            else:
                cells.append(Cell(node, "present"))
        result.cells[ref.canonical] = cells


def _listed(
    ctx: WorkflowContext, operation: str, name: str, refs: Sequence[Reference]
) -> tuple[ImagesResult, NodePlan, Environment, Provider, dict[str, frozenset[str] | None]]:
    """What check and sync both start with: every node listed once, and the plan from it."""
    env, provider, nodes = _prepare(ctx, name, refs)
    ctx.progress.note(name, f"listing images in {len(nodes)} node(s)")
    held, errors = read_nodes(provider, env, nodes)
    nodes_plan = plan(refs, held)
    result = ImagesResult(operation, name, env.provider, nodes_plan.wanted, tuple(nodes), errors, dry_run=ctx.dry_run)
    return result, nodes_plan, env, provider, held


def check_images(ctx: WorkflowContext, name: str, refs: Sequence[Reference]) -> ImagesResult:
    """Read-only: each node listed once, every image x node present, missing or unknown."""
    result, nodes_plan, *_ = _listed(ctx, "check", name, refs)
    _cells_before(result, nodes_plan, "missing", "unknown")
    return result


def sync_images(ctx: WorkflowContext, name: str, refs: Sequence[Reference]) -> ImagesResult:
    """Get every missing image into the nodes: list each node once, ONE provider import call for
    all images some node lacks, then list every node again to verify. Recorded in the history
    (`images-sync`) unless a dry run."""
    ctx.inventory().get(name)  # an unknown name is refused before a lock file is made for it
    with ctx.environment_lock(name), ctx.recorded("images-sync", name) as outcome:
        result = _sync(ctx, name, refs)
        outcome.ok = result.ok
        outcome.error = result.import_error or (None if result.ok else _failure_summary(result))
        imported = len(result.with_state("imported"))
        outcome.detail = (
            f"imported {len(result.import_images)} image(s) ({imported} image x node)"
            if result.import_images
            else "nothing missing"
        )
    return result


def _sync(ctx: WorkflowContext, name: str, refs: Sequence[Reference]) -> ImagesResult:
    result, nodes_plan, env, provider, held = _listed(ctx, "sync", name, refs)
    nodes = result.nodes
    missing = nodes_plan.missing_images
    result.import_images = missing
    if not missing:
        _cells_before(result, nodes_plan, "missing", "failed")
        return result
    ctx.progress.note(name, f"importing {len(missing)} image(s): {', '.join(missing)}")
    planned_before = len(ctx.runner.planned)
    try:
        provider.import_images(env, list(missing))
    except KenvError as exc:
        result.import_error = exc.one_line()
    if ctx.dry_run:
        result.import_argv = tuple(ctx.runner.planned[planned_before:])
        _cells_before(result, nodes_plan, "missing", "failed")
        return result
    ctx.progress.note(name, f"verifying {len(nodes)} node(s)")
    after, after_errors = read_nodes(provider, env, nodes)
    verified = plan(refs, after)
    for ref in nodes_plan.wanted:
        image = ref.canonical
        cells = []
        for node in nodes:
            before = held.get(node)
            if node in after_errors:
                cells.append(Cell(node, "failed", f"could not list the node: {after_errors[node]}"))
            elif image not in verified.missing[node]:
                was_there = before is not None and image not in nodes_plan.missing[node]
                cells.append(Cell(node, "present" if was_there else "imported"))
            else:
                reason = result.import_error or "not in the node after the import"
                cells.append(Cell(node, "failed", reason))
        result.cells[image] = cells
    result.node_errors = after_errors  # the nodes as they are now
    return result


def _failure_summary(result: ImagesResult) -> str:
    failed = result.with_state("failed", "unknown")
    shown = "; ".join(f"{image} on {cell.node}: {cell.reason}" for image, cell in failed[:5])
    more = f" (+{len(failed) - 5} more)" if len(failed) > 5 else ""
    return shown + more
