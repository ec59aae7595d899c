"""Provider archive imports (one call per cluster, the tools' grammar) and bundle reading: a bundle
is trusted only when its manifest and every member's size and sha256 agree."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import InvalidInput
from kenv.providers.external import External
from kenv.providers.k3d import K3d
from kenv.providers.kind import Kind
from kenv.providers.minikube import Minikube
from kenv.workflows.images_supply import MANIFEST_NAME, read_bundle
from tests.unit.scripted_runner import ScriptedRunner, environment

# -- providers ----------------------------------------------------------------------------------


def test_k3d_imports_every_archive_in_one_call(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    runner = ScriptedRunner().expect(["k3d", "image", "import", str(a), str(b), "-c", "dev"])
    K3d(runner, tmp_path).import_archives(environment(), [a, b])
    runner.assert_done()
    assert runner.calls[0].extra_env == {"KUBECONFIG": str(tmp_path / "kubeconfig" / "dev.yaml")}


def test_kind_loads_every_archive_in_one_call(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    runner = ScriptedRunner().expect(["kind", "load", "image-archive", str(a), str(b), "--name", "dev"])
    Kind(runner, tmp_path).import_archives(environment(provider="kind"), [a, b])
    runner.assert_done()


def test_minikube_loads_absolute_paths_in_one_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = ScriptedRunner().expect(
        ["minikube", "image", "load", str(tmp_path / "a.tar"), str(tmp_path / "b.tar"), "-p", "dev"]
    )
    # Relative paths become absolute: minikube takes an argument as a file by its leading "/".
    Minikube(runner, tmp_path).import_archives(environment(provider="minikube"), [Path("a.tar"), Path("b.tar")])
    runner.assert_done()


def test_external_refuses_archives(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="external cluster"):
        External(ScriptedRunner(), tmp_path).import_archives(environment(provider="external"), [tmp_path / "a.tar"])


# -- bundles ------------------------------------------------------------------------------------


def member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def manifest_for(payloads: dict[str, bytes], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "kenv-bundle",
        "version": 1,
        "created": "2026-12-01T00:00:00Z",
        "archives": [
            {
                "file": name,
                "format": "docker-archive",
                "keeps_digest": False,
                "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
            for name, payload in payloads.items()
        ],
        "images": [
            {"ref": "docker.io/library/busybox:1.36", "familiar": "busybox:1.36", "digest": None, "archive": name}
            for name in payloads
        ],
    }
    data.update(changes)
    return data


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return path


ARCHIVES = {"images.docker.tar": b"x" * 5000}


def bundle(tmp_path: Path, manifest: dict[str, Any] | None = None, archives: dict[str, bytes] | None = None) -> Path:
    archives = ARCHIVES if archives is None else archives
    text = json.dumps(manifest if manifest is not None else manifest_for(ARCHIVES)).encode()
    return write_tar(tmp_path / "b.tar", [member(MANIFEST_NAME, text), *(member(n, d) for n, d in archives.items())])


def test_a_good_bundle_is_extracted_and_checked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    manifest, paths = read_bundle(bundle(tmp_path), out)
    assert [p.name for p in paths] == ["images.docker.tar"]
    assert paths[0].read_bytes() == ARCHIVES["images.docker.tar"]
    assert [r.familiar for r in manifest.refs] == ["busybox:1.36"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: bundle(t, archives={"images.docker.tar": b"y" * 5000}), "damaged or altered"),
        (lambda t: bundle(t, archives={}), "is not in the file (truncated?)"),
        (
            lambda t: bundle(t, archives={**ARCHIVES, "extra.sh": b"#!/bin/sh"}),
            "holds 'extra.sh', which its manifest does not list",
        ),
        (lambda t: bundle(t, manifest_for(ARCHIVES, version=2)), "bundle version 2; this kenv reads version 1"),
        (lambda t: bundle(t, manifest_for(ARCHIVES, format="other")), "does not say format 'kenv-bundle'"),
        (
            lambda t: bundle(
                t,
                manifest_for(
                    ARCHIVES,
                    archives=[{"file": "../evil", "size": 1, "sha256": "0" * 64}],
                ),
            ),
            "is not a plain file name",
        ),
        (
            lambda t: write_tar(t / "b.tar", [member("images.docker.tar", b"x"), member(MANIFEST_NAME, b"{}")]),
            "does not start with kenv-bundle.json",
        ),
        (lambda t: write_tar(t / "b.tar", [member(MANIFEST_NAME, b"{not json")]), "kenv-bundle.json is not JSON"),
        (lambda t: (t / "b.tar").write_text("plain text") and t / "b.tar", "not a tar file"),
    ],
)
def test_a_bad_bundle_is_refused_naming_what_is_wrong(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path, out)
    assert message in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_a_truncated_bundle_is_refused(tmp_path: Path) -> None:
    path = bundle(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:3000])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput, match=r"damaged|truncated|not in the file"):
        read_bundle(path, out)


def test_a_directory_or_nothing_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory"):
        read_bundle(tmp_path, tmp_path)
    with pytest.raises(InvalidInput, match="no such file"):
        read_bundle(tmp_path / "none.tar", tmp_path)
