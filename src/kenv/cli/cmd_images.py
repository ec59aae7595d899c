"""images discover: which images manifests name, and where (issue 8 §2)."""

from __future__ import annotations

import sys

import click

from kenv.cli.render import emit, output_option


@click.group()
def images() -> None:
    """Container images: find the ones manifests name.

    \b
    Examples:
      kenv images discover deploy/
      kubectl get cm -n kube-system local-path-config -o yaml | kenv images discover -
      kenv images discover deploy/ --why busybox:1.36.1
      kenv images discover deploy/ -o json
      kenv images discover --kustomize overlays/dev
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
