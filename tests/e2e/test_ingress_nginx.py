"""`kenv create` of kind and minikube environments with the platform's HAProxy running (Debian's
haproxy, `binary` runtime): the "ingress" step syncs ingress-nginx's images into every node,
applies the manifest with the controller's NodePorts on `node_port` and the HTTPS one, waits for
the rollout and the admission webhook's CA, and the smoke check then passes through HAProxy;
HTTPS reaches the environment's ingress by SNI, TLS passed through (the client verifies the
stand-in's own certificate).

The environments are made on the provider fakes, where nothing can be pulled: the first create
runs with a proxy that refuses every connection, so the images step fails (deterministically,
whatever network the machine has) and the cluster is kept; the test then puts the images into the
fake nodes, as a mirror would have, and gives the nodes 127.0.0.1, where small servers stand in
for the controller's two NodePorts.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from kenv.images.components import component_images
from kenv.images.nodes import presence_key
from tests.e2e import haproxy_fleet
from tests.e2e.haproxy_fleet import move_nodes_to_loopback, stop_haproxy
from tests.e2e.lifecycle_support import Fleet
from tests.e2e.test_ingress_smoke import DefaultBackend
from tests.netutil import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)")

# Every connection through a proxy that is not there: skopeo (Go's ProxyFromEnvironment) fails at once.
OFFLINE = dict.fromkeys(("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"), "http://127.0.0.1:1") | {
    "NO_PROXY": "",
    "no_proxy": "",
}


fleet = haproxy_fleet.fleet  # the platform's HAProxy (binary runtime) on free loopback ports


def node_port_pair() -> int:
    """A free NodePort whose next port is free too (the ingress's HTTP and HTTPS stand-ins)."""
    port = 30000
    while True:
        port = free_port(port)
        if free_port(port + 1) == port + 1:
            return port
        port += 2


def give_nodes_the_ingress_images(fleet: Fleet, name: str) -> None:
    """As a sync through a mirror would leave them (a digest reference is `name@digest` in the
    fake's crictl listing), and the nodes on 127.0.0.1 where the stand-ins listen."""
    keys = [presence_key(ref) for ref in component_images("ingress", "kind", None)]
    move_nodes_to_loopback(fleet.state, name, keys)


def kubectl_json(fleet: Fleet, name: str, *args: str) -> dict[str, object]:
    kubeconfig = fleet.home / "data" / "kubeconfig" / f"{name}.yaml"
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args, "-o", "json"],
        capture_output=True,
        text=True,
        env=fleet.env,
        check=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("kenv: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- a TLS server standing in for the ingress's HTTPS NodePort ----------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for `*.qa.localtest.me` (key, cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a throwaway certificate (apt-get install openssl)")
    key, cert = tmp_path / "tls.key", tmp_path / "tls.crt"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=*.qa.localtest.me",
            "-addext", "subjectAltName=DNS:*.qa.localtest.me,DNS:qa.localtest.me",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return key, cert


class TlsIngress:
    """Answers one line over TLS with its own certificate and records the SNI names it was asked."""

    def __init__(self, port: int, key: Path, cert: Path) -> None:
        self.names: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        context.sni_callback = lambda _sock, name, _ctx: self.names.append(name or "")  # type: ignore[func-returns-value]
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError), conn:
                conn.settimeout(5)
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"qa ingress over TLS\n")

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()


def tls_line(port: int, host: str, cert: Path) -> bytes:
    """Connect to HAProxy's HTTPS listener for `host`, verifying the ingress's certificate."""
    context = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(
        raw, server_hostname=host
    ) as tls:
        return tls.recv(100)


