"""The HAProxy configuration renderer and the node-address choice (pure)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError, InvalidInput, OperationFailed
from kenv.platform.haproxy.addresses import address_on_network
from kenv.platform.haproxy.render import Backend, ConfigInput, Listen, Route, render
from kenv.runtime import haproxy as hx
from kenv.settings import load_settings
from kenv.workflows.context import WorkflowContext
from kenv.workflows.routes import config_input, routes
from tests.conftest import run_kenv
from tests.unit.scripted_runner import ScriptedRunner


def _config(routes: list[Route], management: list[Backend] | None = None) -> ConfigInput:
    return ConfigInput("localtest.me", routes, management or [], Listen("127.0.0.1", 18080, 18443), "/run/s.sock")


def test_every_environment_gets_its_exact_and_wildcard_host_and_its_backend() -> None:
    text = render(_config([Route("dev", "10.200.0.3", 30080), Route("qa", "172.18.0.2", 30081)]))
    assert "use_backend be_env_dev if { var(txn.host) -m str dev.localtest.me } || " in text
    assert "{ var(txn.host) -m end .dev.localtest.me }" in text
    assert "backend be_env_qa\n    mode http\n    server node 172.18.0.2:30081 init-addr last,libc,none\n" in text
    assert "bind 127.0.0.1:18080" in text and "bind 127.0.0.1:18443" in text
    assert "expose-fd listeners" in text  # new workers take the listening sockets at a reload


def test_rendering_is_whole_and_deterministic_whatever_the_order() -> None:
    routes = [Route("b", "10.0.0.2", 30080), Route("a", "10.0.0.1", 30080)]
    assert render(_config(routes)) == render(_config(list(reversed(routes))))
    assert render(_config([])).count("backend be_env_") == 0


def test_devops_never_gets_a_dynamic_route_but_its_management_hosts_do() -> None:
    text = render(_config([Route("devops", "10.0.0.9", 30080)], [Backend("portainer", "172.20.0.5", 9000)]))
    assert "be_env_devops" not in text and "-m end .devops.localtest.me" not in text
    assert "use_backend be_mgmt_portainer if { var(txn.host) -m str portainer.devops.localtest.me }" in text
    assert "server portainer 172.20.0.5:9000" in text
    # Management hosts come before any environment's wildcard, so nothing can shadow them.
    assert text.index("be_mgmt_portainer if") < text.index("default_backend be_not_found")


def test_unknown_hosts_get_a_404_that_names_kenv() -> None:
    text = render(_config([]))
    assert "default_backend be_not_found" in text
    assert 'http-request return status 404 content-type text/plain string "kenv: ' in text
    assert "kenv routes show" in text


def test_https_is_passed_through_by_sni_only_for_routes_that_have_a_tls_port() -> None:
    text = render(_config([Route("dev", "10.0.0.1", 30080, 30443), Route("qa", "10.0.0.2", 30080)]))
    assert "use_backend be_tls_dev if { var(txn.sni) -m str dev.localtest.me }" in text
    assert "server node 10.0.0.1:30443" in text
    assert "be_tls_qa" not in text


@pytest.mark.parametrize("address", ["10.101.0.4172.18.0.6", "10.0.0.1 10.0.0.2", "", "300.1.1.1", "1.2.3"])
def test_an_address_that_is_not_one_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="not"):
        render(_config([Route("dev", address, 30080)]))


def _doc(networks: dict[str, str]) -> dict[str, object]:
    return {"NetworkSettings": {"Networks": {name: {"IPAddress": ip} for name, ip in networks.items()}}}


def test_a_node_on_several_networks_gives_the_address_on_its_own_network() -> None:
    doc = _doc({"kenv": "172.18.0.6", "k3d-dev": "10.101.0.4"})
    assert address_on_network(doc, "k3d-dev")[0] == "10.101.0.4"
    assert address_on_network(doc, "kenv")[0] == "172.18.0.6"


def test_several_networks_and_none_expected_gives_no_address_and_says_why() -> None:
    address, why = address_on_network(_doc({"a": "10.0.0.2", "b": "10.0.1.2"}), "k3d-dev")
    assert address is None and "a, b" in why and "k3d-dev" in why


def test_one_network_is_taken_and_a_stopped_node_has_none() -> None:
    assert address_on_network(_doc({"kind": "172.18.0.2"}), "k3d-other")[0] == "172.18.0.2"
    assert address_on_network(_doc({"kind": ""}), "kind") == (None, "the node has no address (is it running?)")


def test_haproxy_settings_have_safe_defaults_and_refuse_bad_values(tmp_path: Path) -> None:
    settings = load_settings(env={"KENV_HOME": str(tmp_path)})
    assert (settings.haproxy_runtime, settings.haproxy_bind) == ("docker", "127.0.0.1")
    assert (settings.haproxy_http_port, settings.haproxy_https_port) == (80, 443)
    for key, value in [("RUNTIME", "podman"), ("BIND", "localhost"), ("HTTP_PORT", "70000"), ("HTTPS_PORT", "x")]:
        with pytest.raises(InvalidInput, match=f"KENV_HAPROXY_{key}"):
            load_settings(env={"KENV_HOME": str(tmp_path), f"KENV_HAPROXY_{key}": value})


# -- the docker runtime's command lines (no image can be pulled in every test environment) -------

NO_CONTAINER_ERROR = "Error response from daemon: No such container: kenv-haproxy\n"


def _inspect(running: bool, networks: list[str]) -> str:
    doc = {
        "State": {"Running": running},
        "NetworkSettings": {"Networks": {n: {"IPAddress": "10.0.0.9"} for n in networks}},
    }
    return json.dumps([doc])


def test_docker_runtime_runs_the_pinned_image_with_the_directory_mounted_and_ports_published(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    runner.answer(
        ["docker", "container", "inspect", hx.CONTAINER], returncode=1, stdout="[]\n", stderr=NO_CONTAINER_ERROR
    )
    runner.expect(
        [
            *("docker", "run", "-d", "--name", "kenv-haproxy", "--label", "io.kenv.component=haproxy"),
            *("--restart", "unless-stopped", "--network", "kenv"),
            *("-p", "127.0.0.1:80:8080", "-p", "127.0.0.1:443:8443"),
            *("-v", f"{tmp_path}:/usr/local/etc/haproxy:ro", hx.IMAGE),
        ]
    )
    runner.expect(["docker", "logs", "--since"], stderr=LOADED_LOG, prefix=True)
    hx.start_docker(runner, tmp_path, network="kenv", bind="127.0.0.1", http_port=80, https_port=443)
    runner.assert_done()


# What `haproxy -W -db` prints on a start and a reload (2.6.12, captured): the master's lines and
# the old worker's (pid 8), in either order.
LOADED_LOG = "[NOTICE]   (1) : New worker (8) forked\n[NOTICE]   (1) : Loading success.\n"
RELOADED_LOG = (
    "[NOTICE]   (1) : Reloading HAProxy\n"
    "[WARNING]  (8) : Proxy fe_http stopped (cumulated conns: FE: 1, BE: 0).\n"
    "[NOTICE]   (1) : New worker (9) forked\n[NOTICE]   (1) : Loading success.\n"
)
FAILED_LOG = (
    "[NOTICE]   (1) : Reloading HAProxy\n"
    "[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:11] : "
    "unknown keyword 'bogus' in 'frontend' section\n"
    "[WARNING]  (1) : Loading failure!\n"
)


def test_a_docker_reload_waits_for_the_masters_word_and_the_old_workers_stop_and_reports_a_refusal() -> None:
    runner = ScriptedRunner()
    runner.expect(["docker", "kill", "-s", "HUP", hx.CONTAINER])
    runner.expect(["docker", "logs", "--since"], stderr="[NOTICE]   (1) : Reloading HAProxy\n", prefix=True)
    loaded = "[NOTICE]   (1) : Reloading HAProxy\n" + LOADED_LOG
    runner.expect(["docker", "logs", "--since"], stderr=loaded, prefix=True)  # the old worker still accepts
    runner.expect(["docker", "logs", "--since"], stderr=RELOADED_LOG, prefix=True)
    hx.reload_docker(runner)
    runner.assert_done()
    runner.expect(["docker", "kill", "-s", "HUP", hx.CONTAINER])
    runner.expect(["docker", "logs", "--since"], stderr=FAILED_LOG, prefix=True)
    with pytest.raises(OperationFailed, match=r"kept the old configuration \(reload\): .*unknown keyword 'bogus'"):
        hx.reload_docker(runner)
    runner.assert_done()


def test_stopping_the_container_is_the_images_graceful_stop_then_a_removal() -> None:
    runner = ScriptedRunner()
    runner.answer(["docker", "container", "inspect", hx.CONTAINER], stdout=_inspect(True, ["kenv"]))
    runner.expect(["docker", "stop", "-t", "10", hx.CONTAINER])
    runner.expect(["docker", "rm", hx.CONTAINER])
    hx.stop_docker(runner)
    runner.assert_done()


def test_a_log_docker_cannot_read_back_is_not_waited_for() -> None:
    runner = ScriptedRunner()
    runner.expect(["docker", "kill", "-s", "HUP", hx.CONTAINER])
    stderr = 'Error response from daemon: configured logging driver does not support reading\n'
    runner.expect(["docker", "logs", "--since"], returncode=1, stderr=stderr, prefix=True)
    hx.reload_docker(runner)
    runner.assert_done()


def test_docker_runtime_starts_a_stopped_container_joins_missing_networks_and_reloads_with_hup() -> None:
    runner = ScriptedRunner()
    runner.answer(["docker", "container", "inspect", hx.CONTAINER], stdout=_inspect(False, ["kenv", "k3d-dev"]))
    runner.expect(["docker", "start", hx.CONTAINER])
    runner.expect(["docker", "logs", "--since"], stderr=LOADED_LOG, prefix=True)
    runner.expect(["docker", "network", "connect", "kind", hx.CONTAINER])
    runner.expect(["docker", "kill", "-s", "HUP", hx.CONTAINER])
    runner.expect(["docker", "logs", "--since"], stderr=RELOADED_LOG, prefix=True)
    hx.start_docker(runner, Path("/d"), network="kenv", bind="127.0.0.1", http_port=80, https_port=443)
    hx.connect_networks(runner, ["k3d-dev", "kind"])
    hx.reload_docker(runner)
    runner.assert_done()


def test_a_refused_configuration_names_haproxys_alert(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    alert = "[ALERT]    (1) : config : parsing [x.cfg:3] : unknown keyword 'bogus' in 'global' section\n"
    runner.answer(["haproxy", "-c", "-f", str(tmp_path / "x.cfg")], returncode=1, stderr=alert)
    with pytest.raises(OperationFailed, match="unknown keyword 'bogus'"):
        hx.check_config_binary(runner, tmp_path / "x.cfg")


def test_a_check_docker_could_not_run_says_so_instead_of_blaming_the_configuration(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    stderr = "Unable to find image 'haproxy:2.6.31-alpine' locally\ndocker: Error response from daemon: no such host\n"
    runner.answer(["docker", "run", "--rm"], returncode=125, stderr=stderr, prefix=True)
    with pytest.raises(ExternalCommandError, match=r"docker could not run .*no such host") as caught:
        hx.check_config_docker(runner, tmp_path, "new.cfg")
    assert caught.value.hint is not None and 'haproxy_runtime = "binary"' in caught.value.hint


# -- the address a route takes, read through the provider and one `docker inspect` -----------------


def _kind_world(isolated: Path, networks: dict[str, str]) -> ScriptedRunner:
    """A registered kind environment `qa` whose control plane is on `networks`."""
    assert run_kenv("register", "qa", "--provider", "kind", "--node-port", "30123").returncode == 0
    runner = ScriptedRunner()
    node = {"Names": "qa-control-plane", "State": "running"}
    node["Labels"] = "io.x-k8s.kind.cluster=qa,io.x-k8s.kind.role=control-plane"
    runner.answer(
        ["docker", "ps", "-a", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster"],
        stdout=json.dumps(node) + "\n",
        prefix=True,
    )
    runner.answer(
        ["docker", "inspect", "--type", "container", "qa-control-plane"],
        stdout=json.dumps([{"Name": "/qa-control-plane", **_doc(networks)}]),
    )
    runner.answer(
        ["docker", "inspect", "--type", "container", "kenv-portainer"],
        returncode=1,
        stdout="[]\n",
        stderr="Error: No such container: kenv-portainer\n",
    )
    return runner


def test_a_kind_node_also_on_the_platform_network_is_routed_on_kinds_network(isolated: Path) -> None:
    runner = _kind_world(isolated, {"kenv": "172.30.0.4", "kind": "172.18.0.2"})
    result = routes(WorkflowContext(load_settings(), runner=runner))
    (entry,) = result.entries
    assert (entry.backend, entry.state, entry.reason) == ("172.18.0.2:30123", "routed", "address on network kind")
    text = render(config_input(WorkflowContext(load_settings(), runner=runner), result))
    assert "server node 172.18.0.2:30123 " in text and "172.30.0.4" not in text


def test_a_node_on_two_foreign_networks_is_skipped_not_guessed(isolated: Path) -> None:
    runner = _kind_world(isolated, {"a": "10.1.0.2", "b": "10.2.0.2"})
    (entry,) = routes(WorkflowContext(load_settings(), runner=runner)).entries
    assert entry.backend is None and entry.state == "skipped"
    assert entry.reason == "the node is on several networks (a, b) and none is kind"


def test_sockets_move_to_a_short_private_directory_when_the_data_path_is_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    short = hx.Paths(Path("/d/haproxy"))
    assert short.master_socket == Path("/d/haproxy/master.sock")
    deep = hx.Paths(tmp_path / ("x" * 90) / "haproxy")
    run = Path(tempfile.mkdtemp(prefix="run", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    request.addfinalizer(lambda: shutil.rmtree(run, ignore_errors=True))
    assert len(str(deep.master_socket)) <= hx.SOCKET_PATH_MAX
    assert deep.master_socket.parent == deep.stats_socket.parent != deep.directory
    assert deep.socket_directory == hx.Paths(tmp_path / ("x" * 90) / "haproxy").socket_directory  # stable
    deep.ensure_socket_directory()
    assert deep.socket_directory.stat().st_mode & 0o777 == 0o700
    assert deep.socket_directory.is_relative_to(run)
    # A directory of that name that others may write is refused, not used.
    deep.socket_directory.chmod(0o777)
    with pytest.raises(OperationFailed, match="not a private directory"):
        deep.ensure_socket_directory()
    # A runtime directory too deep for a socket path: the next candidate (the temporary directory).
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("r" * 80)))
    assert len(str(deep.master_socket)) <= hx.SOCKET_PATH_MAX
