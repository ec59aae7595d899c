"""Fake ``minikube`` (docker driver only), v1.38.1 by default.

Read against kubernetes/minikube at tags v1.34.0 … v1.38.1 (see
tests/fakes/README.md, "Facts checked against the real tools' sources", and
/tmp notes of issue 6).  Main sources: cmd/minikube/cmd/{start,start_flags,
stop,delete,update-context,version}.go, cmd/minikube/cmd/config/
profile_list.go, pkg/minikube/cluster/status.go (v1.35+ status names),
pkg/minikube/mustload/mustload.go, pkg/minikube/kubeconfig/{kubeconfig,
context}.go, pkg/drivers/kic/{kic.go,oci/oci.go,oci/network_create.go},
pkg/network/network.go, pkg/minikube/registry/drvs/docker/docker.go,
pkg/minikube/reason/{exitcodes,reason}.go.  Progress goes to stdout (also
the "Profile not found" / "host is not running" hints), warnings and
"Exiting due to" errors to stderr.

Environment knobs (besides the shared KENV_FAKE_*):
``KENV_FAKE_MINIKUBE_VERSION``  impersonated release (default v1.38.1); < v1.35.0
                                reports a healthy profile as "Running", >= v1.35.0 as "OK"
``KENV_FAKE_MINIKUBE_ENDPOINT`` ``forwarded`` (default: Docker Desktop / rootless /
                                remote engine: kubeconfig server https://127.0.0.1:<random
                                host port>) or ``native`` (rootful Docker on Linux:
                                https://<node IP>:<apiserver-port>, HA: the VIP)
``KENV_FAKE_DOCKER_DOWN``       ``1``: the Docker engine is unreachable
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time

from . import kubeconfig, model, netalloc
from .cli import ARRAY, BOOL, DURATION, INT, SLICE, Command, Flag, Parsed, UsageError, parse
from .common import archive_error, err, go_json, images_in_archive, out, table
from .env import FakeEnv, FakeExit

TOOL = "minikube"
# pkg/minikube/reason/exitcodes.go
EX_USAGE = 14
EX_PROVIDER_NOT_RUNNING = 63
EX_LOCAL_NETWORK_ERROR = 70
EX_GUEST, EX_GUEST_CONFLICT, EX_GUEST_TIMEOUT, EX_GUEST_NOT_RUNNING, EX_GUEST_NOT_FOUND = 80, 81, 82, 83, 85
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

# -- impersonated release ------------------------------------------------------------------

# tag -> (commit of the tag, constants.DefaultKubernetesVersion, kic Version, kic baseImageSHA)
_RELEASES = {
    (1, 34, 0): (
        "210b148df93a80eb872ecbeb7e35281b3c582c61",
        "v1.31.0",
        "v0.0.45",
        "81df288595202a317b1a4dc2506ca2e4ed5f22373c19a441b88cfbf4b9867c85",
    ),
    (1, 35, 0): (
        "dd5d320e41b5451cdf3c01891bc4e13d189586ed",
        "v1.32.0",
        "v0.0.46",
        "fd2d445ddcc33ebc5c6b68a17e6219ea207ce63c005095ea1525296da2d1a279",
    ),
    (1, 36, 0): (
        "f8f52f5de11fc6ad8244afac475e1d0f96841df1",
        "v1.33.1",
        "v0.0.47",
        "6ed579c9292b4370177b7ef3c42cc4b4a6dcd0735a1814916cbc22c8bf38412b",
    ),
    (1, 37, 0): (
        "65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3",
        "v1.34.0",
        "v0.0.48",
        "7171c97a51623558720f8e5878e4f4637da093e2f2ed589997bedc6c1549b2b1",
    ),
    (1, 38, 0): (
        "de81223c61ab1bd97dcfcfa6d9d5c59e5da4a0cf",
        "v1.35.0",
        "v0.0.49",
        "e6daddbb1dc09ccd195c5605f65e2d38406c36ef36c5a492ffe805d9d36f4945",
    ),
    (1, 38, 1): (
        "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0",
        "v1.35.1",
        "v0.0.50",
        "eb4fec00e8ad70adf8e6436f195cc429825ffb85f95afcdb5d8d9deb576f3e93",
    ),
}
DEFAULT_VERSION = "v1.38.1"


class _Release:
    """The minikube release the fake impersonates (KENV_FAKE_MINIKUBE_VERSION)."""

    def __init__(self, version: str) -> None:
        self.load(version)

    def load(self, version: str) -> None:
        match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?", version.strip())
        if not match:
            err(f"fake minikube: KENV_FAKE_MINIKUBE_VERSION must look like v1.34.0, got {version!r}")
            raise FakeExit(2)
        key = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
        self.version = "v{}.{}.{}{}".format(*key, match.group(4) or "")
        known = [k for k in sorted(_RELEASES) if k <= key] or [min(_RELEASES)]
        commit, self.k8s, kic_tag, kic_sha = _RELEASES[known[-1]]
        if key not in _RELEASES or match.group(4):
            commit = hashlib.sha1(f"minikube {self.version}".encode()).hexdigest()
        self.commit = commit
        self.kic_tag = kic_tag
        self.kic_image = f"gcr.io/k8s-minikube/kicbase:{kic_tag}@sha256:{kic_sha}"
        # pkg/minikube/cluster/status.go (c38897dc95, first in v1.35.0): "OK" instead of "Running"
        self.ok_status = key >= (1, 35, 0)
        # profile_list.go -d/--detailed (and no Port column by default) since v1.37.0
        self.detailed = key >= (1, 37, 0)


REL = _Release(DEFAULT_VERSION)


def _docker_down(env: FakeEnv) -> bool:
    return env.environ.get("KENV_FAKE_DOCKER_DOWN", "") not in ("", "0", "false")


def _engine_down_text(env: FakeEnv) -> str:
    host = env.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?"


def _native_endpoint(env: FakeEnv) -> bool:
    return env.environ.get("KENV_FAKE_MINIKUBE_ENDPOINT", "forwarded") == "native"


def _tree(rel: _Release) -> Command:
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
                        flags=[
                            Flag("output", short="o", default="table"),
                            Flag("light", BOOL, short="l"),
                            # profile_list.go: -d/--detailed exists since v1.37.0
                            *([Flag("detailed", BOOL, short="d")] if rel.detailed else []),
                        ],
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
    wanted = env.environ.get("KENV_FAKE_MINIKUBE_VERSION", "")
    if wanted:
        REL.load(wanted)
    root = _tree(REL)
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
        if not text:
            return
        for prefix, number, name in _STEP_BY_PREFIX:
            if text.startswith(prefix):
                message = text[len(prefix) :].strip() if not prefix.startswith("▪") else text[1:].strip()
                self._event("step", {"currentstep": str(number), "message": message, "name": name, "totalsteps": "19"})
                return
        self._event("info", {"message": text.lstrip("📌▪ ").strip()})

    def warn(self, line: str) -> None:
        """out.WarningT / out.ErrT: stderr in text mode, a warning event with -o json."""
        if self.json:
            self._event("warning", {"message": line.lstrip("❗🤦😿 ").strip()})
        else:
            err(line)

    def fail(self, code: int, reason: str, message: str, advice: str = "", url: str = "", icon: str = "❌") -> None:
        """exit.Message -> out.Error (pkg/minikube/out/out_reason.go displayText)."""
        if self.json:
            self._event(
                "error",
                {"advice": advice, "exitcode": str(code), "issues": "", "message": message, "name": reason, "url": url},
            )
            return
        lines = [f"{icon}  Exiting due to {reason}: {message}"]
        if advice:
            lines.append(f"💡  Suggestion: {advice}")
        if url:
            lines.append(f"📘  Documentation: {url}")
        out("")  # out_reason.go displayText: Ln("") (stdout) around the stderr lines
        err("\n".join(lines))
        out("")


console = _Console()


def _exit(code: int, reason: str, message: str) -> FakeExit:
    console.fail(code, reason, message)
    return FakeExit(code)


def _provider_not_running(env: FakeEnv) -> FakeExit:
    """start.go validateDriver with docker.go dockerVersionOrState/suggestFix (daemon down)."""
    console.fail(
        EX_PROVIDER_NOT_RUNNING,
        "PROVIDER_DOCKER_NOT_RUNNING",
        '"docker version --format {{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: '
        + _engine_down_text(env),
        advice="Start the Docker service",
        url="https://minikube.sigs.k8s.io/docs/drivers/docker/",
        icon="💣",
    )
    return FakeExit(EX_PROVIDER_NOT_RUNNING)


def _inspect_error(env: FakeEnv, machine: str) -> str:
    """oci.ContainerStatus error with cli_runner's "%s: %v\\nstdout:\\n%s\\nstderr:\\n%s" wrapping."""
    return (
        f'unknown state "{machine}": docker container inspect {machine} --format={{{{.State.Status}}}}: '
        f"exit status 1\nstdout:\n\nstderr:\n{_engine_down_text(env)}"
    )


