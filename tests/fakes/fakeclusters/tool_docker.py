"""Fake ``docker`` CLI: the fake clusters' node containers, real Docker for the rest.

The node containers of the fake k3d/kind/minikube clusters live only in
``$KENV_FAKE_STATE/state.json``; this fake answers for them the commands kenv
and the real tools use on containers:

* ``ps`` / ``container ls|list|ps``  -- only the fake engine's containers
* ``start`` / ``stop`` (``container start|stop``) -- flips a node's state; the
  cluster's status follows (model.refresh_status)
* ``inspect`` / ``container inspect`` -- fake nodes; other names go to real Docker
* ``exec`` (``container exec``) -- a few read-only commands inside a fake node

Everything else (networks, images, volumes, ``info`` ...) is handed to the real
``docker`` found on PATH after removing tests/fakes/bin, with the same argv
(``os.execv``: no overhead).  Without a real ``docker`` those commands fail the
way the CLI fails when no engine answers; ``KENV_FAKE_DOCKER_DOWN=1`` makes
every call fail that way (texts of docker CLI 28.2.2, captured live).

Formats follow docker/cli v28.2.2 cli/command/formatter/container.go (``{{json .}}``
keys sorted, Labels ``k=v`` sorted and comma-joined, Platform ``null``, Ports
``IP:HOST->PORT/proto``, RunningFor/Status via go-units HumanDuration), error
texts were captured from a real docker CLI 28.2.2 against engine 20.10.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time

from .common import FAKES_BIN, docker_down, docker_down_message, go_json

CLIENT_VERSION = "28.2.2"
CLIENT_COMMIT = "e6534b4"
_ROOT_USAGE = "Run 'docker --help' for more information"

# flags of the commands the fake handles: name -> (short, takes_value, repeatable)
_PS_FLAGS = {
    "all": ("a", False, False),
    "filter": ("f", True, True),
    "format": ("", True, False),
    "last": ("n", True, False),
    "latest": ("l", False, False),
    "no-trunc": ("", False, False),
    "quiet": ("q", False, False),
    "size": ("s", False, False),
}
_START_FLAGS = {
    "attach": ("a", False, False),
    "interactive": ("i", False, False),
    "detach-keys": ("", True, False),
    "checkpoint": ("", True, False),
    "checkpoint-dir": ("", True, False),
}
_STOP_FLAGS = {"signal": ("s", True, False), "time": ("t", True, False), "timeout": ("", True, False)}
_INSPECT_FLAGS = {"format": ("f", True, False), "size": ("s", False, False), "type": ("", True, False)}
_CONTAINER_INSPECT_FLAGS = {"format": ("f", True, False), "size": ("s", False, False)}
_EXEC_FLAGS = {
    "detach": ("d", False, False),
    "detach-keys": ("", True, False),
    "env": ("e", True, True),
    "env-file": ("", True, True),
    "interactive": ("i", False, False),
    "privileged": ("", False, False),
    "tty": ("t", False, False),
    "user": ("u", True, False),
    "workdir": ("w", True, False),
}
# global flags that take a value (everything before the command)
_GLOBAL_VALUE_FLAGS = {"--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert"}
_GLOBAL_VALUE_FLAGS |= {"--tlskey"}
_REMOTE_FLAGS = {"-c", "--context", "-H", "--host"}

_STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
_KNOWN_FILTERS = {"id", "name", "label", "exited", "status", "ancestor", "before", "since", "volume", "network"}
_KNOWN_FILTERS |= {"publish", "expose", "health", "isolation", "is-task"}


class DockerExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str = "") -> None:
    sys.stderr.write(text + "\n")


# -- entry point ---------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except DockerExit as exc:
        return exc.code
    except BrokenPipeError:
        return 141
    except KeyboardInterrupt:
        return 130
    finally:
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.flush()


def _main(argv: list[str]) -> int:
    environ = os.environ
    state_dir = environ.get("KENV_FAKE_STATE", "")
    env = None
    if state_dir:
        from .env import FakeEnv, FakeExit

        try:
            env = FakeEnv("docker", dict(environ))
        except FakeExit as exc:
            return exc.code
        env.record_call(argv)
    # global options come before the command
    i, remote = 0, False
    while i < len(argv) and argv[i].startswith("-"):
        tok = argv[i]
        if tok in ("-v", "--version"):
            if docker_down(environ) or not _real_docker():
                _out(f"Docker version {CLIENT_VERSION}, build {CLIENT_COMMIT}")
                return 0
            _passthrough(argv)
        flag = tok.split("=", 1)[0]
        if flag in _REMOTE_FLAGS:
            remote = True
        i += 2 if (tok in _GLOBAL_VALUE_FLAGS and "=" not in tok) else 1
    rest = argv[i:]
    if docker_down(environ):
        return _engine_down(rest)
    if env is not None and not remote and rest[:1] in (["run"], ["rm"], ["volume"], ["container"]):
        # The fake Portainer's container and volume (portainer_server.py); others go on below.
        from .portainer_server import docker_intercept

        code = docker_intercept(env.state_dir, rest)
        if code is not None:
            return code
    cmd, args = _command(rest)
    if remote or env is None or cmd is None:
        return _passthrough(argv, rest)
    op = {"container ls": "ps"}.get(cmd, cmd.replace("container ", ""))
    try:
        if env.inject(op):  # KENV_FAKE_FAIL docker:<op> -> the engine does not answer
            return _engine_down(rest)
        return _HANDLERS[cmd](env, args, argv)
    except _Usage as exc:
        if exc.code == 0:  # --help: the real CLI's help text
            if _real_docker():
                return _passthrough(argv)
            _out(f"Usage:  docker {cmd} {_USAGE[cmd]}")
            return 0
        _err(exc.message)
        _err("")
        _err(f"Usage:  docker {cmd} {_USAGE[cmd]}")
        _err("")
        _err(f"{exc.hint} 'docker {cmd} --help' for more information")
        return exc.code


def _command(rest: list[str]) -> tuple[str | None, list[str]]:
    if not rest:
        return None, []
    if rest[0] in ("ps", "start", "stop", "inspect", "exec", "version"):
        return rest[0], rest[1:]
    if rest[:2] == ["network", "inspect"]:
        return "network inspect", rest[2:]
    if rest[:2] == ["network", "connect"]:
        return "network connect", rest[2:]
    if rest[:2] == ["network", "disconnect"]:
        return "network disconnect", rest[2:]
    if rest[0] == "container" and len(rest) > 1:
        sub = {"ls": "ls", "list": "ls", "ps": "ls"}.get(rest[1], rest[1])
        if sub in ("ls", "start", "stop", "inspect", "exec"):
            return f"container {sub}", rest[2:]
    return None, []


# -- real docker ---------------------------------------------------------------------------------


def _real_docker() -> str | None:
    """The first `docker` on PATH that is not this fake (cheaper than importing shutil)."""
    fakes = os.path.realpath(FAKES_BIN)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or os.path.realpath(entry) == fakes:
            continue
        candidate = os.path.join(entry, "docker")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _passthrough(argv: list[str], rest: list[str] | None = None) -> int:
    """Hand the call to the real docker CLI (same argv), or fail like a CLI with no engine."""
    real = _real_docker()
    if real is None:
        return _engine_down(rest if rest is not None else argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(real, [real, *argv])  # noqa: S606 -- same argv, no shell
    return 127  # not reached


def _run_real(argv: list[str]) -> tuple[int, str, str]:
    import subprocess

    real = _real_docker()
    if real is None:
        return -1, "", ""
    proc = subprocess.run([real, *argv], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


# -- engine down -----------------------------------------------------------------------------------


def _engine_down(rest: list[str]) -> int:
    """docker CLI 28.2.2 when nothing answers on the socket (captured live)."""
    down = docker_down_message(os.environ)
    cmd, args = _command(rest)
    words = [w for w in rest if not w.startswith("-")]
    if rest[:1] == ["version"]:
        _client_block(version=True)
        _err(down)
        raise DockerExit(1)
    if cmd is None and rest[:1] == ["info"]:
        fmt = _flag_value(rest[1:], "--format", "-f")
        if fmt is None:
            _client_block(version=False)
            _out("Server:")
        else:
            _out("" if "json ." not in fmt else _INFO_DOWN_JSON)
        _err(down)
        raise DockerExit(1)
    if cmd in ("start", "container start", "stop", "container stop"):
        try:
            names = _parse(args, _START_FLAGS if "start" in cmd else _STOP_FLAGS, cmd)[1]
        except _Usage:
            names = []
        for _ in names or [""]:
            _err(down)
        if "start" in cmd:
            _err(f"Error: failed to start containers: {', '.join(names)}")
        raise DockerExit(1)
    if cmd in ("inspect", "container inspect") or (len(words) >= 2 and words[1] == "inspect"):
        skip = {"-f", "--format", "--type"}
        targets = [w for i, w in enumerate(rest) if not w.startswith("-") and (i == 0 or rest[i - 1] not in skip)][
            2 if (cmd is None or cmd.startswith("container")) else 1 :
        ]
        fmt = _flag_value(rest, "--format", "-f")
        _out("[]" if fmt is None else "")
        for _ in targets or [""]:
            _err(down)
        raise DockerExit(1)
    _err(down)
    if words[:2] in (["network", "rm"], ["network", "remove"]):
        _err("exit status 1")
    raise DockerExit(1)


def _client_block(version: bool) -> None:
    if version:
        _out("Client:")
        _out(f" Version:           {CLIENT_VERSION}")
        _out(" API version:       1.50")
        _out(" Go version:        go1.24.3")
        _out(f" Git commit:        {CLIENT_COMMIT}")
        _out(" Built:             Fri May 30 12:07:14 2025")
        _out(" OS/Arch:           linux/amd64")
        _out(" Context:           default")
    else:
        _out("Client:")
        _out(f" Version:    {CLIENT_VERSION}")
        _out(" Context:    default")
        _out(" Debug Mode: false")
        _out("")


_INFO_DOWN_JSON = go_json(
    {
        "ID": "",
        "Containers": 0,
        "ContainersRunning": 0,
        "ContainersPaused": 0,
        "ContainersStopped": 0,
        "Images": 0,
        "Driver": "",
        "MemoryLimit": False,
        "PidsLimit": False,
        "CPUShares": False,
        "CgroupDriver": "",
        "ServerVersion": "",
        "SecurityOptions": None,
        "ClientInfo": {"Debug": False, "Version": CLIENT_VERSION, "Context": "default", "Plugins": []},
    }
)


def _flag_value(args: list[str], long: str, short: str) -> str | None:
    for i, tok in enumerate(args):
        if tok in (long, short) and i + 1 < len(args):
            return args[i + 1]
        if tok.startswith(long + "="):
            return tok.split("=", 1)[1]
        if short and tok.startswith(short) and len(tok) > 2 and not tok.startswith("--"):
            return tok[2:].lstrip("=")
    return None


# -- argument parsing (pflag subset, docker's error texts) --------------------------------------------

_USAGE = {
    "ps": "[OPTIONS]",
    "container ls": "[OPTIONS]",
    "start": "[OPTIONS] CONTAINER [CONTAINER...]",
    "container start": "[OPTIONS] CONTAINER [CONTAINER...]",
    "stop": "[OPTIONS] CONTAINER [CONTAINER...]",
    "container stop": "[OPTIONS] CONTAINER [CONTAINER...]",
    "inspect": "[OPTIONS] NAME|ID [NAME|ID...]",
    "container inspect": "[OPTIONS] CONTAINER [CONTAINER...]",
    "exec": "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "container exec": "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "network connect": "[OPTIONS] NETWORK CONTAINER",
    "network disconnect": "[OPTIONS] NETWORK CONTAINER",
    "network inspect": "[OPTIONS] NETWORK [NETWORK...]",
}


class _Usage(Exception):
    def __init__(self, message: str, code: int = 125, hint: str = "Run") -> None:
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint


def _parse(args: list[str], spec: dict, cmd: str, interspersed: bool = True) -> tuple[dict, list[str]]:
    shorts = {s: name for name, (s, _, _) in spec.items() if s}
    opts: dict = {name: ([] if rep else (None if val else False)) for name, (_, val, rep) in spec.items()}
    positional: list[str] = []
    i = 0
    while i < len(args):
        tok = args[i]
        if tok == "--":
            positional.extend(args[i + 1 :])
            break
        if not tok.startswith("-") or tok == "-":
            positional.append(tok)
            if not interspersed:
                positional.extend(args[i + 1 :])
                break
            i += 1
            continue
        if tok.startswith("--"):
            name, eq, value = tok[2:].partition("=")
            if name == "help":
                raise _Usage("", 0)
            if name not in spec:
                raise _Usage(f"unknown flag: --{name}")
            label = f"--{name}"
            i += 1
        else:
            letter = tok[1]
            if letter == "h":
                raise _Usage("", 0)
            if letter not in shorts:
                raise _Usage(f"unknown shorthand flag: '{letter}' in {tok}")
            name = shorts[letter]
            label = f"'{letter}' in {tok}"
            rest = tok[2:]
            if not spec[name][1] and rest:  # combined bool shorts: -aq
                opts[name] = True
                args = [*args[: i + 1], "-" + rest, *args[i + 1 :]]
                i += 1
                continue
            eq, value = ("=", rest.lstrip("=")) if rest else ("", "")
            i += 1
        _short, takes_value, repeatable = spec[name]
        if takes_value:
            if not eq:
                if i >= len(args):
                    raise _Usage(f"flag needs an argument: {label}")
                value = args[i]
                i += 1
            if repeatable:
                opts[name].append(value)
            else:
                opts[name] = value
        else:
            opts[name] = value.lower() not in ("false", "0") if eq else True
    return opts, positional


def _need(positional: list[str], count: int, cmd: str) -> None:
    if len(positional) < count:
        plural = "argument" if count == 1 else "arguments"
        raise _Usage(f"docker: 'docker {cmd}' requires at least {count} {plural}", 1, "See")


# -- the fake engine's containers ------------------------------------------------------------------


_IMAGE_SIZE = {"k3d": 243_000_000, "kind": 1_030_000_000, "minikube": 1_310_000_000}
_KIND_LB_IMAGE = "docker.io/kindest/haproxy:v20230606-42a2262b"  # pkg/cluster/internal/loadbalancer/const.go


def _epoch(rfc3339: str) -> float:
    import calendar

    try:
        return float(calendar.timegm(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return time.time()


class Container:
    """One node of a fake cluster, seen as a Docker container."""

    def __init__(self, state: dict, cluster: dict, node: dict, index: int) -> None:
        from . import model, netalloc

        self.cluster, self.node, self.index = cluster, node, index
        self.tool = cluster["tool"]
        self.name = node["name"]
        self.id = netalloc.container_id(self.name)
        self.state = model.node_state(node)
        self.running = self.state == "running"
        self.created = _epoch(cluster.get("created", ""))
        self.started = float(node.get("started_at") or _epoch(cluster.get("started", cluster.get("created", ""))))
        self.finished = float(node.get("finished_at") or 0.0)
        self.exit_code = int(node.get("exit_code") or 0)
        self.network = cluster.get("network") or "bridge"
        self.net = state["networks"].get(self.network) or {}
        self.role = node.get("role", "")
        self.labels = self._labels(state)
        self.image, self.entrypoint, self.cmd = self._image_and_command()

    def _labels(self, state: dict) -> dict[str, str]:
        name = self.cluster["name"]
        if self.tool == "kind":  # pkg/cluster/internal/providers/docker/{constants,provision}.go
            return {"io.x-k8s.kind.cluster": name, "io.x-k8s.kind.role": self.role}
        if self.tool == "k3d":
            from .k3d_json import container_labels

            return container_labels(self.cluster, self.node, self.net or None)
        if self.tool == "minikube":  # pkg/drivers/kic/oci/oci.go CreateContainerNode, kic.go (see README)
            return {  # ClusterLabel = name.minikube.sigs.k8s.io=<machine name>: P, P-m02, ...
                "created_by.minikube.sigs.k8s.io": "true",
                "mode.minikube.sigs.k8s.io": self.name,
                "name.minikube.sigs.k8s.io": self.name,
                "role.minikube.sigs.k8s.io": "",
            }
        return {}

    def _image_and_command(self) -> tuple[str, list[str], list[str]]:
        from . import model

        if self.tool == "k3d":
            if self.role == "loadbalancer":
                return model.K3D_PROXY_IMAGE, ["/bin/sh", "-c", "nginx-proxy"], []
            args = [self.role] if self.role == "agent" else ["server", "--tls-san", "0.0.0.0"]
            if self.role == "server":
                args += ["--tls-san", f"k3d-{self.cluster['name']}-serverlb"]
            return str(self.cluster.get("image", model.K3D_DEFAULT_IMAGE)), ["/bin/k3d-entrypoint.sh"], args
        if self.tool == "kind":
            if self.role == "external-load-balancer":
                return _KIND_LB_IMAGE, ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"], []
            return (
                str(self.cluster.get("image", model.KIND_DEFAULT_IMAGE)),
                ["/usr/local/bin/entrypoint"],
                ["/sbin/init"],
            )
        return model.MINIKUBE_KIC_IMAGE, ["/usr/local/bin/entrypoint"], ["/sbin/init"]

    # -- derived values -------------------------------------------------------------------------
    def command(self) -> str:
        return " ".join(self.entrypoint + self.cmd)

    def bindings(self) -> list[tuple[str, int, int, str]]:
        """(host_ip, host_port, container_port, proto) published by this container."""
        from . import model

        result = []
        api = self.cluster.get("api") or {}
        api_nodes = model.api_nodes(self.cluster)
        if api.get("port") and api_nodes and api_nodes[0]["name"] == self.name:
            result.append((api.get("host_ip", ""), int(api["port"]), int(api.get("container_port") or 6443), "tcp"))
        for port in self.cluster.get("ports", []):
            if port.get("node") == self.name and port.get("host_port"):
                result.append(
                    (
                        port.get("host_ip", ""),
                        int(port["host_port"]),
                        int(port["container_port"]),
                        port.get("protocol", "tcp"),
                    )
                )
        return result

    def ports(self) -> str:
        if not self.running:
            return ""
        items = sorted(self.bindings(), key=lambda b: (b[2], b[3], b[0]))
        return ", ".join(f"{ip or '0.0.0.0'}:{hp}->{cp}/{proto}" for ip, hp, cp, proto in items)

    def status(self) -> str:
        now = time.time()
        if self.state == "running":
            return "Up " + _human_duration(now - self.started)
        if self.state == "created":
            return "Created"
        return f"Exited ({self.exit_code}) {_human_duration(now - (self.finished or self.started))} ago"

    def image_id(self) -> str:
        import hashlib

        return "sha256:" + hashlib.sha256(self.image.encode()).hexdigest()

    def mounts(self) -> list[str]:
        if self.tool == "k3d" and self.role != "loadbalancer" and self.cluster.get("opts", {}).get("image_volume"):
            return [self.cluster["opts"]["image_volume"]]
        if self.tool in ("kind", "minikube") and self.role != "external-load-balancer":
            return ["/lib/modules", self.name if self.tool == "minikube" else self.id[::-1]]
        return []


def _human_duration(secs: float) -> str:
    """github.com/docker/go-units HumanDuration."""
    seconds = int(secs)
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = int(secs / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(secs / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(secs / 3600) // 24 // 365} years"


def _containers(state: dict) -> list[Container]:
    result = []
    for cluster in state["clusters"].values():
        for index, node in enumerate(cluster.get("nodes", [])):
            result.append(Container(state, cluster, node, index))
    # newest first, like the daemon; nodes of one cluster: last created first
    result.sort(key=lambda c: (-c.created, c.cluster["key"], -c.index))
    return result


def _resolve(containers: list[Container], ref: str) -> Container | None:
    """Name, full ID or unambiguous ID prefix (daemon GetContainer)."""
    ref = ref.removeprefix("/")
    for c in containers:
        if ref in (c.name, c.id):
            return c
    if re.fullmatch(r"[0-9a-f]{1,64}", ref):
        matches = [c for c in containers if c.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
    return None


# -- docker ps --------------------------------------------------------------------------------------


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _familiar(image: str) -> str:
    """reference.FamiliarString of name:tag (digest dropped when a tag is present)."""
    ref = image.split("@", 1)[0] if ":" in image.split("@", 1)[0].rsplit("/", 1)[-1] else image
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


class _PsContext:
    """formatter.ContainerContext: what `{{.Field}}` sees for one container."""

    def __init__(self, container: Container, trunc: bool) -> None:
        self.c, self.trunc = container, trunc

    def fields(self) -> dict[str, object]:
        c = self.c
        created = time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(c.created))
        mounts = [(_ellipsis(m, 15) if self.trunc else m) for m in c.mounts()]
        from .common import human_size

        size, virtual = human_size(0), human_size(_IMAGE_SIZE.get(c.tool, 100_000_000))
        return {
            "Command": json.dumps(_ellipsis(c.command(), 20) if self.trunc else c.command(), ensure_ascii=False),
            "CreatedAt": created,
            "ID": c.id[:12] if self.trunc else c.id,
            "Image": _familiar(c.image) if self.trunc else c.image,
            "Labels": ",".join(sorted(f"{k}={v}" for k, v in c.labels.items())),
            "LocalVolumes": str(len([m for m in c.mounts() if not m.startswith("/")])),
            "Mounts": ",".join(mounts),
            "Names": c.name,
            "Networks": c.network,
            "Platform": None,
            "Ports": c.ports(),
            "RunningFor": _human_duration(time.time() - c.created) + " ago",
            "Size": f"{size} (virtual {virtual})",
            "State": c.state,
            "Status": c.status(),
        }


_HEADERS = {
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Labels": "LABELS",
    "Label": "LABEL",
    "LocalVolumes": "LOCAL VOLUMES",
    "Mounts": "MOUNTS",
    "Names": "NAMES",
    "Networks": "NETWORKS",
    "Platform": "PLATFORM",
    "Ports": "PORTS",
    "RunningFor": "CREATED",
    "Size": "SIZE",
    "State": "STATE",
    "Status": "STATUS",
}


def _match_filters(c: Container, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key == "label":
            for v in values:  # every label filter must match
                k, eq, want = v.partition("=")
                if k not in c.labels or (eq and c.labels[k] != want):
                    return False
        elif key == "name":
            if not any(re.search(v, "/" + c.name) for v in values):
                return False
        elif key == "id":
            if not any(c.id.startswith(v) for v in values):
                return False
        elif key == "status":
            if c.state not in values:
                return False
        elif key == "exited":
            if c.state != "exited" or str(c.exit_code) not in values:
                return False
        elif key == "network" and c.network not in values and c.net.get("id") not in values:
            return False
    return True


def _ps(env: object, args: list[str], argv: list[str], cmd: str = "ps") -> int:
    opts, positional = _parse(args, _PS_FLAGS, cmd)
    if positional:
        raise _Usage(f'"docker {cmd}" accepts no arguments.', 1, "See")
    filters: dict[str, list[str]] = {}
    for item in opts["filter"]:
        key, eq, value = item.partition("=")
        if not eq:
            raise _Usage(
                f'invalid argument "{item}" for "-f, --filter" flag: bad format of filter (expected name=value)'
            )
        filters.setdefault(key.lower(), []).append(value)
    for key, values in filters.items():
        if key not in _KNOWN_FILTERS:
            _err(f"Error response from daemon: Invalid filter '{key}'")
            return 1
        if key == "status":
            bad = next((v for v in values if v not in _STATES), None)
            if bad is not None:
                _err(f"Error response from daemon: Unrecognised filter value for status: {bad}")
                return 1
        elif key not in ("id", "name", "label", "status", "exited", "network"):
            _err(f"fake docker: the '{key}' filter is not implemented by the test fake")
            return 2
    try:
        last = int(opts["last"]) if opts["last"] not in (None, "") else -1
    except ValueError:
        raise _Usage(
            f'invalid argument "{opts["last"]}" for "-n, --last" flag: strconv.ParseInt: parsing '
            f'"{opts["last"]}": invalid syntax'
        ) from None
    if opts["latest"]:
        last = 1
    # without -a only running containers -- unless a status filter or -n/-l asks for others
    every = bool(opts["all"]) or "status" in filters or last >= 0
    state = env.store.read()  # type: ignore[attr-defined]
    containers = [c for c in _containers(state) if (every or c.running) and _match_filters(c, filters)]
    if last >= 0:
        containers = containers[:last]
    trunc = not opts["no-trunc"]
    fmt = opts["format"]
    if opts["quiet"] and not fmt:
        for c in containers:
            _out(c.id[:12] if trunc else c.id)
        return 0
    if not fmt or fmt == "table":
        fmt = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    table = fmt.startswith("table")
    # formatter.Context.preFormat: drop "table", trim spaces, turn the two-character \t and \n into tabs/newlines
    template = (fmt[5:] if table else fmt).strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    try:
        nodes = _Template(template)
        rows = [nodes.render(_PsContext(c, trunc).fields()) for c in containers]
        header = nodes.render(_HEADERS, header=True) if table else ""
    except _TemplateError as exc:
        _err(str(exc))
        return 1 if not exc.parse else 125
    if table:
        from .common import table as tabulate

        lines = [header.split("\t"), *[r.split("\t") for r in rows]]
        _out(tabulate(lines, padding=3, minwidth=10))
    else:
        for row in rows:
            _out(row)
    return 0


# -- a small Go text/template ------------------------------------------------------------------------


class _TemplateError(Exception):
    def __init__(self, message: str, parse: bool = False) -> None:
        super().__init__(message)
        self.parse = parse


_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\$?[\w.]*\.?[\w.]*|\S')


class _Template:
    """The subset of Go templates docker users write: text, `.A.B`, `json X`, `index X "k"`,
    `.Label "k"`, `join X "s"`, `lower/upper/title X`, string literals, `range X`/`if X`/`else`/`end`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.vars: dict = {}
        self.header = False
        self.tree = self._parse(source)

    def _parse(self, source: str) -> list:
        items: list = []
        stack: list[list] = [items]
        pos = 0
        for m in _ACTION.finditer(source):
            if m.start() > pos:
                stack[-1].append(("text", source[pos : m.start()]))
            pos = m.end()
            body = m.group(1).strip()
            word = body.split(None, 1)[0] if body else ""
            if word in ("range", "if", "with"):
                node = (word, body[len(word) :].strip(), [], [])
                stack[-1].append(node)
                stack.append(node[2])
            elif word == "else":
                if len(stack) < 2:
                    raise _TemplateError("template: :1: unexpected {{else}}", parse=True)
                parent = self._open(items, stack)
                stack[-1] = parent[3]
            elif word == "end":
                if len(stack) < 2:
                    raise _TemplateError("template: :1: unexpected {{end}}", parse=True)
                stack.pop()
            elif body.startswith("/*"):
                continue
            else:
                stack[-1].append(("expr", body))
        if len(stack) != 1:
            raise _TemplateError("template: :1: unexpected EOF", parse=True)
        if pos < len(source):
            items.append(("text", source[pos:]))
        return items

    @staticmethod
    def _open(items: list, stack: list[list]) -> tuple:
        # find the block node whose body list is stack[-1]
        def walk(nodes: list) -> tuple | None:
            for n in nodes:
                if n[0] in ("range", "if", "with"):
                    if n[2] is stack[-1] or n[3] is stack[-1]:
                        return n
                    found = walk(n[2]) or walk(n[3])
                    if found:
                        return found
            return None

        found = walk(items)
        if found is None:
            raise _TemplateError("template: :1: unexpected {{else}}", parse=True)
        return found

    def render(self, dot: object, header: bool = False) -> str:
        self.header = header
        return "".join(self._exec(self.tree, dot, dot))

    def _exec(self, nodes: list, dot: object, root: object) -> list[str]:
        out: list[str] = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "expr":
                out.append(_to_text(self._eval(node[1], dot, root)))
            elif kind == "if":
                branch = node[2] if _truthy(self._eval(node[1], dot, root)) else node[3]
                out.extend(self._exec(branch, dot, root))
            elif kind == "with":
                value = self._eval(node[1], dot, root)
                out.extend(self._exec(node[2], value, root) if _truthy(value) else self._exec(node[3], dot, root))
            elif kind == "range":
                expr = node[1]
                var_k = var_v = None
                m = re.match(r"^(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*(.+)$", expr)
                if m:
                    var_k, var_v, expr = m.group(1), m.group(2), m.group(3)
                value = self._eval(expr, dot, root)
                items: list[tuple[object, object]]
                if isinstance(value, dict):
                    items = [(k, value[k]) for k in sorted(value)]
                elif isinstance(value, list):
                    items = list(enumerate(value))
                else:
                    items = []
                if not items:
                    out.extend(self._exec(node[3], dot, root))
                for k, v in items:
                    scope = {"__dot__": v}
                    if var_v:
                        scope[var_k], scope[var_v] = k, v  # type: ignore[index]
                    elif var_k:
                        scope[var_k] = v
                    self.vars = scope
                    out.extend(self._exec(node[2], v, root))
        return out

    def _eval(self, expr: str, dot: object, root: object) -> object:
        tokens = [t for t in _TOKEN.findall(expr) if t.strip()]
        if not tokens:
            raise _TemplateError("template: :1: missing value for command", parse=True)
        if "|" in tokens:
            raise _TemplateError("fake docker: template pipelines are not implemented by the test fake")
        func, args = tokens[0], tokens[1:]
        if func in ("json", "index", "join", "lower", "upper", "title", "println", "printf", "len"):
            values = [self._arg(a, dot, root) for a in args]
            return _call(func, values)
        if func.startswith(".") and args:  # method call: .Label "key"
            if self.header:
                return _HEADERS.get(func[1:], func[1:].upper())
            target = self._arg(func, dot, root, method=True)
            if callable(target):
                return target(*[self._arg(a, dot, root) for a in args])
            if func == ".Label" and isinstance(dot, dict):
                labels = dot.get("Labels") or ""
                pairs = dict(p.split("=", 1) for p in str(labels).split(",") if "=" in p)
                return pairs.get(str(self._arg(args[0], dot, root)), "")
            raise _TemplateError(f"template: :1: can't call {func}")
        if args:
            raise _TemplateError(f'template: :1: function "{func}" not defined', parse=True)
        return self._arg(func, dot, root)

    def _arg(self, tok: str, dot: object, root: object, method: bool = False) -> object:
        if tok.startswith('"'):
            return json.loads(tok)
        if tok.startswith("`"):
            return tok[1:-1]
        if tok == ".":
            return dot
        if tok.startswith("$"):
            name, _, path = tok.partition(".")
            base = root if name == "$" else self.vars.get(name)
            return _path(base, path) if path else base
        if tok.startswith("."):
            if self.header and not method:
                return _HEADERS.get(tok[1:], tok[1:].upper())
            return _path(dot, tok[1:])
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if tok in ("true", "false"):
            return tok == "true"
        raise _TemplateError(f'template: :1: function "{tok}" not defined', parse=True)


