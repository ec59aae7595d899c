"""HAProxy's `docker` runtime (the default) on the real Docker engine: `ensure_haproxy` starts
kenv's container on a real network with its ports published on loopback, `sync_routes` checks
the rendered file with `haproxy -c` in a container of the same image, renames it over the live
one and reloads with SIGHUP, a Host header reaches the environment's ingress across Docker
networks, an unknown host gets kenv's 404, no request is lost across 10 reloads, and stopping
HAProxy removes its container and nothing else.

No registry answers here, so the image is built locally from the host's haproxy (Debian 12's
2.6, the branch of the pinned image) and the shared libraries `ldd` lists, with the official
image's contract reproduced from docker-library/haproxy 2.6/alpine/Dockerfile and
docker-entrypoint.sh: the binary on PATH in /usr/local/sbin, the entrypoint script verbatim
(run by the host's /bin/sh), user `haproxy` uid/gid 99 owning /var/lib/haproxy, `STOPSIGNAL
SIGUSR1`, `USER haproxy`, CMD `haproxy -f /usr/local/etc/haproxy/haproxy.cfg`. kenv names it
through the `haproxy_image` setting, so a real `haproxy:2.6.31-alpine` is never touched.

The environment is a kind one: kind's nodes are found with `docker ps` by kind's labels, so a
container of the same image labelled as a kind control plane on Docker's `kind` network (made
for the test when the engine has none, removed after) stands in for its node, its ingress
answering at the environment's `node_port` with its name and the Host header it got.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import ExternalCommandError, OperationFailed
from kenv.runtime import haproxy as hx
from kenv.settings import load_settings
from kenv.workflows import routes
from kenv.workflows.context import WorkflowContext
from tests.conftest import run_kenv
from tests.integration.http_load import Load, get
from tests.netutil import free_port

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy for the image (apt-get install haproxy)"),
    pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd to build the image"),
]

# docker-library/haproxy 2.6/alpine/docker-entrypoint.sh, verbatim.
ENTRYPOINT = """#!/bin/sh
set -e

# first arg is `-f` or `--some-option`
if [ "${1#-}" != "$1" ]; then
\tset -- haproxy "$@"
fi

if [ "$1" = 'haproxy' ]; then
\tshift # "haproxy"
\t# if the user wants "haproxy", let's add a couple useful flags
\t#   -W  -- "master-worker mode" (similar to the old "haproxy-systemd-wrapper"; allows for reload via "SIGUSR2")
\t#   -db -- disables background mode
\tset -- haproxy -W -db "$@"
fi

