"""images prefetch / bundle / load: images ahead of time, and for machines with no registry
access (issue 8 §5). Registered on the `images` group by cli/cmd_images.py."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.images.pull import PullOutcome
    from kenv.images.reference import Reference
    from kenv.inventory.model import Environment
    from kenv.workflows.context import WorkflowContext
    from kenv.workflows.images_supply import LoadResult

__all__ = ["SUPPLY_COMMANDS", "bundle", "load", "prefetch"]

_parallel_option = click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Pull at most this many images at once.",
)


def _component_refs(ctx: WorkflowContext, component: str, env: Environment | None = None) -> list[Any]:
    """A component's images for `env`, or with no environment for what a create with the default
    provider would make (kind: the node image of the installed release)."""
    from kenv.images.components import check_component, component_images

    check_component(component)
    if env is not None:
        return component_images(component, env.provider, ctx.node_version(env))
    provider = ctx.settings.default_provider
    return component_images(component, provider, ctx.default_node_version(provider))


def _parse(refs: tuple[str, ...]) -> list[Reference]:
    from kenv.images.reference import parse_reference

    return [parse_reference(r) for r in refs]


def _pull_rows(outcomes: list[PullOutcome], dry_run: bool) -> list[dict[str, Any]]:
    rows = []
    for outcome in outcomes:
        if outcome.ok:
            state = "present" if outcome.source == "host" else ("would pull" if dry_run else "pulled")
        else:
            state = "failed"
        rows.append(
            {
                "ref": outcome.ref.familiar,
                "source": outcome.source or "-",
                "result": state,
                "reason": "; ".join(f"{endpoint}: {why}" for endpoint, why in outcome.tried) if outcome.tried else "",
            }
        )
    return rows


def _pull_json(outcome: PullOutcome) -> dict[str, Any]:
    return {
        "ref": outcome.ref.canonical,
        "familiar": outcome.ref.familiar,
        "ok": outcome.ok,
        "source": outcome.source,
        "tried": [{"endpoint": endpoint, "reason": why} for endpoint, why in outcome.tried],
        "error": outcome.error,
    }


def _print_pulls(outcomes: list[PullOutcome], dry_run: bool) -> None:
    emit(
        _pull_rows(outcomes, dry_run),
        "table",
        columns=[("IMAGE", "ref"), ("SOURCE", "source"), ("RESULT", "result"), ("FAILED ENDPOINTS", "reason")],
        empty="No images.",
        wrap=("reason",),
    )


def _raise_pull_failures(outcomes: list[PullOutcome]) -> None:
    from kenv.errors import OperationFailed

    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise OperationFailed(
            f"{len(failed)} image(s) could not be pulled: " + " | ".join(o.error or o.ref.familiar for o in failed),
            hint="check the mirrors named above ([images] mirrors in the config) and the Docker daemon's proxy",
        )


PREFETCH_JSON = """\b
-o json: {"dry_run", "ok", "planned": [[argv...]],
          "images": [{"ref", "familiar", "ok", "source", "tried": [{"endpoint", "reason"}], "error"}]}
source: "host" (already there) | the mirror URL used | "upstream"
"""


@click.command(epilog=PREFETCH_JSON)
@click.argument("refs", nargs=-1, metavar="[REF...]")
@click.option(
    "--component",
    metavar="all|C",
    help="Also every image this component needs (for the default provider's pinned version).",
)
@_parallel_option
@dry_run_option()
@output_option(("table", "json"))
@click.pass_obj
def prefetch(app: App, refs: tuple[str, ...], component: str | None, parallel: int, dry_run: bool, output: str) -> None:
    """Pull images onto this host ahead of time: each through the configured mirrors of its
    registry, in order, then upstream; each pull with a timeout and bounded retries. A digest
    reference counts only with that very digest. Images already on the host are not pulled.

    Exit 0 when every image is on the host, 1 naming each failure and every mirror that did not
    answer; with --dry-run, prints the pulls it would make and exits 3 when there are any.

    \b
    Examples:
      kenv images prefetch busybox:1.36.1 registry.k8s.io/pause:3.10
      kenv images prefetch --component all
      kenv images prefetch --component system --dry-run
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import InvalidInput, ProblemsFound
    from kenv.workflows.images_supply import prefetch as run_prefetch

    wanted = _parse(refs)
    ctx = workflow_context(app, dry_run=dry_run)
    if component:
        wanted += _component_refs(ctx, component)
    if not wanted:
        raise InvalidInput("no images named", hint="give image references or --component all|C")
    outcomes = run_prefetch(ctx, wanted, parallel=parallel)
    if output == "json":
        emit(
            {
                "dry_run": dry_run,
                "ok": all(o.ok for o in outcomes),
                "planned": [list(a) for a in ctx.runner.planned],
                "images": [_pull_json(o) for o in outcomes],
            },
            output,
        )
    else:
        _print_pulls(outcomes, dry_run)
        for argv in ctx.runner.planned:
            click.echo(f"would run: {shlex.join(argv)}")
    _raise_pull_failures(outcomes)
    if dry_run and ctx.runner.planned:
        pulls = sum(1 for argv in ctx.runner.planned if argv[:2] == ("docker", "pull"))
        raise ProblemsFound(f"would pull {pulls} image(s)", hint="run again without --dry-run")


