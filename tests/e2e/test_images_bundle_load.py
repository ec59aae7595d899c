"""kenv images load against the fake kind and minikube (issue 8 §5): a bundle (made here by hand,
as `kenv images bundle` writes it) is checked, imported in ONE provider call, and verified on
every node; a node that does not get an image is a failure naming it. No Docker engine needed
(tests/integration/test_image_supply_real.py makes real bundles with a real engine)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet

DIGEST = "sha256:" + "d" * 64


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_bundle(path: Path) -> Path:
    """A docker-archive with one tag reference and an OCI archive with one digest reference."""
    saved = _tar_bytes({"manifest.json": json.dumps([{"Config": "c.json", "RepoTags": ["app/web:1.0"]}]).encode()})
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": DIGEST,
                "size": 500,
                "annotations": {"org.opencontainers.image.ref.name": f"ghcr.io/acme/worker@{DIGEST}"},
            },
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": DIGEST,
                "size": 500,
                "annotations": {"org.opencontainers.image.ref.name": "ghcr.io/acme/worker:2"},
            },
        ],
    }
    oci = _tar_bytes({"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": json.dumps(index).encode()})
    archives = {"images.docker.tar": saved, "images.oci.tar": oci}
    manifest = {
        "format": "kenv-bundle",
        "version": 1,
        "created": "2026-12-01T00:00:00Z",
        "archives": [
            {"file": n, "format": f, "keeps_digest": k, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
            for (n, d), f, k in zip(archives.items(), ("docker-archive", "oci-archive"), (False, True), strict=True)
        ],
        "images": [
            {"ref": "docker.io/app/web:1.0", "familiar": "app/web:1.0", "digest": None, "archive": "images.docker.tar"},
            {
                "ref": f"ghcr.io/acme/worker:2@{DIGEST}",
                "familiar": f"ghcr.io/acme/worker:2@{DIGEST}",
                "digest": DIGEST,
                "archive": "images.oci.tar",
            },
        ],
    }
    path.write_bytes(_tar_bytes({"kenv-bundle.json": json.dumps(manifest).encode(), **archives}))
    return path


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def import_calls(fleet: Fleet, tool: str) -> list[list[str]]:
    argvs = [[str(a) for a in c["argv"]] for c in fleet.calls()]  # type: ignore[attr-defined]
    wanted = {"kind": ["kind", "load"], "minikube": ["minikube", "image"]}[tool]
    return [a for a in argvs if a[:2] == wanted]


@pytest.mark.parametrize(("provider", "extra"), [("kind", ["--agents", "1"]), ("minikube", [])])
def test_load_imports_once_and_verifies_every_node(
    fleet: Fleet, tmp_path: Path, provider: str, extra: list[str]
) -> None:
    fleet.ok("create", "dev", "--provider", provider, "--subnet", "none", *extra)
    bundle = make_bundle(tmp_path / "images.tar")
    dry = fleet.run("images", "load", str(bundle), "dev", "--dry-run")
    assert dry.returncode == 3, dry.stderr
    assert import_calls(fleet, provider) == []
    loaded = fleet.run("images", "load", str(bundle), "dev", "-o", "json")
    assert loaded.returncode == 0, (loaded.stdout, loaded.stderr)
    [call] = import_calls(fleet, provider)
    assert call[:3] in (["kind", "load", "image-archive"], ["minikube", "image", "load"])
    assert sum(a.endswith(".tar") for a in call) == 2  # both archives, one call
    result = json.loads(loaded.stdout)
    states = {c["state"] for image in result["images"] for c in image["nodes"]}
    assert states == {"imported"} and result["ok"] is True
    assert len(result["nodes"]) == (2 if provider == "kind" else 1)
    history = fleet.ok("history", "dev")
    assert "images-load" in history


def test_load_names_what_a_node_did_not_get(fleet: Fleet, tmp_path: Path) -> None:
    """minikube logs a file it could not load and exits 0: only the verification sees it."""
    fleet.ok("create", "dev", "--provider", "minikube", "--subnet", "none")
    bundle = make_bundle(tmp_path / "images.tar")
    # Same bundle, but the OCI archive's index names nothing: the import "succeeds" with nothing.
    with tarfile.open(bundle) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    members["images.oci.tar"] = _tar_bytes({"oci-layout": b"{}", "README": b"no index"})
    manifest = json.loads(members["kenv-bundle.json"])
    for archive in manifest["archives"]:
        data = members[archive["file"]]
        archive["size"], archive["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    members["kenv-bundle.json"] = json.dumps(manifest).encode()
    bundle.write_bytes(_tar_bytes(members))
    failed = fleet.run("images", "load", str(bundle), "dev")
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert "not in the node after the import" in failed.stdout
    assert "ghcr.io/acme/worker:2@" in failed.stderr.splitlines()[-1]


def test_load_refuses_external_and_unknown_environments(fleet: Fleet, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "images.tar")
    unknown = fleet.run("images", "load", str(bundle), "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr
