"""[images] in each provider's own form (providers/image_supply.py), the providers' create paths
with it, the table's parse errors, and the reachability probes against local servers."""

from __future__ import annotations

import http.server
import socket
import stat
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kenv.errors import InvalidInput
from kenv.providers.base import CreateOptions
from kenv.providers.image_supply import (
    KIND_CONFIG_PATCH,
    bare_host,
    hosts_toml,
    k3d_env_flags,
    k3s_registries,
    no_proxy,
    plan_supply,
    proxy_env,
)
from kenv.providers.k3d import K3d
from kenv.providers.kind import Kind, render_config
from kenv.providers.minikube import Minikube
from kenv.runtime.registry_probe import probe_all, probe_mirror, probe_proxy
from kenv.settings import ImageSupply, parse_image_supply
from tests.unit.scripted_runner import ScriptedRunner, environment

FULL = parse_image_supply(
    {
        "mirrors": {
            "index.docker.io": ["https://mirror.example/", "http://10.0.0.5:5000"],
            "ghcr.io": ["http://10.0.0.5:5000"],
        },
        "http_proxy": "http://proxy.example:3128",
        "https_proxy": "http://proxy.example:3128",
        "no_proxy": ["internal.example", "localhost"],
        "insecure_registries": ["10.0.0.5:5000", "registry.lan:5000"],
    },
    "config.toml: [images]",
)
MIRRORS_ONLY = parse_image_supply({"mirrors": {"docker.io": ["https://mirror.example"]}}, "t")


# -- NO_PROXY and node env -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "subnet", "networks"),
    [
        ("k3d", "10.200.0.0/24", ["10.200.0.0/24", "10.42.0.0/16", "10.43.0.0/16"]),
        ("kind", None, ["10.244.0.0/16", "10.96.0.0/12"]),
        ("minikube", "10.200.3.0/24", ["10.200.3.0/24", "10.244.0.0/16", "10.96.0.0/12"]),
    ],
)
def test_no_proxy_has_loopback_networks_cluster_domains_mirrors_then_the_users_own(
    provider: str, subnet: str | None, networks: list[str]
) -> None:
    env = environment(provider=provider, subnet=subnet)
    assert no_proxy(FULL, env) == (
        "localhost",
        "127.0.0.1",
        *networks,
        ".svc",
        ".cluster.local",
        "mirror.example",
        "10.0.0.5",  # the mirror's host without its port: every port of it goes direct
        "internal.example",  # "localhost", given again by the user, is not repeated
    )


def test_bare_host_drops_the_port_and_keeps_ipv6_brackets() -> None:
    assert [bare_host(h) for h in ("a.example:5000", "a.example", "[fd00::1]:5000", "[fd00::1]")] == [
        "a.example",
        "a.example",
        "[fd00::1]",
        "[fd00::1]",
    ]


def test_without_a_proxy_there_is_no_node_env_at_all() -> None:
    env = environment(subnet="10.200.0.0/24")
    assert proxy_env(MIRRORS_ONLY, env) == {}
    assert proxy_env(parse_image_supply({"no_proxy": ["x.example"]}, "t"), env) == {}
    assert proxy_env(FULL, env)["NO_PROXY"] == ",".join(no_proxy(FULL, env))


# -- nothing configured: nothing changes -----------------------------------------------------------


def test_an_empty_images_table_changes_no_command_line_file_or_environment(tmp_path: Path) -> None:
    empty = ImageSupply()
    for provider in ("k3d", "kind", "minikube", "external"):
        assert plan_supply(empty, environment(provider=provider), tmp_path).empty
    k3d_env = environment(subnet="10.200.0.0/24", ports={"api": 16400})
    k3d = K3d(ScriptedRunner(), tmp_path)
    assert k3d.create_argv(k3d_env, CreateOptions(kubeconfig=tmp_path / "k", images=empty)) == k3d.create_argv(
        k3d_env, CreateOptions(kubeconfig=tmp_path / "k")
    )
    assert "--registry-config" not in k3d.create_argv(k3d_env, CreateOptions(kubeconfig=tmp_path / "k"))
    kind_env = environment(provider="kind", servers=2, agents=1)
    assert render_config(kind_env, plan_supply(empty, kind_env, tmp_path)) == render_config(kind_env)
    mk = Minikube(ScriptedRunner(), tmp_path)
    mk_env = environment(provider="minikube")
    assert mk.create_argv(mk_env, CreateOptions(kubeconfig=tmp_path / "k")) == mk.create_argv(
        mk_env, CreateOptions(kubeconfig=tmp_path / "k", images=empty)
    )


