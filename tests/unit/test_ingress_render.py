"""Ingress rendering (pure): ingress-nginx for kind/minikube from upstream's shipped manifest with
its NodePorts fixed, the `ingress` image component reading the same file, what the installed
objects must say, the HTTPS NodePort rule and HAProxy's TLS passthrough to it, the smoke check's
verdicts, k3d's devops create line without Traefik, and the HTTP probe with its Host header."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from kenv.images.components import COMPONENTS, component_images
from kenv.platform.haproxy.render import NOT_FOUND_BODY, ConfigInput, Listen, Route, render
from kenv.platform.ingress import nginx
from kenv.platform.ingress.ports import https_node_port
from kenv.platform.ingress.smoke import local_address, probe_host, reached_ingress
from kenv.platform.ingress.traefik import helm_chart_config
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


def test_the_shipped_manifest_names_the_controller_image_and_the_admission_webhook() -> None:
    assert nginx.shipped_controller_image() == CONTROLLER
    assert nginx.shipped_admission_webhook() == "ingress-nginx-admission"


def test_a_manifest_without_a_certgen_patch_job_has_no_webhook_to_wait_for() -> None:
    upstream = nginx.upstream_manifest()
    without_jobs = "---\n".join(d for d in upstream.split("---\n") if "kind: Job\n" not in d)
    assert nginx.admission_webhook(without_jobs) is None
    assert nginx.controller_image(without_jobs) == CONTROLLER


# -- the HTTPS NodePort, one rule for every ingress -----------------------------------------------------


@pytest.mark.parametrize(("http", "https"), [(30080, 30081), (30000, 30001), (32766, 32767), (32767, 32766)])
def test_https_is_the_next_node_port_or_the_one_below_at_the_top(http: int, https: int) -> None:
    assert https_node_port(http) == https


def test_traefik_gets_the_same_two_node_ports() -> None:
    values = yaml.safe_load(yaml.safe_load(helm_chart_config(30100))["spec"]["valuesContent"])
    assert values["service"] == {"type": "NodePort"}
    assert values["ports"] == {"web": {"nodePort": 30100}, "websecure": {"nodePort": 30101}}


def test_haproxy_passes_tls_for_the_environment_to_its_https_node_port() -> None:
    config = render(ConfigInput("localtest.me", [Route("qa", "10.1.0.2", 30080, 30081)], listen=Listen()))
    lines = config.splitlines()
    # the SNI is read before the accept, which ends the content rules
    set_sni = lines.index("    tcp-request content set-var(txn.sni) req.ssl_sni,lower if { req.ssl_hello_type 1 }")
    assert set_sni < lines.index("    tcp-request content accept if { req.ssl_hello_type 1 }")
    assert "backend be_tls_qa\n    mode tcp\n    server node 10.1.0.2:30081 init-addr last,libc,none" in config


# -- what the installed objects must say -------------------------------------------------------------


def deployment(image: str = CONTROLLER, available: str = "True", observed: int = 2) -> dict[str, object]:
    return {
        "metadata": {"name": nginx.DEPLOYMENT, "generation": 2},
        "spec": {"template": {"spec": {"containers": [{"name": "controller", "image": image}]}}},
        "status": {
            "observedGeneration": observed,
            "conditions": [
                {"type": "Available", "status": available, "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def controller_service(kind: str = "NodePort", http: int = 30080, https: int = 30081) -> dict[str, object]:
    ports = [{"name": "http", "port": 80, "nodePort": http}, {"name": "https", "port": 443, "nodePort": https}]
    return {"spec": {"type": kind, "ports": ports}}


def test_an_available_controller_of_this_version_counts_as_installed() -> None:
    assert nginx.deployment_problem(deployment(), CONTROLLER) is None
    assert nginx.service_problem(controller_service(), 30080) is None


def test_what_keeps_the_controller_from_counting_as_installed() -> None:
    older = deployment(image="registry.k8s.io/ingress-nginx/controller:v1.11.3")
    assert "controller image is registry.k8s.io/ingress-nginx/controller:v1.11.3" in str(
        nginx.deployment_problem(older, CONTROLLER)
    )
    unavailable = {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}
    down = deployment() | {"status": {"observedGeneration": 2, "conditions": [unavailable]}}
    assert "not available (MinimumReplicasUnavailable)" in str(nginx.deployment_problem(down, CONTROLLER))
    assert "not observed" in str(nginx.deployment_problem(deployment(observed=1), CONTROLLER))
    assert "not available (no Available condition)" in str(
        nginx.deployment_problem(deployment() | {"status": {"observedGeneration": 2}}, CONTROLLER)
    )
    assert nginx.service_problem(controller_service(kind="LoadBalancer"), 30080) == (
        "its Service is of type LoadBalancer, not NodePort"
    )
    assert nginx.service_problem(controller_service(http=31234, https=31999), 30080) == (
        "its Service's NodePorts are http 31234, https 31999, not http 30080, https 30081"
    )


def test_the_webhook_is_ready_once_every_hook_has_a_ca() -> None:
    hook = {"name": "validate.nginx.ingress.kubernetes.io", "clientConfig": {"service": {"name": "x"}}}
    assert not nginx.webhook_ready({"webhooks": [hook]})
    assert not nginx.webhook_ready({})
    assert nginx.webhook_ready({"webhooks": [{**hook, "clientConfig": {"caBundle": "LS0t"}}]})


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
