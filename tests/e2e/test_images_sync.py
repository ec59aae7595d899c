"""kenv images check / sync against the fake k3d and kind (issue 8 §5): one node listing per node,
exit 3 naming what is missing, host pulls only for what the host lacks, ONE import call per
cluster, pinned and verified afterwards, and no pull or import at all when nothing is missing.

The host side is the real Docker engine (the fake `docker` hands `image inspect`, `pull` and
`save` to it): the images are made locally with `docker import` (no registry is reachable here),
so the tests that sync carry `@pytest.mark.docker`.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenv.workflows.images import JSON_KEYS
from tests.e2e.lifecycle_support import Fleet, needs_docker

# Made on the host's engine by `host_images` (Docker Hub is not reachable from the tests). The
# engine is shared: names of this run's own, so no other run removes them under this one.
RUN = uuid.uuid4().hex[:8]
BUSYBOX = f"kenv-test-{RUN}/busybox:1.36.1"
HELPER = f"kenv-test-{RUN}/mirrored-library-busybox:1.36.1"
BUSYBOX_LONG = f"docker.io/{BUSYBOX}"
HELPER_LONG = f"docker.io/{HELPER}"


@pytest.fixture(scope="module")
def host_images() -> Iterator[tuple[str, str]]:
    """BUSYBOX and HELPER on the real engine: one small file each, made with `docker import`."""
    made = []
    for ref in (BUSYBOX, HELPER):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            data = f"kenv test image {ref}\n".encode()
            info = tarfile.TarInfo("README")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        subprocess.run(["docker", "import", "-", ref], input=buffer.getvalue(), check=True, capture_output=True)
        made.append(ref)
    yield BUSYBOX, HELPER
    subprocess.run(["docker", "image", "rm", *made], check=False, capture_output=True)


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def crictl_calls(fleet: Fleet) -> list[list[str]]:
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if "crictl" in c["argv"]  # type: ignore[operator]
    ]


def import_calls(fleet: Fleet) -> list[list[str]]:
    prefixes = (["k3d", "image", "import"], ["kind", "load", "docker-image"], ["minikube", "image", "load"])
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if [str(a) for a in c["argv"]][:3] in prefixes  # type: ignore[attr-defined]
    ]


def pull_calls(fleet: Fleet) -> list[list[str]]:
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if [str(a) for a in c["argv"]][:2] == ["docker", "pull"]  # type: ignore[attr-defined]
    ]


def node_listing(fleet: Fleet, node: str) -> dict[str, dict[str, object]]:
    """What the node's crictl prints, by each tag."""
    out = subprocess.run(
        ["docker", "exec", node, "crictl", "images", "-o", "json"],
        env=fleet.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return {tag: image for image in json.loads(out.stdout)["images"] for tag in image["repoTags"]}


def states(report: dict[str, object]) -> dict[tuple[str, str], str]:
    return {
        (image["familiar"], cell["node"]): cell["state"]
        for image in report["images"]  # type: ignore[attr-defined]
        for cell in image["nodes"]
    }


@pytest.mark.parametrize(
    ("provider", "extra", "nodes", "imports"),
    [
        (
            "k3d",
            ["--agents", "1"],
            ["k3d-dev-server-0", "k3d-dev-agent-0"],
            [["k3d", "image", "import", BUSYBOX_LONG, HELPER_LONG, "-c", "dev"]],
        ),
        (
            "kind",
            [],
            ["dev-control-plane"],
            [["kind", "load", "docker-image", BUSYBOX_LONG, HELPER_LONG, "--name", "dev"]],
        ),
        (
            # The minikube provider loads one image per call (providers/minikube.py import_images).
            "minikube",
            [],
            ["dev"],
            [["minikube", "image", "load", BUSYBOX_LONG, "-p", "dev"],
             ["minikube", "image", "load", HELPER_LONG, "-p", "dev"]],
        ),
    ],
)  # fmt: skip
@needs_docker
def test_check_sync_check_and_a_second_sync_that_imports_nothing(
    fleet: Fleet,
    host_images: tuple[str, str],
    provider: str,
    extra: list[str],
    nodes: list[str],
    imports: list[list[str]],
) -> None:
    fleet.ok("create", "dev", "--provider", provider, "--subnet", "none", *extra)
    before = len(fleet.calls())

    check = fleet.run("images", "check", "dev", BUSYBOX, HELPER, "-o", "json")
    assert check.returncode == 3, (check.stdout, check.stderr)
    for node in nodes:
        assert f"{BUSYBOX_LONG} on {node}" in check.stderr
    report = json.loads(check.stdout)
    assert set(states(report).values()) == {"missing"}
    assert len(crictl_calls(fleet)) == len(nodes), "one listing per node"
    assert not import_calls(fleet), "check is read-only"

    # A system image the cluster already holds is present, in any spelling.
    system = {"k3d": "rancher/mirrored-pause:3.6"}.get(provider, "registry.k8s.io/pause:3.10")
    fleet.ok("images", "check", "dev", system)

    dry = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, "--dry-run")
    assert dry.returncode == 3, (dry.stdout, dry.stderr)
    for argv in imports:
        assert f"would run: {' '.join(argv)}" in dry.stdout
    assert not import_calls(fleet), "a dry run imports nothing"

    crictl_before = len(crictl_calls(fleet))
    synced = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, "-o", "json")
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    assert import_calls(fleet) == imports, "ONE import call for the cluster, missing images only"
    assert len(crictl_calls(fleet)) - crictl_before == 2 * len(nodes), "listed before and verified after"
    report = json.loads(synced.stdout)
    assert states(report) == {(i, n): "imported" for i in (BUSYBOX, HELPER) for n in nodes}
    assert report["ok"] is True
    assert [(p["ref"], p["ok"], p["source"]) for p in report["pulls"]] == [
        (BUSYBOX_LONG, True, "host"),
        (HELPER_LONG, True, "host"),
    ], "both already on the host: nothing pulled"
    assert not pull_calls(fleet)
    pinnable = provider != "minikube"
    assert report["pin"]["supported"] is pinnable
    for image in report["images"]:
        assert {cell["pinned"] for cell in image["nodes"]} == {True if pinnable else None}
    if pinnable:
        # What containerd's CRI says: the label kenv set is seen as pinned by kubelet's GC.
        for node in nodes:
            listing = node_listing(fleet, node)
            assert listing[BUSYBOX_LONG]["pinned"] is True and listing[HELPER_LONG]["pinned"] is True
            assert listing[system_long(provider)]["pinned"] is False, "only what kenv imported is pinned"

    assert "present" in fleet.ok("images", "check", "dev", BUSYBOX, HELPER)

    calls_before = len(fleet.calls())
    again = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, system, "-o", "json")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert len(import_calls(fleet)) == len(imports), "nothing missing: no import call"
    argvs = [" ".join(map(str, c["argv"])) for c in fleet.calls()[calls_before:]]  # type: ignore[call-overload]
    assert not [a for a in argvs if "image inspect" in a or "docker pull" in a], (
        "nothing missing: the host is not asked"
    )
    assert json.loads(again.stdout)["pulls"] == []
    assert set(states(json.loads(again.stdout)).values()) == {"present"}
    assert len(fleet.calls()) > before

    history = fleet.ok("history", "dev")
    assert "images-sync" in history


