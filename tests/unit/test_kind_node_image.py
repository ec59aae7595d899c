"""kind's node image follows the installed kind release.

kind supports a node image with the kind release it was published with, and others only on a
best-effort basis (kind `site/content/docs/design/node-image.md`). An environment with no
k8s_version therefore gets the default image of the installed release, exactly as that release's
`pkg/apis/config/defaults/image.go` names it; a release kenv does not know gets no `--image`.
The release is asked through the same remembered tool check as `kenv create`'s (`kind version`,
`pkg/cmd/kind/version/version.go`: "kind v0.30.0 go1.24.6 linux/amd64").
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from kenv.images.system_lists import data_files, system_list
from kenv.providers.base import CreateOptions
from kenv.providers.kind import RELEASE_IMAGES, TOOLS_CACHE, Kind, image_note, node_image
from kenv.runtime.process import Runner
from kenv.runtime.tools import detect_remembered
from tests.unit.scripted_runner import ScriptedRunner, environment

V030 = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
V027 = "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f"


def version_line(release: str) -> str:
    return f"kind {release} go1.24.6 linux/amd64\n"


def create_argv(runner: ScriptedRunner) -> tuple[str, ...]:
    (argv,) = [call.argv for call in runner.calls if call.argv[:3] == ("kind", "create", "cluster")]
    return argv


# -- the table ---------------------------------------------------------------------------------------


def test_every_release_from_v0_20_has_its_default_image_with_a_digest() -> None:
    releases = sorted(RELEASE_IMAGES, key=lambda r: tuple(int(p) for p in r[1:].split(".")))
    assert releases[0] == "v0.20.0"
    minors = [int(r.split(".")[1]) for r in releases]
    assert minors == list(range(20, minors[-1] + 1))  # no release left out
    for release, image in RELEASE_IMAGES.items():
        assert re.fullmatch(r"kindest/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}", image), release


def test_every_default_from_kind_v0_27_has_a_system_list() -> None:
    for release, image in RELEASE_IMAGES.items():
        if tuple(int(p) for p in release[1:].split(".")) < (0, 27, 0):
            continue
        listing = system_list("kind", image)
        assert listing.known, (release, listing.source)
        tag = image.split("@")[0].split(":")[1]
        assert listing.file == f"kindest-node-{tag}.txt" and listing.file in data_files()
        paths = {ref.path for ref in listing.references}
        assert {"kube-apiserver", "etcd", "coredns/coredns", "pause", "kindest/kindnetd"} <= paths
        assert any(ref.path == "kube-apiserver" and ref.tag == tag for ref in listing.references)


# -- the choice --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k8s_version", "release", "image"),
    [
        (None, "v0.30.0", V030),
        (None, "0.27.0", V027),  # a version without its v
        (None, "v0.99.0", None),  # newer than kenv knows: kind picks
        (None, "v0.31.0-alpha.12+0123456789abcd", None),  # a development build
        (None, None, None),  # kind printed no version kenv understands
        ("v1.31.9", "v0.30.0", "kindest/node:v1.31.9"),  # an explicit version keeps today's rule
        ("registry.lan/kindest/node:v1.30.0", None, "registry.lan/kindest/node:v1.30.0"),
    ],
)
def test_node_image(k8s_version: str | None, release: str | None, image: str | None) -> None:
    assert node_image(k8s_version, release) == image


def test_image_note_says_which_image_or_that_kind_chooses() -> None:
    assert image_note(None, "v0.30.0") == f"node image {V030} (the default of kind v0.30.0)"
    assert image_note(None, "v0.99.0") == (
        "no --image: kind v0.99.0 is not in kenv's table of kind releases, so kind picks its own default node image"
    )
    assert image_note("v1.31.9", None) == "node image kindest/node:v1.31.9"


# -- create ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("release", "image"), [("v0.30.0", V030), ("v0.27.0", V027)])
def test_create_passes_the_default_image_of_the_installed_release(tmp_path: Path, release: str, image: str) -> None:
    runner = ScriptedRunner().answer(["kind", "version"], stdout=version_line(release))
    runner.expect(["kind", "create", "cluster"], prefix=True)
    Kind(runner, tmp_path).create(environment(provider="kind"), CreateOptions(kubeconfig=tmp_path / "k"))
    argv = create_argv(runner)
    assert argv[argv.index("--image") + 1] == image
    assert [call.argv for call in runner.calls].count(("kind", "version")) == 1


def test_create_with_an_unknown_newer_release_passes_no_image(tmp_path: Path) -> None:
    runner = ScriptedRunner().answer(["kind", "version"], stdout=version_line("v0.99.0"))
    runner.expect(["kind", "create", "cluster"], prefix=True)
    provider = Kind(runner, tmp_path)
    env = environment(provider="kind")
    provider.create(env, CreateOptions(kubeconfig=tmp_path / "k"))
    assert "--image" not in create_argv(runner)
    assert "kind v0.99.0 is not in kenv's table" in provider.image_note(env)
    assert provider.default_image() is None


def test_create_with_an_explicit_version_never_asks_the_release(tmp_path: Path) -> None:
    runner = ScriptedRunner().expect(["kind", "create", "cluster"], prefix=True)
    Kind(runner, tmp_path).create(
        environment(provider="kind", k8s_version="v1.31.9"), CreateOptions(kubeconfig=tmp_path / "k")
    )
    argv = create_argv(runner)
    assert argv[argv.index("--image") + 1] == "kindest/node:v1.31.9"
    runner.assert_done()


def test_a_warm_tool_cache_answers_without_asking_kind(tmp_path: Path) -> None:
    """The tool check (`WorkflowContext.ensure_tools`) remembers versions in <data>/cache/tools.json;
    the provider reads the same file: a real kind-like executable asked once, then never again."""
    bin_dir, data_dir, log = tmp_path / "bin", tmp_path / "data", tmp_path / "asked"
    bin_dir.mkdir()
    tool = bin_dir / "kind"
    tool.write_text(f'#!/bin/sh\necho asked >> "{log}"\necho "kind v0.30.0 go1.24.6 linux/amd64"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    runner = Runner(env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert detect_remembered(runner, "kind", data_dir / "cache" / "tools.json").version == "v0.30.0"
    assert Kind(runner, data_dir).default_image() == V030
    assert log.read_text().splitlines() == ["asked"]
    assert data_dir / TOOLS_CACHE == data_dir / "cache" / "tools.json"


def test_the_release_is_asked_once_per_process(tmp_path: Path) -> None:
    # A dry run remembers nothing on disk: only the process memo stands between two questions.
    runner = ScriptedRunner(dry_run=True).answer(["kind", "version"], stdout=version_line("v0.30.0"))
    for _ in range(3):
        assert Kind(runner, tmp_path).default_image() == V030
    assert len(runner.calls) == 1
