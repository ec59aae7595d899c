"""images discover: which images manifests name, and where (issue 8 §2)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.images.reference import Reference
    from kenv.workflows.images import Cell, ImagesResult


@click.group()
def images() -> None:
    """Container images: find the ones manifests name, check and sync them into nodes.

    \b
    Examples:
      kenv images discover deploy/
      kubectl get cm -n kube-system local-path-config -o yaml | kenv images discover -
      kenv images discover deploy/ --why busybox:1.36.1
      kenv images discover deploy/ -o json
      kenv images discover --kustomize overlays/dev
      kenv images check dev busybox:1.36.1
      kenv images sync dev --discover deploy/
    """


def _where(source: object) -> str:
    from kenv.images.discovery import Source

    assert isinstance(source, Source)
    identity = "/".join(p for p in (source.namespace, source.name) if p)
    owner = f"{source.kind or '-'} {identity}".strip() if (source.kind or identity) else "-"
    return f"{source.file}#{source.document} {owner} {source.path}"


@images.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH... | -")
@click.option(
    "--kustomize",
    is_flag=True,
    help="Each PATH is a kustomize directory: render it with `kubectl kustomize` first.",
)
@click.option("--why", "why", metavar="REF", help="Show where one image is named (any spelling of it).")
@output_option(("table", "json"))
def discover(paths: tuple[str, ...], kustomize: bool, why: str | None, output: str) -> None:
    """Find the images in manifests: files, directories (*.yaml, *.yml, *.json, recursively) or -
    for stdin.

    Tier `definite`: `image` keys (pod specs anywhere, custom resources included), image volumes,
    split maps (registry/repository/tag|digest), documents embedded in ConfigMap/Secret values.
    Tier `probable`: env vars RELATED_IMAGE_*, *_IMAGE, IMAGE_* and --*image= args.
    A document that cannot be read is a warning on stderr; the others are still read.

    \b
    -o json: {"images": [{"ref", "familiar", "tier",
              "sources": [{"file", "document", "kind", "namespace", "name", "path", "as_written"}]}]}
    """
    from kenv.errors import NotFound
    from kenv.images.discovery import read_inputs

    if kustomize:
        from kenv.errors import InvalidInput
        from kenv.images.discovery import Discovery, discover_text
        from kenv.images.sources import render_kustomize
        from kenv.runtime.process import Runner

        if "-" in paths:
            raise InvalidInput("--kustomize renders directories, not stdin", hint="give kustomize directories")
        discovery = Discovery()
        runner = Runner()
        for directory in paths:
            discover_text(render_kustomize(runner, directory), f"{directory} (kustomize)", discovery)
    else:
        discovery = read_inputs(paths, stdin=sys.stdin.buffer if "-" in paths else None)
    for warning in discovery.warnings:
        sys.stderr.write(f"kenv: warning: {warning.one_line()}\n")
    if why is not None:
        image = discovery.find(why)
        if image is None:
            raise NotFound(f"no image {why} in {', '.join(paths)}", hint="run without --why to see what was found")
        if output == "json":
            emit({"images": [image.to_json()]}, output)
            return
        sys.stdout.write(f"{image.ref} ({image.tier}), named {len(image.sources)} time(s):\n")
        rows = [{**s.to_json(), "document": s.document} for s in image.sources]
        emit(
            rows,
            output,
            columns=[
                ("FILE", "file"),
                ("DOC", "document"),
                ("KIND", "kind"),
                ("NAMESPACE", "namespace"),
                ("NAME", "name"),
                ("PATH", "path"),
                ("AS WRITTEN", "as_written"),
            ],
        )
        return
    if output == "json":
        emit(discovery.to_json(), output)
        return
    rows = []
    for image in discovery.sorted_images():
        more = f" (+{len(image.sources) - 1} more)" if len(image.sources) > 1 else ""
        rows.append({"familiar": image.familiar, "tier": image.tier, "where": _where(image.sources[0]) + more})
    emit(
        rows,
        output,
        columns=[("IMAGE", "familiar"), ("TIER", "tier"), ("FIRST NAMED AT", "where")],
        empty="No images.",
        wrap=("where",),
    )


def _wanted(refs: tuple[str, ...], discover_paths: tuple[str, ...]) -> list[Reference]:
    """The references named on the command line, then those found in --discover manifests."""
    from kenv.images.reference import parse_reference

    wanted = [parse_reference(r) for r in refs]
    if discover_paths:
        from kenv.images.discovery import read_inputs

        discovery = read_inputs(discover_paths)
        for warning in discovery.warnings:
            sys.stderr.write(f"kenv: warning: {warning.one_line()}\n")
        wanted.extend(parse_reference(image.ref) for image in discovery.sorted_images())
    return wanted


def _print_cells(result: ImagesResult) -> None:
    rows = [
        {"image": ref.familiar, "node": cell.node, "state": cell.state, "reason": cell.reason or ""}
        for ref in result.images
        for cell in result.cells[ref.canonical]
    ]
    emit(
        rows,
        "table",
        columns=[("IMAGE", "image"), ("NODE", "node"), ("STATE", "state"), ("REASON", "reason")],
        empty="No images.",
        wrap=("reason",),
    )


def _named(pairs: Sequence[tuple[str, Cell]]) -> str:
    shown = [f"{image} on {cell.node}" for image, cell in pairs[:10]]
    more = f" (+{len(pairs) - 10} more)" if len(pairs) > 10 else ""
    return ", ".join(shown) + more


# The -o json contract of check and sync, shown in both commands' help.
JSON_HELP = """\b
-o json: {"operation": "check"|"sync", "environment", "provider", "dry_run", "ok",
          "nodes": [{"name", "error"}],
          "images": [{"ref", "familiar", "nodes": [{"node", "state", "reason"}]}],
          "import": {"argv": [[...]] (dry run only), "images": [...], "error"}}
state: present | missing | imported | failed | unknown
"""


def _unread(result: ImagesResult) -> str:
    return "; ".join(f"{node}: {error}" for node, error in result.node_errors.items())


_discover_option = click.option(
    "--discover",
    "discover_paths",
    multiple=True,
    metavar="PATH",
    help="Also every image found in these manifests (files or directories; repeatable).",
)


@images.command(epilog=JSON_HELP)
@click.argument("env_name", metavar="ENV")
@click.argument("refs", nargs=-1, metavar="[REF...]")
@_discover_option
@output_option(("table", "json"))
@click.pass_obj
def check(app: App, env_name: str, refs: tuple[str, ...], discover_paths: tuple[str, ...], output: str) -> None:
    """Are these images inside every node of ENV? Read-only: each node is listed once
    (`crictl images -o json` through the provider's node exec).

    Exit 0 when every image is on every node, 3 naming each missing image and node, 1 when a
    node could not be listed (its reason is in the table).

    \b
    Examples:
      kenv images check dev busybox:1.36.1
      kenv images check dev --discover deploy/ -o json

    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.images import check_images

    wanted = _wanted(refs, discover_paths)
    ctx = workflow_context(app, dry_run=False)
    result = check_images(ctx, env_name, wanted)
    if output == "json":
        emit(result.to_json(), output)
    else:
        _print_cells(result)
    if result.nothing_read:
        raise OperationFailed(f"could not list the images of any node of {env_name}: {_unread(result)}")
    missing = result.with_state("missing")
    if missing:
        raise ProblemsFound(
            f"missing: {_named(missing)}", hint=f"run `kenv images sync {env_name}` with the same images"
        )
    if result.node_errors:
        raise OperationFailed(f"could not list the images of {_unread(result)}")


@images.command(epilog=JSON_HELP)
@click.argument("env_name", metavar="ENV")
@click.argument("refs", nargs=-1, metavar="[REF...]")
@_discover_option
@dry_run_option()
@output_option(("table", "json"))
@click.pass_obj
def sync(
    app: App, env_name: str, refs: tuple[str, ...], discover_paths: tuple[str, ...], dry_run: bool, output: str
) -> None:
    """Get the images into every node of ENV: each node is listed once, only missing images are
    imported, in ONE provider import call for the cluster (`k3d image import`, `kind load
    docker-image`; minikube loads one image per call), then every node is listed again to verify.
    The images must be on the host (Docker). Nothing missing: no import at all.

    Exit 0 when every image is on every node, 1 when anything failed (the table says why);
    with --dry-run, prints the exact import command and exits 3 when something would be imported.

    \b
    Examples:
      kenv images sync dev busybox:1.36.1 rancher/mirrored-library-busybox:1.36.1
      kenv images sync dev --discover deploy/ --dry-run

    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.images import sync_images

    wanted = _wanted(refs, discover_paths)
    ctx = workflow_context(app, dry_run=dry_run)
    result = sync_images(ctx, env_name, wanted)
    if output == "json":
        emit(result.to_json(), output)
    else:
        _print_cells(result)
        for argv in result.import_argv:
            click.echo(f"would run: {shlex.join(argv)}")
    if result.import_error:
        raise OperationFailed(f"import into {env_name} failed: {result.import_error}")
    if not result.ok:
        raise OperationFailed(f"images sync {env_name}: {_named(result.with_state('failed', 'unknown'))} failed")
    if dry_run and result.import_images:
        raise ProblemsFound(
            f"would import {len(result.import_images)} image(s) into {env_name}", hint="run again without --dry-run"
        )