def _path(value: object, path: str) -> object:
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict):
            if part not in value:
                return None
            value = value[part]
        else:
            raise _TemplateError(f'template: :1:2: executing "" at <.{part}>: can\'t evaluate field {part}')
    return value


def _call(func: str, values: list[object]) -> object:
    if func == "json":
        return go_json(values[0] if values else None)
    if func == "index":
        value = values[0]
        for key in values[1:]:
            if isinstance(value, dict):
                value = value.get(str(key))
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                return None
        return value
    if func == "join":
        return str(values[1]).join(str(v) for v in (values[0] or []))  # type: ignore[union-attr]
    if func == "lower":
        return str(values[0]).lower()
    if func == "upper":
        return str(values[0]).upper()
    if func == "title":
        return str(values[0]).title()
    if func == "len":
        return len(values[0] or [])  # type: ignore[arg-type]
    if func == "printf":
        fmt = str(values[0])
        return re.sub(r"%[sdvq]", lambda _m: "{}", fmt).format(*[_to_text(v) for v in values[1:]])
    return " ".join(_to_text(v) for v in values) + "\n"


def _truthy(value: object) -> bool:
    return bool(value) and value != "false"


def _to_text(value: object) -> str:
    """fmt.Sprint of the value as Go would print it."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_to_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_to_text(v) for v in value) + "]"
    return str(value)


# -- docker inspect -----------------------------------------------------------------------------------


def _go_time(epoch: float) -> str:
    if not epoch:
        return "0001-01-01T00:00:00Z"
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{base}.{int(epoch % 1 * 1e9):09d}Z"


def _inspect_doc(c: Container) -> dict:
    import ipaddress

    bindings: dict[str, list[dict]] = {}
    for ip, hp, cp, proto in c.bindings():
        bindings.setdefault(f"{cp}/{proto}", []).append({"HostIp": ip, "HostPort": str(hp)})
    # KENV_FAKE_NODE_ADDRESS: a test's stand-in for the node's address on its network, so that
    # HAProxy's routes and the smoke check through it reach a loopback server playing the ingress
    # (no fake node address is reachable from the host; a real one is).
    ip = (os.environ.get("KENV_FAKE_NODE_ADDRESS") or c.node.get("ip", "")) if c.running else ""
    prefix = 0
    if c.net.get("subnet"):
        prefix = ipaddress.ip_network(c.net["subnet"], strict=False).prefixlen
    endpoint = {
        "IPAMConfig": {"IPv4Address": c.node["ip"]} if c.node.get("static_ip") else None,
        "Links": None,
        "Aliases": [c.name] if c.tool != "minikube" else None,
        "MacAddress": "",
        "DriverOpts": None,
        "GwPriority": 0,
        "NetworkID": c.net.get("id", ""),
        "EndpointID": "",
        "Gateway": c.net.get("gateway", "") if c.running else "",
        "IPAddress": ip,
        "IPPrefixLen": prefix if c.running else 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": [c.name, c.id[:12]] if c.running else None,
    }
    restart = {"k3d": ("unless-stopped", 0), "kind": ("on-failure", 1), "minikube": ("no", 0)}.get(c.tool, ("no", 0))
    joined = c.node.get("extra_networks", [])  # `docker network connect` (_network_connect)
    return {
        "Id": c.id,
        "Created": _go_time(c.created),
        "Path": c.entrypoint[0],
        "Args": c.entrypoint[1:] + c.cmd,
        "State": {
            "Status": c.state,
            "Running": c.running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": (int(c.id[:4], 16) + 1000) if c.running else 0,
            "ExitCode": 0 if c.state != "exited" else c.exit_code,
            "Error": "",
            "StartedAt": _go_time(c.started if c.state != "created" else 0),
            "FinishedAt": _go_time(c.finished),
        },
        "Image": c.image_id(),
        "Name": "/" + c.name,
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": {
            "NetworkMode": c.network,
            "PortBindings": dict(bindings),
            "RestartPolicy": {"Name": restart[0], "MaximumRetryCount": restart[1]},
            "Privileged": c.tool != "k3d" or c.role != "loadbalancer",
        },
        "Mounts": [{"Type": "volume" if not m.startswith("/") else "bind", "Name": m} for m in c.mounts()],
        "Config": {
            "Hostname": c.name,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": c.cmd or None,
            "Image": c.image,
            "Entrypoint": c.entrypoint,
            "Labels": dict(sorted(c.labels.items())),
        },
        "NetworkSettings": {
            "Ports": dict(bindings) if c.running else {},
            "Networks": {c.network: endpoint, **{n: {"NetworkID": "", "IPAddress": ""} for n in joined}},
        },
    }


def _inspect(env: object, args: list[str], argv: list[str], cmd: str = "inspect") -> int:
    spec = _INSPECT_FLAGS if cmd == "inspect" else _CONTAINER_INSPECT_FLAGS
    opts, names = _parse(args, spec, cmd)
    _need(names, 1, cmd)
    if opts.get("type") not in (None, "", "container"):
        return _passthrough(argv)
    containers = _containers(env.store.read())  # type: ignore[attr-defined]
    found = [(n, _resolve(containers, n)) for n in names]
    if all(c is None for _, c in found) and _real_docker():
        return _passthrough(argv)
    fmt = opts["format"]
    docs: list[dict] = []
    texts: list[str] = []
    errors: list[str] = []
    template = _Template(fmt) if fmt else None
    code = 0
    for name, c in found:
        if c is not None:
            doc = _inspect_doc(c)
            if template is not None:
                try:
                    texts.append(template.render(doc))
                except _TemplateError as exc:
                    _err(str(exc))
                    return 1
            docs.append(doc)
            continue
        real_args = [
            "inspect" if cmd == "inspect" else "container",
            *([] if cmd == "inspect" else ["inspect"]),
            *(["--format", fmt] if fmt else []),
            name,
        ]
        rc, stdout, stderr = _run_real(real_args)
        if rc == 0:
            if template is not None:
                texts.append(stdout.rstrip("\n"))
            else:
                docs.extend(json.loads(stdout or "[]"))
            continue
        code = 1
        if rc == -1:  # no real engine: the fake engine does not know the name
            errors.append(
                f"Error: No such object: {name}"
                if cmd == "inspect"
                else f"Error response from daemon: No such container: {name}"
            )
        else:
            errors.extend(line for line in stderr.splitlines() if line.strip())
    if template is not None:
        for text in texts:
            _out(text)
        if not texts and code:
            _out("")
    else:
        _out(json.dumps(docs, indent=4, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e"))
    for line in errors:
        _err(line)
    return code


def _container_inspect(env: object, args: list[str], argv: list[str]) -> int:
    return _inspect(env, args, argv, "container inspect")


# -- docker start / stop --------------------------------------------------------------------------------


def _start_stop(env: object, args: list[str], argv: list[str], cmd: str) -> int:
    from . import model, netalloc

    start = cmd.endswith("start")
    _opts, names = _parse(args, _START_FLAGS if start else _STOP_FLAGS, cmd)
    _need(names, 1, cmd)
    printed: list[str] = []
    failed: list[str] = []
    foreign: list[str] = []
    store = env.store  # type: ignore[attr-defined]
    with store.transaction() as state:
        containers = _containers(state)
        for name in names:
            c = _resolve(containers, name)
            if c is None:
                foreign.append(name)
                continue
            cluster = state["clusters"][c.cluster["key"]]
            node = next(n for n in cluster["nodes"] if n["name"] == c.name)
            if start and not node.get("running"):
                # ports are held by running containers only: check this container's bindings
                conflict = None
                for ip, hp, _cp, proto in c.bindings():
                    owner = netalloc.port_owner(state, ip, hp, proto, exclude=cluster["key"])
                    if owner is not None:
                        conflict = (ip or "0.0.0.0", hp)
                        break
                if conflict is not None:
                    _err(
                        f"Error response from daemon: driver failed programming external connectivity on endpoint "
                        f"{c.name} ({c.id}): Bind for {conflict[0]}:{conflict[1]} failed: port is already allocated"
                    )
                    failed.append(name)
                    continue
                model.set_node_running(node, True)
                model.refresh_status(cluster)
            elif not start and node.get("running"):
                model.set_node_running(node, False, model.STOP_EXIT_CODE.get(cluster["tool"], 0))
                model.refresh_status(cluster)
            printed.append(name)
    for name in printed:
        _out(name)
    code = 1 if failed else 0
    if foreign:
        real_args = [*(["container"] if cmd.startswith("container") else []), "start" if start else "stop", *foreign]
        rc, stdout, stderr = _run_real(real_args)
        if rc == -1:
            for name in foreign:
                _err(f"Error response from daemon: No such container: {name}")
            failed.extend(foreign)
            code = 1
        else:
            sys.stdout.write(stdout)
            for line in stderr.splitlines():
                if line.startswith("Error: failed to start containers: "):
                    failed.extend(x.strip() for x in line.split(": ", 2)[2].split(","))
                elif line.strip():
                    _err(line)
            code = code or (1 if rc else 0)
    if failed and start:
        _err(f"Error: failed to start containers: {', '.join(failed)}")
    return code


# -- docker exec ---------------------------------------------------------------------------------------


_SYSTEM_IMAGES = {
    "k3d": [
        "docker.io/rancher/mirrored-coredns-coredns:1.12.0",
        "docker.io/rancher/mirrored-pause:3.6",
        "docker.io/rancher/local-path-provisioner:v0.0.30",
    ],
    "kind": [
        "registry.k8s.io/coredns/coredns:v1.11.3",
        "registry.k8s.io/pause:3.10",
        "docker.io/kindest/local-path-provisioner:v20241212-8ac705d0",
    ],
    "minikube": ["registry.k8s.io/coredns/coredns:v1.11.3", "registry.k8s.io/pause:3.10"],
}


def _exec(env: object, args: list[str], argv: list[str], cmd: str = "exec") -> int:

    _opts, positional = _parse(args, _EXEC_FLAGS, cmd, interspersed=False)
    _need(positional, 2, cmd)
    containers = _containers(env.store.read())  # type: ignore[attr-defined]
    c = _resolve(containers, positional[0])
    if c is None:
        if _real_docker():
            return _passthrough(argv)
        _err(f"Error response from daemon: No such container: {positional[0]}")
        return 1
    if not c.running:
        _err(f"Error response from daemon: Container {c.id} is not running")
        return 1
    command = positional[1:]
    line = " ".join(command)
    if command[0] in ("true", ":"):
        return 0
    if command[0] == "false":
        return 1
    if command[0] == "echo":
        _out(" ".join(command[1:]))
        return 0
    if line == "hostname":
        _out(c.name)
        return 0
    if command[0] == "cat" and len(command) == 2:
        return _cat(c, command[1])
    if command[0] == "ls" and command[1:] and not command[-1].startswith("-"):
        return _ls(c, command[-1])
    if command[0] == "ctr" and _ctr_words(command)[:2] in (["images", "label"], ["image", "label"], ["i", "label"]):
        return _ctr_label(env, c, command)
    if "crictl images" in line or ("ctr" in command and "images" in command and "import" not in command):
        from .common import crictl_images

        images = [*_SYSTEM_IMAGES.get(c.tool, []), *c.node.get("images", [])]
        _out(crictl_images(images, line, pinned=set(c.node.get("pinned", []))))
        return 0
    return 0  # other commands: no output, success


# ctr's global flags that take a value (containerd cmd/ctr/app/main.go, v1.7.24 and v2.0).
_CTR_VALUE_FLAGS = {"--namespace", "-n", "--address", "-a", "--timeout", "--connect-timeout"}


def _ctr_words(command: list[str]) -> list[str]:
    """`ctr [global options] command ...` without the global options."""
    words, i = command[1:], 0
    while i < len(words) and words[i].startswith("-"):
        flag = words[i].split("=", 1)[0]
        i += 1 if "=" in words[i] or flag not in _CTR_VALUE_FLAGS else 2
    return words[i:]


def _ctr_namespace(command: list[str]) -> str | None:
    words = command[1:]
    for i, word in enumerate(words):
        if word in ("-n", "--namespace") and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(("--namespace=", "-n=")):
            return word.split("=", 1)[1]
        if not word.startswith("-"):
            break
    return None


def _ctr_label(env: object, c: Container, command: list[str]) -> int:
    """`ctr [-n NS] images label [--replace-all|-r] NAME [KEY=VALUE...]` (containerd
    cmd/ctr/commands/images/images.go labelCommand, v1.7.24): sets the labels of the image NAME,
    prints every label of the updated image joined by ","; an unknown name is containerd's
    metadata error ("image %q: not found", metadata/images.go Update), printed as `ctr: <error>`.
    Only the CRI pin label has an effect here: `crictl images` then shows `"pinned": true`
    (pkg/cri/store/image/image.go: pinned = labels[io.cri-containerd.pinned] == "pinned").
    The CRI's images live in the k8s.io namespace: k3s's ctr defaults to it (pkg/ctr/main.go),
    kind's (plain containerd) to "default"."""
    from . import model

    words = _ctr_words(command)[2:]
    flags = [w for w in words if w.startswith("-")]
    unknown = [f for f in flags if f not in ("-r", "--replace-all")]
    if unknown:
        # Go's flag package names the flag with one dash, whatever was typed; urfave/cli prints
        # "Incorrect Usage" and ctr's main the error again (cmd/ctr/main.go).
        problem = f"flag provided but not defined: -{unknown[0].lstrip('-').split('=', 1)[0]}"
        _err(f"Incorrect Usage: {problem}")
        _err(f"ctr: {problem}")
        return 1
    args = [w for w in words if not w.startswith("-")]
    if not args:
        _err("ctr: please specify an image")
        return 1
    name, labels = args[0], dict(a.partition("=")[::2] if "=" in a else (a, "true") for a in args[1:])
    namespace = _ctr_namespace(command) or ("k8s.io" if c.tool == "k3d" else "default")
    held = [*_SYSTEM_IMAGES.get(c.tool, []), *c.node.get("images", [])]
    if namespace != "k8s.io" or name not in held:
        _err(f'ctr: image "{name}": not found')
        return 1
    state_store = env.store  # type: ignore[attr-defined]
    with state_store.transaction() as state:
        cluster = model.find(state, c.tool, c.cluster["name"])
        node = next(n for n in (cluster or {}).get("nodes", []) if n["name"] == c.name)
        pinned = node.setdefault("pinned", [])
        pin = labels.get("io.cri-containerd.pinned") == "pinned"
        replaced = "-r" in flags or "--replace-all" in flags or "io.cri-containerd.pinned" in labels
        if pin and name not in pinned:
            pinned.append(name)
        elif not pin and replaced and name in pinned:
            pinned.remove(name)
    _out(",".join(f"{k}={v}" for k, v in labels.items()))
    return 0