# -- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["kind", "minikube"])
def test_create_installs_ingress_nginx_routes_http_and_passes_tls_through(
    fleet: Fleet, provider: str, certificate: tuple[Path, Path]
) -> None:
    node_port = node_port_pair()
    fleet.ok("bootstrap", "--only", "haproxy")

    # 1. The images cannot be had: the step fails before anything is applied, naming the fix.
    first = fleet.run(
        "create", "qa", "--provider", provider, "--node-port", str(node_port), "--keep-on-failure", **OFFLINE
    )
    line = error_line(first)
    assert "step 'ingress' failed: the ingress-nginx images are not in every node of qa" in line
    assert "`kenv images sync qa --component ingress`" in line and "rerun `kenv create qa` (it resumes)" in line
    assert not [c for c in fleet.calls() if "apply" in c.get("argv", [])]  # type: ignore[operator]

    # 2. Images in; the controller's rollout times out: the step fails with kubectl's reason and the fix.
    give_nodes_the_ingress_images(fleet, "qa")
    second = fleet.run("create", "qa", "--keep-on-failure", KENV_FAKE_FAIL="kubectl:rollout-status")
    line = error_line(second)
    assert "step 'ingress' failed: ingress-nginx's controller in qa did not become ready: " in line
    assert "timed out waiting for the condition" in line and "0 of 1 updated replicas are available" in line
    assert "`kenv doctor qa`" in line and "rerun `kenv create qa` (it resumes)" in line
    argvs = [c["argv"] for c in fleet.calls() if c.get("tool") == "kubectl"]
    applied = [a for a in argvs if a[-3:] == ["apply", "-f", "-"]]  # type: ignore[index]
    assert len(applied) == 1
    rollout = next(a for a in argvs if "rollout" in a)  # type: ignore[operator]
    assert rollout[-5:] == [  # type: ignore[index]
        "rollout", "status", "deployment/ingress-nginx-controller", "-n", "ingress-nginx", "--timeout=300s",
    ][-5:]  # fmt: skip

    # What kubectl shows: the NodePorts, the webhook's CA from the certgen Jobs, the Jobs gone (TTL 0).
    service = kubectl_json(fleet, "qa", "get", "service", "ingress-nginx-controller", "-n", "ingress-nginx")
    ports = {p["name"]: p["nodePort"] for p in service["spec"]["ports"]}  # type: ignore[index]
    assert ports == {"http": node_port, "https": node_port + 1}
    webhook = kubectl_json(fleet, "qa", "get", "validatingwebhookconfiguration", "ingress-nginx-admission")
    assert all(h["clientConfig"]["caBundle"] for h in webhook["webhooks"])  # type: ignore[attr-defined]
    assert kubectl_json(fleet, "qa", "get", "jobs", "-n", "ingress-nginx")["items"] == []

    # 3. The rerun finds the controller there, routes, and the smoke check passes through HAProxy.
    key, cert = certificate
    http, tls = DefaultBackend(node_port), TlsIngress(node_port + 1, key, cert)
    try:
        steps = {s["name"]: s for s in json.loads(fleet.ok("create", "qa", "-o", "json"))["steps"]}
        https_port = int(fleet.env["KENV_HAPROXY_HTTPS_PORT"])
        answer = tls_line(https_port, "x.qa.localtest.me", cert)
        with pytest.raises((ssl.SSLError, OSError)):
            tls_line(https_port, "x.other.localtest.me", cert)  # no route for that name: HAProxy rejects it
    finally:
        http.close()
        tls.close()
    assert steps["ingress"]["result"] == "skipped"
    assert steps["routes"]["result"] == "done"
    assert steps["smoke"]["result"] == "done", steps["smoke"]
    assert "reaches qa's ingress through HAProxy (the ingress answered 404)" in steps["smoke"]["detail"]
    assert set(http.hosts) == {"probe.qa.localtest.me"}
    assert answer == b"qa ingress over TLS\n"  # the stand-in's own certificate, verified by the client
    assert tls.names == ["x.qa.localtest.me"]  # HAProxy passed the stream on, SNI and all
    (route,) = json.loads(fleet.ok("routes", "show", "-o", "json"))["routes"]
    assert route["backend"] == f"127.0.0.1:{node_port}"
    assert route["https_backend"] == f"127.0.0.1:{node_port + 1}"


def test_the_ingress_step_installs_a_fresh_controller_in_one_run(fleet: Fleet) -> None:
    """The images already in the nodes (kind's node image or a sync before): one create does it all."""
    fleet.ok("bootstrap", "--only", "haproxy")
    stop_haproxy(fleet.home)  # the create stops at routes, after the ingress step
    first = fleet.run("create", "qa", "--provider", "kind", "--keep-on-failure", **OFFLINE)
    assert "step 'ingress' failed" in error_line(first)
    give_nodes_the_ingress_images(fleet, "qa")
    result = fleet.run("create", "qa", "-o", "json", "--keep-on-failure")
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["ingress"]["result"] == "done"
    detail = steps["ingress"]["detail"]
    assert detail.startswith("ingress-nginx controller-v1.12.8 on NodePorts 30080 (http) and 30081 (https), available")
    assert "2 image(s) in every node, 0 imported" in detail
    assert steps["routes"]["result"] == "failed"  # HAProxy down: a platform component down fails its step


def test_dry_run_of_create_shows_the_ingress_plan(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "haproxy")
    for provider, words in (
        (
            "kind",
            "would sync the ingress component's 2 image(s) into every node of qa (`kenv images sync qa --component "
            "ingress`), apply ingress-nginx controller-v1.12.8 on NodePorts 30080 (http) and 30081 (https), wait up "
            "to 300s for `kubectl rollout status deployment/ingress-nginx-controller -n ingress-nginx` and for the CA "
            "in ValidatingWebhookConfiguration ingress-nginx-admission",
        ),
        ("minikube", "apply ingress-nginx controller-v1.12.8 on NodePorts 30080 (http) and 30081 (https)"),
        ("k3d", "would put qa's Traefik on NodePorts 30080 (http) and 30081 (https)"),
    ):
        result = fleet.run("create", "qa", "--provider", provider, "--dry-run")
        assert result.returncode in (0, 3), result.stderr
        assert "ingress: plan" in result.stderr and words in result.stderr, result.stderr
    assert fleet.clusters() == {"k3d": [], "kind": [], "minikube": []}