# -- k3d -------------------------------------------------------------------------------------------


def test_k3s_registries_yaml_mirrors_in_order_insecure_over_http_and_unverified_tls() -> None:
    document = k3s_registries(FULL)
    assert document == {
        "mirrors": {
            "docker.io": {"endpoint": ["https://mirror.example", "http://10.0.0.5:5000"]},
            "ghcr.io": {"endpoint": ["http://10.0.0.5:5000"]},
            "10.0.0.5:5000": {"endpoint": ["http://10.0.0.5:5000"]},
            "registry.lan:5000": {"endpoint": ["http://registry.lan:5000"]},
        },
        "configs": {
            "10.0.0.5:5000": {"tls": {"insecure_skip_verify": True}},
            "registry.lan:5000": {"tls": {"insecure_skip_verify": True}},
        },
    }
    # host:port keys survive a YAML round trip (k3d parses the file with a YAML library)
    assert yaml.safe_load(yaml.safe_dump(document)) == document
    assert k3s_registries(parse_image_supply({"http_proxy": "http://p.example:3128"}, "t")) is None


def test_k3d_gets_registry_config_and_node_env_for_servers_and_agents(tmp_path: Path) -> None:
    env = environment(subnet="10.200.0.0/24", agents=2)
    plan = plan_supply(FULL, env, tmp_path)
    registries = str(tmp_path / "k3d" / "dev-registries.yaml")
    assert plan.args[:2] == ("--registry-config", registries)
    assert plan.files == {registries: yaml.safe_dump(k3s_registries(FULL), sort_keys=False)}
    assert plan.node_files == {"/etc/rancher/k3s/registries.yaml": plan.files[registries]}
    flags = list(plan.args[2:])
    assert flags[:4] == [
        "-e",
        "HTTP_PROXY=http://proxy.example:3128@server:*",
        "-e",
        "HTTP_PROXY=http://proxy.example:3128@agent:*",
    ]
    assert f"NO_PROXY={','.join(no_proxy(FULL, env))}@agent:*" in flags
    assert plan.tool_env == {}, "k3d passes nothing of its own environment to the nodes"


def test_k3d_env_flags_name_only_servers_without_agents_and_escape_a_literal_at() -> None:
    flags = k3d_env_flags({"HTTP_PROXY": "http://u@p.example:3128"}, environment(agents=0))
    assert flags == ["-e", "HTTP_PROXY=http://u\\@p.example:3128@server:*"]


def test_k3d_create_writes_the_registries_file_0600_then_runs_k3d_with_it(tmp_path: Path) -> None:
    env = environment(subnet=None)
    runner = ScriptedRunner().expect(["k3d", "cluster", "create", "dev"], prefix=True)
    K3d(runner, tmp_path).create(env, CreateOptions(kubeconfig=tmp_path / "k", images=FULL))
    path = tmp_path / "k3d" / "dev-registries.yaml"
    assert yaml.safe_load(path.read_text()) == k3s_registries(FULL)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ["--registry-config", str(path)] == list(runner.argvs[0][runner.argvs[0].index("--registry-config") :][:2])
    runner.assert_done()


def test_k3d_dry_run_plans_the_flags_and_writes_no_file(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True)
    K3d(runner, tmp_path).create(environment(), CreateOptions(kubeconfig=tmp_path / "k", images=FULL))
    assert "--registry-config" in runner.planned[0]
    assert not (tmp_path / "k3d").exists()


# -- kind ------------------------------------------------------------------------------------------


def test_hosts_toml_per_registry_mirrors_first_then_the_registry_itself() -> None:
    files = {path: tomllib.loads(text) for path, text in hosts_toml(FULL).items()}
    assert list(files) == [
        "docker.io/hosts.toml",
        "ghcr.io/hosts.toml",
        "10.0.0.5:5000/hosts.toml",
        "registry.lan:5000/hosts.toml",
    ]
    hub = files["docker.io/hosts.toml"]
    assert hub["server"] == "https://registry-1.docker.io"
    assert list(hub["host"]) == ["https://mirror.example", "http://10.0.0.5:5000"]
    assert hub["host"]["https://mirror.example"] == {"capabilities": ["pull", "resolve"]}
    assert hub["host"]["http://10.0.0.5:5000"]["skip_verify"] is True
    assert files["ghcr.io/hosts.toml"]["server"] == "https://ghcr.io"
    # an insecure registry without a mirror, as minikube writes it (cruntime/containerd.go)
    lan = files["registry.lan:5000/hosts.toml"]
    assert lan == {
        "server": "http://registry.lan:5000",
        "host": {"http://registry.lan:5000": {"capabilities": ["pull", "resolve"], "skip_verify": True}},
    }