def _node_file(c: Container, path: str) -> str | None:
    """A file the tool put into the node (k3d's registries.yaml), or one under a bind mount
    (kind extraMounts), read live from the host like a real bind mount."""
    files = c.node.get("files") or {}
    if path in files:
        return str(files[path])
    for mount in c.node.get("mounts") or []:
        inside = mount["containerPath"].rstrip("/") + "/"
        if path.startswith(inside):
            try:
                with open(os.path.join(mount["hostPath"], path[len(inside) :]), encoding="utf-8") as fh:
                    return fh.read()
            except OSError:
                return None
    return None


def _ls(c: Container, directory: str) -> int:
    """`ls -1 DIR` over the node's files and bind mounts (names only, sorted like ls)."""
    inside = directory.rstrip("/") + "/"
    names = {p[len(inside) :].split("/", 1)[0] for p in c.node.get("files") or {} if p.startswith(inside)}
    found = bool(names)
    for mount in c.node.get("mounts") or []:
        if mount["containerPath"].rstrip("/") + "/" == inside and os.path.isdir(mount["hostPath"]):
            names.update(os.listdir(mount["hostPath"]))
            found = True
    if not found:
        _err(f"ls: cannot access '{directory}': No such file or directory")
        return 2
    for name in sorted(names):
        _out(name)
    return 0


