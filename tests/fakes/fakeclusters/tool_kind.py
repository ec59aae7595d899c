"""Fake ``kind`` v0.27.0 (https://github.com/kubernetes-sigs/kind).

Sources: cmd/kind/app/main.go (errors: "ERROR: <msg>" on stderr, exit 1),
pkg/cmd/kind/** (commands and flags), pkg/cluster/internal/create/create.go
(create flow, clusterNameMax=50 warning, "node(s) already exist ..."),
pkg/cluster/internal/kubeconfig (kubeconfig export / lock file).
All log output goes to stderr; only data (cluster/node names, kubeconfig)
goes to stdout.

Environment knobs (besides the shared KENV_FAKE_*):
``KENV_FAKE_KIND_VERSION``  impersonated release (default v0.27.0): what ``kind version``
                            prints and the node image ``create cluster`` uses without
                            ``--image`` (pkg/apis/config/defaults/image.go at that tag; a
                            release not in _RELEASES gets the newest default listed)
"""

from __future__ import annotations

import os
import sys

from . import kindconfig, kubeconfig, model, netalloc
from .cli import BOOL, DURATION, INT, SLICE, Command, Flag, Parsed, UsageError, parse
from .common import archive_error, docker_down, docker_down_message, err, images_in_archive, out
from .env import FakeEnv, FakeExit

TOOL = "kind"
NETWORK = "kind"  # every kind cluster shares this Docker network
CLUSTER_NAME_MAX = 50  # create.go: longer names warn; the node hostname then exceeds 64 chars
# release -> (Go it was built with: .go-version, default node image: pkg/apis/config/defaults/image.go)
_RELEASES = {
    "v0.27.0": ("go1.23.6", model.KIND_DEFAULT_IMAGE),
    "v0.30.0": (
        "go1.24.6",
        "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a",
    ),
    "v0.32.0": (
        "go1.26.3",
        "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5",
    ),
}


def _release(env: FakeEnv) -> tuple[str, str, str]:
    """(version, go, default image) of the impersonated release (KENV_FAKE_KIND_VERSION)."""
    version = env.environ.get("KENV_FAKE_KIND_VERSION", "").strip() or model.KIND_VERSION
    go, image = _RELEASES.get(version, _RELEASES[max(_RELEASES, key=lambda v: tuple(map(int, v[1:].split("."))))])
    return version, go, image


