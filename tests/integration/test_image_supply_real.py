"""Image supply against real parts (issue 8 §5, §6): the Docker engine, a Debian `docker-registry`
on loopback acting as the MIRROR, skopeo, and the engine's own containerd (`ctr`).

"Upstream" is a registry that does not answer (a closed 127.0.0.1 port), so every image these
tests see came through the mirror. Images are made locally with `docker import` of a tiny tarball
(unique content per run) and pushed to the mirror. The engine pulls from a 127.0.0.1 registry over
plain HTTP without any insecure-registries setting: moby treats 127.0.0.0/8 as insecure by
default (registry/config.go), which these tests rely on.

Skips name what is missing: `docker-registry` (apt-get install docker-registry), skopeo
(apt-get install skopeo), the engine's containerd socket for the `ctr` checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kenv.images.archive import save_archive
from kenv.images.pull import ensure_on_host
from kenv.images.reference import parse_reference
from kenv.runtime.process import Runner
from kenv.settings import ImageSupply
from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port

pytestmark = pytest.mark.docker

REGISTRY_BINARY = "/usr/bin/docker-registry"
CONTAINERD_SOCKETS = ("/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock")


def docker(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        input=data.decode("latin-1") if data is not None else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@dataclass(frozen=True)
class Mirror:
    url: str  # http://127.0.0.1:PORT
    host: str  # 127.0.0.1:PORT
    upstream: str  # 127.0.0.1:CLOSED: the registry the images are named after, which never answers
    repo: str  # kenvtest/tiny-<run>
    digest: str  # of repo:1 as the mirror serves it
    other_digest: str  # of repo:2 (another image)

    def ref(self, suffix: str = ":1") -> str:
        return f"{self.upstream}/{self.repo}{suffix}"

    def supply(self, *extra_first: str) -> ImageSupply:
        return ImageSupply(mirrors={self.upstream: (*extra_first, self.url)})


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    if not Path(REGISTRY_BINARY).exists():
        pytest.skip(f"needs {REGISTRY_BINARY}: apt-get install docker-registry")
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root / 'store'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    with (root / "registry.log").open("w") as log:
        server = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    made: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"docker-registry did not start: {(root / 'registry.log').read_text()[-500:]}")
                time.sleep(0.1)
        host = f"127.0.0.1:{port}"
        repo = f"kenvtest/tiny-{uuid.uuid4().hex[:8]}"
        digests = []
        for tag in ("1", "2"):
            name = f"{host}/{repo}:{tag}"
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                content = f"kenv image supply test {repo}:{tag}\n".encode()
                info = tarfile.TarInfo("README")
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            imported = subprocess.run(
                ["docker", "import", "-", name], input=buffer.getvalue(), capture_output=True, check=False
            )
            assert imported.returncode == 0, imported.stderr
            pushed = docker("push", name)
            assert pushed.returncode == 0, pushed.stderr
            record = json.loads(docker("image", "inspect", name).stdout)[0]
            digests.append(record["RepoDigests"][0].split("@", 1)[1])
            made.append(name)
        # The host must not hold them: every test pulls through the mirror.
        docker("image", "rm", "-f", *made)
        yield Mirror(f"http://{host}", host, f"127.0.0.1:{free_port()}", repo, digests[0], digests[1])
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def clean_host(mirror: Mirror) -> Iterator[None]:
    """Whatever a test pulled, tagged or loaded is removed afterwards (and before, for reruns)."""

    def remove() -> None:
        listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference=*/{mirror.repo}")
        names = [n for n in listed.stdout.split() if mirror.repo in n]
        ids = docker("image", "ls", "-q", "--filter", f"reference=*/{mirror.repo}*").stdout.split()
        for found in (names, ids):
            if found:
                docker("image", "rm", "-f", *found)
        for base in (mirror.host, mirror.upstream):
            tagged = docker("image", "ls", "-q", f"{base}/{mirror.repo}").stdout.split()
            if tagged:
                docker("image", "rm", "-f", *tagged)

    remove()
    yield
    remove()


def test_pulls_through_the_mirror_while_upstream_is_unreachable(mirror: Mirror, clean_host: None) -> None:
    ref = parse_reference(mirror.ref())
    started = time.monotonic()
    [outcome] = ensure_on_host(Runner(), mirror.supply(), [ref], retries=0)
    assert outcome.ok, outcome.error
    assert outcome.source == mirror.url and outcome.tried == ()
    # The original name is on the host: what manifests name is what k3d/kind will find.
    assert docker("image", "inspect", mirror.ref()).returncode == 0
    print(f"pull through the mirror: {time.monotonic() - started:.2f}s")
    [again] = ensure_on_host(Runner(), mirror.supply(), [ref])
    assert again.source == "host" and again.tried == ()


def test_a_mirror_that_does_not_answer_is_named(mirror: Mirror, clean_host: None) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    ref = parse_reference(mirror.ref())
    [outcome] = ensure_on_host(Runner(), mirror.supply(dead), [ref], retries=0)
    assert outcome.ok and outcome.source == mirror.url
    assert outcome.tried[0][0] == dead and "connection refused" in outcome.tried[0][1]
    docker("image", "rm", "-f", mirror.ref())
    [failed] = ensure_on_host(Runner(), ImageSupply(mirrors={mirror.upstream: (dead,)}), [ref], retries=1)
    assert not failed.ok and failed.error is not None
    assert f"mirror {dead}: " in failed.error and f"upstream {mirror.upstream}: " in failed.error
    assert [endpoint for endpoint, _ in failed.tried] == [dead, "upstream"]


def test_a_digest_reference_is_satisfied_only_by_that_digest(mirror: Mirror, clean_host: None) -> None:
    pinned = parse_reference(mirror.ref(f":1@{mirror.digest}"))
    [outcome] = ensure_on_host(Runner(), mirror.supply(), [pinned], retries=0)
    assert outcome.ok and outcome.source == mirror.url, outcome.error
    record = json.loads(docker("image", "inspect", mirror.ref()).stdout)[0]
    assert any(d.endswith("@" + mirror.digest) for d in record["RepoDigests"])
    # A digest the repository does not hold fails, naming the mirror (and upstream).
    missing = parse_reference(mirror.ref("@sha256:" + "0" * 64))
    [failed] = ensure_on_host(Runner(), mirror.supply(), [missing], retries=0)
    assert not failed.ok and failed.error is not None and f"mirror {mirror.url}" in failed.error


def containerd_socket() -> str | None:
    return next((s for s in CONTAINERD_SOCKETS if os.path.exists(s)), None)


def ctr_images(socket_path: str, namespace: str, archive: Path) -> dict[str, str]:
    """`ctr -n NS images import FILE`, then `ctr images ls`: name -> DIGEST (the manifest digest)."""
    base = ["ctr", "--address", socket_path, "--namespace", namespace]
    imported = subprocess.run(
        [*base, "images", "import", str(archive)], capture_output=True, text=True, timeout=120, check=False
    )
    assert imported.returncode == 0, imported.stderr
    listed = subprocess.run([*base, "images", "ls"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listed.splitlines()[1:] if line.strip()]
    return {row[0]: row[2] for row in rows}


def remove_namespace(socket_path: str, namespace: str) -> None:
    base = ["ctr", "--address", socket_path, "--namespace", namespace]
    names = subprocess.run([*base, "images", "ls", "-q"], capture_output=True, text=True, check=False).stdout.split()
    if names:
        subprocess.run([*base, "images", "rm", *names], capture_output=True, check=False)
    blobs = subprocess.run([*base, "content", "ls", "-q"], capture_output=True, text=True, check=False).stdout.split()
    if blobs:
        subprocess.run([*base, "content", "rm", *blobs], capture_output=True, check=False)
    # Snapshots go with the images, asynchronously (containerd's garbage collector): retry.
    for _ in range(50):
        removed = subprocess.run(
            ["ctr", "--address", socket_path, "namespaces", "rm", namespace], capture_output=True, check=False
        )
        if removed.returncode == 0:
            return
        time.sleep(0.1)


def test_an_oci_archive_keeps_the_digest_and_docker_save_does_not(
    mirror: Mirror, clean_host: None, tmp_path: Path
) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("needs skopeo: apt-get install skopeo")
    pinned = parse_reference(mirror.ref(f":1@{mirror.digest}"))
    tagged = parse_reference(mirror.ref(":2"))
    runner = Runner()
    [pulled] = ensure_on_host(runner, mirror.supply(), [tagged], retries=0)
    assert pulled.ok, pulled.error
    started = time.monotonic()
    archives = save_archive(runner, mirror.supply(), [tagged, pinned], tmp_path)
    print(f"save_archive (docker save + skopeo copy): {time.monotonic() - started:.2f}s")
    by_format = {a.format: a for a in archives}
    oci, saved = by_format["oci-archive"], by_format["docker-archive"]
    assert oci.keeps_digest and not saved.keeps_digest
    # The registry's manifest is in the archive byte for byte (its sha256 is the digest), under
    # both names. (skopeo 1.9's oci reader skips descriptors of docker media types when looking a
    # name up, so the check reads the layout itself; containerd reads it fine, below.)
    with tarfile.open(oci.path) as tar:
        index_file = tar.extractfile("index.json")
        assert index_file is not None
        index = json.load(index_file)
        blob = tar.extractfile("blobs/sha256/" + mirror.digest.split(":", 1)[1])
        assert blob is not None
        assert "sha256:" + hashlib.sha256(blob.read()).hexdigest() == mirror.digest
    names = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert names == {f"{pinned.name}@{mirror.digest}": mirror.digest, f"{pinned.name}:1": mirror.digest}
    socket_path = containerd_socket()
    if socket_path is None or shutil.which("ctr") is None:
        pytest.skip("the Docker engine's containerd socket is not reachable for ctr")
    namespace = f"kenv-test-{uuid.uuid4().hex[:8]}"
    try:
        from_oci = ctr_images(socket_path, namespace, oci.path)
        # Both names, and the manifest is the registry's: the digest survives the import.
        assert from_oci[f"{pinned.name}@{mirror.digest}"] == mirror.digest
        assert from_oci[f"{pinned.name}:1"] == mirror.digest
        from_save = ctr_images(socket_path, namespace + "-save", saved.path)
        # moby#22011: docker save keeps no manifest; containerd makes one with another digest.
        [(name, digest)] = from_save.items()
        assert name == f"{tagged.name}:2"
        assert digest != mirror.other_digest
    finally:
        remove_namespace(socket_path, namespace)
        remove_namespace(socket_path, namespace + "-save")


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def write_config(fleet: Fleet, mirrors: dict[str, list[str]]) -> None:
    fleet.home.mkdir(parents=True, exist_ok=True)
    table = ", ".join(f'"{host}" = {json.dumps(urls)}' for host, urls in mirrors.items())
    (fleet.home / "config.toml").write_text(f"[images]\nmirrors = {{{table}}}\n")


def test_prefetch_names_each_failure_and_every_mirror_that_did_not_answer(
    mirror: Mirror, clean_host: None, fleet: Fleet
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    write_config(fleet, {mirror.upstream: [dead, mirror.url]})
    dry = fleet.run("images", "prefetch", mirror.ref(), "--dry-run")
    assert dry.returncode == 3, dry.stderr
    assert f"would run: docker pull 127.0.0.1:{dead.rsplit(':', 1)[1]}/{mirror.repo}:1" in dry.stdout
    done = fleet.run("images", "prefetch", mirror.ref(), "-o", "json")
    assert done.returncode == 0, done.stderr
    [image] = json.loads(done.stdout)["images"]
    assert image["source"] == mirror.url and image["tried"][0]["endpoint"] == dead
    missing = mirror.ref(":no-such-tag")
    failed = fleet.run("images", "prefetch", mirror.ref(), missing)
    assert failed.returncode == 1
    assert "present" in failed.stdout and "failed" in failed.stdout
    error = failed.stderr.strip().splitlines()[-1]  # progress notes come before it
    print(error)
    assert f"mirror {dead}: " in error and f"mirror {mirror.url}: " in error and "no-such-tag" in error
    assert "Traceback" not in failed.stderr


def test_bundle_then_load_into_a_fake_k3d_environment(
    mirror: Mirror, clean_host: None, fleet: Fleet, tmp_path: Path
) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("needs skopeo: apt-get install skopeo")
    write_config(fleet, {mirror.upstream: [mirror.url]})
    fleet.ok("create", "dev", "--provider", "k3d", "--agents", "1", "--subnet", "none")
    bundle = tmp_path / "images.tar"
    tagged, pinned = mirror.ref(":2"), mirror.ref(f":1@{mirror.digest}")
    started = time.monotonic()
    made = fleet.run("images", "bundle", "-o", str(bundle), tagged, pinned)
    assert made.returncode == 0, made.stderr
    print(f"bundle of 2 images: {time.monotonic() - started:.2f}s, {bundle.stat().st_size} bytes")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    with tarfile.open(bundle) as tar:
        assert tar.getnames()[0] == "kenv-bundle.json"
        member = tar.extractfile("kenv-bundle.json")
        assert member is not None
        manifest = json.load(member)
    assert manifest["format"] == "kenv-bundle" and manifest["version"] == 1
    assert {i["ref"]: i["digest"] for i in manifest["images"]} == {
        f"{mirror.upstream}/{mirror.repo}:2": None,
        f"{mirror.upstream}/{mirror.repo}:1@{mirror.digest}": mirror.digest,
    }
    assert {a["file"]: a["format"] for a in manifest["archives"]} == {
        "images.docker.tar": "docker-archive",
        "images.oci.tar": "oci-archive",
    }
    again = fleet.run("images", "bundle", "-o", str(bundle), tagged)
    assert again.returncode == 2 and "already exists" in again.stderr

    dry = fleet.run("images", "load", str(bundle), "dev", "--dry-run")
    assert dry.returncode == 3, dry.stderr
    assert dry.stdout.count("would run: k3d image import") == 1
    before = len([c for c in fleet.calls() if c["argv"][:3] == ["k3d", "image", "import"]])  # type: ignore[index]
    loaded = fleet.run("images", "load", str(bundle), "dev", "-o", "json")
    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout)
    imports = [c for c in fleet.calls() if c["argv"][:3] == ["k3d", "image", "import"]]  # type: ignore[index]
    assert len(imports) - before == 1  # ONE import call for both archives
    cells = {(i["ref"], c["node"]): c["state"] for i in result["images"] for c in i["nodes"]}
    assert set(cells.values()) == {"imported"} and len(cells) == 4  # 2 images x 2 nodes
    # The digest reference is held BY DIGEST in the node's listing.
    listing = subprocess.run(
        ["docker", "exec", "k3d-dev-server-0", "crictl", "images", "-o", "json"],
        env=fleet.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    digests = {d for image in json.loads(listing)["images"] for d in image["repoDigests"]}
    assert f"{mirror.upstream}/{mirror.repo}@{mirror.digest}" in digests

    # A damaged bundle is refused before anything is imported.
    data = bytearray(bundle.read_bytes())
    data[-20000] ^= 0xFF  # inside the last archive
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(data))
    refused = fleet.run("images", "load", str(damaged), "dev")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert "damaged or altered" in refused.stderr or "damaged" in refused.stderr
    not_bundle = tmp_path / "not-a-bundle.tar"
    not_bundle.write_text("hello")
    foreign = fleet.run("images", "load", str(not_bundle), "dev")
    assert foreign.returncode == 2 and "is not a usable kenv bundle" in foreign.stderr
    imports_after = [c for c in fleet.calls() if c["argv"][:3] == ["k3d", "image", "import"]]  # type: ignore[index]
    assert len(imports_after) == len(imports)