def _example(name: str, action: str) -> str:
    """mustload.ExampleCmd."""
    return f"minikube {action}" if name == "minikube" else f"minikube {action} -p {name}"


def _not_found(name: str) -> FakeExit:
    # mustload.Partial: out.Styled -> stdout, exitTip("start", …, ExGuestNotFound)
    out(f'🤷  Profile "{name}" not found. Run "minikube profile list" to view all profiles.')
    out(f'👉  To start a cluster, run: "{_example(name, "start")}"')
    return FakeExit(EX_GUEST_NOT_FOUND)


def _not_running(name: str) -> FakeExit:
    # mustload.running: out.Styled -> stdout, exitTip("start", …, ExGuestNotRunning = 83)
    out(f"🤷  The control-plane node {name} host is not running: state=Stopped")
    out(f'👉  To start a cluster, run: "{_example(name, "start")}"')
    return FakeExit(EX_GUEST_NOT_RUNNING)


def _running_or_exit(env: FakeEnv, name: str) -> dict:
    """mustload.Running: the profile, its primary host status, or the real exits."""
    cluster = model.find(env.store.read(), TOOL, name)
    if cluster is None:
        raise _not_found(name)
    primary = cluster["nodes"][0]
    if _docker_down(env):
        raise _exit(
            EX_GUEST,
            "GUEST_STATUS",
            f"Unable to get control-plane node {name} host status: state: {_inspect_error(env, name)}",
        )
    if primary.get("docker_state") in ("created", "absent"):
        detail = (
            f'unknown state "{name}": %!w(<nil>)'
            if primary.get("docker_state") == "created"
            else f'unknown state "{name}": docker container inspect {name} --format={{{{.State.Status}}}}: '
            f"exit status 1\nstdout:\n\nstderr:\nError response from daemon: No such container: {name}"
        )
        raise _exit(EX_GUEST, "GUEST_STATUS", f"Unable to get control-plane node {name} host status: state: {detail}")
    if cluster["status"] != "running":
        raise _not_running(name)
    return cluster


def _profile(p: Parsed) -> str:
    return str(p["profile"])


def _version(env: FakeEnv, p: Parsed) -> int:
    env.inject("version")
    fmt = str(p["output"])
    data = {"commit": REL.commit, "minikubeVersion": REL.version}
    if fmt == "json":
        out(go_json(data))
    elif fmt == "yaml":
        out(f"commit: {REL.commit}\nminikubeVersion: {REL.version}\n")
    elif fmt == "":
        # cmd/minikube/cmd/version.go: --short prints the bare version, nothing else.
        if p["short"]:
            out(REL.version)
        else:
            out(f"minikube version: {REL.version}")
            out(f"commit: {REL.commit}")
    else:
        raise _exit(EX_USAGE, "MK_USAGE", "error: --output must be 'yaml' or 'json'")
    return 0


# -- event log (pkg/minikube/cluster/status.go readEventLog) -----------------------------------
#
# start (always) and stop truncate ~/.minikube/profiles/P/events.json; profile list (v1.35+)
# turns the last steps of a log younger than 10 minutes into a transient status.

_STARTING, _STOPPING = 100, 110
_CODE_NAMES = {
    100: "Starting",
    101: "Pausing",
    102: "Unpausing",
    110: "Stopping",
    103: "Deleting",
    200: "OK",
    201: "HAppy",
    203: "Warning",
    204: "Degraded",
    404: "NotFound",
    405: "Stopped",
    418: "Paused",
    500: "Error",
    507: "InsufficientStorage",
    520: "Unknown",
}


def _log_events(cluster: dict, transient: int, started: bool) -> None:
    cluster["opts"]["events"] = {"mtime": time.time(), "transient": transient, "started": started}


# -- start ---------------------------------------------------------------------------------


def _k8s_version(text: str) -> str:
    if text in ("", "stable", "latest"):
        return REL.k8s
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise _exit(EX_USAGE, "MK_USAGE", f'Unable to parse "{text}": No Major.Minor.Patch elements found')
    return "v" + ".".join(match.groups())


def _valid_port(text: str) -> None:
    """start.go validatePort."""
    if not text.isdigit():
        raise _exit(EX_USAGE, "MK_USAGE", f"Sorry, one of the ports provided with --ports flag is not valid: {text}")
    if not 1 <= int(text) <= 65535:
        raise _exit(
            EX_USAGE, "MK_USAGE", f"Sorry, one of the ports provided with --ports flag is outside range: {text}"
        )


def _parse_ports(values: list[str]) -> list[dict]:
    """--ports as docker's -p: [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]; start.go validatePorts."""
    ports = []
    for value in values:
        spec, _, proto = value.partition("/")
        parts = spec.split(":")
        if len(parts) == 1:  # only exposed: docker picks the host port
            ip, hp, cp = "", "", parts[0]
        elif len(parts) == 2:
            ip, hp, cp = "", parts[0], parts[1]
        elif len(parts) == 3:
            ip, hp, cp = parts
        else:
            raise _exit(
                EX_USAGE,
                "MK_USAGE",
                f"Sorry, one of the ports provided with --ports flag is not valid {values} "
                f"(invalid port specification: {value!r})",
            )
        _valid_port(cp)
        if len(parts) > 1:
            _valid_port(hp)  # "127.0.0.1::80" is rejected: validatePort("") fails
        ports.append(
            {
                "host_ip": ip,
                "host_port": int(hp) if hp else 0,
                "container_port": int(cp),
                "protocol": (proto or "tcp").lower(),
                "spec": value,
            }
        )
    return ports