def test_kind_config_mounts_the_host_directory_on_every_node_and_sets_config_path(tmp_path: Path) -> None:
    env = environment(provider="kind", servers=3, agents=2)
    plan = plan_supply(FULL, env, tmp_path)
    config = render_config(env, plan)
    directory = str(tmp_path / "kind" / "dev-certs.d")
    assert config["containerdConfigPatches"] == [KIND_CONFIG_PATCH]
    tomllib.loads(KIND_CONFIG_PATCH)  # kind patches config.toml with it: it must be TOML
    assert len(config["nodes"]) == 5
    for node in config["nodes"]:
        assert node["extraMounts"] == [
            {"hostPath": directory, "containerPath": "/etc/containerd/certs.d", "readOnly": True}
        ]
    assert "&id" not in yaml.safe_dump(config), "every node its own mapping: no YAML anchors in the file"
    assert plan.tool_env["HTTPS_PROXY"] == plan.tool_env["https_proxy"] == "http://proxy.example:3128"


def test_kind_proxies_only_no_mount_no_patch(tmp_path: Path) -> None:
    env = environment(provider="kind")
    plan = plan_supply(parse_image_supply({"https_proxy": "http://p.example:3128"}, "t"), env, tmp_path)
    assert render_config(env, plan) == render_config(env)
    assert plan.tool_env["NO_PROXY"].startswith("localhost,127.0.0.1,10.244.0.0/16,10.96.0.0/12,.svc")


def test_kind_create_rewrites_its_host_directory_and_runs_kind_with_the_proxies(tmp_path: Path) -> None:
    env = environment(provider="kind", k8s_version="v1.31.12")  # no `kind version` asked
    stale = tmp_path / "kind" / "dev-certs.d" / "quay.io" / "hosts.toml"
    stale.parent.mkdir(parents=True)
    stale.write_text('server = "https://quay.io"\n')
    runner = ScriptedRunner().expect(["kind", "create", "cluster"], prefix=True)
    Kind(runner, tmp_path).create(env, CreateOptions(kubeconfig=tmp_path / "k", images=FULL))
    directory = tmp_path / "kind" / "dev-certs.d"
    assert sorted(p.parent.name for p in directory.glob("*/hosts.toml")) == sorted(
        ["docker.io", "ghcr.io", "10.0.0.5:5000", "registry.lan:5000"]
    )
    written = yaml.safe_load((tmp_path / "kind" / "dev.yaml").read_text())
    assert written["nodes"][0]["extraMounts"][0]["hostPath"] == str(directory)
    assert runner.calls[0].extra_env is not None and runner.calls[0].extra_env["HTTP_PROXY"] == FULL.http_proxy


# -- minikube --------------------------------------------------------------------------------------


def test_minikube_gets_docker_hub_mirrors_insecure_registries_and_docker_env(tmp_path: Path) -> None:
    env = environment(provider="minikube", subnet="10.200.3.0/24")
    plan = plan_supply(FULL, env, tmp_path)
    assert plan.args == (
        "--registry-mirror=https://mirror.example",
        "--registry-mirror=http://10.0.0.5:5000",
        "--insecure-registry=10.0.0.5:5000",
        "--insecure-registry=registry.lan:5000",
        "--docker-env=HTTP_PROXY=http://proxy.example:3128",
        "--docker-env=HTTPS_PROXY=http://proxy.example:3128",
        f"--docker-env=NO_PROXY={','.join(no_proxy(FULL, env))}",
    )
    assert not any(a.startswith("--image-repository") for a in plan.args)
    assert plan.notes == ("mirrors of ghcr.io are not applied: minikube's --registry-mirror serves Docker Hub only",)
    assert plan.files == {}


def test_minikube_start_runs_with_the_same_proxy_values_and_its_kubeconfig(tmp_path: Path) -> None:
    env = environment(provider="minikube")
    runner = ScriptedRunner().expect(["minikube", "start"], prefix=True)
    Minikube(runner, tmp_path).create(env, CreateOptions(kubeconfig=tmp_path / "k", images=FULL))
    extra = runner.calls[0].extra_env or {}
    assert extra["KUBECONFIG"] == str(tmp_path / "k")
    assert extra["no_proxy"] == extra["NO_PROXY"] == ",".join(no_proxy(FULL, env))