exec "$@"
"""

# The metadata lines of docker-library/haproxy 2.6/alpine/Dockerfile (`docker import --change`
# takes no STOPSIGNAL, so the image is built FROM scratch with the root filesystem ADDed); PATH is
# what its alpine base image sets.
DOCKERFILE = """FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STOPSIGNAL SIGUSR1
ENTRYPOINT ["docker-entrypoint.sh"]
USER haproxy
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
"""

KIND_NETWORK = "kind"  # kenv.catalogue: every kind cluster's nodes join Docker's `kind` network


def docker(*args: str, data: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(["docker", *args], input=data, capture_output=True, timeout=180, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result


def _libraries(binary: str) -> set[str]:
    listed = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in listed.splitlines():
        path = line.split("=>")[-1].strip().split(" (")[0].strip()
        if path.startswith("/"):
            found.add(path)
    return found


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _directory(tar: tarfile.TarFile, name: str, mode: int = 0o755, owner: int = 0) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, owner, owner
    tar.addfile(info)


def _root_filesystem() -> bytes:
    haproxy, shell = shutil.which("haproxy"), os.path.realpath("/bin/sh")
    assert haproxy is not None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("etc", "tmp", "var", "var/lib", "usr", "usr/local", "usr/local/etc", "bin"):
            _directory(tar, directory, 0o1777 if directory == "tmp" else 0o755)
        _directory(tar, "usr/local/etc/haproxy")
        _directory(tar, "var/lib/haproxy", owner=99)
        _add(tar, "usr/local/sbin/haproxy", Path(haproxy).read_bytes(), 0o755)
        _add(tar, "usr/local/bin/docker-entrypoint.sh", ENTRYPOINT.encode(), 0o755)
        _add(tar, "bin/sh", Path(shell).read_bytes(), 0o755)
        for library in sorted(_libraries(haproxy) | _libraries(shell)):
            _add(tar, library.lstrip("/"), Path(library).read_bytes(), 0o755)
        _add(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nhaproxy:x:99:99::/var/lib/haproxy:/sbin/nologin\n")
        _add(tar, "etc/group", b"root:x:0:\nhaproxy:x:99:haproxy\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    tag = f"kenv-test/haproxy:{uuid.uuid4().hex[:8]}"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        _add(tar, "Dockerfile", DOCKERFILE.encode())
        _add(tar, "rootfs.tar", _root_filesystem())
    docker("build", "-q", "-t", tag, "-", data=context.getvalue())
    yield tag
    docker("rmi", "-f", tag, check=False)


@dataclass
class World:
    ctx: WorkflowContext
    image: str
    platform: str
    http_port: int
    ingress_config: Path
    containers: list[str]

    def ingress(self, environment: str, node_port: int) -> str:
        """A kind control plane of `environment` whose ingress answers at `node_port`."""
        directory = self.ingress_config / environment
        directory.mkdir(parents=True)
        (directory / "haproxy.cfg").write_text(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
            f"frontend ingress\n    bind :{node_port}\n"
            f'    http-request return status 200 content-type text/plain lf-string "{environment} %[req.hdr(host)]"\n'
        )
        directory.chmod(0o755)
        (directory / "haproxy.cfg").chmod(0o644)
        name = f"{environment}-control-plane"
        docker(
            "run", "-d", "--name", name, "--network", KIND_NETWORK,
            "--label", f"io.x-k8s.kind.cluster={environment}", "--label", "io.x-k8s.kind.role=control-plane",
            "-v", f"{directory}:{hx.CONTAINER_DIR}:ro", self.image,
        )  # fmt: skip
        self.containers.append(name)
        return name


@pytest.fixture
def world(image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    if docker("container", "inspect", hx.CONTAINER, check=False).returncode == 0:
        pytest.skip(f"a container named {hx.CONTAINER} already runs on this engine; it is not the test's to replace")
    run = uuid.uuid4().hex[:6]
    platform = f"kenvtest-platform-{run}"
    docker("network", "create", "--label", f"io.kenv.platform={platform}", platform)
    made_kind = docker("network", "inspect", KIND_NETWORK, check=False).returncode != 0
    if made_kind:
        docker("network", "create", KIND_NETWORK)
    http_port = free_port()
    monkeypatch.setenv("KENV_HAPROXY_IMAGE", image)
    monkeypatch.setenv("KENV_PLATFORM_NETWORK", platform)
    monkeypatch.setenv("KENV_HAPROXY_HTTP_PORT", str(http_port))
    monkeypatch.setenv("KENV_HAPROXY_HTTPS_PORT", str(free_port()))
    ctx = WorkflowContext(load_settings())
    world = World(ctx, image, platform, http_port, tmp_path / "ingress", [])
    try:
        yield world
    finally:
        ctx.close()
        docker("rm", "-f", hx.CONTAINER, *world.containers, check=False)
        docker("network", "rm", platform, check=False)
        if made_kind:
            docker("network", "rm", KIND_NETWORK, check=False)


def register(name: str, node_port: int) -> None:
    result = run_kenv("register", name, "--provider", "kind", "--node-port", str(node_port))
    assert result.returncode == 0, result.stderr


def inspect(name: str) -> Any:
    return json.loads(docker("container", "inspect", name).stdout)[0]


def test_docker_runtime_starts_routes_reloads_without_loss_and_stops(world: World) -> None:
    ctx, port = world.ctx, world.http_port
    routes.ensure_haproxy(ctx)
    doc = inspect(hx.CONTAINER)
    config, host = doc["Config"], doc["HostConfig"]
    assert config["Image"] == world.image and config["Labels"] == {"io.kenv.component": "haproxy"}
    assert host["PortBindings"] == {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}],
        "8443/tcp": [{"HostIp": "127.0.0.1", "HostPort": os.environ["KENV_HAPROXY_HTTPS_PORT"]}],
    }
    assert host["Binds"] == [f"{ctx.settings.data_dir / 'haproxy'}:{hx.CONTAINER_DIR}:ro"]
    assert set(doc["NetworkSettings"]["Networks"]) == {world.platform}
    status, body = get(port, "nope.localtest.me")  # served as soon as ensure_haproxy returns
    assert status == 404 and "kenv routes show" in body

    # An environment appears: the sync checks, installs, joins kind's network and reloads.
    alpha, beta = f"hxa{uuid.uuid4().hex[:5]}", f"hxb{uuid.uuid4().hex[:5]}"
    world.ingress(alpha, 30080)
    world.ingress(beta, 30081)
    register(alpha, 30080)
    result = routes.sync_routes(ctx)
    assert (result.changed, result.reloaded) == (True, True)
    assert [(e.environment, e.state) for e in result.entries] == [(alpha, "routed")]
    assert KIND_NETWORK in doc_networks(hx.CONTAINER)
    assert get(port, f"{alpha}.localtest.me") == (200, f"{alpha} {alpha}.localtest.me")
    assert get(port, f"web.{alpha}.localtest.me:80") == (200, f"{alpha} web.{alpha}.localtest.me:80")
    assert get(port, f"{beta}.localtest.me")[0] == 404
    unchanged = routes.sync_routes(ctx)
    assert (unchanged.changed, unchanged.reloaded) == (False, False)

    # Ten reloads that add and remove a route while requests run: none is lost.
    master = inspect(hx.CONTAINER)["State"]["Pid"]
    load = Load(port, f"app.{alpha}.localtest.me", f"{alpha} ")
    try:
        for round_ in range(10):
            if round_ % 2 == 0:
                register(beta, 30081)
            else:
                assert run_kenv("unregister", beta).returncode == 0
            assert routes.sync_routes(ctx).reloaded
            expected = 200 if round_ % 2 == 0 else 404
            assert get(port, f"x.{beta}.localtest.me")[0] == expected, f"round {round_}"
    finally:
        load.finish()
    assert inspect(hx.CONTAINER)["State"]["Pid"] == master  # reloaded ten times, never restarted
    assert load.ok > 50
    assert load.failures == [], f"{len(load.failures)} lost of {load.ok}: {load.failures[:3]}"

    # Stopping (the image's graceful SIGUSR1, nothing in flight) removes kenv's container and nothing else.
    started = time.monotonic()
    routes.stop_haproxy(ctx)
    assert time.monotonic() - started < 5
    assert docker("container", "inspect", hx.CONTAINER, check=False).returncode != 0
    for name in world.containers:
        assert inspect(name)["State"]["Running"]
    for network in (world.platform, KIND_NETWORK):
        assert docker("network", "inspect", network, check=False).returncode == 0
    assert docker("image", "inspect", world.image, check=False).returncode == 0
    assert (ctx.settings.data_dir / "haproxy" / "haproxy.cfg").exists()


def doc_networks(name: str) -> set[str]:
    return set(inspect(name)["NetworkSettings"]["Networks"])


def test_routes_rendered_at_start_are_reached_and_a_refused_file_is_never_live(world: World) -> None:
    """Bootstrap's order: environments first, then `ensure_haproxy` (which renders their routes
    and starts on the platform network only), then a sync that finds the file unchanged."""
    ctx = world.ctx
    name = f"hxc{uuid.uuid4().hex[:5]}"
    world.ingress(name, 30090)
    register(name, 30090)
    routes.ensure_haproxy(ctx)
    result = routes.sync_routes(ctx)
    assert (result.changed, result.reloaded) == (False, False)
    assert get(world.http_port, f"{name}.localtest.me") == (200, f"{name} {name}.localtest.me")
    directory = ctx.settings.data_dir / "haproxy"
    live = (directory / "haproxy.cfg").read_text()
    (directory / "bad.cfg").write_text(live + "\n    bogus-keyword\n")
    (directory / "bad.cfg").chmod(0o644)
    with pytest.raises(OperationFailed, match="unknown keyword 'bogus-keyword'"):
        hx.check_config_docker(ctx.runner, directory, "bad.cfg", world.image)
    # Written behind kenv's back, the master refuses it on SIGHUP and keeps serving the old one.
    (directory / "bad.cfg").replace(directory / "haproxy.cfg")
    with pytest.raises(OperationFailed, match=r"kept the old configuration \(reload\).*bogus-keyword"):
        hx.reload_docker(ctx.runner)
    assert get(world.http_port, f"{name}.localtest.me")[0] == 200


def test_a_start_that_fails_leaves_no_container_to_revive_later(world: World) -> None:
    """`docker run` creates the container before it fails to publish a taken port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", world.http_port))
        taken.listen()
        with pytest.raises(ExternalCommandError, match=r"address already in use|port is already allocated"):
            routes.ensure_haproxy(world.ctx)
    assert docker("container", "inspect", hx.CONTAINER, check=False).returncode != 0
    routes.ensure_haproxy(world.ctx)  # the port is free again: a new container, the settings of now
    assert get(world.http_port, "nope.localtest.me")[0] == 404