# IPv4 helpers (Go's net semantics: classful DefaultMask, IsPrivate)


def _ip_int(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(x.isdigit() and int(x) < 256 for x in parts):
        return None
    return (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])


def _ip_str(value: int) -> str:
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def _mask(prefix: int) -> int:
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF if prefix else 0


def _classful(ip: int) -> int:
    first = ip >> 24
    return 8 if first < 128 else 16 if first < 192 else 24


def _private(ip: int) -> bool:
    return (ip >> 24) == 10 or (ip >> 20) == (172 << 4 | 1) or (ip >> 16) == (192 << 8 | 168)


def _cidr(text: str) -> tuple[int, int] | None:
    """net.ParseCIDR -> (network, prefix), or None."""
    addr, _, prefix = text.partition("/")
    ip = _ip_int(addr)
    if ip is None or not prefix.isdigit() or int(prefix) > 32:
        return None
    return ip & _mask(int(prefix)), int(prefix)


def _validate_subnet(text: str) -> None:
    """start.go validateSubnet (netutil.ParseAddr)."""
    ip = _ip_int(text.partition("/")[0]) if "/" in text else _ip_int(text)
    if (_cidr(text) is None if "/" in text else ip is None) or ip is None:
        raise _exit(
            EX_USAGE,
            "MK_USAGE",
            f"Sorry, unable to parse subnet: failed parsing address {text}: invalid CIDR address: {text}",
        )
    if not _private(ip):
        raise _exit(EX_USAGE, "MK_USAGE", f"Sorry, the subnet {_ip_str(ip)} is not a private IP")
    if "/" in text and int(text.partition("/")[2]) > 30:
        raise _exit(EX_USAGE, "MK_USAGE", "Sorry, the subnet provided does not have a mask less than or equal to /30")


def _validate_static_ip(ip_text: str) -> None:
    """start.go validateStaticIP."""
    ip = _ip_int(ip_text)
    if ip is None or not _private(ip):
        raise _exit(EX_USAGE, "MK_USAGE", "static IP must be private")
    if not 2 <= (ip & 255) <= 254:
        raise _exit(
            EX_USAGE,
            "MK_USAGE",
            "static IPs last octet must be between 2 and 254 (X.X.X.2 - X.X.X.254), for example 192.168.200.200",
        )