def system_long(provider: str) -> str:
    return {"k3d": "docker.io/rancher/mirrored-pause:3.6"}.get(provider, "registry.k8s.io/pause:3.10")


@needs_docker
def test_a_partial_sync_imports_only_what_is_missing_and_discover_adds_manifest_images(
    fleet: Fleet, host_images: tuple[str, str], tmp_path: Path
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("images", "sync", "dev", BUSYBOX)
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        f"  - name: a\n    image: {BUSYBOX}\n  - name: b\n    image: {HELPER}\n"
    )
    fleet.ok("images", "sync", "dev", "--discover", str(manifest))
    imports = import_calls(fleet)
    assert imports[-1] == ["k3d", "image", "import", HELPER_LONG, "-c", "dev"]
    assert len(imports) == 2


@needs_docker
def test_a_failed_import_is_reported_in_one_line_and_exits_1(fleet: Fleet, host_images: tuple[str, str]) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    result = fleet.run("images", "sync", "dev", BUSYBOX, "-o", "json", KENV_FAKE_FAIL="k3d:image-import")
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = [line for line in result.stderr.splitlines() if line.startswith("kenv: error:")]
    assert len(error) == 1 and "ctr: failed to import images" in error[0], result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and "ctr: failed to import images" in report["import"]["error"]
    cell = report["images"][0]["nodes"][0]
    assert cell["state"] == "failed" and "ctr: failed to import images" in cell["reason"]
    assert "failed" in fleet.ok("history", "dev")


