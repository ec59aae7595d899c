"""Fake ``minikube`` v1.35.0 (docker driver only).

Sources: kubernetes/minikube cmd/minikube/cmd/{root,start_flags,delete,stop,
version,ssh}.go, cmd/minikube/cmd/config/profile_list.go (JSON shape),
pkg/minikube/config/types.go (ClusterConfig fields, no json tags -> Go field
names), pkg/minikube/reason/exitcodes.go (exit codes: usage 14, guest 80,
guest-not-found 85, guest-unavailable 89).  Progress goes to stdout,
warnings and "Exiting due to" errors to stderr.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys

from . import kubeconfig, model, netalloc
from .cli import ARRAY, BOOL, DURATION, INT, SLICE, Command, Flag, Parsed, UsageError, parse
from .common import err, go_json, images_in_archive, out, table
from .env import FakeEnv, FakeExit

TOOL = "minikube"
EX_USAGE, EX_GUEST, EX_GUEST_NOT_FOUND, EX_GUEST_UNAVAILABLE = 14, 80, 85, 89
_ALL_DRIVERS = (
    "docker",
    "podman",
    "virtualbox",
    "vmware",
    "kvm2",
    "qemu2",
    "qemu",
    "none",
    "ssh",
    "hyperkit",
    "hyperv",
    "parallels",
    "vfkit",
    "krunkit",
)
_SYSTEM_IMAGES = [
    "registry.k8s.io/kube-apiserver",
    "registry.k8s.io/kube-controller-manager",
    "registry.k8s.io/kube-scheduler",
    "registry.k8s.io/kube-proxy",
    "registry.k8s.io/etcd:3.5.16-0",
    "registry.k8s.io/coredns/coredns:v1.11.3",
    "registry.k8s.io/pause:3.10",
    "gcr.io/k8s-minikube/storage-provisioner:v5",
]


def _tree() -> Command:
    start = Command(
        "start",
        short="Starts a local Kubernetes cluster",
        flags=[
            Flag("driver", short="d"),
            Flag("vm-driver", hidden=True),
            Flag("container-runtime", default="docker"),
            Flag("kubernetes-version"),
            Flag("nodes", INT, short="n", default=1),
            Flag("cpus", default="2"),
            Flag("memory"),
            Flag("disk-size", default="20000mb"),
            Flag("subnet"),
            Flag("static-ip"),
            Flag("ports", SLICE),
            Flag("listen-address"),
            Flag("apiserver-port", INT, default=8443),
            Flag("apiserver-name", default="minikubeCA"),
            Flag("apiserver-names", SLICE),
            Flag("apiserver-ips", SLICE),
            Flag("image-repository"),
            Flag("image-mirror-country"),
            Flag("registry-mirror", SLICE),
            Flag("insecure-registry", SLICE),
            Flag("docker-env", ARRAY),
            Flag("docker-opt", ARRAY),
            Flag("delete-on-failure", BOOL),
            Flag("wait", SLICE, default=["apiserver", "system_pods"]),
            Flag("wait-timeout", DURATION, default=360.0),
            Flag("network"),
            Flag("base-image"),
            Flag("cni"),
            Flag("addons", SLICE),
            Flag("extra-config", ARRAY),
            Flag("feature-gates"),
            Flag("service-cluster-ip-range", default="10.96.0.0/12"),
            Flag("dns-domain", default="cluster.local"),
            Flag("keep-context", BOOL),
            Flag("embed-certs", BOOL),
            Flag("install-addons", BOOL, default=True),
            Flag("force", BOOL),
            Flag("dry-run", BOOL),
            Flag("download-only", BOOL),
            Flag("interactive", BOOL, default=True),
            Flag("mount", BOOL),
            Flag("mount-string"),
            Flag("ha", BOOL),
            Flag("no-kubernetes", BOOL),
            Flag("preload", BOOL, default=True),
            Flag("cache-images", BOOL, default=True),
            Flag("output", short="o", default="text"),
            Flag("cert-expiration", DURATION),
            Flag("auto-update-drivers", BOOL, default=True),
            Flag("gpus"),
        ],
    )
    return Command(
        "minikube",
        short="minikube quickly sets up a local Kubernetes cluster",
        persistent=[
            Flag("profile", short="p", default="minikube"),
            Flag("bootstrapper", short="b", default="kubeadm"),
            Flag("alsologtostderr", BOOL),
            Flag("logtostderr", BOOL),
            Flag("log_dir"),
            Flag("log_file"),
            Flag("one_output", BOOL),
            Flag("skip_headers", BOOL),
            Flag("skip-audit", BOOL),
            Flag("user"),
            Flag("rootless", BOOL),
            Flag("v", INT, short="v"),
            Flag("vmodule"),
            Flag("stderrthreshold", default="2"),
        ],
        subcommands=[
            start,
            Command(
                "stop",
                short="Stops a running local Kubernetes cluster",
                flags=[
                    Flag("all", BOOL),
                    Flag("keep-context-active", BOOL),
                    Flag("output", short="o", default="text"),
                    Flag("schedule", DURATION),
                    Flag("cancel-scheduled", BOOL),
                ],
            ),
            Command(
                "delete",
                short="Deletes a local Kubernetes cluster",
                flags=[Flag("all", BOOL), Flag("purge", BOOL), Flag("output", short="o", default="text")],
            ),
            Command(
                "profile",
                use="profile [MINIKUBE_PROFILE_NAME]",
                short="Get or list the current profiles (clusters)",
                subcommands=[
                    Command(
                        "list",
                        short="Lists all minikube profiles.",
                        flags=[Flag("output", short="o", default="table"), Flag("light", BOOL, short="l")],
                    )
                ],
            ),
            Command(
                "image",
                short="Manage images",
                subcommands=[
                    Command(
                        "load",
                        use="load IMAGE | ARCHIVE | -",
                        short="Load an image into minikube",
                        flags=[
                            Flag("daemon", BOOL),
                            Flag("remote", BOOL),
                            Flag("pull", BOOL),
                            Flag("overwrite", BOOL, default=True),
                        ],
                    )
                ],
            ),
            Command(
                "ssh",
                use="ssh",
                short="Log into the minikube environment (for debugging)",
                flags=[Flag("node", short="n"), Flag("native-ssh", BOOL, default=True)],
            ),
            Command(
                "version",
                short="Print the version of minikube",
                flags=[Flag("output", short="o"), Flag("short", BOOL), Flag("components", BOOL)],
            ),
            Command(
                "status",
                short="Gets the status of a local Kubernetes cluster",
                flags=[Flag("output", short="o", default="text"), Flag("node", short="n"), Flag("format")],
            ),
            Command("update-context", short="Update kubeconfig in case of an IP or port change"),
            Command("ip", short="Retrieves the IP address of the specified node", flags=[Flag("node", short="n")]),
            # real commands the fake does not emulate: fail loudly instead of "unknown command"
            *[
                Command(name)
                for name in (
                    "kubectl",
                    "addons",
                    "cache",
                    "completion",
                    "config",
                    "cp",
                    "dashboard",
                    "docker-env",
                    "license",
                    "logs",
                    "mount",
                    "node",
                    "options",
                    "pause",
                    "podman-env",
                    "service",
                    "shell-completion",
                    "tunnel",
                    "unpause",
                    "update-check",
                )
            ],
        ],
    )


def run(env: FakeEnv, argv: list[str]) -> int:
    root = _tree()
    try:
        p = parse(root, argv)
    except UsageError as exc:
        cmd = exc.command or root
        err(
            f"Error: {exc.message}\nSee 'minikube {cmd.path().partition(' ')[2] or ''} --help' for usage.".replace(
                "minikube  --help", "minikube --help"
            )
        )
        return EX_USAGE
    if p["help"]:
        out(p.command.help_text().rstrip("\n"))
        return 0
    path = p.command.path()
    if path == "minikube" and p.args:
        err(f'Error: unknown command "{p.args[0]}" for "minikube"\nRun \'minikube --help\' for usage.')
        return EX_USAGE
    handler = _HANDLERS.get(path)
    if handler is None:
        if p.command.subcommands:
            out(p.command.help_text().rstrip("\n"))
            return 0
        err(f"fake minikube: 'minikube {path.partition(' ')[2]}' is not implemented by the test fake")
        return 2
    return handler(env, p)


# `minikube start -o json` prints CloudEvents instead of text (pkg/minikube/out/register).
_EVENT_SOURCE = "https://minikube.sigs.k8s.io/"
_STEP_BY_PREFIX = (
    ("😄", 0, "Initial Minikube Setup"),
    ("✨", 1, "Selecting Driver"),
    ("👍", 3, "Starting Node"),
    ("🚜", 5, "Pulling Base Image"),
    ("🔥", 8, "Creating Container"),
    ("🏃", 8, "Creating Container"),
    ("🔄", 8, "Creating Container"),
    ("🐳", 11, "Preparing Kubernetes"),
    ("▪ Generating", 12, "Generating certificates"),
    ("▪ Booting", 13, "Booting control plane"),
    ("▪ Configuring RBAC", 14, "Configuring RBAC rules"),
    ("🔗", 15, "Configuring CNI"),
    ("🔎", 17, "Verifying Kubernetes"),
    ("🌟", 18, "Enabling Addons"),
    ("🏄", 19, "Done"),
)


class _Console:
    """Where minikube's user-facing messages go: text (default) or JSON events."""

    json = False

    def _event(self, kind: str, data: dict[str, str]) -> None:
        event = {
            "specversion": "1.0",
            "id": model.new_uid(),
            "source": _EVENT_SOURCE,
            "type": f"io.k8s.sigs.minikube.{kind}",
            "datacontenttype": "application/json",
            "data": data,
        }
        out(go_json(event))

    def step(self, line: str) -> None:
        if not self.json:
            out(line)
            return
        text = line.strip()
        for prefix, number, name in _STEP_BY_PREFIX:
            if text.startswith(prefix):
                message = text[len(prefix) :].strip() if not prefix.startswith("▪") else text[1:].strip()
                self._event("step", {"currentstep": str(number), "message": message, "name": name, "totalsteps": "19"})
                return
        self._event("info", {"message": text.lstrip("📌▪ ").strip()})

    def warn(self, line: str) -> None:
        if self.json:
            self._event("warning", {"message": line.lstrip("❗ ").strip()})
        else:
            err(line)

    def fail(self, code: int, reason: str, message: str) -> None:
        if self.json:
            self._event(
                "error",
                {"advice": "", "exitcode": str(code), "issues": "", "message": message, "name": reason, "url": ""},
            )
        else:
            err(f"\n❌  Exiting due to {reason}: {message}\n")