class _Panic(Exception):
    """A Go runtime panic of the real binary (exit status 2)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _lans(state: dict) -> list[tuple[int, int]]:
    """Networks visible as host interfaces (on Linux every Docker bridge is one, docker0 too)."""
    lans = [(172 << 24 | 17 << 16, 16)]
    for net in state["networks"].values():
        parsed = _cidr(str(net.get("subnet") or ""))
        if parsed is not None:
            lans.append(parsed)
    return lans


def _free_subnet(state: dict, start: str, tries: int, reserved: set[int]) -> tuple[int, int] | str:
    """pkg/network/network.go FreeSubnet(start, step=9, tries) -> (network, prefix) or error text."""
    lans = _lans(state)
    current = start
    for _ in range(tries):
        parsed = _cidr(current) if "/" in current else None
        ip = parsed[0] if parsed else (_ip_int(current) or 0)
        network, prefix = parsed if parsed else (ip & _mask(_classful(ip)), _classful(ip))
        for lan, lan_prefix in lans:  # Inspect: the interface's LAN wins
            if (ip & _mask(lan_prefix)) == lan:
                network, prefix = lan, lan_prefix
                break
        if _private(network):
            taken = any((network & _mask(p)) == lan for lan, p in lans)
            if not taken and network not in reserved:
                reserved.add(network)
                return network, prefix
        # nextSubnet := net.ParseIP(currSubnet).To4() is nil for a CIDR string (minikube#15516)
        octet = 1 if _classful(network) <= 16 else 2
        if "/" in current:
            raise _Panic(
                f"panic: runtime error: index out of range [{octet}] with length 0\n\n"
                "goroutine 1 [running]:\n"
                "k8s.io/minikube/pkg/network.FreeSubnet("
                f"{{0xc000{os.getpid() & 0xFFFF:04x}, 0x{len(current):x}}}, 0x9, 0x{tries:x})\n"
                "\t/app/pkg/network/network.go:218 +0x5a5\n"
                "k8s.io/minikube/pkg/drivers/kic/oci.CreateNetwork({0x3a2b1e4, 0x6}, …)\n"
                "\t/app/pkg/drivers/kic/oci/network_create.go:101 +0x3c5\n"
                "k8s.io/minikube/pkg/drivers/kic.(*Driver).Create(0xc0004a8a80)\n"
                "\t/app/pkg/drivers/kic/kic.go:101 +0x2b4"
            )
        cur = _ip_int(current) or 0
        shift = 16 if octet == 1 else 8
        byte = ((cur >> shift) + 9) & 255
        current = _ip_str((cur & ~(255 << shift)) | (byte << shift))
    return f'no free private network subnets found with given parameters (start: "{start}", step: 9, tries: {tries})'


def _create_network(state: dict, cluster: dict, net_name: str, subnet: str, static_ip: str) -> tuple[dict | None, str]:
    """oci.CreateNetwork: (network record, "") or (None, error text) when minikube gives up."""
    if net_name == "bridge":
        return state["networks"].get("bridge") or netalloc.add_network(
            state, "bridge", "172.17.0.0/16", owner="", external=True
        ), ""
    existing = state["networks"].get(net_name)
    if existing is not None:
        return existing, ""
    tries, start = 20, subnet or "192.168.49.0"
    if static_ip:
        tries, start = 1, static_ip
    reserved: set[int] = set()
    for _ in range(5):
        found = _free_subnet(state, start, tries, reserved)
        if isinstance(found, str):
            return None, f"un-retryable: {found}"
        network, prefix = found
        cidr = f"{_ip_str(network)}/{prefix}"
        if any(netalloc.overlaps(cidr, f"{_ip_str(lan)}/{p}") for lan, p in _lans(state)):
            start = _ip_str(network)  # "Pool overlaps with other one on this address space": retry
            continue
        owner = cluster["key"] if net_name == cluster["name"] else ""
        return netalloc.add_network(state, net_name, cidr, owner=owner, external=False), ""
    return None, f"failed to create docker network {net_name}: subnet is taken"


def _gateway(net: dict) -> int:
    return _ip_int(str(net.get("gateway") or "")) or ((_cidr(net["subnet"]) or (0, 0))[0] + 1)


def _client_max(net: dict) -> str:
    network, prefix = _cidr(net["subnet"]) or (0, 32)
    return _ip_str((network | (~_mask(prefix) & 0xFFFFFFFF)) - 1)


def _docker_run(cluster: dict, node: dict, net: dict | None, ip: str) -> str:
    """The `docker run` minikube issues for a node (oci.CreateContainerNode / createContainer)."""
    name, opts = node["name"], cluster["opts"]
    args = [
        "docker run -d -t --privileged --security-opt seccomp=unconfined --tmpfs /tmp --tmpfs /run",
        "-v /lib/modules:/lib/modules:ro",
        f"--hostname {name} --name {name}",
        "--label created_by.minikube.sigs.k8s.io=true",
        f"--label name.minikube.sigs.k8s.io={name}",
        "--label role.minikube.sigs.k8s.io=",
        f"--label mode.minikube.sigs.k8s.io={name}",
    ]
    if net is not None and net["name"] != "bridge":
        args.append(f"--network {net['name']} --ip {ip}")
    args.append(f"--volume {name}:/var --security-opt apparmor=unconfined")
    args.append(f"--memory={opts['memory_mb']}mb --cpus={opts['cpus']} -e container=docker")
    args.append(f"--expose {opts['apiserver_port']}")
    args.extend(f"-p {spec}" for spec in opts["exposed_ports"])
    listen = opts["listen_address"] or "127.0.0.1"
    args.extend(f"--publish={listen}::{p}" for p in (opts["apiserver_port"], 22, 2376, 5000, 32443))
    args.append(REL.kic_image)
    return " ".join(args)


class _NodeFailure(Exception):
    """Creating a node container failed the way Docker/minikube report it."""

    def __init__(self, error: str, retried: bool, docker_state: str) -> None:
        super().__init__(error)
        self.error = error
        self.retried = retried  # startHostInternal retried once (not for FailFastError)
        self.docker_state = docker_state  # what is left: "created" container or "absent"


def _create_node(env: FakeEnv, state: dict, cluster: dict, index: int, warnings: list[str]) -> None:
    """kic.Driver.Create for node ``index`` (network, IP, port bindings); raises _NodeFailure/_Panic."""
    opts = cluster["opts"]
    node = cluster["nodes"][index]
    net_name = opts["network"] or cluster["name"]
    net, error = _create_network(state, cluster, net_name, opts["subnet"], opts["static_ip"])
    member = netalloc.member_key(cluster["key"], node["name"])
    if net is None:
        msg = f"Unable to create dedicated network, this might result in cluster IP change after restart: {error}"
        if opts["static_ip"]:
            raise _NodeFailure("IF_DEDICATED_NETWORK:" + msg, False, "absent")
        warnings.append(f"❗  {msg}")
        net = state["networks"].get("bridge") or netalloc.add_network(
            state, "bridge", "172.17.0.0/16", owner="", external=True
        )
        ip = ""  # docker assigns one on the default bridge
    elif net["name"] == "bridge":
        ip = ""
    elif opts["static_ip"]:
        ip = opts["static_ip"]  # every node asks for the same --static-ip (kic.go)
    else:
        gateway = _gateway(net)
        if (gateway & 255) + index + 1 > 253:
            raise _NodeFailure("creating host: create: creating: too many machines to calculate an IP", False, "absent")
        ip = _ip_str(gateway + index + 1)  # driver.IndexFromMachineName: P=1, P-m02=2, …
    if ip and ip in net["members"].values():
        raise _NodeFailure(
            "creating host: create: creating: create kic node: create container: "
            "can't create with that IP, address already in use",
            False,
            "absent",
        )
    # every node container publishes every --ports (docker.go configure; minikube#12776)
    bindings = []
    for port in opts["ports"]:
        host_port = port["host_port"] or netalloc.random_port(state)
        owner = netalloc.port_owner(state, port["host_ip"], host_port, port["protocol"])
        if port["host_port"] and owner is not None:
            where = f"{port['host_ip'] or '0.0.0.0'}:{host_port}"
            raise _NodeFailure(
                "creating host: create: creating: create kic node: create container: "
                f"{_docker_run(cluster, node, net, ip)}: exit status 125\nstdout:\n\nstderr:\n"
                "docker: Error response from daemon: driver failed programming external connectivity on endpoint "
                f"{node['name']} ({netalloc.container_id(node['name'])}): Bind for {where} failed: "
                "port is already allocated.",
                True,
                "created",
            )
        bindings.append(dict(port, host_port=host_port, node=node["name"]))
    cluster["ports"].extend(bindings)
    node["ip"] = netalloc.allocate_ip(net, member, ip)
    node["network"] = net["name"]
    node.pop("docker_state", None)
    if index == 0 and opts["ha"]:  # node/start.go startPrimaryControlPlane: APIServerHAVIP = ClientMax
        opts["ha_vip"] = _client_max(net)


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
    existing = model.find(env.store.read(), TOOL, name)
    console.step(f"😄  {'' if name == 'minikube' else f'[{name}] '}minikube {REL.version} on Ubuntu 22.04 (amd64)")
    if existing is not None:
        console.step("✨  Using the docker driver based on existing profile")
    else:
        console.step("✨  Using the docker driver based on user configuration")
    if _docker_down(env):
        raise _provider_not_running(env)
    if existing is not None:
        return _restart(env, p, existing)
    # start.go validateFlags order: ports, subnet, static IP; then the HA node count (start_flags.go)
    ports = _parse_ports(p.strings("ports")) if p.is_set("ports") else []
    subnet = str(p["subnet"])
    if p.is_set("subnet"):
        _validate_subnet(subnet)
    static_ip = str(p["static-ip"])
    if p.is_set("static-ip"):
        if subnet:
            console.warn("❗  --static-ip overrides --subnet, --subnet will be ignored")
        _validate_static_ip(static_ip)
    version = _k8s_version(str(p["kubernetes-version"]))
    total = p.number("nodes")
    if p["ha"]:
        if not p.is_set("nodes"):
            total = 3
        elif total < 3:
            raise _exit(EX_USAGE, "MK_USAGE", "HA (multi-control plane) clusters require 3 or more control-plane nodes")
    console.step("📌  Using Docker driver with root privileges")
    if p["dry-run"]:
        console.step("✅  dry-run validation complete!")
        return 0
    warnings: list[str] = []
    failure: _NodeFailure | _Panic | None = None
    with env.store.transaction() as state:
        if model.find(state, TOOL, name) is not None:
            raise _exit(
                EX_GUEST_CONFLICT, "GUEST_PROVISION_CONFLICT", f'profile "{name}" is being created by another process'
            )
        leftover = state["clusters"].pop(f"minikube-leftover/{name}", None)
        if leftover is not None:  # kic.go Create: an abandoned minikube container is deleted and made again
            netalloc.release_members(state, f"{TOOL}/{name}")
        cluster = _new_profile(state, p, name, version, static_ip, ports, total)
        state["clusters"][cluster["key"]] = cluster
        _log_events(cluster, _STARTING, False)
        try:
            _create_node(env, state, cluster, 0, warnings)
        except (_NodeFailure, _Panic) as exc:
            failure = exc
            cluster["nodes"][0]["docker_state"] = exc.docker_state if isinstance(exc, _NodeFailure) else "absent"
            cluster["status"] = "stopped"
    console.step(f'👍  Starting "{name}" primary control-plane node in "{name}" cluster')
    console.step(f"🚜  Pulling base image {REL.kic_tag} ...")
    console.step(
        f"🔥  Creating docker container (CPUs={cluster['opts']['cpus']}, Memory={cluster['opts']['memory_mb']}MB) ..."
    )
    for warning in warnings:
        console.warn(warning)
    if failure is not None:
        _fail_node(env, name, name, failure, primary=True)
    _boot(env, p, name)
    for index in range(1, total):
        _add_node(env, p, name, index)
    _done(env, name)
    return 0


def _fail_node(env: FakeEnv, profile: str, machine: str, failure: _NodeFailure | _Panic, primary: bool) -> None:
    """The real tool's output when creating node ``machine`` failed; always raises."""
    if isinstance(failure, _Panic):
        sys.stdout.flush()
        err(failure.text)
        raise FakeExit(2)
    if failure.error.startswith("IF_DEDICATED_NETWORK:"):
        raise _exit(EX_LOCAL_NETWORK_ERROR, "IF_DEDICATED_NETWORK", failure.error.partition(":")[2])
    error = failure.error
    if failure.retried:  # node/start.go startHostInternal
        console.warn(f"🤦  StartHost failed, but will try again: {error}")
        console.warn(
            f'😿  Failed to start docker container. Running "{_example(profile, "delete")}" may fix it: {error}'
        )
    # text mode records the error without an exit code (status stays "Starting"); -o json with it
    _record_failure(env, profile, EX_GUEST if console.json else _STARTING)
    if primary:  # start.go exitGuestProvision
        raise _exit(EX_GUEST, "GUEST_PROVISION", f"error provisioning guest: Failed to start host: {error}")
    raise _exit(EX_GUEST, "GUEST_START", f"failed to start node: adding node: Failed to start host: {error}")


