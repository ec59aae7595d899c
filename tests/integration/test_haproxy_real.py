"""The host's HAProxy (Debian's 2.6, `binary` runtime) run by kenv: rendered configurations pass
`haproxy -c`, Host headers reach each environment's backend, unknown hosts get kenv's 404, and
no request is lost while routes are added and pruned with graceful reloads.

The environments are created on the provider fakes; their server nodes are then given the
address 127.0.0.1 in the fakes' state, so the node address kenv reads through `docker inspect`
is where a small HTTP server stands in for each environment's ingress at its `node_port`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kenv.platform.haproxy.render import ConfigInput, Listen, Route, render
from tests.e2e.haproxy_fleet import move_nodes_to_loopback, stop_haproxy
from tests.e2e.lifecycle_support import Fleet
from tests.integration.http_load import Load, get
from tests.netutil import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # HAProxy closing an idle server connection is not an error here


class Ingress:
    """An HTTP server answering with its environment's name, standing in for an ingress."""

    def __init__(self, name: str, port: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = f"{name} {self.headers.get('Host')}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world(isolated: Path, tmp_path: Path) -> Iterator[tuple[Fleet, int]]:
    fleet = Fleet(isolated, tmp_path)
    http_port = free_port()
    fleet.env.update(
        KENV_HAPROXY_RUNTIME="binary",
        KENV_HAPROXY_HTTP_PORT=str(http_port),
        KENV_HAPROXY_HTTPS_PORT=str(free_port()),
    )
    yield fleet, http_port
    stop_haproxy(isolated)


def create(fleet: Fleet, name: str, provider: str, node_port: int) -> None:
    fleet.ok("create", name, "--provider", provider, "--node-port", str(node_port))
    move_nodes_to_loopback(fleet.state, name)


def test_rendered_configuration_for_many_environments_passes_haproxy_check(tmp_path: Path) -> None:
    routes = [Route(f"env-{i}", f"10.{i // 250}.{i % 250}.2", 30080) for i in range(1000)]
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(ConfigInput("localtest.me", routes, listen=Listen("127.0.0.1", 18080, 18443))))
    result = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_hosts_reach_their_environment_and_unknown_hosts_get_404(world: tuple[Fleet, int]) -> None:
    fleet, port = world
    ingresses: dict[str, Ingress] = {}
    try:
        for name, provider in (("dev", "k3d"), ("qa", "kind")):
            node_port = free_port(30000 + len(ingresses) * 100)
            ingresses[name] = Ingress(name, node_port)
            create(fleet, name, provider, node_port)
        out = fleet.ok("routes", "sync")
        assert "2 environment(s) routed" in out
        assert get(port, "dev.localtest.me") == (200, "dev dev.localtest.me")
        assert get(port, "web.dev.localtest.me:80") == (200, "dev web.dev.localtest.me:80")
        assert get(port, "API.QA.localtest.me")[1].startswith("qa ")
        status, body = get(port, "nope.localtest.me")
        assert status == 404 and "kenv routes show" in body
        assert get(port, "devops.localtest.me")[0] == 404
        # A second sync finds nothing to change and does not reload.
        assert "HAProxy unchanged" in fleet.ok("routes", "sync")
        shown = json.loads(fleet.ok("routes", "show", "-o", "json"))
        assert shown["running"] is True and shown["changed"] is False
    finally:
        for ingress in ingresses.values():
            ingress.close()


def test_no_request_is_lost_across_reloads_that_add_and_prune_routes(world: tuple[Fleet, int]) -> None:
    fleet, port = world
    base = free_port(31000)
    ingresses = [Ingress("dev", base)]
    try:
        create(fleet, "dev", "k3d", base)
        fleet.ok("routes", "sync")
        pidfile = fleet.home / "data" / "haproxy" / "haproxy.pid"
        master = int(pidfile.read_text().split()[0])
        load = Load(port, "app.dev.localtest.me", "dev ")
        reloads = 0
        try:
            for round_ in range(3):
                node_port = free_port(base + 1 + round_)
                ingresses.append(Ingress(f"extra{round_}", node_port))
                create(fleet, f"extra{round_}", "kind", node_port)
                assert "HAProxy reloaded" in fleet.ok("routes", "sync")
                assert get(port, f"x.extra{round_}.localtest.me")[1].startswith(f"extra{round_} ")
                fleet.ok("delete", f"extra{round_}")
                assert "HAProxy reloaded" in fleet.ok("routes", "sync")
                assert get(port, f"x.extra{round_}.localtest.me")[0] == 404
                reloads += 2
        finally:
            load.finish()
        assert int(pidfile.read_text().split()[0]) == master  # reloaded, never restarted
        assert load.ok > 100
        assert load.failures == [], f"{len(load.failures)} lost of {load.ok} across {reloads} reloads"
    finally:
        for ingress in ingresses:
            ingress.close()


def test_no_prune_keeps_the_route_of_an_environment_not_found_now(world: tuple[Fleet, int]) -> None:
    fleet, port = world
    node_port = free_port(31500)
    ingress = Ingress("dev", node_port)
    try:
        create(fleet, "dev", "k3d", node_port)
        fleet.ok("routes", "sync")
        fleet.ok("stop", "dev")
        shown = json.loads(fleet.ok("routes", "show", "-o", "json"))
        assert shown["routes"][0]["state"] == "skipped"
        assert "HAProxy unchanged" in fleet.ok("routes", "sync", "--no-prune")
        assert get(port, "dev.localtest.me")[0] == 200
        dry = fleet.run("routes", "sync", "--dry-run")
        assert dry.returncode == 3 and "-    use_backend be_env_dev" in dry.stdout
        fleet.ok("routes", "sync")
        assert get(port, "dev.localtest.me")[0] == 404
    finally:
        ingress.close()