console = _Console()


def _exit(code: int, reason: str, message: str) -> FakeExit:
    console.fail(code, reason, message)
    return FakeExit(code)


def _not_found(name: str) -> FakeExit:
    err(f'🤷  Profile "{name}" not found. Run "minikube profile list" to view all profiles.')
    err(f'👉  To start a cluster, run: "minikube start -p {name}"')
    return FakeExit(EX_GUEST_NOT_FOUND)


def _not_running(name: str) -> FakeExit:
    err(f"🤷  The control-plane node {name} host is not running: state=Stopped")
    err(f'👉  To start a cluster, run: "minikube start -p {name}"')
    return FakeExit(EX_GUEST_UNAVAILABLE)


def _profile(p: Parsed) -> str:
    return str(p["profile"])


def _version(env: FakeEnv, p: Parsed) -> int:
    env.inject("version")
    fmt = str(p["output"])
    data = {"commit": model.MINIKUBE_COMMIT, "minikubeVersion": model.MINIKUBE_VERSION}
    if fmt == "json":
        out(go_json(data))
    elif fmt == "yaml":
        out(f"commit: {model.MINIKUBE_COMMIT}\nminikubeVersion: {model.MINIKUBE_VERSION}\n")
    elif fmt == "":
        # cmd/minikube/cmd/version.go: --short prints the bare version, nothing else.
        if p["short"]:
            out(model.MINIKUBE_VERSION)
        else:
            out(f"minikube version: {model.MINIKUBE_VERSION}")
            out(f"commit: {model.MINIKUBE_COMMIT}")
    else:
        raise _exit(EX_USAGE, "MK_USAGE", "error: --output must be 'yaml' or 'json'")
    return 0