def _record_failure(env: FakeEnv, name: str, transient: int) -> None:
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            _log_events(live, transient, False)


def _add_node(env: FakeEnv, p: Parsed, name: str, index: int) -> None:
    """start.go startWithDriver → node.Add for node ``index`` of a new profile."""
    warnings: list[str] = []
    failure: _NodeFailure | None = None
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is None:
            raise _exit(EX_GUEST, "GUEST_START", f'profile "{name}" was deleted during start')
        # node.Add: config.SaveNode before the container exists (a failed node stays in the profile)
        node = _node_record(name, index, 3 if live["opts"]["ha"] else 1)
        live["nodes"].append(node)
        try:
            _create_node(env, state, live, index, warnings)
            node["running"] = True
            node["kube"] = True
        except _NodeFailure as exc:
            failure = exc
            node["docker_state"] = exc.docker_state
        cpus, memory = live["opts"]["cpus"], live["opts"]["memory_mb"]
        role = "control-plane" if node["control_plane"] else "worker"
    console.step("")
    console.step(f'👍  Starting "{node["name"]}" {role} node in "{name}" cluster')
    console.step(f"🚜  Pulling base image {REL.kic_tag} ...")
    console.step(f"🔥  Creating docker container (CPUs={cpus}, Memory={memory}MB) ...")
    for warning in warnings:
        console.warn(warning)
    if failure is not None:
        _fail_node(env, name, node["name"], failure, primary=False)
    console.step(
        f"🐳  Preparing Kubernetes {_cluster_version(env, name)} on {_runtime_label(str(p['container-runtime']))} ..."
    )
    console.step("🔎  Verifying Kubernetes components...")


def _boot(env: FakeEnv, p: Parsed, name: str) -> None:
    """The slow part of `start` for the primary node: failure/hang/delay injection applies."""
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
                    # text: error recorded without exit code -> "Starting"; -o json: exitcode 80 -> ""
                    _log_events(cluster, EX_GUEST if console.json else _STARTING, False)
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
    # node/start.go startPrimaryControlPlane: kubeconfig written once the primary is up
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            raise _exit(EX_GUEST, "GUEST_START", f'profile "{name}" was deleted during start')
        _set_endpoint(env, cluster)
        cluster["status"] = "running"
        cluster["started"] = model.now_rfc3339()
        cluster["nodes"][0]["running"] = True
        model.remember_kubeconfig(cluster, path)
        snapshot = _kubeconfig_view(cluster)
    kubeconfig.merge(env.state_dir, path, snapshot, switch_context=not p["keep-context"])


def _done(env: FakeEnv, name: str) -> None:
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            _log_events(live, 0, True)
    console.step(f'🏄  Done! kubectl is now configured to use "{name}" cluster and "default" namespace by default')


def _set_endpoint(env: FakeEnv, cluster: dict) -> None:
    """Where the kubeconfig points (node/start.go setupKubeconfig, driver/endpoint.go).

    forwarded (NeedsPortForward: Docker Desktop, rootless, remote engine): 127.0.0.1 and the
    random host port published for the API's container port.  native (rootful Linux engine):
    the primary node's IP and the container port; HA: the VIP (last client IP of the subnet).
    """
    api = cluster["api"]
    opts = cluster["opts"]
    if _native_endpoint(env):
        host = opts.get("ha_vip") or cluster["nodes"][0]["ip"]
        api.update({"host": host, "host_ip": host, "port": opts["apiserver_port"], "server_host": host})


def _kubeconfig_view(cluster: dict) -> dict:
    return {"tool": TOOL, "name": cluster["name"], "uid": cluster["uid"], "api": dict(cluster["api"])}


def _wait_text(secs: float) -> str:
    mins, rem = divmod(int(secs), 60)
    return f"{mins}m{rem}s" if mins else f"{rem}s"


def _runtime_label(runtime: str) -> str:
    return {
        "docker": "Docker 28.4.0",
        "containerd": "containerd 1.7.27",
        "cri-o": "CRI-O 1.29.1",
        "crio": "CRI-O 1.29.1",
    }.get(runtime, runtime)


def _cluster_version(env: FakeEnv, name: str) -> str:
    cluster = model.find(env.store.read(), TOOL, name)
    return cluster["k8s_version"] if cluster else REL.k8s


