"""Inputs that must be rendered before discovery: kustomize directories (`kubectl kustomize`) and
Helm charts (`helm template`)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from kenv.errors import ExternalCommandError, InvalidInput
from kenv.images.discovery import Discovery, discover_text
from kenv.runtime.process import Runner

KUSTOMIZE_TIMEOUT = 120.0
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

HELM_TIMEOUT = 120.0
HELM_INSTALL_HINT = "install helm (https://helm.sh/docs/intro/install/), or render the chart yourself and pipe it in: -"
# `helm template` starts every document with `---` then `# Source: CHART/templates/FILE`
# (helm v3.21.4 pkg/action/action.go renderResources, cmd/helm/template.go).
HELM_SOURCE = re.compile(r"^# Source: (.+?)\s*$", re.MULTILINE)
REMOTE_CHART = re.compile(r"^(?:oci|https?)://|^[^./][^/]*/[^/]+$")


def render_kustomize(runner: Runner, directory: str) -> str:
    """The manifests `kubectl kustomize DIRECTORY` renders. kubectl is a real dependency here: a
    missing one fails with how to install it (the Runner's error), a failed build with its stderr."""
    path = Path(directory)
    if not path.is_dir() or not any((path / name).is_file() for name in KUSTOMIZATION_FILES):
        raise InvalidInput(
            f"{directory}: not a kustomize directory (no kustomization.yaml)",
            hint="give the directory that holds kustomization.yaml, or drop --kustomize",
        )
    result = runner.run(["kubectl", "kustomize", directory], timeout=KUSTOMIZE_TIMEOUT, mutating=False)
    return result.stdout


def helm_template_argv(
    chart: str, values: Sequence[str] = (), sets: Sequence[str] = (), kube_version: str | None = None
) -> list[str]:
    """`helm template CHART` as discovery wants it: CRDs included (`--include-crds`; they may embed
    defaults that name images), test hooks left out (`--skip-tests` drops every hook whose events
    include `test`, `test-success` too: helm pkg/releaseutil/manifest_sorter.go), values in the
    order given (helm merges `--values` files in order, then applies `--set`)."""
    argv = ["helm", "template", chart, "--include-crds", "--skip-tests"]
    for name in values:
        argv += ["--values", name]
    for assignment in sets:
        argv += ["--set", assignment]
    if kube_version:
        argv += ["--kube-version", kube_version]
    return argv


def check_helm_inputs(chart: str, values: Sequence[str], sets: Sequence[str]) -> None:
    """Bad input before helm runs: a local chart or values file that is not there, a `--set`
    without `=`. Repository (`repo/chart`) and `oci://` charts are left to helm."""
    if not os.path.exists(chart) and not REMOTE_CHART.search(chart):
        raise InvalidInput(
            f"{chart}: no such chart directory or archive",
            hint="give a chart directory, a .tgz, REPO/CHART or oci://…",
        )
    for name in values:
        if not os.path.isfile(name):  # `-` too: helm would read kenv's stdin
            raise InvalidInput(f"--values {name}: no such file", hint="give a YAML values file")
    for assignment in sets:
        if "=" not in assignment or assignment.startswith("="):
            raise InvalidInput(f"--set {assignment}: expected KEY=VALUE", hint="e.g. --set image.tag=1.2.3")


def render_helm(
    runner: Runner,
    chart: str,
    values: Sequence[str] = (),
    sets: Sequence[str] = (),
    kube_version: str | None = None,
) -> str:
    """The manifests `helm template` renders for `chart`. helm is needed only here: a missing one
    fails with how to install it; a chart helm rejects fails with helm's own message."""
    check_helm_inputs(chart, values, sets)
    argv = helm_template_argv(chart, values, sets, kube_version)
    try:
        result = runner.run(argv, timeout=HELM_TIMEOUT, mutating=False)
    except ExternalCommandError as exc:
        if exc.returncode is None and not exc.stderr_tail and "not installed" in str(exc):
            raise ExternalCommandError(
                str(exc), argv=exc.argv, returncode=None, stderr_tail="", hint=HELM_INSTALL_HINT
            ) from exc
        raise
    return result.stdout


def split_helm_output(text: str) -> list[tuple[str | None, str]]:
    """`helm template` output as (template file, document), in order; a document with no
    `# Source:` line (a chart's hand-written `---` inside one template) keeps the last one seen."""
    from kenv.images.discovery import split_documents

    pieces: list[tuple[str | None, str]] = []
    current: str | None = None
    for chunk in split_documents(text):
        if not chunk.strip():
            continue
        match = HELM_SOURCE.search(chunk)
        if match is not None:
            current = match.group(1)
        pieces.append((current, chunk))
    return pieces


def discover_helm_output(text: str, chart: str, discovery: Discovery | None = None) -> Discovery:
    """Discovery over rendered chart output: each source is named `CHART: TEMPLATE` (the file in the
    chart that produced it), documents numbered from 1 within each template file."""
    discovery = discovery if discovery is not None else Discovery()
    numbers: dict[str | None, int] = {}
    for template, chunk in split_helm_output(text):
        numbers[template] = numbers.get(template, 0) + 1
        label = f"{chart}: {template}" if template else f"{chart} (helm)"
        discover_text(chunk, label, discovery, first_document=numbers[template])
    return discovery


HELM_IMAGES_ANNOTATION = "helm.sh/images"


def _chart_metadata(chart: str) -> dict[str, object] | None:
    """Chart.yaml of a local chart (a directory or a packaged .tgz), or None (a repository or OCI
    chart, an unreadable file: helm itself says what is wrong with those)."""
    import tarfile

    import yaml

    text: str | None = None
    try:
        if os.path.isdir(chart):
            with open(os.path.join(chart, "Chart.yaml"), encoding="utf-8") as handle:
                text = handle.read()
        elif os.path.isfile(chart):
            with tarfile.open(chart) as archive:
                for member in archive.getmembers():
                    # A packaged chart holds one top directory: CHART/Chart.yaml.
                    if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                        data = archive.extractfile(member)
                        text = data.read().decode("utf-8") if data is not None else None
                        break
    except (OSError, tarfile.TarError, UnicodeDecodeError):
        return None
    if text is None:
        return None
    try:
        metadata = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return metadata if isinstance(metadata, dict) else None


def discover_chart_annotations(chart: str, discovery: Discovery) -> None:
    """The images a local chart declares in its `helm.sh/images` annotation (HIP-0015: a YAML list
    of `{name, image, condition?, dependency?}`, read by zarf and hauler). Tier `probable`: the list
    is the author's, and an entry may be for a test hook or behind a `condition` on values."""
    import yaml

    from kenv.images.discovery import PROBABLE, Source

    metadata = _chart_metadata(chart)
    if metadata is None:
        return
    annotations = metadata.get("annotations")
    raw = annotations.get(HELM_IMAGES_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(raw, str):
        return
    try:
        entries = yaml.safe_load(raw)
    except yaml.YAMLError:
        return
    name = metadata.get("name")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        image = entry.get("image") if isinstance(entry, dict) else None
        if isinstance(image, str):
            source = Source(
                f"{chart}: Chart.yaml",
                1,
                "Chart",
                None,
                name if isinstance(name, str) else None,
                f"annotations.{HELM_IMAGES_ANNOTATION}>[{i}].image",
                image,
            )
            discovery.add(image, PROBABLE, source)