# -- start -------------------------------------------------------------------------------


def _k8s_version(text: str) -> str:
    if text in ("", "stable", "latest"):
        return model.MINIKUBE_DEFAULT_K8S
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise _exit(EX_USAGE, "MK_USAGE", f'Unable to parse "{text}": No Major.Minor.Patch elements found')
    return "v" + ".".join(match.groups())


def _parse_ports(values: list[str], listen: str) -> list[dict]:
    ports = []
    for value in values:
        spec, _, proto = value.partition("/")
        proto = proto or "tcp"
        parts = spec.split(":")
        if len(parts) == 1:
            ip, hp, cp = listen, parts[0], parts[0]
        elif len(parts) == 2:
            ip, hp, cp = listen, parts[0], parts[1]
        else:
            ip, hp, cp = parts[0], parts[1], parts[2]
        for num in (hp, cp):
            if not num.isdigit() or not 0 < int(num) <= 65535:
                raise _exit(
                    EX_USAGE, "MK_USAGE", "Sorry, one of the ports provided with --ports flag is outside range 1-65535"
                )
        ports.append({"host_ip": ip, "host_port": int(hp), "container_port": int(cp), "protocol": proto.lower()})
    return ports


def _validate_static_ip(ip: str) -> None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", ip)
    if not match or any(int(x) > 255 for x in match.groups()):
        raise _exit(EX_USAGE, "MK_USAGE", f"static IP must be IPv4: {ip}")
    a, b = int(match.group(1)), int(match.group(2))
    if not (a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168)):
        raise _exit(EX_USAGE, "MK_USAGE", "static IP must be private")
    last = int(match.group(4))
    if not 2 <= last <= 254:
        raise _exit(EX_USAGE, "MK_USAGE", f"static IPs last octet must be between 2 and 254, X is {last}")