def _cat(c: Container, path: str) -> int:
    from . import kubeconfig

    held = _node_file(c, path)
    if held is not None:
        sys.stdout.write(held)
        return 0
    if path == "/etc/os-release":
        pretty = {"kind": "Debian GNU/Linux 12 (bookworm)", "minikube": "Ubuntu 22.04.5 LTS"}.get(c.tool, "K3s")
        _out(f'PRETTY_NAME="{pretty}"')
        return 0
    admin = (c.tool == "kind" and path == "/etc/kubernetes/admin.conf" and c.role == "control-plane") or (
        c.tool == "k3d" and path == "/output/kubeconfig.yaml" and c.role == "server"
    )
    if admin and c.cluster.get("setup_done", True):
        inner = dict(c.cluster)
        port = 6443
        host = f"{c.cluster['name']}-control-plane" if c.tool == "kind" else "127.0.0.1"
        inner["api"] = dict(c.cluster.get("api") or {}, server_host=host, port=port)
        doc = kubeconfig.standalone(inner)
        user = "kubernetes-admin" if c.tool == "kind" else "default"
        cname = "kubernetes" if c.tool == "kind" else "default"
        ctx = f"{user}@{cname}" if c.tool == "kind" else "default"
        for entry in doc["clusters"]:
            entry["name"] = cname
        for entry in doc["users"]:
            entry["name"] = user
        for entry in doc["contexts"]:
            entry["name"] = ctx
            entry["context"] = dict(entry.get("context") or {}, cluster=cname, user=user)
        doc["current-context"] = ctx
        sys.stdout.write(kubeconfig.render(doc))
        return 0
    _err(f"cat: {path}: No such file or directory")
    return 1


def _real_engine_up() -> bool:
    """Whether a real engine answers behind the real CLI (asked once per fake call that needs it)."""
    code, _, _ = _run_real(["version", "--format", "{{.Server.Version}}"])
    return code == 0


def _version(env: object, args: list[str], argv: list[str]) -> int:
    """The real engine's answer when there is one; otherwise this fake is the engine (it holds
    the fake clusters' containers and networks), so it answers as Docker Engine CLIENT_VERSION."""
    code, stdout, stderr = _run_real(argv)
    if code == 0:  # a real engine answers: its own answer
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
        return 0
    fmt = _flag_value(args, "--format", "-f")
    server = {
        "Platform": {"Name": "Docker Engine - Community"},
        "Version": CLIENT_VERSION,
        "ApiVersion": "1.50",
        "MinAPIVersion": "1.24",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": os.uname().release,
    }
    if fmt is not None and "json ." in fmt:
        client = {"Version": CLIENT_VERSION, "ApiVersion": "1.50", "Os": "linux", "Arch": "amd64"}
        _out(go_json({"Client": client, "Server": server}))
        return 0
    if fmt is not None:
        values = {"{{.Server.Version}}": CLIENT_VERSION, "{{.Client.Version}}": CLIENT_VERSION}
        if fmt in values:
            _out(values[fmt])
            return 0
        _err(f"fake docker: version --format {fmt!r} is not implemented by the test fake")
        return 2
    _client_block(version=True)
    _out("")
    _out("Server: Docker Engine - Community")
    _out(" Engine:")
    _out(f"  Version:          {CLIENT_VERSION}")
    return 0


def _network_doc(net: dict) -> dict:
    """`docker network inspect` of a network in the fake state (the Engine API's Network shape)."""
    return {
        "Name": net["name"],
        "Id": net["id"],
        "Created": "2026-01-01T00:00:00.000000000Z",
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv4": True,
        "EnableIPv6": False,
        "IPAM": {
            "Driver": "default",
            "Options": None,
            "Config": [{"Subnet": net["subnet"], "Gateway": net["gateway"]}],
        },
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {},
        "Options": {"com.docker.network.bridge.enable_ip_masquerade": "true"},
        "Labels": dict(net.get("labels") or {}),
    }


def _network_inspect(env: object, args: list[str], argv: list[str]) -> int:
    """Networks of the fake clusters are answered here; any other goes to the real engine, and
    with none, is unknown as on an engine that does not have it (captured from engine 20.10)."""
    names = [a for a in args if not a.startswith("-")]
    if any(a.startswith("-") for a in args):
        if _real_docker():
            return _passthrough(argv)
        _err("fake docker: network inspect flags are not implemented by the test fake")
        return 2
    _need(names, 1, "network inspect")
    networks = env.store.read()["networks"]  # type: ignore[attr-defined]
    by_id = {net["id"]: net for net in networks.values()}
    found = [networks.get(n) or by_id.get(n) for n in names]
    if any(net is None for net in found) and _real_engine_up():
        return _passthrough(argv)
    docs = [_network_doc(net) for net in found if net is not None]
    _out(go_json(docs, indent=4) if docs else "[]")
    missing = [n for n, net in zip(names, found, strict=True) if net is None]
    for name in missing:
        _err(f"Error response from daemon: network {name} not found")
    return 1 if missing else 0


# docker/cli v28.2.2 cli/command/network/connect.go: cli.ExactArgs(2) and these flags.
_CONNECT_FLAGS = {
    "alias": ("", True, True),
    "driver-opt": ("", True, True),
    "gw-priority": ("", True, False),
    "ip": ("", True, False),
    "ip6": ("", True, False),
    "link": ("", True, True),
    "link-local-ip": ("", True, True),
}


def _network_connect(env: object, args: list[str], argv: list[str]) -> int:
    """A fake node joins another network (kept in its state, shown by inspect); a real container
    goes to the real engine. Connected twice: the daemon's refusal (moby libnetwork
    network.go CreateEndpoint: "endpoint with name %s already exists in network %s")."""
    _opts, names = _parse(args, _CONNECT_FLAGS, "network connect")
    if len(names) != 2:
        raise _Usage("docker: 'docker network connect' requires 2 arguments", 1)
    network, name = names
    store = env.store  # type: ignore[attr-defined]
    with store.transaction() as state:
        c = _resolve(_containers(state), name)
        if c is None:
            return _passthrough(argv)
        known = network in state["networks"]
        known = known or (_real_engine_up() and _run_real(["network", "inspect", network])[0] == 0)
        if not known:
            _err(f"Error response from daemon: network {network} not found")
            return 1
        joined = c.node.setdefault("extra_networks", [])  # c.node is the node's dict in `state`
        if network == c.network or network in joined:
            _err(f"Error response from daemon: endpoint with name {c.name} already exists in network {network}")
            return 1
        joined.append(network)
    return 0


def _network_disconnect(env: object, args: list[str], argv: list[str]) -> int:
    """A fake node leaves a network `network connect` joined it to (docker/cli network
    disconnect.go: `-f/--force`, 2 arguments); one it is not on: the daemon's refusal (moby
    daemon/container_operations.go disconnectFromNetwork: "container %s is not connected to
    network %s", the container's ID). Its own network is not left (not modelled)."""
    _opts, names = _parse(args, {"force": ("f", False, False)}, "network disconnect")
    if len(names) != 2:
        raise _Usage("docker: 'docker network disconnect' requires 2 arguments", 1)
    network, name = names
    store = env.store  # type: ignore[attr-defined]
    with store.transaction() as state:
        c = _resolve(_containers(state), name)
        if c is None:
            return _passthrough(argv)
        joined = c.node.setdefault("extra_networks", [])  # c.node is the node's dict in `state`
        if network == c.network:
            _err("fake docker: leaving a node's own network is not implemented by the test fake")
            return 2
        if network not in joined:
            _err(f"Error response from daemon: container {c.id} is not connected to network {network}")
            return 1
        joined.remove(network)
    return 0


_HANDLERS = {
    "version": _version,
    "network connect": _network_connect,
    "network disconnect": _network_disconnect,
    "network inspect": _network_inspect,
    "ps": _ps,
    "container ls": lambda env, a, argv: _ps(env, a, argv, "container ls"),
    "start": lambda env, a, argv: _start_stop(env, a, argv, "start"),
    "container start": lambda env, a, argv: _start_stop(env, a, argv, "container start"),
    "stop": lambda env, a, argv: _start_stop(env, a, argv, "stop"),
    "container stop": lambda env, a, argv: _start_stop(env, a, argv, "container stop"),
    "inspect": _inspect,
    "container inspect": _container_inspect,
    "exec": _exec,
    "container exec": lambda env, a, argv: _exec(env, a, argv, "container exec"),
}
