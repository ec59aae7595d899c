"""The fakes' archive imports: `k3d image import FILE`, `kind load image-archive FILE...`,
`minikube image load /FILE`: docker-archive and oci-archive names reach the nodes' crictl listing,
and a missing or corrupt file fails (or is only logged) as the real tool does."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from tests.fakes_selftest.conftest import Runner

DIGEST = "sha256:" + "ab" * 32


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def docker_archive(path: Path, *tags: str) -> Path:
    return _tar(
        path, {"manifest.json": json.dumps([{"Config": "c.json", "RepoTags": list(tags), "Layers": []}]).encode()}
    )


def oci_archive(path: Path, name: str) -> Path:
    """As `skopeo copy ... oci-archive:PATH:NAME` writes it (index.json with ref.name)."""
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": DIGEST,
                "size": 523,
                "annotations": {"org.opencontainers.image.ref.name": name},
            }
        ],
    }
    return _tar(path, {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": json.dumps(index).encode()})


def held(run: Runner, node: str) -> set[str]:
    listing = json.loads(run("docker", "exec", node, "crictl", "images", "-o", "json").stdout)
    return {tag for image in listing["images"] for tag in image["repoTags"]}


def test_k3d_imports_archives_and_reports_broken_ones_like_k3d(run: Runner, tmp_path: Path) -> None:
    assert run("k3d", "cluster", "create", "arc", "--agents", "1").returncode == 0
    saved = docker_archive(tmp_path / "a.tar", "registry.local/app:2", "busybox:1.36")
    oci = oci_archive(tmp_path / "b.oci.tar", "docker.io/library/tiny:1")
    ok = run("k3d", "image", "import", str(saved), str(oci), "-c", "arc")
    assert ok.returncode == 0, ok.stderr
    for node in ("k3d-arc-server-0", "k3d-arc-agent-0"):
        assert {"registry.local/app:2", "docker.io/library/busybox:1.36", "docker.io/library/tiny:1"} <= held(run, node)
    # Tools-node mode (the default) only logs a node's ctr failure and exits 0.
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00not a tar" * 100)
    logged = run("k3d", "image", "import", str(junk), "-c", "arc")
    assert logged.returncode == 0
    assert "failed to import images in node 'k3d-arc-server-0'" in logged.stderr
    # Direct mode returns the stream's error.
    direct = run("k3d", "image", "import", str(junk), "-c", "arc", "-m", "direct")
    assert direct.returncode == 1
    assert "failed with exit code '1'" in direct.stderr
    # A path that is not a file: a warning, and nothing valid is an error.
    missing = run("k3d", "image", "import", str(tmp_path / "none.tar"), "-c", "arc")
    assert missing.returncode == 1
    assert "is not a file and couldn't be found in the container runtime" in missing.stderr
    assert "no valid images specified" in missing.stderr


def test_kind_loads_several_archives_in_one_call(run: Runner, tmp_path: Path) -> None:
    assert run("kind", "create", "cluster", "--name", "arc").returncode == 0
    saved = docker_archive(tmp_path / "a.tar", "registry.local/app:2")
    oci = oci_archive(tmp_path / "b.oci.tar", "docker.io/library/tiny:1")
    ok = run("kind", "load", "image-archive", str(saved), str(oci), "--name", "arc")
    assert ok.returncode == 0, ok.stderr
    assert "It is suggested that you save multiple images into a common archive" in ok.stderr
    assert {"registry.local/app:2", "docker.io/library/tiny:1"} <= held(run, "arc-control-plane")
    empty = _tar(tmp_path / "empty.tar", {"README": b"hello"})
    bad = run("kind", "load", "image-archive", str(empty), "--name", "arc")
    assert bad.returncode == 1
    assert "ctr: unrecognized image format" in bad.stderr
    # Every archive is stat'ed before any is loaded.
    missing = run("kind", "load", "image-archive", str(saved), str(tmp_path / "none.tar"), "--name", "arc")
    assert missing.returncode == 1
    assert "no such file or directory" in missing.stderr


def test_minikube_loads_files_and_only_logs_a_bad_one(run: Runner, tmp_path: Path) -> None:
    assert run("minikube", "start", "-p", "arc").returncode == 0
    oci = oci_archive(tmp_path / "b.oci.tar", "docker.io/library/tiny:1")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"junk")
    loaded = run("minikube", "image", "load", str(oci), str(junk), str(tmp_path / "none.tar"), "-p", "arc")
    assert loaded.returncode == 0, loaded.stderr
    listing = json.loads(run("minikube", "ssh", "-p", "arc", "--", "sudo", "crictl", "images", "-o", "json").stdout)
    tags = {tag for image in listing["images"] for tag in image["repoTags"]}
    assert "docker.io/library/tiny:1" in tags
    assert not any("none.tar" in tag or "junk" in tag for tag in tags)
