"""What `kenv images check/sync` and `kenv create --images-from/--component` share: gathering the
wanted images from the command line, and printing a sync's outcome (the image x node table, the
plan of a dry run, the pull-policy warnings)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from kenv.cli.render import emit

if TYPE_CHECKING:
    from kenv.images.discovery import Source
    from kenv.images.reference import Reference
    from kenv.workflows.images import Cell, ImagesResult, PullAlways


def where(source: Source) -> str:
    """`file#document Kind namespace/name path`, as people read a source."""
    identity = "/".join(p for p in (source.namespace, source.name) if p)
    owner = f"{source.kind or '-'} {identity}".strip() if (source.kind or identity) else "-"
    return f"{source.file}#{source.document} {owner} {source.path}"


def gather(
    refs: Sequence[str], from_file: str | None, discover_paths: Sequence[str]
) -> tuple[list[Reference], tuple[PullAlways, ...]]:
    """The references named on the command line, then those listed in --from FILE, then those
    found in --discover manifests; and the containers of those manifests that pull on every
    start. Bad input raises InvalidInput before anything is asked of a cluster."""
    from kenv.images.reference import parse_reference

    wanted = [parse_reference(r) for r in refs]
    if from_file is not None:
        from kenv.workflows.images import read_reference_file

        stdin_text = sys.stdin.read() if from_file == "-" else None
        wanted.extend(read_reference_file(from_file, stdin_text))
    pull_always: tuple[PullAlways, ...] = ()
    if discover_paths:
        from kenv.images.discovery import read_inputs
        from kenv.workflows.images import PullAlways

        discovery = read_inputs(discover_paths)
        for warning in discovery.warnings:
            sys.stderr.write(f"kenv: warning: {warning.one_line()}\n")
        wanted.extend(parse_reference(image.ref) for image in discovery.sorted_images())
        pull_always = tuple(PullAlways(ref, where(source), source.to_json()) for ref, source in discovery.pull_always)
    return wanted, pull_always


def check_components(components: Sequence[str]) -> tuple[str, ...]:
    """Unknown component names are refused (exit 2) before anything happens."""
    if not components:
        return ()
    from kenv.images.components import check_component

    return tuple(check_component(c) for c in components)


def warn_pull_always(items: Sequence[PullAlways]) -> None:
    """One warning per container kubelet pulls on every start: side-loading does not help it."""
    from kenv.images.reference import parse_reference

    for item in items:
        familiar = parse_reference(item.ref).familiar
        sys.stderr.write(
            f"kenv: warning: {familiar} is pulled from its registry on every container start "
            f"(imagePullPolicy Always, or :latest with no policy) at {item.where}; an image in the "
            "nodes does not prevent it: set imagePullPolicy: IfNotPresent and a fixed tag, or give "
            "the nodes a registry mirror\n"
        )


def print_cells(result: ImagesResult) -> None:
    rows = [
        {
            "image": ref.familiar,
            "node": cell.node,
            "state": cell.state,
            "pinned": "" if cell.pinned is None else ("yes" if cell.pinned else "no"),
            "reason": cell.reason or "",
        }
        for ref in result.images
        for cell in result.cells[ref.canonical]
    ]
    emit(
        rows,
        "table",
        columns=[("IMAGE", "image"), ("NODE", "node"), ("STATE", "state"), ("PINNED", "pinned"), ("REASON", "reason")],
        empty="No images.",
        wrap=("reason",),
    )


def print_plan(result: ImagesResult) -> None:
    """A dry run's exact commands: host pulls and archive saves, imports, pins."""
    for argv in result.planned:
        click.echo(f"would run: {shlex.join(argv)}")
    if result.dry_run and result.import_images and not result.pin_supported:
        click.echo(f"would not pin: {result.provider} (docker runtime) cannot pin images against image GC")


def named(pairs: Sequence[tuple[str, Cell]]) -> str:
    from kenv.workflows.images import named_cells

    return named_cells(pairs)