def _start(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    output = str(p["output"])
    if output not in ("text", "json"):
        raise _exit(EX_USAGE, "MK_USAGE", f"Sorry, the output format {output} is not supported, use text or json")
    console.json = output == "json"
    driver = str(p["driver"] or p["vm-driver"] or "docker")
    if driver not in _ALL_DRIVERS:
        raise _exit(56, "DRV_UNSUPPORTED_OS", f"The driver '{driver}' is not supported on linux/amd64")
    if driver != "docker":
        err(f"fake minikube: only --driver=docker is implemented by the test fake (got {driver})")
        raise FakeExit(2)
    version = _k8s_version(str(p["kubernetes-version"]))
    static_ip = str(p["static-ip"])
    if static_ip:
        _validate_static_ip(static_ip)
    listen = str(p["listen-address"])
    ports = _parse_ports(p.strings("ports"), listen or "127.0.0.1")
    if p.number("nodes") < 1:
        raise _exit(EX_USAGE, "MK_USAGE", "Number of nodes must be greater than or equal to 1")
    existing = model.find(env.store.read(), TOOL, name)
    console.step(f"😄  [{name}] minikube {model.MINIKUBE_VERSION} on Ubuntu 22.04 (amd64)")
    if existing is not None:
        return _restart(env, p, existing)
    console.step("✨  Using the docker driver based on user configuration")
    console.step("📌  Using Docker driver with root privileges")
    if p["dry-run"]:
        console.step("✅  dry-run validation complete!")
        return 0
    warnings: list[str] = []
    with env.store.transaction() as state:
        if model.find(state, TOOL, name) is not None:
            raise _exit(81, "GUEST_PROVISION_CONFLICT", f'profile "{name}" is being created by another process')
        cluster = _new_profile(state, p, name, version, static_ip, listen, ports, warnings)
        state["clusters"][cluster["key"]] = cluster
        conflict = netalloc.first_conflict(state, cluster, cluster["key"])
        if conflict is not None:
            del state["clusters"][cluster["key"]]
            netalloc.release_members(state, cluster["key"])
    for warning in warnings:
        console.warn(warning)
    if conflict is not None:
        raise _exit(
            EX_GUEST,
            "GUEST_PROVISION",
            f"error provisioning guest: Failed to start host: creating host: create: creating: setting up "
            f"container node: creating container: create container: docker run -d -t --privileged "
            f"--name {name} ... {model.MINIKUBE_KIC_IMAGE}: exit status 125\nstdout:\n\nstderr:\n"
            f"docker: Error response from daemon: driver failed programming external connectivity on "
            f"endpoint {name} ({netalloc.container_id(name)}): Bind for {conflict[0]}:{conflict[1]} failed: "
            "port is already allocated.",
        )
    console.step(f'👍  Starting "{name}" primary control-plane node in "{name}" cluster')
    console.step(f"🚜  Pulling base image {model.MINIKUBE_KIC_IMAGE.rsplit(':', 1)[1]} ...")
    console.step(
        f"🔥  Creating docker container (CPUs={cluster['opts']['cpus']}, Memory={cluster['opts']['memory_mb']}MB) ..."
    )
    return _boot(env, p, name)


def _boot(env: FakeEnv, p: Parsed, name: str) -> int:
    """The slow part of `start`: where failure/hang/delay injection applies."""
    runtime = str(p["container-runtime"])
    console.step(f"🐳  Preparing Kubernetes {_cluster_version(env, name)} on {_runtime_label(runtime)} ...")
    env.maybe_hang("start", [name])
    env.maybe_delay("start", [name])
    if env.should_fail("start", [name]):
        wait = _wait_text(p.seconds("wait-timeout"))
        if p["delete-on-failure"]:
            err(f'🔥  Deleting "{name}" in docker ...')
            _drop(env, name)
        else:
            with env.store.transaction() as state:
                cluster = model.find(state, TOOL, name)
                if cluster is not None:
                    model.set_running(cluster, False)
        raise _exit(
            EX_GUEST,
            "GUEST_START",
            f"failed to start node: wait {wait} for node: wait for healthy API "
            "server: apiserver healthz never reported healthy: context deadline "
            "exceeded",
        )
    console.step("    ▪ Generating certificates and keys ...")
    console.step("    ▪ Booting up control plane ...")
    console.step("    ▪ Configuring RBAC rules ...")
    console.step("🔗  Configuring bridge CNI (Container Networking Interface) ...")
    console.step("🔎  Verifying Kubernetes components...")
    console.step("    ▪ Using image gcr.io/k8s-minikube/storage-provisioner:v5")
    console.step("🌟  Enabled addons: storage-provisioner, default-storageclass")
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            raise _exit(EX_GUEST, "GUEST_START", f'profile "{name}" was deleted during start')
        model.set_running(cluster, True)
        model.remember_kubeconfig(cluster, path)
        snapshot = dict(cluster)
    kubeconfig.merge(env.state_dir, path, snapshot, switch_context=not p["keep-context"])
    console.step(f'🏄  Done! kubectl is now configured to use "{name}" cluster and "default" namespace by default')
    return 0


def _wait_text(secs: float) -> str:
    mins, rem = divmod(int(secs), 60)
    return f"{mins}m{rem}s" if mins else f"{rem}s"


def _runtime_label(runtime: str) -> str:
    return {
        "docker": "Docker 27.4.1",
        "containerd": "containerd 1.7.24",
        "cri-o": "CRI-O 1.29.1",
        "crio": "CRI-O 1.29.1",
    }.get(runtime, runtime)


def _cluster_version(env: FakeEnv, name: str) -> str:
    cluster = model.find(env.store.read(), TOOL, name)
    return cluster["k8s_version"] if cluster else model.MINIKUBE_DEFAULT_K8S


def _memory_mb(text: str) -> int:
    if not text or text in ("max", "no-limit"):
        return 3900
    match = re.fullmatch(r"(\d+)\s*([kmgt]?)i?b?", text.lower())
    if not match:
        raise _exit(EX_USAGE, "MK_USAGE", f'Invalid memory value: "{text}"')
    value = int(match.group(1))
    return {"": value, "k": value // 1024, "m": value, "g": value * 1024, "t": value * 1024 * 1024}[match.group(2)]


def _new_profile(
    state: dict, p: Parsed, name: str, version: str, static_ip: str, listen: str, ports: list[dict], warnings: list[str]
) -> dict:
    cluster = model.new_cluster(TOOL, name)
    subnet = str(p["subnet"])
    if static_ip:
        subnet = ".".join(static_ip.split(".")[:3]) + ".0/24"
    elif subnet and "/" not in subnet:
        subnet += "/24"
    net_name = str(p["network"]) or name
    net = state["networks"].get(net_name)
    if net is None:
        wanted = subnet or netalloc.pick_subnet(state, minikube=True)
        if netalloc.subnet_in_use(state, wanted) is not None:
            # minikube falls back to the default bridge network (start.go / network_create.go)
            warnings.append(
                f"❗  Unable to create dedicated network, this might result in cluster IP change after "
                f"restart: un-retryable: create network {net_name} {wanted}: docker network create "
                f"--driver=bridge --subnet={wanted} {net_name}: exit status 1\nstdout:\n\nstderr:\n"
                "Error response from daemon: Pool overlaps with other one on this address space"
            )
            net = state["networks"].get("bridge") or netalloc.add_network(
                state, "bridge", "172.17.0.0/16", owner="", external=True
            )
        else:
            net = netalloc.add_network(state, net_name, wanted, owner=cluster["key"], external=bool(p["network"]))
    runtime = str(p["container-runtime"])
    runtime_version = {"docker": "docker://27.4.1", "containerd": "containerd://1.7.24"}.get(runtime, "cri-o://1.29.1")
    api_port = p.number("apiserver-port")
    cluster.update(
        {
            "image": model.MINIKUBE_KIC_IMAGE,
            "k8s_version": version,
            "container_runtime": runtime_version,
            "os_image": "Ubuntu 22.04.5 LTS",
            "network": net["name"],
            "service_cidr": str(p["service-cluster-ip-range"]),
            "pod_cidr": "10.244.0.0/16",
            "dns_ip": "10.96.0.10",
            "api": {
                "host": "127.0.0.1",
                "host_ip": listen or "127.0.0.1",
                "port": netalloc.random_port(state),
                "server_host": "127.0.0.1",
                "container_port": api_port,
            },
            "ports": ports,
        }
    )
    for i in range(p.number("nodes")):
        node_name = name if i == 0 else f"{name}-m{i + 1:02d}"
        preferred = ""
        if static_ip:  # secondary nodes follow the static control-plane address
            head, _, last = static_ip.rpartition(".")
            preferred = f"{head}.{int(last) + i}"
        ip = netalloc.allocate_ip(net, netalloc.member_key(cluster["key"], node_name), preferred)
        cluster["nodes"].append(
            {
                "name": node_name,
                "role": "control-plane" if i == 0 else "worker",
                "kube": True,
                "ip": ip,
                "images": [],
                "running": False,
            }
        )
    for port in ports:
        port["node"] = name
    cpus = str(p["cpus"])
    cluster["opts"] = {
        "driver": "docker",
        "cpus": 2 if cpus in ("max", "no-limit") else int(cpus) if cpus.isdigit() else 2,
        "memory_mb": _memory_mb(str(p["memory"])),
        "subnet": subnet,
        "static_ip": static_ip,
        "listen_address": listen,
        "exposed_ports": p.strings("ports"),
        "container_runtime": runtime,
        "image_repository": str(p["image-repository"]),
        "registry_mirror": p.strings("registry-mirror"),
        "insecure_registry": p.strings("insecure-registry"),
        "docker_env": p.strings("docker-env"),
        "docker_opt": p.strings("docker-opt"),
        "apiserver_port": api_port,
        "dns_domain": str(p["dns-domain"]),
        "keep_context": bool(p["keep-context"]),
        "embed_certs": bool(p["embed-certs"]),
        "wait": p.strings("wait"),
        "cni": str(p["cni"]),
        "disabled_components": [],
    }
    return cluster


def _restart(env: FakeEnv, p: Parsed, cluster: dict) -> int:
    name = cluster["name"]
    console.step("✨  Using the docker driver based on existing profile")
    console.step(f'👍  Starting "{name}" primary control-plane node in "{name}" cluster')
    if cluster["status"] == "running":
        console.step(f'🏃  Updating the running docker "{name}" container ...')
    else:
        console.step(f'🔄  Restarting existing docker container for "{name}" ...')
        with env.store.transaction() as state:
            live = model.find(state, TOOL, name)
            if live is not None:
                conflict = netalloc.first_conflict(state, live, live["key"])
                if conflict is not None:
                    raise _exit(
                        EX_GUEST,
                        "GUEST_PROVISION",
                        f"error provisioning guest: Failed to start host: driver start: start: docker "
                        f"start {name}: exit status 1\nstdout:\n\nstderr:\nError response from daemon: "
                        f"driver failed programming external connectivity on endpoint {name} "
                        f"({netalloc.container_id(name)}): Bind for {conflict[0]}:{conflict[1]} failed: "
                        "port is already allocated",
                    )
    return _boot(env, p, name)


# -- stop / delete -------------------------------------------------------------------------


def _stop(env: FakeEnv, p: Parsed) -> int:
    state = env.store.read()
    names = [c["name"] for c in state["clusters"].values() if c["tool"] == TOOL] if p["all"] else [_profile(p)]
    if not p["all"] and model.find(state, TOOL, names[0]) is None:
        raise _not_found(names[0])
    stopped = 0
    for name in names:
        if env.inject("stop", [name]):
            raise _exit(
                82,
                "GUEST_STOP_TIMEOUT",
                "Unable to stop VM: Temporary Error: stop: Maximum number of retries (60) exceeded",
            )
        with env.store.transaction() as state:
            cluster = model.find(state, TOOL, name)
            if cluster is None:
                continue
            for node in cluster["nodes"]:
                out(f'✋  Stopping node "{node["name"]}"  ...')
                out(f'🛑  Powering off "{node["name"]}" via SSH ...')
                stopped += 1
            model.set_running(cluster, False)
    out(f"🛑  {stopped} node{'s' if stopped != 1 else ''} stopped.")
    return 0


def _drop(env: FakeEnv, name: str) -> dict | None:
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            return None
        del state["clusters"][cluster["key"]]
        netalloc.release_members(state, cluster["key"])
        net = state["networks"].get(cluster.get("network", ""))
        if net and net.get("owner") == cluster["key"] and not net["members"]:
            del state["networks"][net["name"]]
    # minikube cleans the kubeconfig it would write to now ($KUBECONFIG / ~/.kube/config)
    kubeconfig.remove(
        env.state_dir, kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig()), cluster
    )
    return cluster


def _delete(env: FakeEnv, p: Parsed) -> int:
    state = env.store.read()
    names = [c["name"] for c in state["clusters"].values() if c["tool"] == TOOL] if p["all"] else [_profile(p)]
    for name in names:
        if env.inject("delete", [name]):
            raise _exit(
                EX_GUEST,
                "GUEST_DELETION",
                f'deleting "{name}": Failed to delete container: docker rm -f -v {name}: exit status 1',
            )
        if model.find(env.store.read(), TOOL, name) is None:
            out(f'🤷  Profile "{name}" not found. Run "minikube profile list" to view all profiles.')
            continue
        out(f'🔥  Deleting "{name}" in docker ...')
        out(f'🔥  Deleting container "{name}" ...')
        out(f"🔥  Removing {os.path.join(env.home(), '.minikube', 'machines', name)} ...")
        _drop(env, name)
        out(f'💀  Removed all traces of the "{name}" cluster.')
    if p["all"]:
        out("🔥  Successfully deleted all profiles")
    return 0


# -- profile list ------------------------------------------------------------------------------


def _profile_json(cluster: dict, status: str, active: bool, active_ctx: bool) -> dict:
    opts = cluster["opts"]
    nodes = [
        {
            "Name": "" if i == 0 else n["name"],
            "IP": n.get("ip", ""),
            "Port": cluster["api"]["container_port"],
            "KubernetesVersion": cluster["k8s_version"],
            "ContainerRuntime": opts["container_runtime"],
            "ControlPlane": n["role"] == "control-plane",
            "Worker": True,
        }
        for i, n in enumerate(model.kube_nodes(cluster))
    ]
    k8s = {
        "KubernetesVersion": cluster["k8s_version"],
        "ClusterName": cluster["name"],
        "Namespace": "default",
        "APIServerHAVIP": "",
        "APIServerName": "minikubeCA",
        "APIServerNames": None,
        "APIServerIPs": None,
        "DNSDomain": opts["dns_domain"],
        "ContainerRuntime": opts["container_runtime"],
        "CRISocket": "",
        "NetworkPlugin": "cni",
        "FeatureGates": "",
        "ServiceCIDR": cluster["service_cidr"],
        "PodCIDR": cluster["pod_cidr"],
        "ImageRepository": opts["image_repository"],
        "LoadBalancerStartIP": "",
        "LoadBalancerEndIP": "",
        "CustomIngressCert": "",
        "RegistryAliases": "",
        "ExtraOptions": None,
        "ShouldLoadCachedImages": True,
        "EnableDefaultCNI": False,
        "CNI": opts["cni"],
    }
    config = {
        "Name": cluster["name"],
        "KeepContext": opts["keep_context"],
        "EmbedCerts": opts["embed_certs"],
        "MinikubeISO": "",
        "KicBaseImage": model.MINIKUBE_KIC_IMAGE,
        "Memory": opts["memory_mb"],
        "CPUs": opts["cpus"],
        "DiskSize": 20000,
        "Driver": "docker",
        "HyperkitVpnKitSock": "",
        "HyperkitVSockPorts": [],
        "DockerEnv": opts["docker_env"] or None,
        "ContainerVolumeMounts": None,
        "InsecureRegistry": opts["insecure_registry"] or None,
        "RegistryMirror": opts["registry_mirror"] or [],
        "HostOnlyCIDR": "192.168.59.1/24",
        "HypervVirtualSwitch": "",
        "HypervUseExternalSwitch": False,
        "HypervExternalAdapter": "",
        "KVMNetwork": "default",
        "KVMQemuURI": "qemu:///system",
        "KVMGPU": False,
        "KVMHidden": False,
        "KVMNUMACount": 1,
        "APIServerPort": opts["apiserver_port"],
        "DockerOpt": opts["docker_opt"] or None,
        "DisableDriverMounts": False,
        "NFSShare": [],
        "NFSSharesRoot": "/nfsshares",
        "UUID": "",
        "NoVTXCheck": False,
        "DNSProxy": False,
        "HostDNSResolver": True,
        "HostOnlyNicType": "virtio",
        "NatNicType": "virtio",
        "SSHIPAddress": "",
        "SSHUser": "root",
        "SSHKey": "",
        "SSHPort": 22,
        "KubernetesConfig": k8s,
        "Nodes": nodes,
        "Addons": {"default-storageclass": True, "storage-provisioner": True},
        "CustomAddonImages": None,
        "CustomAddonRegistries": None,
        "VerifyComponents": {
            comp: True
            for comp in (
                opts["wait"]
                if opts["wait"] not in (["all"], ["true"])
                else ["apiserver", "apps_running", "default_sa", "extra", "kubelet", "node_ready", "system_pods"]
            )
            if comp not in ("none", "false")
        },
        "StartHostTimeout": 360000000000,
        "ScheduledStop": None,
        "ExposedPorts": opts["exposed_ports"],
        "ListenAddress": opts["listen_address"],
        "Network": cluster["network"],
        "Subnet": opts["subnet"],
        "MultiNodeRequested": len(nodes) > 1,
        "ExtraDisks": 0,
        "CertExpiration": 94608000000000000,
        "MountString": "",
        "Mount9PVersion": "9p2000.L",
        "MountGID": "docker",
        "MountIP": "",
        "MountMSize": 262144,
        "MountOptions": [],
        "MountPort": 0,
        "MountType": "9p",
        "MountUID": "docker",
        "BinaryMirror": "",
        "DisableOptimizations": False,
        "DisableMetrics": False,
        "CustomQemuFirmwarePath": "",
        "SocketVMnetClientPath": "",
        "SocketVMnetPath": "",
        "StaticIP": opts["static_ip"],
        "SSHAuthSock": "",
        "SSHAgentPID": 0,
        "GPUs": "",
        "AutoPauseInterval": 60000000000,
    }
    return {
        "Name": cluster["name"],
        "Status": status,
        "Config": config,
        "Active": active,
        "ActiveKubeContext": active_ctx,
    }


def _profile_list(env: FakeEnv, p: Parsed) -> int:
    fmt = str(p["output"]).lower()
    if fmt not in ("json", "table"):
        raise _exit(EX_USAGE, "MK_USAGE", f"invalid output format: {p['output']}. Valid values: 'table', 'json'")
    if env.inject("profile-list"):
        if fmt == "json":
            out(
                go_json({"error": {"Op": "open", "Path": os.path.join(env.home(), ".minikube", "profiles"), "Err": 13}})
            )
        raise FakeExit(EX_GUEST)
    state = env.store.read()
    clusters = sorted((c for c in state["clusters"].values() if c["tool"] == TOOL), key=lambda c: c["name"])
    current_ctx = _current_context(env)
    rows = []
    for cluster in clusters:
        if p["light"]:
            status = "Skipped"
        else:
            status = {"running": "Running", "stopped": "Stopped", "creating": "Starting"}.get(
                cluster["status"], "Unknown"
            )
        rows.append(_profile_json(cluster, status, cluster["name"] == _profile(p), current_ctx == cluster["name"]))
    if fmt == "json":
        sys.stdout.write(go_json({"invalid": [], "valid": rows}))
        return 0
    if not rows:
        raise _exit(EX_USAGE, "MK_USAGE_NO_PROFILE", "No minikube profile was found.")
    header = [
        "Profile",
        "VM Driver",
        "Runtime",
        "IP",
        "Port",
        "Version",
        "Status",
        "Nodes",
        "Active Profile",
        "Active Kubecontext",
    ]
    body = [
        [
            r["Name"],
            "docker",
            r["Config"]["KubernetesConfig"]["ContainerRuntime"],
            r["Config"]["Nodes"][0]["IP"] if r["Config"]["Nodes"] else "",
            str(r["Config"]["APIServerPort"]),
            r["Config"]["KubernetesConfig"]["KubernetesVersion"],
            r["Status"],
            str(len(r["Config"]["Nodes"])),
            "*" if r["Active"] else "",
            "*" if r["ActiveKubeContext"] else "",
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(len(header))]
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out(sep)
    for row in [header, *body]:
        out("|" + "|".join(f" {cell.ljust(widths[i])} " for i, cell in enumerate(row)) + "|")
        if row is header:
            out(sep)
    out(sep)
    return 0


def _current_context(env: FakeEnv) -> str:
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    try:
        return str(kubeconfig.load(path).get("current-context") or "")
    except (OSError, ValueError, kubeconfig.KubeconfigError):
        return ""


# -- image load / ssh ---------------------------------------------------------------------------


def _image_load(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    if not p.args:
        raise _exit(
            EX_USAGE,
            "MK_USAGE",
            "Please provide an image in your local daemon to load into minikube via <minikube image load IMAGE_NAME>",
        )
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    if env.inject("image-load", [name]):
        raise _exit(
            EX_GUEST,
            "GUEST_IMAGE_LOAD",
            f"Failed to load image: save to dir: caching images: caching "
            f'image "{os.path.join(env.home(), ".minikube", "cache", "images")}'
            '": write: unable to calculate manifest: blob sha256:' + "0" * 64 + " not found",
        )
    if cluster["status"] != "running":
        raise _not_running(name)
    images: list[str] = []
    for arg in p.args:
        if arg == "-":
            images.append("stdin-image:latest")
        elif os.path.isfile(arg):
            images.extend(images_in_archive(arg) or [os.path.basename(arg)])
        else:
            images.append(arg)
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            for node in model.kube_nodes(live):
                for image in images:
                    ref = model.normalize_image(image)
                    if ref in node["images"] and not p["overwrite"]:
                        continue
                    if ref not in node["images"]:
                        node["images"].append(ref)
    return 0


def _ssh(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    node_name = str(p["node"]) or name
    nodes = {n["name"]: n for n in model.kube_nodes(cluster)}
    short = {f"m{i + 1:02d}": n for i, n in enumerate(model.kube_nodes(cluster))}
    node = nodes.get(node_name) or short.get(node_name)
    if node is None:
        raise _exit(EX_GUEST, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {node_name}")
    if env.inject("ssh", [name]):
        raise _exit(
            EX_GUEST,
            "GUEST_SSH",
            "ssh: handshake failed: ssh: unable to authenticate, attempted methods "
            "[none publickey], no supported methods remain",
        )
    if cluster["status"] != "running":
        raise _not_running(name)
    command = " ".join(p.dash_args if p.dash_args is not None else p.args)
    return _ssh_command(cluster, node, command)


def _ssh_command(cluster: dict, node: dict, command: str) -> int:
    """Answer the few commands tests run inside the node; others print nothing."""
    images = [
        model.normalize_image(i if ":" in i.rsplit("/", 1)[-1] else f"{i}:{cluster['k8s_version']}")
        for i in _SYSTEM_IMAGES
    ] + node["images"]
    if "crictl images" in command or ("ctr" in command and "images" in command):
        rows = [["IMAGE", "TAG", "IMAGE ID", "SIZE"]]
        for ref in images:
            repo, _, tag = ref.rpartition(":")
            rows.append([repo, tag, hashlib.sha256(ref.encode()).hexdigest()[:13], "10.1MB"])
        out(table(rows, padding=3, minwidth=0))
    elif "docker images" in command or "docker image ls" in command:
        rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
        for ref in images:
            repo, _, tag = ref.rpartition(":")
            repo = repo.removeprefix("docker.io/library/").removeprefix("docker.io/")
            rows.append([repo, tag, hashlib.sha256(ref.encode()).hexdigest()[:12], "2 weeks ago", "10.1MB"])
        out(table(rows, padding=3, minwidth=0))
    elif command.strip() == "hostname":
        out(node["name"])
    elif "os-release" in command:
        out('PRETTY_NAME="Ubuntu 22.04.5 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"')
    return 0


def _update_context(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    if env.inject("update-context", [name]):
        raise _exit(
            EX_GUEST,
            "GUEST_STATUS",
            f'state: unknown state "{name}": docker container inspect {name} '
            "--format={{.State.Status}}: exit status 1",
        )
    if cluster["status"] != "running":
        raise _not_running(name)
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    server = kubeconfig.server_url(cluster)
    current = kubeconfig.load(path)
    entry = next((c for c in current["clusters"] if c.get("name") == name), None)
    changed = entry is None or (entry.get("cluster") or {}).get("server") != server
    kubeconfig.merge(env.state_dir, path, cluster, switch_context=True)
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            model.remember_kubeconfig(live, path)
    api = cluster["api"]
    if changed:
        out(f'🎉  "{name}" context has been updated to point to {api["server_host"]}:{api["port"]}')
    else:
        out(f'🙄  No changes required for the "{name}" context')
    out(f'💗  Current context is "{name}"')
    return 0


def _status(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    env.inject("status", [name])
    running = cluster["status"] == "running"
    state = "Running" if running else ("Starting" if cluster["status"] == "creating" else "Stopped")
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    try:
        configured = any(c.get("name") == name for c in kubeconfig.load(path)["contexts"])
    except (OSError, ValueError, kubeconfig.KubeconfigError):
        configured = False
    rows = []
    for node in model.kube_nodes(cluster):
        row = {"Name": node["name"], "Host": state, "Kubelet": state if running else "Stopped"}
        if node["role"] == "control-plane":
            row["APIServer"] = state if running else "Stopped"
            row["Kubeconfig"] = "Configured" if configured and running else "Stopped"
        row["Worker"] = node["role"] != "control-plane"
        rows.append(row)
    if str(p["output"]) == "json":
        out(go_json(rows[0] if len(rows) == 1 else rows))
    else:
        for row in rows:
            out(row["Name"])
            out("type: Worker" if row["Worker"] else "type: Control Plane")
            out(f"host: {row['Host']}")
            out(f"kubelet: {row['Kubelet']}")
            if not row["Worker"]:
                out(f"apiserver: {row['APIServer']}")
                out(f"kubeconfig: {row['Kubeconfig']}")
            out("")
    # status.go: exit code is a bitmask of host(1)/kubelet-or-cluster(2)/kubeconfig(4) not OK
    return 0 if running else 7


def _ip(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    wanted = str(p["node"]) or name
    nodes = model.kube_nodes(cluster)
    node = next((n for n in nodes if n["name"] == wanted or n["name"] == f"{name}-{wanted}"), None)
    if node is None:
        raise _exit(EX_GUEST, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {wanted}")
    out(node.get("ip", ""))
    return 0


_HANDLERS = {
    "minikube update-context": _update_context,
    "minikube status": _status,
    "minikube ip": _ip,
    "minikube version": _version,
    "minikube start": _start,
    "minikube stop": _stop,
    "minikube delete": _delete,
    "minikube profile list": _profile_list,
    "minikube image load": _image_load,
    "minikube ssh": _ssh,
}