def _memory_mb(text: str) -> int:
    if not text or text in ("max", "no-limit"):
        return 3900
    match = re.fullmatch(r"(\d+)\s*([kmgt]?)i?b?", text.lower())
    if not match:
        raise _exit(EX_USAGE, "MK_USAGE", f'Invalid memory value: "{text}"')
    value = int(match.group(1))
    return {"": value, "k": value // 1024, "m": value, "g": value * 1024, "t": value * 1024 * 1024}[match.group(2)]


def _node_record(profile: str, index: int, control_planes: int) -> dict:
    """config.Node as start.go makes it: the primary, then ControlPlane only while i < numCPNodes."""
    return {
        "name": profile if index == 0 else f"{profile}-m{index + 1:02d}",
        "role": "control-plane" if index < control_planes else "worker",
        "control_plane": index < control_planes,
        "worker": True,
        "kube": index == 0,  # secondary nodes join the cluster once their container runs
        "ip": "",
        "images": [],
        "running": False,
    }


def _new_profile(
    state: dict, p: Parsed, name: str, version: str, static_ip: str, ports: list[dict], total: int
) -> dict:
    cluster = model.new_cluster(TOOL, name)
    runtime = str(p["container-runtime"])
    runtime_version = {"docker": "docker://28.4.0", "containerd": "containerd://1.7.27"}.get(runtime, "cri-o://1.29.1")
    api_port = p.number("apiserver-port")
    listen = str(p["listen-address"])
    cluster.update(
        {
            "image": REL.kic_image,
            "k8s_version": version,
            "container_runtime": runtime_version,
            "os_image": "Ubuntu 22.04.5 LTS",
            "network": str(p["network"]) or name,
            "service_cidr": str(p["service-cluster-ip-range"]),
            "pod_cidr": "10.244.0.0/16",
            "dns_ip": "10.96.0.10",
            # the container's API port is published on a random host port (oci.go: --publish=IP::PORT)
            "api": {
                "host": "127.0.0.1",
                "host_ip": listen or "127.0.0.1",
                "port": netalloc.random_port(state),
                "server_host": "127.0.0.1",
                "container_port": api_port,
            },
            "ports": [],
        }
    )
    cluster["nodes"].append(_node_record(name, 0, 3 if p["ha"] else 1))
    cpus = str(p["cpus"])
    cluster["opts"] = {
        "driver": "docker",
        "cpus": 2 if cpus in ("max", "no-limit") else int(cpus) if cpus.isdigit() else 2,
        "memory_mb": _memory_mb(str(p["memory"])),
        "subnet": str(p["subnet"]),
        "network": str(p["network"]),
        "static_ip": static_ip,
        "listen_address": listen,
        "exposed_ports": p.strings("ports"),
        "ports": ports,
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
        "ha": bool(p["ha"]),
        "ha_vip": "",
        "multi_node": total > 1 or bool(p["ha"]),
        "disabled_components": [],
    }
    return cluster


def _restart(env: FakeEnv, p: Parsed, cluster: dict) -> int:
    name = cluster["name"]
    if p.is_set("nodes"):  # start_flags.go updateExistingConfigFromFlags
        console.warn(
            "❗  You cannot change the number of nodes for an existing minikube cluster. Please use "
            "'minikube node add' to add nodes to an existing cluster."
        )
    if p.is_set("ha"):
        console.warn(
            "❗  Changing the HA (multi-control plane) mode of an existing minikube cluster is not currently "
            "supported. Please first delete the cluster and use 'minikube start --ha' to create new one."
        )
    console.step(f'👍  Starting "{name}" primary control-plane node in "{name}" cluster')
    console.step(f"🚜  Pulling base image {REL.kic_tag} ...")
    primary = cluster["nodes"][0]
    warnings: list[str] = []
    failure: _NodeFailure | _Panic | None = None
    if cluster["status"] == "running" and not primary.get("docker_state"):
        console.step(f'🏃  Updating the running docker "{name}" container ...')
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is None:
            raise _not_found(name)
        _log_events(live, _STARTING, False)
        head = live["nodes"][0]
        if head.get("docker_state"):  # the container was never made / never started: make it again
            console.step(
                f"🔥  Creating docker container (CPUs={live['opts']['cpus']}, Memory={live['opts']['memory_mb']}MB) ..."
            )
            netalloc.release_members(state, live["key"])
            live["ports"] = []
            try:
                _create_node(env, state, live, 0, warnings)
                live["status"] = "creating"
            except (_NodeFailure, _Panic) as exc:
                failure = exc
        elif live["status"] != "running":
            console.step(f'🔄  Restarting existing docker container for "{name}" ...')
            live["status"] = "creating"
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
    for warning in warnings:
        console.warn(warning)
    if failure is not None:
        _fail_node(env, name, name, failure, primary=True)
    _boot(env, p, name)
    for index in range(1, len(cluster["nodes"])):
        _restart_node(env, p, name, index)
    _done(env, name)
    return 0


def _restart_node(env: FakeEnv, p: Parsed, name: str, index: int) -> None:
    warnings: list[str] = []
    failure: _NodeFailure | None = None
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is None:
            raise _exit(EX_GUEST, "GUEST_START", f'profile "{name}" was deleted during start')
        node = live["nodes"][index]
        role = "control-plane" if node.get("control_plane") else "worker"
        if node.get("docker_state"):
            live["ports"] = [b for b in live["ports"] if b.get("node") != node["name"]]
            try:
                _create_node(env, state, live, index, warnings)
            except _NodeFailure as exc:
                failure = exc
                node["docker_state"] = exc.docker_state
        if failure is None:
            node["running"] = True
            node["kube"] = True
    console.step("")
    console.step(f'👍  Starting "{node["name"]}" {role} node in "{name}" cluster')
    console.step(f"🚜  Pulling base image {REL.kic_tag} ...")
    for warning in warnings:
        console.warn(warning)
    if failure is not None:
        _fail_node(env, name, node["name"], failure, primary=False)
    console.step(f'🔄  Restarting existing docker container for "{node["name"]}" ...')
    console.step(
        f"🐳  Preparing Kubernetes {_cluster_version(env, name)} on {_runtime_label(str(p['container-runtime']))} ..."
    )


# -- stop / delete -------------------------------------------------------------------------


def _unknown_state(env: FakeEnv, node: dict) -> str | None:
    """oci.ContainerStatus's error for a node whose state cannot be read, else None."""
    machine = node["name"]
    if _docker_down(env):
        return _inspect_error(env, machine)
    if node.get("docker_state") == "created":  # "created" is not in ContainerStatus's switch
        return f'unknown state "{machine}": %!w(<nil>)'
    if node.get("docker_state") == "absent":
        return (
            f'unknown state "{machine}": docker container inspect {machine} --format={{{{.State.Status}}}}: '
            f"exit status 1\nstdout:\n\nstderr:\nError response from daemon: No such container: {machine}"
        )
    return None


def _stop(env: FakeEnv, p: Parsed) -> int:
    state = env.store.read()
    mine = sorted(c["name"] for c in state["clusters"].values() if c["tool"] == TOOL)
    names = mine if p["all"] else [_profile(p)]
    if not p["all"] and model.find(state, TOOL, names[0]) is None:
        raise _not_found(names[0])
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    stopped = 0
    for name in names:
        if env.inject("stop", [name]):
            raise _exit(
                EX_GUEST_TIMEOUT,
                "GUEST_STOP_TIMEOUT",
                "Unable to stop VM: Temporary Error: stop: Maximum number of retries (60) exceeded",
            )
        cluster = model.find(env.store.read(), TOOL, name)
        if cluster is None:
            continue
        stopped = 0  # stop.go: stoppedNodes = stopProfile(...) (the last profile's count)
        # nodes in reverse order, the primary last (stop.go stopProfile)
        for node in reversed(cluster["nodes"]):
            problem = _unknown_state(env, node)
            if problem is not None:  # trySSHPowerOff fails on every retry.Expo attempt
                for _ in range(5):
                    out(f'✋  Stopping node "{node["name"]}"  ...')
                raise _exit(EX_GUEST_TIMEOUT, "GUEST_STOP_TIMEOUT", f"Unable to stop VM: ssh power off: {problem}")
            out(f'✋  Stopping node "{node["name"]}"  ...')
            if node.get("running"):
                out(f'🛑  Powering off "{node["name"]}" via SSH ...')
            stopped += 1
        with env.store.transaction() as live_state:
            live = model.find(live_state, TOOL, name)
            if live is not None:
                model.set_running(live, False)
                _log_events(live, 0, True)
        if not p["keep-context-active"]:
            # kubeconfig.DeleteContext(profile, PathFromEnv()): by name, whoever made the entries
            kubeconfig.remove(env.state_dir, path, _kubeconfig_view(cluster))
    out(f"🛑  {stopped} node{'s' if stopped > 1 else ''} stopped.")
    return 0


def _drop(env: FakeEnv, name: str, leftover: bool = False) -> dict | None:
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            return None
        del state["clusters"][cluster["key"]]
        if leftover:
            # Docker was unreachable: minikube forgot the profile, the containers stay in Docker
            record = dict(cluster, tool="minikube-leftover", key=f"minikube-leftover/{name}", status="stopped")
            record["nodes"] = [dict(n, running=False) for n in cluster["nodes"]]
            state["clusters"][record["key"]] = record
        else:
            netalloc.release_members(state, cluster["key"])
            net = state["networks"].get(cluster.get("network", ""))
            if net and net.get("owner") == cluster["key"] and not net["members"]:
                del state["networks"][net["name"]]
    # minikube cleans the kubeconfig it would write to now ($KUBECONFIG / ~/.kube/config)
    kubeconfig.remove(
        env.state_dir,
        kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig()),
        _kubeconfig_view(cluster),
    )
    return cluster


