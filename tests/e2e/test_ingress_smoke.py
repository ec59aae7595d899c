"""The smoke check of `kenv create` through the platform's HAProxy (Debian's haproxy, `binary`
runtime): a request for `probe.<env>.<base_domain>` that reaches the environment's ingress passes
the step, a 404 from the ingress's default backend included; HAProxy's 503 for a node that does
not answer fails it, naming HAProxy, the node's address and port, and the fix.

The environment is made on the provider fakes. Its node must have an address where a small HTTP
server can stand in for the ingress, so the first create stops at the routes step (HAProxy is
stopped, a platform component that is down fails its step), the fake node is given 127.0.0.1,
HAProxy is started again and the same create resumes: routes, then the smoke check.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e import haproxy_fleet
from tests.e2e.haproxy_fleet import move_nodes_to_loopback, stop_haproxy
from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)")


class DefaultBackend:
    """Stands in for an ingress with no rule for the host: 404 with an empty body, as
    ingress-nginx's default backend and Traefik answer."""

    def __init__(self, port: int) -> None:
        self.hosts: list[str] = []
        hosts = self.hosts

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hosts.append(self.headers.get("Host", ""))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


fleet = haproxy_fleet.fleet  # the platform's HAProxy (binary runtime) on free loopback ports


def created_up_to_routes(fleet: Fleet, name: str, node_port: int) -> None:
    """A created cluster whose node answers on loopback, its create stopped before the routes."""
    fleet.ok("bootstrap", "--only", "haproxy")
    stop_haproxy(fleet.home)
    first = fleet.run("create", name, "--provider", "k3d", "--node-port", str(node_port), "--keep-on-failure")
    assert first.returncode == 1, (first.stdout, first.stderr)
    assert "haproxy is part of the platform but is not running" in first.stderr
    move_nodes_to_loopback(fleet.state, name)
    fleet.ok("bootstrap", "--only", "haproxy")


def test_create_passes_the_smoke_check_when_the_ingress_answers_through_haproxy(fleet: Fleet) -> None:
    node_port = free_port(30000)
    created_up_to_routes(fleet, "dev", node_port)
    ingress = DefaultBackend(node_port)
    try:
        out = fleet.ok("create", "dev", "-o", "json")
    finally:
        ingress.close()
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    assert steps["routes"]["result"] == "done"
    assert steps["smoke"]["result"] == "done"
    assert "reaches dev's ingress through HAProxy (the ingress answered 404)" in steps["smoke"]["detail"]
    assert ingress.hosts and set(ingress.hosts) == {"probe.dev.localtest.me"}


def test_the_smoke_check_fails_clearly_when_the_ingress_does_not_answer(fleet: Fleet) -> None:
    node_port = free_port(30000)
    created_up_to_routes(fleet, "dev", node_port)
    result = fleet.run("create", "dev")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("kenv: error:")]
    assert len(lines) == 1, result.stderr
    assert "step 'smoke' failed: smoke check failed" in lines[0] and "HAProxy answered 503" in lines[0]
    assert f"127.0.0.1:{node_port}" in lines[0]
    assert "probe.dev.localtest.me" in lines[0]
    assert f"listens on NodePort {node_port}" in lines[0] and "rerun" in lines[0]


def test_dry_run_of_create_shows_the_smoke_request(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "haproxy")
    result = fleet.run("create", "dev", "--provider", "k3d", "--dry-run")
    assert result.returncode in (0, 3), result.stderr
    assert "smoke: plan" in result.stderr
    assert "would request http://probe.dev.localtest.me/ through HAProxy" in result.stderr


def test_the_management_environment_is_made_without_traefik(fleet: Fleet) -> None:
    fleet.ok("create", "devops", "--role", "management", "--provider", "k3d")
    fleet.ok("create", "dev", "--provider", "k3d")
    creates = {
        str(argv[3]): argv
        for argv in (c.get("argv", []) for c in fleet.calls())
        if isinstance(argv, list) and argv[:3] == ["k3d", "cluster", "create"]
    }
    devops, dev = creates["devops"], creates["dev"]
    assert devops[devops.index("--k3s-arg") + 1] == "--disable=traefik@server:*"
    assert "--k3s-arg" not in dev
    for name, traefik in (("devops", False), ("dev", True)):
        kubeconfig = fleet.home / "data" / "kubeconfig" / f"{name}.yaml"
        pods = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "get", "pods", "-n", "kube-system", "-o", "name"],
            capture_output=True,
            text=True,
            env=fleet.env,
            check=True,
        ).stdout
        assert ("traefik" in pods) is traefik, (name, pods)