# -- the [images] table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("mirrors", "must be a table"),
        ({"mirror": {}}, "unknown key(s): mirror"),
        ({"mirrors": ["https://m.example"]}, "must be a table of registry"),
        ({"mirrors": {"docker.io": ["ftp://m.example"]}}, "is not an http(s) URL"),
        ({"mirrors": {"docker.io": ["https://user@m.example"]}}, "https://…@… carries credentials"),
        ({"https_proxy": "http://u:secret@p.example:3128"}, "https_proxy: http://…@… carries credentials"),
        ({"mirrors": {"docker.io": []}}, "give a list of mirror URLs"),
        ({"mirrors": {"Docker Hub": ["https://m.example"]}}, "is not a registry host"),
        ({"http_proxy": "proxy.example:3128"}, "http_proxy: 'proxy.example:3128' is not an http(s) URL"),
        ({"insecure_registries": ["http://10.0.0.5:5000"]}, "is not host[:port]"),
        ({"no_proxy": ["a b"]}, "contains whitespace"),
    ],
)
def test_bad_images_table_is_one_clear_error_naming_the_key(raw: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_image_supply(raw, "config.toml: [images]")
    assert fragment in caught.value.one_line()
    assert "secret" not in caught.value.one_line()
    assert caught.value.one_line().startswith("config.toml: [images]")


def test_docker_hub_aliases_are_one_registry() -> None:
    assert FULL.endpoints("registry-1.docker.io") == FULL.endpoints("docker.io") == FULL.mirrors["docker.io"]
    assert FULL.mirrors["docker.io"] == ("https://mirror.example", "http://10.0.0.5:5000"), "trailing / dropped"


# -- reachability ----------------------------------------------------------------------------------


class _Registry(http.server.BaseHTTPRequestHandler):
    status = 401

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/v2/" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: http.server.HTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_mirror_answering_401_at_v2_answers_even_with_a_dead_proxy_in_the_environment(
    registry: http.server.HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(variable, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert probe_mirror(_url(registry)) is None


def test_a_server_that_is_not_a_registry_and_a_closed_port_are_named(registry: http.server.HTTPServer) -> None:
    assert probe_mirror(_url(registry) + "/elsewhere") == (
        f"{_url(registry)}/elsewhere/v2/ answered HTTP 404, not a registry API (200 or 401)"
    )
    port = _closed_port()
    reason = probe_mirror(f"http://127.0.0.1:{port}", timeout=1)
    assert reason is not None and reason.startswith(f"no answer from http://127.0.0.1:{port}/v2/:")


def test_a_proxy_answers_when_its_port_accepts_connections(registry: http.server.HTTPServer) -> None:
    assert probe_proxy(_url(registry)) is None
    port = _closed_port()
    assert probe_proxy(f"http://127.0.0.1:{port}", timeout=1) == (
        f"no answer at 127.0.0.1:{port}: [Errno 111] Connection refused"
    )


def test_probe_all_waits_one_timeout_not_their_sum(registry: http.server.HTTPServer) -> None:
    import time

    # 192.0.2.0/24 (TEST-NET-1) is never routed: each probe waits its whole timeout.
    started = time.monotonic()
    answers = probe_all(
        [(_url(registry), True), ("http://192.0.2.1:5000", True), ("http://192.0.2.2:5000", True)],
        ["http://192.0.2.3:3128"],
        timeout=1,
    )
    assert time.monotonic() - started < 2.5
    assert answers[("mirror", _url(registry))] is None
    assert answers[("mirror", "http://192.0.2.1:5000")] and answers[("mirror", "http://192.0.2.2:5000")]
    assert answers[("proxy", "http://192.0.2.3:3128")]


def test_a_registries_file_k3d_marshalled_again_is_the_same_configuration() -> None:
    from kenv.workflows.images_mirrors import _registries_equal

    ours = yaml.safe_dump(k3s_registries(FULL))
    theirs = yaml.safe_dump(
        {
            "mirrors": {
                registry: {"endpoint": entry["endpoint"], "rewrite": {}}
                for registry, entry in (k3s_registries(FULL) or {})["mirrors"].items()
            },
            "configs": {
                "10.0.0.5:5000": {"auth": None, "tls": {"ca_file": "", "insecure_skip_verify": True}},
                "registry.lan:5000": {"auth": None, "tls": {"insecure_skip_verify": True}},
                "other.example": {"auth": None, "tls": {"insecure_skip_verify": False}},
            },
        }
    )
    assert _registries_equal(ours, theirs)
    reordered = ours.replace("https://mirror.example", "http://first.example")
    assert not _registries_equal(ours, reordered)
    assert not _registries_equal(ours, None)
    assert _registries_equal(None, "")