class KindError(Exception):
    """An error kind's main() prints as 'ERROR: <message>' and exits 1."""

    def __init__(self, message: str, command_output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.command_output = command_output


def _tree() -> Command:
    name = Flag("name", short="n", default="kind")
    return Command(
        "kind",
        short="kind is a tool for managing local Kubernetes clusters",
        persistent=[Flag("loglevel", hidden=True), Flag("verbosity", INT, short="v"), Flag("quiet", BOOL, short="q")],
        flags=[Flag("version", BOOL)],
        subcommands=[
            Command("build", short="Build one of [node-image]"),
            Command("completion", short="Output shell completion code"),
            Command(
                "create",
                short="Creates one of [cluster]",
                subcommands=[
                    Command(
                        "cluster",
                        short="Creates a local Kubernetes cluster",
                        flags=[
                            Flag("name", short="n"),
                            Flag("config"),
                            Flag("image"),
                            Flag("retain", BOOL),
                            Flag("wait", DURATION),
                            Flag("kubeconfig"),
                        ],
                    )
                ],
            ),
            Command(
                "delete",
                short="Deletes one of [cluster]",
                subcommands=[
                    Command("cluster", short="Deletes a cluster", flags=[name, Flag("kubeconfig")]),
                    Command(
                        "clusters",
                        use="clusters",
                        short="Deletes one or more clusters",
                        flags=[Flag("all", BOOL, short="A"), Flag("kubeconfig")],
                    ),
                ],
            ),
            Command(
                "export",
                short="Exports one of [kubeconfig, logs]",
                subcommands=[
                    Command(
                        "kubeconfig",
                        short="Exports cluster kubeconfig",
                        flags=[name, Flag("kubeconfig"), Flag("internal", BOOL)],
                    ),
                    Command("logs", short="Exports logs to a tempdir or [output-dir] if specified", flags=[name]),
                ],
            ),
            Command(
                "get",
                short="Gets one of [clusters, nodes, kubeconfig]",
                subcommands=[
                    Command("clusters", short="Lists existing kind clusters by their name"),
                    Command(
                        "nodes",
                        short="Lists existing kind nodes by their name",
                        flags=[name, Flag("all-clusters", BOOL, short="A")],
                    ),
                    Command("kubeconfig", short="Prints cluster kubeconfig", flags=[name, Flag("internal", BOOL)]),
                ],
            ),
            Command(
                "load",
                short="Loads images into nodes",
                subcommands=[
                    Command(
                        "docker-image",
                        use="docker-image <IMAGE> [IMAGE...]",
                        short="Loads docker images from host into nodes",
                        flags=[name, Flag("nodes", SLICE)],
                    ),
                    Command(
                        "image-archive",
                        use="image-archive <IMAGE.tar>",
                        short="Loads docker image from archive into nodes",
                        flags=[name, Flag("nodes", SLICE)],
                    ),
                ],
            ),
            Command("version", short="Prints the kind CLI version"),
        ],
    )


def run(env: FakeEnv, argv: list[str]) -> int:
    quiet = "-q" in argv or "--quiet" in argv
    try:
        try:
            p = parse(_tree(), argv)
        except UsageError as exc:
            raise KindError(exc.message) from None
        return _dispatch(env, p)
    except KindError as exc:
        if not quiet:
            err(f"ERROR: {exc.message}")
            if exc.command_output:
                err(f"\nCommand Output: {exc.command_output}")
        return 1


def _dispatch(env: FakeEnv, p: Parsed) -> int:
    cmd = p.command
    if p["help"]:
        out(cmd.help_text().rstrip("\n"))
        return 0
    path = cmd.path()
    if path == "kind":
        if p.args:
            raise KindError(f'unknown command "{p.args[0]}" for "kind"')
        if p["version"]:
            out(f"kind version {_release(env)[0][1:]}")
            return 0
        out(cmd.help_text().rstrip("\n"))
        return 0
    handler = _HANDLERS.get(path)
    if handler is None:
        if cmd.subcommands:  # group commands: help, then "Subcommand is required"
            out(cmd.help_text().rstrip("\n"))
            raise KindError("Subcommand is required")
        raise KindError(f"fake kind: '{path}' is not implemented by the test fake")
    if path not in ("kind load docker-image", "kind load image-archive", "kind delete clusters") and p.args:
        raise KindError(f'unknown command "{p.args[0]}" for "{path}"')
    if path != "kind version" and docker_down(env.environ):
        _engine_down(env, p, path)
    return handler(env, p)


def _engine_down(env: FakeEnv, p: Parsed, path: str) -> None:
    """kind v0.27.0 with the Docker engine down: its `docker` commands fail (exec.RunError, printed
    by main.go as `ERROR: ...` + `Command Output: <docker's output>`).  `docker -v` still works, so the
    docker provider is selected (pkg/cluster/provider.go DetectNodeProvider)."""
    down = docker_down_message(env.environ)
    name = _name(env, p)

    def list_nodes(cluster: str) -> str:
        return (
            f'failed to list nodes: command "docker ps -a --filter label=io.x-k8s.kind.cluster={cluster} '
            "--format '{{.Names}}'\" failed with error: exit status 1"
        )

    if path == "kind create cluster":  # create.go validateProvider -> docker info
        raise KindError(
            'failed to create cluster: failed to get docker info: command "docker info --format '
            "'{{json .}}'\" failed with error: exit status 1",
            down,
        )
    list_clusters = (
        'failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster --format '
        '\'{{.Label "io.x-k8s.kind.cluster"}}\'" failed with error: exit status 1'
    )
    if path == "kind get clusters":
        raise KindError(list_clusters, down)
    if path == "kind delete clusters":  # deleteclusters.go: -A fails; named clusters are only logged
        if p["all"]:
            raise KindError("failed listing clusters for delete: " + list_clusters, down)
        for cluster in p.args:
            err(f'failed to delete cluster "{cluster}": error listing nodes: ' + list_nodes(cluster))
            err("")
        err("Deleted clusters: []")
        raise FakeExit(0)
    if path == "kind delete cluster":
        err(f'Deleting cluster "{name}" ...')
        raise KindError(f'failed to delete cluster "{name}": error listing nodes: ' + list_nodes(name), down)
    if path == "kind load docker-image":  # docker image inspect fails first
        raise KindError(f'image: "{p.args[0]}" not present locally' if p.args else "a list of image names is required")
    raise KindError(list_nodes(name), down)


def _name(env: FakeEnv, p: Parsed) -> str:
    """cli.OverrideDefaultName: KIND_CLUSTER_NAME replaces the default name."""
    if p.is_set("name"):
        return str(p["name"])
    return env.environ.get("KIND_CLUSTER_NAME") or str(p.get("name") or "")


def _kind_clusters(state: dict) -> list[dict]:
    return sorted((c for c in state["clusters"].values() if c["tool"] == TOOL), key=lambda c: c["name"])


def _status(msg: str, ok: bool = True) -> None:
    err(f" {'✓' if ok else '✗'} {msg}")


def _version(env: FakeEnv, p: Parsed) -> int:
    env.inject("version")
    version, go, _ = _release(env)
    out(f"kind {version} {go} linux/amd64")
    return 0


# -- create cluster -------------------------------------------------------------------


def _read_config(p: Parsed) -> dict:
    path = str(p["config"])
    if not path:
        return {}
    if path == "-":
        raw = sys.stdin.read()
    else:
        try:
            with open(path, encoding="utf-8") as fh:
                raw = fh.read()
        except OSError as exc:
            raise KindError(
                f"failed to create cluster: error reading file: open {path}: {os.strerror(exc.errno or 2).lower()}"
            ) from None
    try:
        return kindconfig.parse(raw)
    except kindconfig.ConfigError as exc:
        raise KindError(f"failed to create cluster: {exc}") from None


def _node_names(name: str, nodes: list[dict]) -> list[str]:
    counts = {"control-plane": 0, "worker": 0}
    result = []
    for node in nodes:
        role = node["role"] if node["role"] in counts else "worker"
        counts[role] += 1
        result.append(f"{name}-{role}" + (str(counts[role]) if counts[role] > 1 else ""))
    return result


def _docker_run_cmd(node: str, cluster: str, role: str, image: str) -> str:
    return (
        f"docker run --name {node} --hostname {node} --label io.x-k8s.kind.role={role} --privileged "
        f"--security-opt seccomp=unconfined --security-opt apparmor=unconfined --tmpfs /tmp --tmpfs /run "
        f"--volume /var --volume /lib/modules:/lib/modules:ro -e KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER "
        f"--detach --tty --label io.x-k8s.kind.cluster={cluster} --net kind --restart=on-failure:1 "
        f"--init=false --cgroupns=private {image}"
    )


def _exists_error(name: str) -> KindError:
    return KindError(f'failed to create cluster: node(s) already exist for a cluster with the name "{name}"')


def _create_cluster(env: FakeEnv, p: Parsed) -> int:
    doc = _read_config(p)
    try:
        cfg = kindconfig.normalise(doc, _name(env, p), str(p["image"]), _release(env)[2])
    except (TypeError, ValueError) as exc:
        raise KindError(f"failed to create cluster: {exc}") from None
    name = cfg["name"]
    if model.find(env.store.read(), TOOL, name) is not None:
        raise _exists_error(name)
    if len(name) > CLUSTER_NAME_MAX:
        err(f'cluster name "{name}" is probably too long, this might not work properly on some systems')
    try:
        kindconfig.validate(cfg)
    except kindconfig.ConfigError as exc:
        raise KindError(f"failed to create cluster: {exc}") from None
    _check_containerd_patches(cfg)
    cfg["proxy_env"] = _proxy_env(env.environ, cfg)
    err(f'Creating cluster "{name}" ...')
    _status(f"Ensuring node image ({cfg['nodes'][0]['image'].split('@')[0]}) 🖼")
    retain, explicit_kc = bool(p["retain"]), str(p["kubeconfig"])
    _provision(env, cfg, retain, explicit_kc)
    _bootstrap(env, cfg, retain, explicit_kc, p.seconds("wait"))
    _export_after_create(env, name, explicit_kc)
    return 0


def _provision(env: FakeEnv, cfg: dict, retain: bool, explicit_kc: str) -> None:
    """`docker run` every node: the cluster exists ("creating") from here on."""
    name, image = cfg["name"], cfg["nodes"][0]["image"]
    node_names = _node_names(name, cfg["nodes"])
    problem: KindError | None = None
    with env.store.transaction() as state:
        if model.find(state, TOOL, name) is not None:
            raise _exists_error(name)
        cluster = _new_cluster(state, cfg, node_names)
        state["clusters"][cluster["key"]] = cluster
        too_long = next((n for n in node_names if len(n) > 64), None)
        conflict = netalloc.first_conflict(state, cluster, cluster["key"])
        if too_long is not None:  # Linux hostnames are limited to 64 characters
            role = cfg["nodes"][node_names.index(too_long)]["role"]
            problem = KindError(
                f'failed to create cluster: command "{_docker_run_cmd(too_long, name, role, image)}" failed with '
                "error: exit status 126",
                "docker: Error response from daemon: failed to create task for container: failed to create shim "
                "task: OCI runtime create failed: runc create failed: unable to start container process: error "
                "during container init: sethostname: invalid argument: unknown.",
            )
        elif conflict is not None:
            node = next((m["node"] for m in cluster["ports"] if int(m["host_port"]) == conflict[1]), node_names[0])
            role = "control-plane" if "control-plane" in node else "worker"
            problem = KindError(
                f'failed to create cluster: command "{_docker_run_cmd(node, name, role, image)}" failed with '
                "error: exit status 125",
                f"docker: Error response from daemon: driver failed programming external connectivity on "
                f"endpoint {node} ({netalloc.container_id(node)}): Bind for {conflict[0]}:{conflict[1]} failed: "
                "port is already allocated.",
            )
    if problem is not None:
        _status("Preparing nodes 📦", ok=False)
        _cleanup_failed(env, name, retain, explicit_kc)
        raise problem
    with env.store.transaction() as state:  # `docker run --detach`: every node container runs from here on
        live = model.find(state, TOOL, name)
        if live is not None:
            for node in live["nodes"]:
                model.set_node_running(node, True)
    _status(f"Preparing nodes {'📦 ' * len(node_names)}".rstrip())
    _status("Writing configuration 📜")


def _bootstrap(env: FakeEnv, cfg: dict, retain: bool, explicit_kc: str, wait: float) -> None:
    """kubeadm init/join: where failure/hang/delay injection applies."""
    name = cfg["name"]
    env.maybe_hang("create-cluster", [name])
    env.maybe_delay("create-cluster", [name])
    if env.should_fail("create-cluster", [name]):
        _status("Starting control-plane 🕹️", ok=False)
        _cleanup_failed(env, name, retain, explicit_kc)
        raise KindError(
            f'failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged '
            f'{name}-control-plane kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6" failed '
            "with error: exit status 1",
            "I0101 00:00:00.000000     196 initconfiguration.go:261] loading configuration from "
            '"/kind/kubeadm.conf"\n[kubelet-check] The kubelet is not healthy after 4m0.000431586s\n'
            "error execution phase wait-control-plane: could not initialize a Kubernetes cluster",
        )
    _status("Starting control-plane 🕹️")
    if not cfg["networking"]["disableDefaultCNI"]:
        _status("Installing CNI 🔌")
    _status("Installing StorageClass 💾")
    if any(n["role"] == "worker" for n in cfg["nodes"]):
        _status("Joining worker nodes 🚜")
    if wait > 0:
        _status(f"Waiting ≤ {_go_duration(wait)} for control-plane = Ready ⏳")
        err(" • Ready after 1s 💚")
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is None:
            raise KindError(f"failed to create cluster: node {name}-control-plane disappeared during creation")
        model.set_running(live, True)


def _export_after_create(env: FakeEnv, name: str, explicit_kc: str) -> None:
    """create.go: export the kubeconfig (an error here leaves the cluster in place), then the usage hints."""
    cluster = _require_cluster(env, name)
    path = kubeconfig.path_kind(explicit_kc, env.kubeconfig_env_paths(), env.default_kubeconfig())
    try:
        kubeconfig.merge(env.state_dir, path, cluster, switch_context=True, client_go_lock=True)
    except kubeconfig.KubeconfigError as exc:
        raise KindError(str(exc)) from None
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            model.remember_kubeconfig(live, path)
    err(f'Set kubectl context to "kind-{name}"')
    sample = f"kubectl cluster-info --context kind-{name}"
    if explicit_kc:
        sample += f" --kubeconfig {explicit_kc}"
    err(f"You can now use your cluster with:\n\n{sample}")
    err("")
    err("Have a nice day! 👋")


def _go_duration(secs: float) -> str:
    """Format seconds like Go's time.Duration.String() for whole values."""
    total = int(secs)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"


def _check_containerd_patches(cfg: dict) -> None:
    """actions/config/config.go patches /etc/containerd/config.toml with each patch (patch.TOML):
    a patch that is not TOML fails the create. Checked before the nodes exist here; kind finds
    it while configuring them (and removes them), which leaves the same: no cluster."""
    import tomllib

    for patch in cfg.get("containerdConfigPatches") or []:
        try:
            tomllib.loads(patch)
        except tomllib.TOMLDecodeError as exc:
            raise KindError(f"failed to create cluster: failed to patch containerd config: {exc}") from None


def _proxy_env(environ: dict[str, str], cfg: dict) -> dict[str, str]:
    """common/proxy.go GetProxyEnvs: HTTP_PROXY, HTTPS_PROXY, NO_PROXY from kind's own environment
    (upper case first, then lower case), both spellings passed on; NO_PROXY gains the service and
    pod subnets. The docker network's subnets, node names and the .svc names are added per node
    (providers/docker/provision.go getProxyEnv)."""
    envs: dict[str, str] = {}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        value = environ.get(name) or environ.get(name.lower()) or ""
        if value:
            envs[name] = envs[name.lower()] = value
    if envs:
        no_proxy = envs.get("NO_PROXY", "")
        subnets = cfg["networking"]["serviceSubnet"] + "," + cfg["networking"]["podSubnet"]
        no_proxy += ("," if no_proxy else "") + subnets
        envs["NO_PROXY"] = envs["no_proxy"] = no_proxy
    return envs


def _new_cluster(state: dict, cfg: dict, node_names: list[str]) -> dict:
    name = cfg["name"]
    cluster = model.new_cluster(TOOL, name)
    net = state["networks"].get(NETWORK)
    if net is None:
        net = netalloc.add_network(state, NETWORK, netalloc.pick_subnet(state), owner="", external=False)
    image = cfg["nodes"][0]["image"]
    version = model.k8s_version_from_kind_image(image)
    control_planes = [n for n, c in zip(node_names, cfg["nodes"], strict=True) if c["role"] == "control-plane"]
    net_cfg = cfg["networking"]
    port = net_cfg["apiServerPort"]
    if port in (0, -1):
        port = netalloc.random_port(state)
    cluster.update(
        {
            "image": image,
            "k8s_version": version,
            "container_runtime": "containerd://2.0.2",
            "os_image": "Debian GNU/Linux 12 (bookworm)",
            "network": NETWORK,
            "service_cidr": net_cfg["serviceSubnet"],
            "pod_cidr": net_cfg["podSubnet"],
            "dns_ip": "10.96.0.10",
            "api": {
                "host": net_cfg["apiServerAddress"],
                "host_ip": net_cfg["apiServerAddress"],
                "port": port,
                "server_host": net_cfg["apiServerAddress"],
                "container_port": 6443,
            },
        }
    )
    for node_name, node_cfg in zip(node_names, cfg["nodes"], strict=True):
        node = {
            "name": node_name,
            "role": node_cfg["role"],
            "kube": True,
            "images": [],
            "running": False,
            "labels": dict(node_cfg.get("labels") or {}),
        }
        node["ip"] = netalloc.allocate_ip(net, netalloc.member_key(cluster["key"], node_name))
        mounts = [
            {
                "hostPath": m.get("hostPath", ""),
                "containerPath": m.get("containerPath", ""),
                "readOnly": bool(m.get("readOnly")),
            }
            for m in node_cfg.get("extraMounts") or []
        ]
        if mounts:
            node["mounts"] = mounts
        proxy = dict(cfg.get("proxy_env") or {})
        if proxy:
            extra = [net["subnet"], proxy["NO_PROXY"], *node_names, ".svc", ".svc.cluster", ".svc.cluster.local"]
            proxy["NO_PROXY"] = proxy["no_proxy"] = ",".join(extra)
            node["env"] = [f"{k}={v}" for k, v in sorted(proxy.items())]
        cluster["nodes"].append(node)
        for mapping in node_cfg["extraPortMappings"]:
            host_port = int(mapping["hostPort"])
            if host_port in (0, -1):
                host_port = netalloc.random_port(state)
            cluster["ports"].append(
                {
                    "host_ip": mapping["listenAddress"],
                    "host_port": host_port,
                    "container_port": int(mapping["containerPort"]),
                    "protocol": str(mapping["protocol"]).lower(),
                    "node": node_name,
                }
            )
    if len(control_planes) > 1:
        lb = f"{name}-external-load-balancer"
        cluster["nodes"].append(
            {
                "name": lb,
                "role": "external-load-balancer",
                "kube": False,
                "images": [],
                "running": False,
                "ip": netalloc.allocate_ip(net, netalloc.member_key(cluster["key"], lb)),
            }
        )
    cluster["opts"] = {"config": cfg, "disabled_components": []}
    cluster["setup_done"] = False  # kubeadm init has not run: no /etc/kubernetes/admin.conf yet
    return cluster


def _cleanup_failed(env: FakeEnv, name: str, retain: bool, explicit_kc: str) -> None:
    """kind deletes the nodes of a failed create unless --retain."""
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            return
        if retain:  # --retain: the node containers stay exactly as they are (running)
            return
        del state["clusters"][cluster["key"]]
        netalloc.release_members(state, cluster["key"])
    err("Deleted nodes: [" + " ".join(f'"{n["name"]}"' for n in cluster["nodes"]) + "]")


# -- delete ---------------------------------------------------------------------------


def _delete_one(env: FakeEnv, name: str, explicit_kc: str) -> None:
    if env.inject("delete-cluster", [name]):
        raise KindError(
            f'failed to delete cluster "{name}": failed to delete nodes: command "docker rm -f -v '
            f'{name}-control-plane" failed with error: exit status 1',
            f"Error response from daemon: removal of container {name}-control-plane is already in progress",
        )
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is not None:
            del state["clusters"][cluster["key"]]
            netalloc.release_members(state, cluster["key"])
    path = kubeconfig.path_kind(explicit_kc, env.kubeconfig_env_paths(), env.default_kubeconfig())
    stub = cluster or {"tool": TOOL, "name": name}
    try:
        kubeconfig.remove(env.state_dir, path, stub, client_go_lock=True)
    except kubeconfig.KubeconfigError as exc:
        raise KindError(f'failed to delete cluster "{name}": {exc}') from None
    if cluster is not None:
        err("Deleted nodes: [" + " ".join(f'"{n["name"]}"' for n in cluster["nodes"]) + "]")


def _delete_cluster(env: FakeEnv, p: Parsed) -> int:
    name = _name(env, p)
    err(f'Deleting cluster "{name}" ...')
    _delete_one(env, name, str(p["kubeconfig"]))
    return 0


def _delete_clusters(env: FakeEnv, p: Parsed) -> int:
    if p["all"]:
        names = [c["name"] for c in _kind_clusters(env.store.read())]
    elif p.args:
        names = list(p.args)
    else:
        raise KindError("no cluster names provided")
    for name in names:
        _delete_one(env, name, str(p["kubeconfig"]))
    err(f"Deleted clusters: {_go_list(names)}")
    return 0


def _go_list(items: list[str]) -> str:
    return "[" + " ".join(f'"{i}"' for i in items) + "]"


# -- get / export --------------------------------------------------------------------------


def _get_clusters(env: FakeEnv, p: Parsed) -> int:
    if env.inject("get-clusters"):
        raise KindError(
            'failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster '
            '--format \'{{.Label "io.x-k8s.kind.cluster"}}\'" failed with error: exit status 1',
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        )
    clusters = _kind_clusters(env.store.read())
    if not clusters:
        err("No kind clusters found.")
        return 0
    for cluster in clusters:
        out(cluster["name"])
    return 0


def _get_nodes(env: FakeEnv, p: Parsed) -> int:
    name = _name(env, p)
    if env.inject("get-nodes", [name]):
        raise KindError(
            'failed to list nodes: command "docker ps -a --filter label=io.x-k8s.kind.cluster='
            f"{name} --format '{{{{.Names}}}}'\" failed with error: exit status 1"
        )
    state = env.store.read()
    if p["all-clusters"]:
        clusters = _kind_clusters(state)
        nodes = [n["name"] for c in clusters for n in c["nodes"]]
        if not nodes:
            err("No kind nodes for any cluster.")
            return 0
    else:
        cluster = model.find(state, TOOL, name)
        nodes = [n["name"] for n in cluster["nodes"]] if cluster else []
        if not nodes:
            err(f'No kind nodes found for cluster "{name}".')
            return 0
    for node in nodes:
        out(node)
    return 0


def _require_cluster(env: FakeEnv, name: str) -> dict:
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise KindError(
            f"could not locate any control plane nodes for cluster named '{name}'. "
            "Use the --name option to select a different cluster"
        )
    return cluster


def _internal(cluster: dict) -> dict:
    internal = dict(cluster)
    internal["api"] = dict(cluster["api"], server_host=f"{cluster['name']}-control-plane", port=6443)
    return internal


def _kubeconfig_source(env: FakeEnv, p: Parsed, op: str) -> dict:
    """The cluster whose admin.conf kind would read (get/export kubeconfig share this)."""
    name = _name(env, p)
    if env.inject(op, [name]):
        raise KindError(
            f'failed to get cluster internal kubeconfig: command "docker exec --privileged '
            f'{name}-control-plane cat /etc/kubernetes/admin.conf" failed with error: exit status 1'
        )
    cluster = _require_cluster(env, name)
    _check_admin_conf(cluster)
    return _internal(cluster) if p["internal"] else cluster


def _check_admin_conf(cluster: dict) -> None:
    """kubeconfig.go get(): `docker exec --privileged <first control plane> cat /etc/kubernetes/admin.conf`."""
    node = next(n for n in cluster["nodes"] if n["role"] == "control-plane")
    command = (
        f'failed to get cluster internal kubeconfig: command "docker exec --privileged {node["name"]} '
        'cat /etc/kubernetes/admin.conf" failed with error: exit status 1'
    )
    if not node.get("running"):
        raise KindError(command, _not_running(node["name"]))
    if not cluster.get("setup_done", True):  # killed before kubeadm init wrote it
        raise KindError(command, "cat: /etc/kubernetes/admin.conf: No such file or directory")


def _not_running(container: str) -> str:
    """moby daemon errNotRunning, as `docker exec` prints it."""
    return f"Error response from daemon: Container {netalloc.container_id(container)} is not running"


def _get_kubeconfig(env: FakeEnv, p: Parsed) -> int:
    cluster = _kubeconfig_source(env, p, "get-kubeconfig")
    sys.stdout.write(kubeconfig.render(kubeconfig.standalone(cluster)) + "\n")
    return 0


def _export_kubeconfig(env: FakeEnv, p: Parsed) -> int:
    cluster = _kubeconfig_source(env, p, "export-kubeconfig")
    name = cluster["name"]
    path = kubeconfig.path_kind(str(p["kubeconfig"]), env.kubeconfig_env_paths(), env.default_kubeconfig())
    try:
        kubeconfig.merge(env.state_dir, path, cluster, switch_context=True, client_go_lock=True)
    except kubeconfig.KubeconfigError as exc:
        raise KindError(str(exc)) from None
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            model.remember_kubeconfig(live, path)
    err(f'Set kubectl context to "kind-{name}"')
    return 0


# -- load -------------------------------------------------------------------------------------


def _select_nodes(cluster: dict | None, name: str, wanted: list[str]) -> list[dict]:
    nodes = [n for n in (cluster or {}).get("nodes", []) if n.get("kube")]
    if not nodes:
        raise KindError(f'no nodes found for cluster "{name}"')
    if not wanted:
        return nodes
    by_name = {n["name"]: n for n in nodes}
    result = []
    for node_name in wanted:
        if node_name not in by_name:
            raise KindError(f'unknown node: "{node_name}"')
        result.append(by_name[node_name])
    return result


def _load_fail(name: str) -> KindError:
    return KindError(
        f'failed to load image: command "docker exec --privileged -i {name}-control-plane ctr '
        '--namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" '
        "failed with error: exit status 1",
        "ctr: content digest sha256:" + "0" * 64 + ": not found",
    )


def _load_docker_image(env: FakeEnv, p: Parsed) -> int:
    if not p.args:
        raise KindError("a list of image names is required")
    name = _name(env, p)
    fail = env.inject("load-docker-image", [name])
    images = list(p.args)
    cluster = model.find(env.store.read(), TOOL, name)
    selected = _select_nodes(cluster, name, p.strings("nodes"))
    if fail:
        raise _load_fail(name)
    _check_running(selected)
    _add_images(env, name, [n["name"] for n in selected], images, announce=True)
    return 0


def _check_running(nodes: list[dict]) -> None:
    """Loading execs `ctr ... images import` in every selected node: a stopped one fails."""
    stopped = next((n for n in nodes if not n.get("running")), None)
    if stopped is not None:
        raise KindError(
            f'failed to load image: command "docker exec --privileged -i {stopped["name"]} ctr '
            '--namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" '
            "failed with error: exit status 1",
            _not_running(stopped["name"]),
        )


def _load_image_archive(env: FakeEnv, p: Parsed) -> int:
    if not p.args:
        raise KindError("name of image archive is required")
    name = _name(env, p)
    fail = env.inject("load-image-archive", [name])
    if len(p.args) > 1:
        # image-archive.go PreRun; pkg/internal/cli/logger.go Warn prints the message as is
        err(
            "It is suggested that you save multiple images into a common archive and load that "
            "instead of loading multiple archives for better performance"
        )
    for archive in p.args:  # runE stats every archive before loading any
        if not os.path.exists(archive):
            raise KindError(f"stat {archive}: no such file or directory")
    for archive in p.args:
        cluster = model.find(env.store.read(), TOOL, name)
        selected = _select_nodes(cluster, name, p.strings("nodes"))
        if fail:
            raise _load_fail(name)
        _check_running(selected)
        problem = archive_error(archive)
        if problem is not None:
            failed = _load_fail(name)
            raise KindError(failed.message, problem)
        _add_images(env, name, [n["name"] for n in selected], images_in_archive(archive), announce=False)
    return 0


def _add_images(env: FakeEnv, name: str, node_names: list[str], images: list[str], announce: bool) -> None:
    import hashlib

    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            raise KindError(f'no nodes found for cluster "{name}"')
        for image in images:
            ref = model.normalize_image(image)
            image_id = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
            missing = [n for n in cluster["nodes"] if n["name"] in node_names and ref not in n["images"]]
            if announce and not missing:
                err(f'Image: "{image}" with ID "{image_id}" found to be already present on all nodes.')
            for node in missing:
                if announce:
                    err(f'Image: "{image}" with ID "{image_id}" not yet present on node "{node["name"]}", loading...')
                node["images"].append(ref)


_HANDLERS = {
    "kind version": _version,
    "kind create cluster": _create_cluster,
    "kind delete cluster": _delete_cluster,
    "kind delete clusters": _delete_clusters,
    "kind get clusters": _get_clusters,
    "kind get nodes": _get_nodes,
    "kind get kubeconfig": _get_kubeconfig,
    "kind export kubeconfig": _export_kubeconfig,
    "kind load docker-image": _load_docker_image,
    "kind load image-archive": _load_image_archive,
}
