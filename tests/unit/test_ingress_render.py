"""Ingress rendering (pure): ingress-nginx for kind/minikube from upstream's shipped manifest with
its NodePorts fixed, the `ingress` image component reading the same file, the smoke check's
verdicts, k3d's devops create line without Traefik, and the HTTP probe with its Host header."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from kenv.images.components import COMPONENTS, component_images
from kenv.platform.haproxy.render import NOT_FOUND_BODY
from kenv.platform.ingress import nginx
from kenv.platform.ingress.smoke import local_address, probe_host, reached_ingress
from kenv.providers.base import CreateOptions
from kenv.providers.k3d import K3d
from kenv.runtime.http import HttpUnavailable, probe
from tests.unit.scripted_runner import ScriptedRunner, environment

CONTROLLER = (
    "registry.k8s.io/ingress-nginx/controller:v1.12.8"
    "@sha256:8f8343060688fb2a85752b7345a988d0d3c890d774e18e80b9e8730756e5b530"
)
CERTGEN = (
    "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.4"
    "@sha256:bcfc926ed57831edf102d62c5c0e259572591df4796ef1420b87f9cf6092497f"
)


def docs(text: str) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(text) if d]


def service(text: str, name: str) -> dict[str, object]:
    found = [d for d in docs(text) if d["kind"] == "Service" and d["metadata"]["name"] == name]  # type: ignore[index]
    assert len(found) == 1
    return found[0]


# -- ingress-nginx -----------------------------------------------------------------------------------


def test_the_controller_service_gets_node_port_and_the_next_one() -> None:
    spec = service(nginx.render(30080), nginx.SERVICE)["spec"]
    assert spec["type"] == "NodePort"  # type: ignore[index]
    ports = {p["name"]: p["nodePort"] for p in spec["ports"]}  # type: ignore[index]
    assert ports == {"http": 30080, "https": 30081}


def test_the_top_of_the_range_puts_https_below() -> None:
    ports = {p["name"]: p["nodePort"] for p in service(nginx.render(32767), nginx.SERVICE)["spec"]["ports"]}  # type: ignore[index]
    assert ports == {"http": 32767, "https": 32766}


def test_everything_else_is_upstream_byte_for_byte() -> None:
    upstream = nginx.upstream_manifest()
    rendered = nginx.render(30123)
    removed = [line for line in rendered.splitlines() if line not in upstream.splitlines()]
    assert removed == ["    nodePort: 30123", "    nodePort: 30124"]
    assert len(docs(rendered)) == len(docs(upstream))
    admission = service(rendered, "ingress-nginx-controller-admission")["spec"]
    assert all("nodePort" not in p for p in admission["ports"])  # type: ignore[index]


def test_no_host_ports_and_no_kind_only_node_label() -> None:
    text = nginx.render(30080)
    assert "hostPort" not in text and "ingress-ready" not in text


def test_a_changed_manifest_is_refused_rather_than_rendered_wrong() -> None:
    with pytest.raises(nginx.ManifestChanged, match="controller http port"):
        nginx.render(30080, manifest="kind: Service\n")


def test_the_ingress_component_lists_the_pinned_images_from_the_same_file() -> None:
    assert "ingress" in COMPONENTS
    refs = {r.canonical for r in component_images("ingress", "kind", None)}
    assert refs == {CONTROLLER, CERTGEN}
    assert f"image: {CONTROLLER}" in nginx.render(30080)


# -- the smoke check's verdict ---------------------------------------------------------------------


def test_an_ingress_answer_counts_even_a_404() -> None:
    assert reached_ingress(404, "")[0]
    assert reached_ingress(404, "<html>404 Not Found nginx</html>")[0]
    assert reached_ingress(200, "ok")[0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_haproxy_backend_errors_do_not_count(status: int) -> None:
    reached, why = reached_ingress(status, "<html><body><h1>503 Service Unavailable</h1>")
    assert not reached and f"HAProxy answered {status}" in why


def test_haproxys_own_404_does_not_count() -> None:
    body = NOT_FOUND_BODY.replace("\\n", "\n")
    reached, why = reached_ingress(404, body)
    assert not reached and "no route" in why


def test_probe_host_and_where_haproxy_listens() -> None:
    assert probe_host("dev", "localtest.me") == "probe.dev.localtest.me"
    assert local_address("0.0.0.0") == "127.0.0.1"  # noqa: S104
    assert local_address("127.0.0.2") == "127.0.0.2"
    assert local_address("::") == "[::1]"
    assert local_address("fd00::1") == "[fd00::1]"


# -- k3d devops without Traefik --------------------------------------------------------------------


def test_k3d_disables_traefik_on_every_server_only_when_asked(tmp_path: Path) -> None:
    k3d = K3d(ScriptedRunner(), tmp_path)
    env = environment(name="devops", servers=1, agents=1)
    plain = k3d.create_argv(env, CreateOptions(kubeconfig=tmp_path / "k"))
    assert "--k3s-arg" not in plain
    argv = k3d.create_argv(env, CreateOptions(kubeconfig=tmp_path / "k", disable_default_ingress=True))
    at = argv.index("--k3s-arg")
    assert argv[at + 1] == "--disable=traefik@server:*"
    assert [a for a in argv if a not in {"--k3s-arg", "--disable=traefik@server:*"}] == plain


# -- the probe -------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            body = b"x" * 5000
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], hosts
    httpd.shutdown()
    httpd.server_close()


def test_probe_sends_the_host_header_and_returns_any_status(server: tuple[int, list[str]]) -> None:
    port, hosts = server
    status, body = probe(f"http://127.0.0.1:{port}/", "probe.dev.localtest.me", timeout=5)
    assert status == 404 and len(body) == 1024
    assert hosts == ["probe.dev.localtest.me"]


def test_probe_without_an_answer_raises_naming_the_url() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpUnavailable, match=f"127.0.0.1:{port}.*no answer"):
        probe(f"http://127.0.0.1:{port}/", "probe.dev.localtest.me", timeout=2)
