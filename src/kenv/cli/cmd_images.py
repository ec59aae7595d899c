"""images discover: which images manifests name, and where (issue 8 §2)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import F, dry_run_option
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.workflows.images import ImagesResult


@click.group()
def images() -> None:
    """Container images: find the ones an environment needs and get each one into every node,
    through mirrors and proxies, keeping digests, with bundles for machines with no registry.

    \b
    Examples:
      kenv images discover deploy/ --why busybox:1.36.1
      kubectl get cm -n kube-system local-path-config -o yaml | kenv images discover -
      kenv images discover --kustomize overlays/dev
      kenv images discover --helm ./chart --values prod.yaml
      kenv images list dev
      kenv images check dev --discover deploy/
      kenv images sync dev --from images.txt --parallel 4
      kenv images mirrors show dev
      kenv images prefetch --component all
      kenv images bundle -o images.tar --env dev   # then, offline: kenv images load images.tar dev
    """


def _where(source: object) -> str:
    from kenv.images.discovery import Source

    assert isinstance(source, Source)
    identity = "/".join(p for p in (source.namespace, source.name) if p)
    owner = f"{source.kind or '-'} {identity}".strip() if (source.kind or identity) else "-"
    return f"{source.file}#{source.document} {owner} {source.path}"


@images.command()
@click.argument("paths", nargs=-1, metavar="[PATH... | -]")
@click.option(
    "--kustomize",
    is_flag=True,
    help="Each PATH is a kustomize directory: render it with `kubectl kustomize` first.",
)
@click.option(
    "--helm",
    "chart",
    metavar="CHART",
    help="Render this chart with `helm template` (CRDs included, test hooks left out) and search it.",
)
@click.option("--values", "values", multiple=True, metavar="FILE", help="Values file for --helm (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A value for --helm (repeatable).")
@click.option("--kube-version", metavar="V", help="Kubernetes version --helm renders for (e.g. v1.31.5).")
@click.option("--why", "why", metavar="REF", help="Show where one image is named (any spelling of it).")
@output_option(("table", "json"))
def discover(
    paths: tuple[str, ...],
    kustomize: bool,
    chart: str | None,
    values: tuple[str, ...],
    sets: tuple[str, ...],
    kube_version: str | None,
    why: str | None,
    output: str,
) -> None:
    """Find the images in manifests: files, directories (*.yaml, *.yml, *.json, recursively) or -
    for stdin; kustomize directories (--kustomize, needs kubectl); a Helm chart (--helm, needs
    helm): a directory, a .tgz, REPO/CHART or oci://…

    Tier `definite`: `image` keys (pod specs anywhere, custom resources included), image volumes,
    split maps (registry/repository/tag|digest), documents embedded in ConfigMap/Secret values.
    Tier `probable`: env vars RELATED_IMAGE_*, *_IMAGE, IMAGE_* and --*image / -*image args.
    A document that cannot be read is a warning on stderr; the others are still read. A file
    larger than 50 MB is skipped with a warning; symlinked directories are not followed.

    \b
    Examples:
      kenv images discover deploy/ k3s/local-storage.yaml
      kenv images discover --helm ./charts/app --values prod.yaml --set image.tag=2.1
      kenv images discover --helm ./charts/app --why registry.example.com/team/app:2.1

    \b
    -o json: {"images": [{"ref", "familiar", "tier",
              "sources": [{"file", "document", "kind", "namespace", "name", "path", "as_written"}]}]}
    Sources from --helm are named "CHART: TEMPLATE" (the chart's file that rendered them); the
    images a local chart declares in Chart.yaml's helm.sh/images annotation are added as probable.
    """
    from kenv.errors import InvalidInput, NotFound
    from kenv.images.discovery import Discovery, read_inputs

    if not paths and chart is None:
        raise InvalidInput("nothing to search", hint="give manifest files, directories, - or --helm CHART")
    if chart is None and (values or sets or kube_version):
        raise InvalidInput("--values, --set and --kube-version go with --helm CHART", hint="add --helm CHART")
    if kustomize and "-" in paths:
        raise InvalidInput("--kustomize renders directories, not stdin", hint="give kustomize directories")
    discovery = Discovery()
    runner = None
    if chart is not None:
        from kenv.images.sources import (
            check_helm_inputs,
            discover_chart_annotations,
            discover_helm_output,
            render_helm,
        )
        from kenv.runtime.process import Runner

        check_helm_inputs(chart, values, sets)
        if paths and not kustomize:
            from kenv.images.discovery import expand_paths

            expand_paths(paths)  # a missing PATH is bad input before helm runs
        runner = Runner()
        discover_helm_output(render_helm(runner, chart, values, sets, kube_version), chart, discovery)
        discover_chart_annotations(chart, discovery)
    if kustomize:
        from kenv.images.discovery import discover_text
        from kenv.images.sources import render_kustomize
        from kenv.runtime.process import Runner

        runner = runner or Runner()
        for directory in paths:
            discover_text(render_kustomize(runner, directory), f"{directory} (kustomize)", discovery)
    elif paths:
        read_inputs(paths, stdin=sys.stdin.buffer if "-" in paths else None, discovery=discovery)
    for warning in discovery.warnings:
        sys.stderr.write(f"kenv: warning: {warning.one_line()}\n")
    if why is not None:
        image = discovery.find(why)
        if image is None:
            searched = ", ".join([*paths, *([chart] if chart else [])])
            raise NotFound(f"no image {why} in {searched}", hint="run without --why to see what was found")
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


# The -o json contract of check and sync, shown in both commands' help.
JSON_HELP = """\b
-o json: {"operation": "check"|"sync", "environment", "provider", "dry_run", "ok",
          "nodes": [{"name", "error"}],
          "images": [{"ref", "familiar", "nodes": [{"node", "state", "reason", "pinned"}]}],
          "pulls": [{"ref", "ok", "source", "tried": [{"endpoint", "reason"}], "error"}],
          "import": {"argv": [[...]] (dry run only), "images": [...],
                     "archives": [{"path", "refs", "format", "keeps_digest"}], "error"},
          "pin": {"supported", "argv": [[...]] (dry run only), "errors": [{"node", "ref", "error"}]},
          "pull_always": [{"ref", "source"}]}
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
_from_option = click.option(
    "--from",
    "from_file",
    metavar="FILE",
    help="Also the images listed in FILE: one reference per line, # comments; - for stdin.",
)
_component_option = click.option(
    "--component",
    "components",
    multiple=True,
    metavar="C",
    help="Also the images of a component kenv knows (system, verify, ...; all; repeatable).",
)


def _image_sources(command: F) -> F:
    """The images a command is about: REF arguments, --from, --component and --discover."""
    for option in (
        _discover_option,
        _component_option,
        _from_option,
        click.argument("refs", nargs=-1, metavar="[REF...]"),
    ):
        command = option(command)
    return command


@images.command(epilog=JSON_HELP)
@click.argument("env_name", metavar="ENV")
@_image_sources
@output_option(("table", "json"))
@click.pass_obj
def check(
    app: App,
    env_name: str,
    refs: tuple[str, ...],
    from_file: str | None,
    components: tuple[str, ...],
    discover_paths: tuple[str, ...],
    output: str,
) -> None:
    """Are these images inside every node of ENV? Read-only: each node is listed once
    (`crictl images -o json` through the provider's node exec).

    Exit 0 when every image is on every node, 3 naming each missing image and node, 1 when a
    node could not be listed (its reason is in the table). A container of the --discover
    manifests that pulls on every start (imagePullPolicy Always, or :latest with no policy) is
    a warning: an image in the nodes does not keep kubelet off the registry.

    \b
    Examples:
      kenv images check dev busybox:1.36.1
      kenv images check dev --component system
      kenv images check dev --discover deploy/ -o json

    """
    from kenv.cli.images_report import check_components, gather, named, print_cells, warn_pull_always
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.images import check_images

    wanted, pull_always = gather(refs, from_file, discover_paths)
    chosen = check_components(components)
    ctx = workflow_context(app, dry_run=False)
    result = check_images(ctx, env_name, wanted, components=chosen, pull_always=pull_always)
    warn_pull_always(result.pull_always)
    if output == "json":
        emit(result.to_json(), output)
    else:
        print_cells(result)
    if result.nothing_read:
        raise OperationFailed(f"could not list the images of any node of {env_name}: {_unread(result)}")
    missing = result.with_state("missing")
    if missing:
        raise ProblemsFound(
            f"missing: {named(missing)}", hint=f"run `kenv images sync {env_name}` with the same images"
        )
    if result.node_errors:
        raise OperationFailed(f"could not list the images of {_unread(result)}")


@images.command(epilog=JSON_HELP)
@click.argument("env_name", metavar="ENV")
@_image_sources
@click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    metavar="N",
    help="Host pulls at once (1-32).",
)
@dry_run_option()
@output_option(("table", "json"))
@click.pass_obj
def sync(
    app: App,
    env_name: str,
    refs: tuple[str, ...],
    from_file: str | None,
    components: tuple[str, ...],
    discover_paths: tuple[str, ...],
    parallel: int,
    dry_run: bool,
    output: str,
) -> None:
    """Get the images into every node of ENV. Each node is listed once; only images some node
    lacks are handled: those the host's Docker engine lacks are pulled (configured mirrors in
    order, then upstream, bounded retries); then ONE provider import call for the cluster
    (`k3d image import`, `kind load docker-image`; minikube loads one image per call). A digest
    reference is copied into an OCI archive that keeps its digest (skopeo) and imported from it,
    because `docker save` drops the registry digest. Imported images are pinned against kubelet
    image GC (k3d, kind; not minikube's docker runtime). Then every node is listed again to
    verify. Nothing missing: no pull and no import at all.

    Exit 0 when every image is on every node, 1 when anything failed (the table says why; a
    failed host pull names each mirror that did not answer); with --dry-run, prints the exact
    pulls, archive copies, imports and pins, and exits 3 when something would change.

    \b
    Examples:
      kenv images sync dev busybox:1.36.1 rancher/mirrored-library-busybox:1.36.1
      kenv images sync dev --from images.txt --parallel 8
      kenv images sync dev --component all --dry-run
      kenv images sync dev --discover deploy/ -o json

    """
    from kenv.cli.images_report import check_components, gather, print_cells, print_plan, warn_pull_always
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import OperationFailed, ProblemsFound
    from kenv.workflows.images import SyncRequest, sync_failure, sync_images

    wanted, pull_always = gather(refs, from_file, discover_paths)
    request = SyncRequest(tuple(wanted), check_components(components), parallel, pull_always)
    ctx = workflow_context(app, dry_run=dry_run)
    result = sync_images(ctx, env_name, request)
    warn_pull_always(result.pull_always)
    if output == "json":
        emit(result.to_json(), output)
    else:
        print_cells(result)
        print_plan(result)
    failure = sync_failure(env_name, result)
    if failure is not None:
        raise OperationFailed(failure)
    if dry_run and result.would_change:
        raise ProblemsFound(
            f"would import {len(result.import_images)} image(s) into {env_name}", hint="run again without --dry-run"
        )


# Subcommands that live in modules of their own, registered last because they import this module's
# neighbours only (never this module), which keeps the command modules independent.
from kenv.cli.images_list import list_images  # noqa: E402
from kenv.cli.images_mirrors import mirrors  # noqa: E402
from kenv.cli.images_supply import SUPPLY_COMMANDS  # noqa: E402 - prefetch, bundle, load

images.add_command(list_images, name="list")
images.add_command(mirrors)
for _supply_command in SUPPLY_COMMANDS:
    images.add_command(_supply_command)
