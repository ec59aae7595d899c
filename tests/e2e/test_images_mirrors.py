"""[images] mirrors and proxies end to end (issue 8 §4): `kenv create` gives each fake provider its
native form (k3d --registry-config and -e, kind host files mounted into the nodes and proxy
variables on the kind process, minikube flags), the nodes really hold the configuration, and
`kenv images mirrors show` prints it, probes each mirror and proxy, and flags a node that holds
another configuration than the current one.

A tiny HTTP server in the test answers `/v2/` with 401 (a registry asking for a token): the
reachable mirror. A port nobody listens on is the unreachable one.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.lifecycle_support import Fleet


class _Registry(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401 if self.path == "/v2/" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def configure(fleet: Fleet, text: str) -> None:
    fleet.home.mkdir(parents=True, exist_ok=True)
    (fleet.home / "config.toml").write_text(text)


def create_calls(fleet: Fleet, tool: str) -> list[list[str]]:
    prefix = {
        "k3d": ["k3d", "cluster", "create"],
        "kind": ["kind", "create", "cluster"],
        "minikube": ["minikube", "start"],
    }
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if [str(a) for a in c["argv"]][: len(prefix[tool])] == prefix[tool]  # type: ignore[attr-defined]
    ]


def fake_state(fleet: Fleet) -> dict[str, object]:
    return json.loads((fleet.state / "state.json").read_text())


def test_k3d_gets_the_registries_file_and_node_env_and_mirrors_show_reads_it_back(fleet: Fleet, mirror: str) -> None:
    # The mirror's own listening port doubles as a proxy that accepts connections.
    configure(
        fleet,
        f'[images]\nmirrors = {{"docker.io" = ["{mirror}"]}}\nhttps_proxy = "{mirror}"\n'
        'no_proxy = ["internal.example"]\ninsecure_registries = ["registry.lan:5000"]\n',
    )
    result = fleet.run("create", "dev", "--provider", "k3d", "--agents", "1")
    assert result.returncode == 0, result.stderr
    assert "does not answer" not in result.stderr
    registries = fleet.home / "data" / "k3d" / "dev-registries.yaml"
    (argv,) = create_calls(fleet, "k3d")
    assert argv[argv.index("--registry-config") + 1] == str(registries)
    no_proxy = (
        "localhost,127.0.0.1,10.200.0.0/24,10.42.0.0/16,10.43.0.0/16,.svc,.cluster.local,127.0.0.1,internal.example"
    )
    no_proxy = ",".join(dict.fromkeys(no_proxy.split(",")))
    assert ["-e", f"HTTPS_PROXY={mirror}@server:*", "-e", f"HTTPS_PROXY={mirror}@agent:*"] == argv[
        argv.index("-e") : argv.index("-e") + 4
    ]
    assert f"NO_PROXY={no_proxy}@agent:*" in argv
    assert yaml.safe_load(registries.read_text())["mirrors"]["docker.io"] == {"endpoint": [mirror]}
    clusters = fake_state(fleet)["clusters"]
    nodes = {n["name"]: n for n in clusters["k3d/dev"]["nodes"]}  # type: ignore[index]
    assert "/etc/rancher/k3s/registries.yaml" in nodes["k3d-dev-agent-0"]["files"]
    assert "files" not in nodes["k3d-dev-serverlb"], "k3d writes it into servers and agents only"
    assert f"HTTPS_PROXY={mirror}" in nodes["k3d-dev-agent-0"]["env"]

    table = fleet.run("images", "mirrors", "show", "dev")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert any(line.split()[:4] == ["mirror", "docker.io", mirror, "yes"] for line in lines), table.stdout
    assert any(line.split()[:4] == ["proxy", "HTTPS_PROXY", mirror, "yes"] for line in lines), table.stdout
    assert "  /etc/rancher/k3s/registries.yaml  same" in lines

    report = json.loads(fleet.ok("images", "mirrors", "show", "dev", "-o", "json"))
    assert list(report) == [
        "environment", "provider", "configured", "args", "tool_env", "node_env", "no_proxy", "files",
        "kind_config", "notes", "endpoints", "node", "drift",
    ]  # fmt: skip
    assert report["no_proxy"] == no_proxy.split(",")
    assert report["node"]["name"] == "k3d-dev-server-0" and report["drift"] is False
    assert report["node"]["files"][0]["state"] == "same"
    assert {e["url"]: e["answers"] for e in report["endpoints"]} == {mirror: True}

    # The config changes after create: the node still holds the old file, and says so (exit 3).
    configure(fleet, f'[images]\nmirrors = {{"docker.io" = ["{mirror}", "https://mirror.example"]}}\n')
    drift = fleet.run("images", "mirrors", "show", "dev", "--no-probe")
    assert drift.returncode == 3, drift.stderr
    assert "  /etc/rancher/k3s/registries.yaml  differs" in drift.stdout.splitlines()
    (line,) = drift.stderr.strip().splitlines()
    assert "k3d-dev-server-0 holds another registry configuration than [images]" in line
    assert "`kenv delete dev` and `kenv create dev`" in line

    # A stopped cluster is not read: the table says so, JSON has no node.
    fleet.ok("stop", "dev")
    stopped = fleet.run("images", "mirrors", "show", "dev", "--no-probe")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1] == "nodes: the cluster does not run: no node was read"
    assert json.loads(fleet.ok("images", "mirrors", "show", "dev", "--no-probe", "-o", "json"))["node"] is None


def test_an_unreachable_mirror_is_named_at_create_which_goes_on(fleet: Fleet, mirror: str, dead: str) -> None:
    configure(fleet, f'[images]\nmirrors = {{"docker.io" = ["{dead}", "{mirror}"]}}\nhttp_proxy = "{dead}"\n')
    result = fleet.run("create", "dev", "--provider", "k3d")
    assert result.returncode == 0, result.stderr
    assert f"warning: mirror {dead} (for docker.io) does not answer: no answer from {dead}/v2/" in result.stderr
    assert f"warning: proxy {dead} does not answer" in result.stderr
    assert f"mirror {mirror}" not in result.stderr
    show = fleet.run("images", "mirrors", "show", "dev", "-o", "json")
    assert show.returncode == 3
    answers = {(e["role"], e["url"]): e["answers"] for e in json.loads(show.stdout)["endpoints"]}
    assert answers == {("mirror", dead): False, ("mirror", mirror): True, ("proxy", dead): False}
    assert show.stderr.strip() == (f"kenv: error: not answering: mirror {dead}, proxy {dead} (see the table)")


def test_kind_nodes_hold_the_host_files_and_get_the_proxy_variables(fleet: Fleet, mirror: str) -> None:
    configure(
        fleet,
        f'[images]\nmirrors = {{"docker.io" = ["{mirror}"]}}\nhttp_proxy = "{mirror}"\n'
        'insecure_registries = ["registry.lan:5000"]\n',
    )
    fleet.ok("create", "qa", "--provider", "kind", "--agents", "1")
    config = yaml.safe_load((fleet.home / "data" / "kind" / "qa.yaml").read_text())
    directory = str(fleet.home / "data" / "kind" / "qa-certs.d")
    assert [n["extraMounts"] for n in config["nodes"]] == [
        [{"hostPath": directory, "containerPath": "/etc/containerd/certs.d", "readOnly": True}]
    ] * 2
    assert 'config_path = "/etc/containerd/certs.d"' in config["containerdConfigPatches"][0]
    nodes = fake_state(fleet)["clusters"]["kind/qa"]["nodes"]  # type: ignore[index]
    env = dict(item.split("=", 1) for item in nodes[1]["env"])  # type: ignore[index]
    assert env["HTTP_PROXY"] == env["http_proxy"] == mirror
    assert env["NO_PROXY"].split(",")[1:4] == ["localhost", "127.0.0.1", "10.244.0.0/16"]
    assert "qa-worker" in env["NO_PROXY"].split(","), "kind adds its node names itself"

    report = json.loads(fleet.ok("images", "mirrors", "show", "qa", "-o", "json"))
    files = {f["path"]: f["state"] for f in report["node"]["files"]}
    assert files == {
        "/etc/containerd/certs.d/docker.io/hosts.toml": "same",
        "/etc/containerd/certs.d/registry.lan:5000/hosts.toml": "same",
    }
    assert report["kind_config"]["extraMounts"][0]["hostPath"] == directory

    # The registry dropped from the config: its host file in the node is flagged.
    configure(fleet, f'[images]\nmirrors = {{"docker.io" = ["{mirror}"]}}\n')
    drift = fleet.run("images", "mirrors", "show", "qa", "-o", "json", "--no-probe")
    assert drift.returncode == 3
    states = {f["path"]: f["state"] for f in json.loads(drift.stdout)["node"]["files"]}
    assert states["/etc/containerd/certs.d/registry.lan:5000/hosts.toml"] == "unexpected"


def test_minikube_dry_run_prints_the_exact_flags_and_writes_nothing(fleet: Fleet, mirror: str) -> None:
    configure(
        fleet,
        f'[images]\nmirrors = {{"docker.io" = ["{mirror}"], "ghcr.io" = ["{mirror}"]}}\n'
        f'https_proxy = "{mirror}"\ninsecure_registries = ["registry.lan:5000"]\n',
    )
    result = fleet.run("create", "mk", "--provider", "minikube", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert (
        f"--registry-mirror={mirror} --insecure-registry=registry.lan:5000 --docker-env=HTTPS_PROXY={mirror} "
        "--docker-env=NO_PROXY=localhost,127.0.0.1,10.200.0.0/24,10.244.0.0/16,10.96.0.0/12,.svc,"
        ".cluster.local"
    ) in result.stderr
    assert "warning: mirrors of ghcr.io are not applied: minikube's --registry-mirror serves Docker Hub only" in (
        result.stderr
    )
    assert create_calls(fleet, "minikube") == []
    assert not (fleet.home / "data" / "k3d").exists()


def test_k3d_dry_run_prints_registry_config_and_writes_no_file(fleet: Fleet, mirror: str) -> None:
    configure(fleet, f'[images]\nmirrors = {{"docker.io" = ["{mirror}"]}}\n')
    result = fleet.run("create", "dev", "--provider", "k3d", "--dry-run")
    assert result.returncode == 0, result.stderr
    registries = fleet.home / "data" / "k3d" / "dev-registries.yaml"
    assert f"--registry-config {registries}" in result.stderr
    assert not registries.exists()


def test_no_images_table_no_change_and_show_says_so(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "k3d")
    (argv,) = create_calls(fleet, "k3d")
    assert "--registry-config" not in argv and "-e" not in argv
    shown = fleet.ok("images", "mirrors", "show", "dev")
    assert "not configured" in shown
    report = json.loads(fleet.ok("images", "mirrors", "show", "dev", "-o", "json"))
    assert report["configured"] is False and report["args"] == [] and report["node"]["files"] == []


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        (
            '[images]\nmirrors = {"docker.io" = ["mirror.example"]}\n',
            "[images].mirrors.docker.io: 'mirror.example' is not an http(s) URL",
        ),
        ('[images]\nproxy = "http://p.example:3128"\n', "[images] has unknown key(s): proxy"),
        ('images = "docker.io"\n', "[images]: must be a table"),
    ],
)
def test_a_bad_images_table_is_one_line_exit_2(fleet: Fleet, table: str, fragment: str) -> None:
    configure(fleet, table)
    result = fleet.run("images", "mirrors", "show", "dev")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("kenv: error: ") and fragment in line


def test_unknown_environment_and_external_cluster_are_refused(fleet: Fleet) -> None:
    missing = fleet.run("images", "mirrors", "show", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr
    fleet.ok("register", "ext", "--provider", "external")
    external = fleet.run("images", "mirrors", "show", "ext")
    assert external.returncode == 2
    assert external.stderr.strip() == (
        "kenv: error: 'ext' is an external cluster: kenv does not configure its registries; "
        "configure mirrors on that cluster's own nodes"
    )


def test_kind_dry_run_says_what_it_would_write_mount_and_pass(fleet: Fleet, mirror: str) -> None:
    configure(fleet, f'[images]\nmirrors = {{"docker.io" = ["{mirror}"]}}\nhttp_proxy = "{mirror}"\n')
    result = fleet.run("create", "qa", "--provider", "kind", "--dry-run")
    assert result.returncode == 0, result.stderr
    directory = fleet.home / "data" / "kind" / "qa-certs.d"
    assert f"qa: would write {directory}/docker.io/hosts.toml" in result.stderr
    assert f"qa: would mount {directory} at /etc/containerd/certs.d on every node" in result.stderr
    assert f"qa: would run kind with HTTP_PROXY={mirror} NO_PROXY=localhost,127.0.0.1,10.244.0.0/16" in result.stderr
    assert not directory.exists() and create_calls(fleet, "kind") == []