def test_nodes_that_cannot_be_listed_are_reported_with_the_reason(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    check = fleet.run("images", "check", "dev", BUSYBOX)
    assert check.returncode == 1, (check.stdout, check.stderr)
    assert "unknown" in check.stdout and "is not running" in check.stdout
    assert "could not list the images of any node of dev" in check.stderr
    synced = fleet.run("images", "sync", "dev", BUSYBOX)
    assert synced.returncode == 1 and "is not running" in synced.stdout
    assert not import_calls(fleet), "nothing is imported into nodes that could not be listed"


def test_json_keys_are_the_documented_contract(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    report = json.loads(fleet.run("images", "check", "dev", BUSYBOX, "-o", "json").stdout)
    assert tuple(report) == JSON_KEYS["top"]
    assert tuple(report["nodes"][0]) == JSON_KEYS["node"]
    assert tuple(report["images"][0]) == JSON_KEYS["image"]
    assert tuple(report["images"][0]["nodes"][0]) == JSON_KEYS["cell"]
    assert tuple(report["import"]) == JSON_KEYS["import"]
    assert tuple(report["pin"]) == JSON_KEYS["pin"]
    assert report["pulls"] == [] and report["pull_always"] == [], "check pulls nothing"
    assert report["operation"] == "check" and report["provider"] == "k3d" and report["ok"] is False
    for command in ("check", "sync"):
        help_text = fleet.ok("images", command, "--help")
        for keys in JSON_KEYS.values():
            for key in keys:
                assert f'"{key}"' in help_text, (command, key)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["dev", "busybox:UPPER!"], "invalid reference format"),
        (["dev"], "no images named"),
        (["nosuch", BUSYBOX], "not in the inventory"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(fleet: Fleet, args: list[str], fragment: str) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    for command in ("check", "sync"):
        result = fleet.run("images", command, *args)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert fragment in result.stderr
    assert not import_calls(fleet)


@needs_docker
def test_one_node_that_cannot_be_listed_does_not_hide_the_others(fleet: Fleet, host_images: tuple[str, str]) -> None:
    fleet.ok("create", "dev", "--subnet", "none", "--agents", "1")
    fleet.ok("images", "sync", "dev", BUSYBOX)
    stopped = subprocess.run(
        ["docker", "stop", "k3d-dev-agent-0"], env=fleet.env, capture_output=True, text=True, check=False
    )
    assert stopped.returncode == 0, stopped.stderr
    check = fleet.run("images", "check", "dev", BUSYBOX, "-o", "json")
    assert check.returncode == 1, (check.stdout, check.stderr)
    report = json.loads(check.stdout)
    assert states(report) == {(BUSYBOX, "k3d-dev-server-0"): "present", (BUSYBOX, "k3d-dev-agent-0"): "unknown"}
    errors = {n["name"]: n["error"] for n in report["nodes"]}
    assert errors["k3d-dev-server-0"] is None and "is not running" in errors["k3d-dev-agent-0"]
    assert "k3d-dev-agent-0" in check.stderr


@needs_docker
def test_an_image_the_host_lacks_is_pulled_and_a_failed_pull_names_each_mirror(
    fleet: Fleet, host_images: tuple[str, str]
) -> None:
    """Nothing answers on the mirror and Docker Hub is out of reach here: the pull fails after its
    bounded retries, the reason names the mirror and upstream, and the images the host does hold
    are still imported, in ONE call."""
    absent = f"kenv-test/absent-{uuid.uuid4().hex[:8]}:1"
    (fleet.home / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (fleet.home / "config.toml").write_text('[images]\nmirrors = {"docker.io" = ["http://127.0.0.1:9"]}\n')
    fleet.ok("create", "dev", "--subnet", "none")

    dry = fleet.run("images", "sync", "dev", BUSYBOX, absent, "--dry-run")
    assert dry.returncode == 3, (dry.stdout, dry.stderr)
    assert f"would run: docker pull 127.0.0.1:9/{absent}" in dry.stdout, "the plan names the pull"
    assert "would run: docker exec k3d-dev-server-0 ctr -n k8s.io images label" in dry.stdout
    assert not pull_calls(fleet) and not import_calls(fleet), "a dry run pulls and imports nothing"

    result = fleet.run("images", "sync", "dev", BUSYBOX, absent, "-o", "json", timeout=180)
    assert result.returncode == 1, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    pulls = {p["ref"]: p for p in report["pulls"]}
    failed = pulls[f"docker.io/{absent}"]
    assert tuple(failed) == JSON_KEYS["pull"] and tuple(failed["tried"][0]) == JSON_KEYS["tried"]
    assert failed["ok"] is False and failed["source"] is None
    assert [t["endpoint"] for t in failed["tried"]] == ["http://127.0.0.1:9", "upstream"]
    assert "mirror http://127.0.0.1:9" in failed["error"] and "upstream docker.io" in failed["error"]
    assert pulls[BUSYBOX_LONG]["source"] == "host"
    assert len(pull_calls(fleet)) >= 2, "the mirror, then upstream"
    assert len(pull_calls(fleet)) <= 6, "bounded retries: at most 3 tries per endpoint"
    cells = {i["familiar"]: i["nodes"][0] for i in report["images"]}
    assert cells[BUSYBOX]["state"] == "imported"
    assert cells[absent]["state"] == "failed" and "mirror http://127.0.0.1:9" in cells[absent]["reason"]
    assert import_calls(fleet) == [["k3d", "image", "import", BUSYBOX_LONG, "-c", "dev"]]
    assert absent in result.stderr and result.stderr.count("kenv: error:") == 1


def test_from_file_lists_references_and_bad_lines_are_named(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    listing = tmp_path / "images.txt"
    listing.write_text(f"# what dev needs\n\n{system_long('k3d')}  # the pause image\nrancher/mirrored-pause:3.6\n")
    report = json.loads(fleet.ok("images", "check", "dev", "--from", str(listing), "-o", "json"))
    assert [i["ref"] for i in report["images"]] == [system_long("k3d")], "two spellings, one image"
    stdin = subprocess.run(
        [*fleet_kenv(), "images", "check", "dev", "--from", "-"],
        input="rancher/mirrored-pause:3.6\n", env=fleet.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert stdin.returncode == 0, stdin.stderr

    listing.write_text("busybox:1.36.1\nnot a/ref\nBad:Ref\n")
    for command in ("check", "sync"):
        bad = fleet.run("images", command, "dev", "--from", str(listing))
        assert bad.returncode == 2, (bad.stdout, bad.stderr)
        assert f"{listing}:2:" in bad.stderr and "one image reference per line" in bad.stderr
    listing.write_text("busybox:1.36.1\nBad:Ref\n")
    bad = fleet.run("images", "sync", "dev", "--from", str(listing))
    assert bad.returncode == 2 and f"{listing}:2: invalid reference format" in bad.stderr, bad.stderr
    directory = fleet.run("images", "sync", "dev", "--from", str(tmp_path))
    assert directory.returncode == 2 and "is a directory" in directory.stderr
    missing = fleet.run("images", "sync", "dev", "--from", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = fleet.run("images", "sync", "dev", "--component", "nosuch")
    assert unknown.returncode == 2 and "unknown component 'nosuch'" in unknown.stderr
    assert not import_calls(fleet) and not pull_calls(fleet)


def fleet_kenv() -> list[str]:
    from tests.conftest import KENV

    return list(KENV)


def test_containers_that_pull_on_every_start_are_reported(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: a\n        image: rancher/mirrored-pause:3.6\n"
        "        imagePullPolicy: Always\n      - name: b\n        image: rancher/mirrored-pause:3.6\n"
        "        imagePullPolicy: IfNotPresent\n"
    )
    result = fleet.run("images", "check", "dev", "--discover", str(manifest), "-o", "json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert [p["ref"] for p in report["pull_always"]] == [system_long("k3d")]
    source = report["pull_always"][0]["source"]
    assert (source["kind"], source["namespace"], source["name"]) == ("Deployment", "shop", "web")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("kenv: warning:")]
    assert len(warnings) == 1, result.stderr
    assert "rancher/mirrored-pause:3.6" in warnings[0] and "Deployment shop/web" in warnings[0]
    assert "IfNotPresent" in warnings[0]


@needs_docker
def test_create_with_images_from_syncs_once_the_cluster_is_up(
    fleet: Fleet, host_images: tuple[str, str], tmp_path: Path
) -> None:
    listing = tmp_path / "images.txt"
    listing.write_text(f"{BUSYBOX}\n{HELPER}\n")
    dry = fleet.run("create", "dev", "--subnet", "none", "--images-from", str(listing), "--dry-run")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    assert "would sync 2 image(s)" in dry.stdout + dry.stderr

    out = fleet.ok("create", "dev", "--subnet", "none", "--images-from", str(listing))
    assert "imported" in out and BUSYBOX in out
    assert import_calls(fleet) == [["k3d", "image", "import", BUSYBOX_LONG, HELPER_LONG, "-c", "dev"]]
    assert "images-sync" in fleet.ok("history", "dev")
    # Running again: the cluster is there and so are the images; nothing imported again.
    fleet.ok("create", "dev", "--images-from", str(listing))
    assert len(import_calls(fleet)) == 1


@needs_docker
def test_create_whose_sync_fails_exits_1_and_keeps_the_environment(
    fleet: Fleet, host_images: tuple[str, str], tmp_path: Path
) -> None:
    listing = tmp_path / "images.txt"
    listing.write_text(f"{BUSYBOX}\n")
    result = fleet.run(
        "create", "dev", "--subnet", "none", "--images-from", str(listing), KENV_FAKE_FAIL="k3d:image-import"
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "created and running" in result.stderr
    assert f"kenv images sync dev --from {listing}" in result.stderr
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "running"
    assert fleet.clusters()["k3d"] == ["dev"], "the cluster is not rolled back"


def test_create_refuses_a_bad_image_list_before_anything_is_made(fleet: Fleet, tmp_path: Path) -> None:
    listing = tmp_path / "images.txt"
    listing.write_text("busybox:1.36.1\nBad:Ref\n")
    result = fleet.run("create", "dev", "--subnet", "none", "--images-from", str(listing))
    assert result.returncode == 2 and f"{listing}:2:" in result.stderr, result.stderr
    component = fleet.run("create", "dev", "--subnet", "none", "--component", "nosuch")
    assert component.returncode == 2 and "unknown component" in component.stderr
    assert fleet.env_record("dev") is None and fleet.clusters()["k3d"] == []


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A real registry (Debian's docker-registry) on a free loopback port; yields host:port."""
    import shutil
    import socket
    import time

    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("needs docker-registry (Debian package docker-registry)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: {{rootdirectory: {tmp_path / 'blobs'}}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@needs_docker
def test_a_digest_reference_goes_in_through_an_oci_archive_that_keeps_its_digest(
    fleet: Fleet, host_images: tuple[str, str], registry: str
) -> None:
    """`docker save` would drop the registry digest (moby#22011): the node would hold the tag but
    not name@digest. skopeo copies the registry's manifest into an OCI archive instead, which the
    provider imports; the node then lists name@digest, and it is pinned."""
    pushed = f"{registry}/{BUSYBOX}"
    subprocess.run(["docker", "tag", BUSYBOX, pushed], check=True, capture_output=True)
    try:
        subprocess.run(["docker", "push", pushed], check=True, capture_output=True, timeout=60)
        record = json.loads(
            subprocess.run(["docker", "image", "inspect", pushed], check=True, capture_output=True, text=True).stdout
        )[0]
    finally:
        subprocess.run(["docker", "image", "rm", pushed], check=False, capture_output=True)
    digest = next(d for d in record["RepoDigests"] if d.startswith(registry)).split("@", 1)[1]
    ref = f"{registry}/{BUSYBOX.split(':', 1)[0]}@{digest}"
    (fleet.home / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (fleet.home / "config.toml").write_text(f'[images]\ninsecure_registries = ["{registry}"]\n')
    fleet.ok("create", "dev", "--subnet", "none")

    result = fleet.run("images", "sync", "dev", ref, "-o", "json", timeout=180)
    assert result.returncode == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["pulls"] == [], "a digest reference is copied from the registry, not pulled onto the host"
    assert [(a["format"], a["keeps_digest"]) for a in report["import"]["archives"]] == [("oci-archive", True)]
    assert tuple(report["import"]["archives"][0]) == JSON_KEYS["archive"]
    imports = import_calls(fleet)
    assert len(imports) == 1 and imports[0][3].endswith(".tar"), imports
    assert not [c for c in fleet.calls() if list(c["argv"])[:2] == ["docker", "save"]]  # type: ignore[call-overload]
    assert report["images"][0]["nodes"][0]["state"] == "imported"
    assert report["images"][0]["nodes"][0]["pinned"] is True
    out = subprocess.run(
        ["docker", "exec", "k3d-dev-server-0", "crictl", "images", "-o", "json"],
        env=fleet.env,
        capture_output=True,
        text=True,
        check=True,
    )
    digests = [d for image in json.loads(out.stdout)["images"] for d in image["repoDigests"]]
    assert ref in digests
    again = fleet.run("images", "sync", "dev", ref)
    assert again.returncode == 0 and len(import_calls(fleet)) == 1, "held by digest: nothing imported again"


def test_component_images_are_checked_like_named_ones(fleet: Fleet) -> None:
    from kenv.images.components import dns_check_image

    fleet.ok("create", "dev", "--subnet", "none")
    result = fleet.run("images", "check", "dev", "--component", "verify", "-o", "json")
    assert result.returncode == 3, (result.stdout, result.stderr)
    wanted = [i["ref"] for i in json.loads(result.stdout)["images"]]
    assert wanted == [parse_canonical(dns_check_image())]
    assert "missing:" in result.stderr


def parse_canonical(text: str) -> str:
    from kenv.images.reference import parse_reference

    return parse_reference(text).canonical
