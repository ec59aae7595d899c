"""kenv images list ENV: every image an environment needs, where each comes from, and whether
the running cluster has it (issue 8 §3). Registered in the `images` group by cmd_images.py."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.workflows.images_list import ImagesList, ListedImage

LIST_JSON_HELP = """\b
-o json: {"environment", "provider", "k8s_version", "component",
          "images": [{"ref", "familiar", "components": [...],
                      "sources": [{"kind", "where"}], "running", "nodes"}],
          "system_list": {"source", "version", "known"},
          "cluster": {"reachable", "error", "nodes": [{"name", "error"}],
                      "system_missing": [{"ref", "nodes": [...]}], "running_unlisted": [...]},
          "warnings": [...]}
sources kind: system-list | manifest | pod | configmap | discover
running: true when a pod names the image now, false when the cluster answered and none does,
null when the cluster was not read; nodes: {node: held} for the nodes listed, else null.
"""


@click.command(epilog=LIST_JSON_HELP)
@click.argument("env_name", metavar="ENV")
@click.option(
    "--component",
    default="all",
    show_default=True,
    metavar="C",
    help="Only this component's images: system, verify, ... or all.",
)
@click.option(
    "--discover",
    "discover_paths",
    multiple=True,
    metavar="PATH",
    help="Also every image in these manifests (files, directories or -; repeatable).",
)
@output_option()
@click.pass_obj
def list_images(app: App, env_name: str, component: str, discover_paths: tuple[str, ...], output: str) -> None:
    """Every image ENV needs: its system's (the upstream list of the exact version kenv creates),
    what kenv installs (from the manifests kenv ships), what runs in the cluster now (pods, and
    pods embedded in ConfigMaps such as k3s's local-path helper) and the --discover manifests.

    When the cluster runs, each node is listed once and ON NODES says which hold each image;
    system images no node holds and running images on no list are reported after the table. A
    stopped or absent cluster is not an error: the list comes from the data alone and says why.
    Read-only. Exit 0, or 2 for bad input.

    \b
    Examples:
      kenv images list dev
      kenv images list dev --component verify
      kenv images list dev --discover deploy/ -o json
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.workflows.images_list import list_images as run_list

    ctx = workflow_context(app, dry_run=False)
    stdin = sys.stdin.buffer if "-" in discover_paths else None
    result = run_list(ctx, env_name, component=component, discover_paths=discover_paths, stdin=stdin)
    for warning in result.warnings:
        sys.stderr.write(f"kenv: warning: {warning}\n")
    if output != "table":
        emit(result.to_json(), output)
        return
    _print_table(result)


def _on_nodes(image: ListedImage) -> str:
    if image.nodes is None:
        return "-"
    held = [node for node, present in image.nodes.items() if present]
    if len(held) == len(image.nodes):
        return "all"
    return ",".join(held) if held else "none"


def _print_table(result: ImagesList) -> None:
    system = result.system
    if system.known:
        sys.stdout.write(f"system list: {system.version} ({system.source})\n")
    else:
        sys.stdout.write(f"system list: {system.source}\n")
    if result.reachable:
        sys.stdout.write("cluster: reachable\n")
    else:
        sys.stdout.write(f"cluster: not read: {result.cluster_error}\n")
    rows = [
        {
            "image": image.reference.familiar,
            "components": ",".join(image.components) or "-",
            "where": "; ".join(where for _, where in image.sources),
            "on_nodes": _on_nodes(image),
        }
        for image in result.images.values()
    ]
    emit(
        rows,
        "table",
        columns=[("IMAGE", "image"), ("COMPONENT(S)", "components"), ("WHERE", "where"), ("ON NODES", "on_nodes")],
        empty="No images.",
        wrap=("where",),
    )
    for node, error in result.node_errors.items():
        sys.stdout.write(f"node {node} not listed: {error}\n")
    for image, nodes in result.system_missing:
        sys.stdout.write(f"system image missing on {', '.join(nodes)}: {image.reference.familiar}\n")
    for image in result.running_unlisted:
        sys.stdout.write(f"running but on no list: {image.reference.familiar}\n")