def _drop_leftovers(env: FakeEnv, name: str) -> list[str]:
    """delete.PossibleLeftOvers: containers labelled name.minikube.sigs.k8s.io=NAME."""
    with env.store.transaction() as state:
        record = state["clusters"].pop(f"minikube-leftover/{name}", None)
        if record is None:
            return []
        netalloc.release_members(state, f"{TOOL}/{name}")
        net = state["networks"].get(record.get("network", ""))
        if net and net.get("owner") == f"{TOOL}/{name}" and not net["members"]:
            del state["networks"][net["name"]]
    return [n["name"] for n in record["nodes"] if n.get("docker_state") != "absent"]


def _delete(env: FakeEnv, p: Parsed) -> int:
    if p.args:
        raise _exit(EX_USAGE, "MK_USAGE", "Usage: minikube delete")
    state = env.store.read()
    names = sorted(c["name"] for c in state["clusters"].values() if c["tool"] == TOOL) if p["all"] else [_profile(p)]
    down = _docker_down(env)
    for name in names:
        if env.inject("delete", [name]):
            raise _exit(
                EX_GUEST,
                "GUEST_DELETION",
                f'deleting "{name}": Failed to delete container: docker rm -f -v {name}: exit status 1',
            )
        cluster = model.find(env.store.read(), TOOL, name)
        if cluster is None:
            # delete.go: LoadProfile fails -> "trying anyways", deleteInvalidProfile, PossibleLeftOvers
            err(f'🙄  "{name}" profile does not exist, trying anyways.')
            out(f"🔥  Trying to delete invalid profile {name}")
            if not down:
                for _container in _drop_leftovers(env, name):
                    out(f'🔥  Deleting container "{name}" ...')
            continue
        out(f'🔥  Deleting "{name}" in docker ...')
        if not down:
            for node in cluster["nodes"]:
                if node.get("docker_state") != "absent":
                    out(f'🔥  Deleting container "{node["name"]}" ...')
        out(f"🔥  Removing {os.path.join(env.home(), '.minikube', 'machines', name)} ...")
        _drop(env, name, leftover=down)
        out(f'💀  Removed all traces of the "{name}" cluster.')
    if p["all"]:
        out("🔥  Successfully deleted all profiles")
    return 0


# -- profile list ------------------------------------------------------------------------------


def _kubeconfig_configured(env: FakeEnv, cluster: dict) -> bool:
    """kubeconfig.VerifyEndpoint against PathFromEnv() (cluster/status.go NodeStatus)."""
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    try:
        doc = kubeconfig.load(path)
    except (OSError, ValueError, kubeconfig.KubeconfigError):
        return False
    entry = next((c for c in doc["clusters"] if isinstance(c, dict) and c.get("name") == cluster["name"]), None)
    has_ctx = any(isinstance(c, dict) and c.get("name") == cluster["name"] for c in doc["contexts"])
    server = (entry or {}).get("cluster", {}).get("server") if entry else None
    return has_ctx and server == kubeconfig.server_url(_kubeconfig_view(cluster))


def _node_states(env: FakeEnv, cluster: dict) -> list[dict] | None:
    """cluster.GetStatus: per node Host/Kubelet/APIServer; None when it returns an error."""
    result = []
    for node in cluster["nodes"]:
        if _unknown_state(env, node) is not None:
            return None
        if cluster["status"] == "creating" or (cluster["status"] == "running" and node.get("running")):
            host = "Running"
        else:
            host = "Stopped"
        healthy = host == "Running" and cluster["status"] == "running" and bool(node.get("running"))
        control_plane = bool(node.get("control_plane", node["role"] == "control-plane"))
        result.append(
            {
                "name": node["name"],
                "host": host,
                "apiserver": ("Running" if healthy else "Stopped") if host == "Running" else host,
                "healthy": healthy,
                "control_plane": control_plane,
            }
        )
    return result


def _status_code(name: str) -> int:
    if name in ("Running", "Configured"):
        return 200
    if name == "Misconfigured":
        return 500
    for code, known in _CODE_NAMES.items():
        if known == name:
            return code
    return 520


def _profile_status(env: FakeEnv, cluster: dict) -> str:
    states = _node_states(env, cluster)
    control_planes = [n for n in cluster["nodes"] if n.get("control_plane", n["role"] == "control-plane")]
    is_ha = len(control_planes) > 1
    if not REL.ok_status:
        # v1.34 cmd/minikube/cmd/config/profile_list.go profileStatus: control planes only
        status, healthy = "Unknown", 0
        for node in control_planes:
            if _unknown_state(env, node) is not None:
                continue
            running = cluster["status"] == "running" and node.get("running")
            host = "Running" if running or cluster["status"] == "creating" else "Stopped"
            if host != "Running":
                status = host
                continue
            status = "Running" if running else "Stopped"
            if status == "Running":
                healthy += 1
        if is_ha:
            return "Stopped" if healthy < 2 else "Degraded" if healthy == 2 else "HAppy"
        return status
    # v1.35+: pkg/minikube/cluster/status.go GetStatus + GetState
    if states is None:
        return "Unknown"
    status_name = states[0]["apiserver"]
    code = _status_code(status_name)
    events = cluster["opts"].get("events")
    if events is None:
        return status_name  # readEventLog failed: GetState returns before naming the code
    if time.time() - float(events["mtime"]) <= 600 and events["transient"]:
        code = int(events["transient"])
    if is_ha and events["started"]:
        configured = _kubeconfig_configured(env, cluster)
        healthy = sum(1 for s in states if s["control_plane"] and s["healthy"] and configured)
        code = 405 if healthy < 2 else 204 if healthy == 2 else 201
    return _CODE_NAMES.get(code, "")