@click.command()
@click.argument("refs", nargs=-1, metavar="[REF...]")
@click.option(
    "-o",
    "--output",
    "output_file",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The bundle file to write.",
)
@click.option("--component", metavar="all|C", help="Every image this component needs (default provider).")
@click.option("--env", "env_name", metavar="ENV", help="Every image environment ENV needs (its provider and version).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@_parallel_option
@dry_run_option()
@click.pass_obj
def bundle(
    app: App,
    refs: tuple[str, ...],
    output_file: Path,
    component: str | None,
    env_name: str | None,
    force: bool,
    parallel: int,
    dry_run: bool,
) -> None:
    """Write one file holding images and their manifest, for a machine with no registry access
    (load it there with `kenv images load FILE ENV`).

    Images not on this host are pulled first (mirrors, then upstream). Tag references go into
    one `docker save` archive; digest references into one OCI archive copied from the registry
    by skopeo with their manifests unchanged, so `name@sha256:...` still verifies in the nodes
    (`docker save` drops the registry digest: without skopeo, digest references are refused).
    The manifest, kenv-bundle.json, lists every image with its archive, and each archive's size
    and sha256. FILE is written atomically: nothing is left when anything fails.

    \b
    Examples:
      kenv images bundle -o images.tar busybox:1.36.1 rancher/mirrored-pause:3.6
      kenv images bundle -o dev-images.tar --env dev
      kenv images bundle -o system.tar --component system --force
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import InvalidInput, ProblemsFound
    from kenv.workflows.images_supply import write_bundle

    wanted = _parse(refs)
    ctx = workflow_context(app, dry_run=dry_run)
    if component:
        wanted += _component_refs(ctx, component)
    if env_name:
        wanted += _component_refs(ctx, "all", ctx.inventory().get(env_name))
    if not wanted:
        raise InvalidInput("no images named", hint="give image references, --component all|C or --env ENV")
    result = write_bundle(ctx, wanted, output_file, force=force, parallel=parallel)
    if result.failed or (result.outcomes and any(o.source != "host" for o in result.outcomes)):
        _print_pulls(result.outcomes, dry_run)
    _raise_pull_failures(result.outcomes)
    if dry_run:
        for argv in ctx.runner.planned:
            click.echo(f"would run: {shlex.join(argv)}")
        click.echo(f"would write {result.path}")
        raise ProblemsFound(f"would write {result.path}", hint="run again without --dry-run")
    manifest = result.manifest
    assert manifest is not None
    emit(
        [
            {"ref": image["familiar"], "digest": image["digest"] or "-", "archive": image["archive"]}
            for image in manifest.images
        ],
        "table",
        columns=[("IMAGE", "ref"), ("DIGEST", "digest"), ("ARCHIVE", "archive")],
        empty="No images.",
    )
    size = result.path.stat().st_size
    click.echo(
        f"wrote {result.path}: {len(manifest.images)} image(s) in {len(manifest.archives)} archive(s), "
        f"{size / 1e6:.1f} MB"
    )


LOAD_JSON = """\b
-o json: {"operation": "load", "environment", "provider", "bundle", "dry_run", "ok",
          "nodes": [{"name", "error"}],
          "images": [{"ref", "familiar", "nodes": [{"node", "state", "reason"}]}],
          "import": {"argv": [[...]] (dry run only), "error"}}
state: imported | missing (dry run) | failed
"""


def _print_load(result: LoadResult) -> None:
    rows = [
        {"image": ref.familiar, "node": cell.node, "state": cell.state, "reason": cell.reason or ""}
        for ref in result.images
        for cell in result.cells.get(ref.canonical, [])
    ]
    emit(
        rows,
        "table",
        columns=[("IMAGE", "image"), ("NODE", "node"), ("STATE", "state"), ("REASON", "reason")],
        empty="No images.",
        wrap=("reason",),
    )


@click.command(epilog=LOAD_JSON)
@click.argument("bundle_file", metavar="FILE", type=click.Path(path_type=Path))
@click.argument("env_name", metavar="ENV")
@dry_run_option()
@output_option(("table", "json"))
@click.pass_obj
def load(app: App, bundle_file: Path, env_name: str, dry_run: bool, output: str) -> None:
    """Load a bundle made by `kenv images bundle` into every node of ENV.

    The manifest and every archive's size and sha256 are checked before anything is imported
    (a damaged, altered or foreign file: exit 2 naming what is wrong). Then ONE provider import
    call takes every archive (`k3d image import`, `kind load image-archive`, `minikube image
    load`), and every node is listed to verify each image is there.

    Exit 0 when every image is in every node, 1 when anything failed (the table says why);
    with --dry-run, checks the bundle, prints the import command and exits 3.

    \b
    Examples:
      kenv images load images.tar dev
      kenv images load images.tar dev --dry-run
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.images_supply import load_bundle

    ctx = workflow_context(app, dry_run=dry_run)
    result = load_bundle(ctx, bundle_file, env_name)
    if output == "json":
        emit(result.to_json(), output)
    else:
        _print_load(result)
        for argv in result.import_argv:
            click.echo(f"would run: {shlex.join(argv)}")
    if result.import_error:
        raise OperationFailed(f"import into {env_name} failed: {result.import_error}")
    if not result.ok:
        failed = [
            f"{image} on {cell.node}"
            for image, cells in result.cells.items()
            for cell in cells
            if cell.state in ("failed", "unknown")
        ]
        raise OperationFailed(f"images load {env_name}: {', '.join(failed[:10])} failed")
    if dry_run:
        raise ProblemsFound(
            f"would import {len(result.images)} image(s) into {env_name}", hint="run again without --dry-run"
        )


SUPPLY_COMMANDS = (prefetch, bundle, load)