def _profile_json(cluster: dict, status: str, active: bool, active_ctx: bool) -> dict:
    opts = cluster["opts"]
    nodes = [
        {
            "Name": "" if i == 0 else n["name"],
            "IP": n.get("ip", ""),
            "Port": opts["apiserver_port"],
            "KubernetesVersion": cluster["k8s_version"],
            "ContainerRuntime": opts["container_runtime"],
            "ControlPlane": bool(n.get("control_plane", n["role"] == "control-plane")),
            "Worker": bool(n.get("worker", True)),
        }
        for i, n in enumerate(cluster["nodes"])
    ]
    k8s = {
        "KubernetesVersion": cluster["k8s_version"],
        "ClusterName": cluster["name"],
        "Namespace": "default",
        "APIServerHAVIP": opts.get("ha_vip", ""),
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
        "KicBaseImage": cluster.get("image", REL.kic_image),
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
        # start_flags.go: Network is the --network flag (""), Subnet the --subnet flag verbatim
        "Network": opts.get("network", ""),
        "Subnet": opts["subnet"],
        "MultiNodeRequested": bool(opts.get("multi_node", len(nodes) > 1)),
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


def _klog_error(file_line: str, message: str) -> None:
    now = time.time()
    stamp = time.strftime("%m%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
    err(f"E{stamp} {os.getpid():7d} {file_line}] {message}")


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
            status = _profile_status(env, cluster)
            if REL.ok_status and status == "Unknown":
                problem = next((x for x in (_unknown_state(env, n) for n in cluster["nodes"]) if x), "")
                _klog_error("profile_list.go:124", f"error getting statuses: host: state: {problem}")
        rows.append(_profile_json(cluster, status, cluster["name"] == _profile(p), current_ctx == cluster["name"]))
    if fmt == "json":
        sys.stdout.write(go_json({"invalid": [], "valid": rows}))
        return 0
    if not rows:
        raise _exit(EX_USAGE, "MK_USAGE_NO_PROFILE", "No minikube profile was found.")
    with_port = not REL.detailed or bool(p.get("detailed"))
    header = ["Profile", "VM Driver" if not REL.detailed else "Driver", "Runtime", "IP"]
    header += ["Port"] if with_port else []
    header += ["Version", "Status", "Nodes", "Active Profile", "Active Kubecontext"]
    body = []
    for r in rows:
        config = r["Config"]
        ha = len([n for n in config["Nodes"] if n["ControlPlane"]]) > 1
        ip = config["KubernetesConfig"]["APIServerHAVIP"] if ha else config["Nodes"][0]["IP"]
        row = [r["Name"], "docker", config["KubernetesConfig"]["ContainerRuntime"], ip]
        row += [str(config["APIServerPort"])] if with_port else []
        row += [
            config["KubernetesConfig"]["KubernetesVersion"],
            r["Status"],
            str(len(config["Nodes"])),
            "*" if r["Active"] else "",
            "*" if r["ActiveKubeContext"] else "",
        ]
        body.append(row)
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
    _running_or_exit(env, name)
    images: list[str] = []
    for arg in p.args:
        if arg == "-":
            images.append("stdin-image:latest")
        elif arg.startswith(("/", ".")) or os.path.isfile(arg):
            # image.go: a local file. machine.DoLoadImages only logs a file that fails to load
            # (klog, to the log file) and exits 0.
            if os.path.isfile(arg) and archive_error(arg) is None:
                images.extend(images_in_archive(arg))
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
    _running_or_exit(env, name)
    command = " ".join(p.dash_args if p.dash_args is not None else p.args)
    return _ssh_command(cluster, node, command)


def _ssh_command(cluster: dict, node: dict, command: str) -> int:
    """Answer the few commands tests run inside the node; others print nothing."""
    images = [
        model.normalize_image(i if ":" in i.rsplit("/", 1)[-1] else f"{i}:{cluster['k8s_version']}")
        for i in _SYSTEM_IMAGES
    ] + node["images"]
    if "crictl images" in command or ("ctr" in command and "images" in command):
        from .common import crictl_images

        out(crictl_images(images, command))
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
    if model.find(env.store.read(), TOOL, name) is None:
        raise _not_found(name)
    if env.inject("update-context", [name]):
        raise _exit(
            EX_GUEST,
            "GUEST_STATUS",
            f'Unable to get control-plane node {name} host status: state: unknown state "{name}": '
            f"docker container inspect {name} --format={{{{.State.Status}}}}: exit status 1",
        )
    cluster = _running_or_exit(env, name)
    path = kubeconfig.path_minikube(env.kubeconfig_env_paths(), env.default_kubeconfig())
    view = _kubeconfig_view(cluster)
    if _native_endpoint(env):  # mustload: driver.ControlPlaneEndpoint -> primary node IP (also for HA)
        primary = cluster["nodes"][0]
        view["api"].update({"server_host": primary["ip"], "port": cluster["opts"]["apiserver_port"]})
    current = kubeconfig.load(path)
    entry = next((c for c in current["clusters"] if c.get("name") == name), None)
    has_ctx = any(c.get("name") == name for c in current["contexts"])
    server = kubeconfig.server_url(view)
    changed = entry is None or not has_ctx or (entry.get("cluster") or {}).get("server") != server
    kubeconfig.merge(env.state_dir, path, view, switch_context=True)
    with env.store.transaction() as state:
        live = model.find(state, TOOL, name)
        if live is not None:
            model.remember_kubeconfig(live, path)
    api = view["api"]
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
    states = _node_states(env, cluster)
    if states is None:  # cluster.GetStatus error: nothing printed, exit 1|2|4
        problem = next((x for x in (_unknown_state(env, n) for n in cluster["nodes"]) if x), "")
        _klog_error("status.go:131", f"status error: host: state: {problem}")
        return 7
    configured = _kubeconfig_configured(env, cluster)
    rows = []
    for node, st in zip(cluster["nodes"], states, strict=True):
        running = st["host"] == "Running"
        row = {"Name": node["name"], "Host": st["host"], "Kubelet": "Running" if st["healthy"] else "Stopped"}
        if st["control_plane"]:
            row["APIServer"] = st["apiserver"]
            row["Kubeconfig"] = ("Configured" if configured else "Misconfigured") if running else st["host"]
        else:
            row["APIServer"] = "Irrelevant" if running else st["host"]
            row["Kubeconfig"] = "Irrelevant" if running else st["host"]
        row["Worker"] = not st["control_plane"]
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
    # status.go exitCode: bitmask of host(1) / kubelet-or-apiserver(2) / kubeconfig(4) not OK
    code = 0
    for row in rows:
        if row["Host"] != "Running":
            code |= 1
        if row["APIServer"] not in ("Running", "Irrelevant") or row["Kubelet"] != "Running":
            code |= 2
        if row["Kubeconfig"] not in ("Configured", "Irrelevant"):
            code |= 4
    return code


def _ip(env: FakeEnv, p: Parsed) -> int:
    name = _profile(p)
    cluster = _running_or_exit(env, name)
    wanted = str(p["node"]) or name
    nodes = cluster["nodes"]
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
