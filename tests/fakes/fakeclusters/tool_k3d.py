"""Fake ``k3d`` v5.8.3 (https://github.com/k3d-io/k3d).

Behaviour follows k3d's sources: cmd/cluster/*.go, cmd/kubeconfig/*.go,
cmd/image/imageImport.go, pkg/client/cluster.go, pkg/config/transform.go,
pkg/types/types.go and pkg/runtimes/docker/translate.go.  Log lines use
logrus' forced-colour text format (cmd/root.go): INFO/DEBU go to stdout,
WARN/ERRO/FATA to stderr, FATA exits 1.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time

from . import kubeconfig, model, netalloc
from .cli import ARRAY, BOOL, DURATION, INT, SLICE, Command, Flag, Parsed, UsageError, parse, parse_go_duration
from .common import (
    FAKES_BIN,
    archive_error,
    docker_down,
    docker_down_message,
    go_json,
    images_in_archive,
    out,
    ram_in_bytes,
    table,
)
from .env import FakeEnv, FakeExit
from .k3d_json import cluster_json

TOOL = "k3d"
DEFAULT_CLUSTER = "k3s-default"
IMPORT_MODES = ("auto", "direct", "tools-node")  # pkg/types/types.go ImportModes
_NODEFILTER_RE = re.compile(
    r"^(loadbalancer|all|servers?|agents?)(:(\*|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*))?(:(proxy|direct))?$"
)
_HOSTNAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")
_COLORS = {"DEBU": 37, "INFO": 36, "WARN": 33, "ERRO": 31, "FATA": 31}


class Log:
    """logrus TextFormatter{ForceColors: true} as configured by k3d."""

    def __init__(self) -> None:
        self.start = time.time()

    def _emit(self, level: str, msg: str) -> None:
        secs = int(time.time() - self.start)
        line = f"\x1b[{_COLORS[level]}m{level}\x1b[0m[{secs:04d}] {msg:<44} \n"
        stream = sys.stdout if level in ("INFO", "DEBU") else sys.stderr
        stream.write(line)
        stream.flush()

    def info(self, msg: str) -> None:
        self._emit("INFO", msg)

    def warn(self, msg: str) -> None:
        self._emit("WARN", msg)

    def erro(self, msg: str) -> None:  # logrus level name; not the logging API
        self._emit("ERRO", msg)

    def fatal(self, msg: str) -> FakeExit:
        self._emit("FATA", msg)
        return FakeExit(1)


# -- command tree (flags copied from k3d's cmd/ package) -------------------------


def _tree() -> Command:
    create = Command(
        "create",
        use="create NAME",
        short="Create a new cluster",
        flags=[
            Flag("config", short="c"),
            Flag("api-port"),
            Flag("env", ARRAY, short="e"),
            Flag("volume", ARRAY, short="v"),
            Flag("port", ARRAY, short="p"),
            Flag("k3s-node-label", ARRAY),
            Flag("runtime-label", ARRAY),
            Flag("runtime-ulimit", ARRAY),
            Flag("registry-create"),
            Flag("host-alias", ARRAY),
            Flag("k3s-arg", ARRAY),
            Flag("servers", INT, short="s"),
            Flag("agents", INT, short="a"),
            Flag("image", short="i"),
            Flag("network"),
            Flag("subnet"),
            Flag("token"),
            Flag("wait", BOOL, default=True),
            Flag("timeout", DURATION),
            Flag("kubeconfig-update-default", BOOL, default=True),
            Flag("kubeconfig-switch-context", BOOL, default=True),
            Flag("no-lb", BOOL),
            Flag("no-rollback", BOOL),
            Flag("gpus"),
            Flag("servers-memory"),
            Flag("agents-memory"),
            Flag("host-pid-mode", BOOL),
            Flag("no-image-volume", BOOL),
            Flag("registry-use", ARRAY),
            Flag("registry-config"),
            Flag("lb-config-override", SLICE),
        ],
    )
    cluster = Command(
        "cluster",
        aliases=("clusters",),
        short="Manage cluster(s)",
        subcommands=[
            create,
            Command(
                "delete",
                aliases=("del", "rm"),
                use="delete [NAME [NAME ...] | --all]",
                short="Delete cluster(s).",
                flags=[Flag("all", BOOL, short="a"), Flag("config", short="c")],
            ),
            Command(
                "list",
                aliases=("ls", "get"),
                use="list [NAME [NAME...]]",
                short="List cluster(s)",
                flags=[Flag("no-headers", BOOL), Flag("token", BOOL), Flag("output", short="o")],
            ),
            Command(
                "start",
                use="start [NAME [NAME...] | --all]",
                short="Start existing k3d cluster(s)",
                flags=[Flag("all", BOOL, short="a"), Flag("wait", BOOL, default=True), Flag("timeout", DURATION)],
            ),
            Command(
                "stop",
                use="stop [NAME [NAME...] | --all]",
                short="Stop existing k3d cluster(s)",
                flags=[Flag("all", BOOL, short="a")],
            ),
            Command("edit", short="[EXPERIMENTAL] Edit cluster(s)."),
            Command("restart", short="Restart cluster(s)."),
        ],
    )
    kubecfg = Command(
        "kubeconfig",
        short="Manage kubeconfig(s)",
        subcommands=[
            Command(
                "get",
                aliases=("print", "show"),
                use="get [CLUSTER [CLUSTER [...]] | --all]",
                short="Print kubeconfig(s) from cluster(s).",
                flags=[Flag("all", BOOL, short="a")],
            ),
            Command(
                "merge",
                aliases=("write",),
                use="merge [CLUSTER [CLUSTER [...]] | --all]",
                short="Write/Merge kubeconfig(s) from cluster(s) into new or existing kubeconfig/file.",
                flags=[
                    Flag("output", short="o"),
                    Flag("kubeconfig-merge-default", BOOL, short="d"),
                    Flag("update", BOOL, short="u", default=True),
                    Flag("kubeconfig-switch-context", BOOL, short="s", default=True),
                    Flag("overwrite", BOOL),
                    Flag("all", BOOL, short="a"),
                ],
            ),
        ],
    )
    image = Command(
        "image",
        aliases=("images",),
        short="Handle container images.",
        subcommands=[
            Command(
                "import",
                aliases=("load",),
                use="import [IMAGE | ARCHIVE [IMAGE | ARCHIVE...]]",
                short="Import image(s) from docker into k3d cluster(s).",
                flags=[
                    Flag("cluster", ARRAY, short="c", default=[DEFAULT_CLUSTER]),
                    Flag("keep-tarball", BOOL, short="k"),
                    Flag("keep-tools", BOOL, short="t"),
                    Flag("mode", short="m", default="tools-node"),
                ],
            ),
        ],
    )
    version = Command(
        "version",
        short="Show k3d and default k3s version",
        subcommands=[Command("list", use="list COMPONENT", short="List k3d/K3s versions")],
    )
    stubs = [Command(n, short=f"Manage {n}(s)") for n in ("node", "registry", "config")]
    return Command(
        "k3d",
        short="https://k3d.io/ -> Run k3s in Docker!",
        persistent=[Flag("verbose", BOOL), Flag("trace", BOOL), Flag("timestamps", BOOL)],
        flags=[Flag("version", BOOL)],
        subcommands=[cluster, kubecfg, image, version, Command("completion", use="completion SHELL"), *stubs],
    )


# -- entry point -------------------------------------------------------------------


def run(env: FakeEnv, argv: list[str]) -> int:
    log = Log()
    root = _tree()
    try:
        p = parse(root, argv)
    except UsageError as exc:
        cmd = exc.command or root
        sys.stderr.write(f"Error: {exc.message}\n{cmd.help_text()}\n")
        raise log.fatal(exc.message) from None
    cmd = p.command
    if p["help"]:
        out(cmd.help_text().rstrip("\n"))
        return 0
    path = cmd.path()
    handler = _HANDLERS.get(path)
    if handler is None:
        if cmd.subcommands or cmd is root:
            if path == "k3d" and p["version"]:
                return _version(env, log, p)
            if path == "k3d" and p.args:
                sys.stderr.write(f'Error: unknown command "{p.args[0]}" for "k3d"\nRun \'k3d --help\' for usage.\n')
                raise log.fatal(f'unknown command "{p.args[0]}" for "k3d"')
            out(cmd.help_text().rstrip("\n"))  # cobra group commands print their help
            return 0
        raise log.fatal(f"fake k3d: '{path}' is not implemented by the test fake")
    try:
        if path in _NEEDS_DOCKER and docker_down(env.environ):
            return _engine_down(env, log, p, path)
        return handler(env, log, p)
    except UsageError as exc:
        sys.stderr.write(f"Error: {exc.message}\n{cmd.help_text()}\n")
        raise log.fatal(exc.message) from None


# -- Docker engine down (KENV_FAKE_DOCKER_DOWN=1) --------------------------------------------

_NEEDS_DOCKER = {
    "k3d cluster create",
    "k3d cluster delete",
    "k3d cluster list",
    "k3d cluster start",
    "k3d cluster stop",
    "k3d kubeconfig get",
    "k3d kubeconfig merge",
    "k3d image import",
}


def _engine_down(env: FakeEnv, log: Log, p: Parsed, path: str) -> int:
    """What k3d v5.8.3 prints when the Docker engine does not answer.

    cmd/root.go initRuntime ignores the failing Info(); the first container listing fails:
    ClusterList (no names / --all) -> FATA "runtime failed to list nodes: ..."; ClusterGet (named
    clusters) only logs ERRO and then reports "No nodes found for given cluster" -- so `cluster delete
    NAME` says "nothing to delete" and exits 0.  create: ClusterPrepNetwork fails, the rollback fails too.
    """
    down = docker_down_message(env.environ)

    def list_error(labels: str) -> str:
        return f"docker failed to get containers with labels 'map[{labels}]': failed to list containers: {down}"

    def get_error(name: str) -> None:
        log.erro(f"Failed to get nodes for cluster '{name}': {list_error('k3d.cluster:' + name)}")

    if path == "k3d cluster create":
        spec = _build_spec(p, log)
        _validate_spec(spec, log)
        get_error(spec.name)
        log.info("Prep: Network")
        log.erro(
            f"{_PREP_FAILED}failed to create cluster network: failed to check for duplicate docker networks: "
            f"docker failed to list networks: {down}"
        )
        if spec.no_rollback:
            raise log.fatal("Cluster creation FAILED, rollback deactivated.")
        log.erro("Failed to create cluster >>> Rolling Back")
        log.info(f"Deleting cluster '{spec.name}'")
        get_error(spec.name)
        log.erro("failed to get cluster: No nodes found for given cluster")
        raise log.fatal("Cluster creation FAILED, also FAILED to rollback changes!")
    if path == "k3d image import":
        name = p.strings("cluster")[0]
        get_error(name)
        raise log.fatal(f"failed to get cluster {name}: No nodes found for given cluster")
    names = list(p.args)
    if path == "k3d cluster delete" and not names and not p["all"] and p["config"]:
        names = [(_load_config_file(str(p["config"]), log).get("metadata") or {}).get("name") or DEFAULT_CLUSTER]
    if p.get("all") or (path in ("k3d cluster list", "k3d kubeconfig get") and not names):
        if path == "k3d kubeconfig get" and not p.get("all"):
            raise UsageError("Need to specify one or more cluster names *or* set `--all` flag")
        if path == "k3d cluster delete":
            log.info("Deleting all clusters...")
        raise log.fatal(f"runtime failed to list nodes: {list_error('app:k3d')}")
    names = names or [DEFAULT_CLUSTER]
    if path == "k3d cluster delete":
        for name in names:
            get_error(name)
            log.info(f"No nodes found for cluster '{name}', nothing to delete.")
        log.info("No clusters found")
        return 0
    get_error(names[0])
    raise log.fatal("No nodes found for given cluster")


def _version(env: FakeEnv, log: Log, p: Parsed) -> int:
    env.inject("version")
    out(f"k3d version {model.K3D_VERSION}")
    out(f"k3s version {model.K3S_VERSION} (default)")
    return 0


def _version_list(env: FakeEnv, log: Log, p: Parsed) -> int:
    raise log.fatal("fake k3d: 'version list' needs network access and is not implemented by the test fake")


# -- helpers -------------------------------------------------------------------------


def _missing(log: Log) -> FakeExit:
    return log.fatal("No nodes found for given cluster")


_MULTI_KUBECONFIG = (
    "multiple kubeconfigs specified via KUBECONFIG env var: Please reduce to one entry, unset KUBECONFIG or "
    "explicitly choose an output"
)


def _default_kubeconfig(env: FakeEnv) -> tuple[str, str]:
    """pkg/client/kubeconfig.go KubeconfigGetDefaultPath -> (path, error).

    client-go's NewDefaultClientConfigLoadingRules: $KUBECONFIG split on ':' (duplicates dropped) else
    ~/.kube/config; k3d refuses more than one entry; GetDefaultFilename = first existing entry, else the first.
    """
    raw = env.environ.get("KUBECONFIG", "")
    entries: list[str] = []
    for item in raw.split(os.pathsep) if raw else []:
        if item not in entries:
            entries.append(item)
    if len(entries) > 1:
        return "", "failed to get default kubeconfig path: " + _MULTI_KUBECONFIG
    return (entries[0] if entries else env.default_kubeconfig()), ""


def _k3d_clusters(state: dict) -> list[dict]:
    return sorted((c for c in state["clusters"].values() if c["tool"] == TOOL), key=lambda c: c["name"])


def _parse_api_port(spec: str, log: Log) -> tuple[str, str, int | None]:
    """--api-port [HOST:]HOSTPORT -> (host, host_ip, port or None for random)."""
    host, _, port_text = spec.rpartition(":")
    if port_text in ("", "random"):
        port = None
    elif not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise log.fatal(
            f"Failed to apply CLI overrides: failed to parse API Port spec: "
            f"Failed to parse port mapping: invalid port '{port_text}'"
        )
    else:
        port = int(port_text) or None
    if not host:
        return "0.0.0.0", "0.0.0.0", port
    if host == "localhost":
        return host, "127.0.0.1", port
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host):
        return host, host, port
    raise log.fatal(
        f"Failed to apply CLI overrides: failed to parse API Port spec: "
        f"Failed to lookup host '{host}' specified for the API: lookup {host}: no such host"
    )


def _split_filter(value: str, log: Log) -> tuple[str, list[str]]:
    """k3d cliutil.SplitFiltersFromFlag: 'x@filter;filter' -> (x, [filters])."""
    if "@" not in value:
        return value, []
    # A backslash before '@' makes it literal; at most one unescaped '@' (cmd/util/filter.go).
    pieces = value.split("@")
    parts: list[str] = []
    buffer = ""
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if piece.endswith("\\") and not last and not piece.endswith("\\\\"):
            buffer += piece[:-1] + "@"
            continue
        parts.append(buffer + (piece[:-1] if piece.endswith("\\\\") and not last else piece))
        buffer = ""
    if len(parts) > 2:
        raise log.fatal(
            f"Invalid flag '{value}': only one unescaped '@' allowed for node filter(s) (Escape literal '@' with '\\')"
        )
    if len(parts) < 2:
        raise log.fatal(
            f"Invalid flag '{value}' includes unescaped '@' but is missing a node filter (Escape literal '@' with '\\')"
        )
    body, filters = parts
    result = [f for f in filters.split(";") if f]
    for f in result:
        if not _NODEFILTER_RE.match(f):
            raise log.fatal(f"Failed to parse node filters: invalid format or empty subset in '{f}'")
    return body, result


def _parse_port(spec: str, log: Log) -> dict:
    """docker nat.ParsePortSpec subset: [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]."""
    proto = "tcp"
    if "/" in spec:
        spec, proto = spec.rsplit("/", 1)
        if proto.lower() not in ("tcp", "udp", "sctp"):
            raise log.fatal(f"Failed to transform ports: failed to parse port spec: Invalid proto: {proto}")
    parts = spec.split(":")
    if len(parts) == 1:
        host_ip, host_port, cport = "", "", parts[0]
    elif len(parts) == 2:
        host_ip, host_port, cport = "", parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host_port, cport = parts
    else:
        raise log.fatal(f"Failed to transform ports: failed to parse port spec: Invalid hostPort: {spec}")
    for label, val in (("containerPort", cport), ("hostPort", host_port)):
        if val and (not val.isdigit() or not 0 < int(val) <= 65535):
            raise log.fatal(f"Failed to transform ports: failed to parse port spec: Invalid {label}: {val}")
    if not cport:
        raise log.fatal(f"Failed to transform ports: failed to parse port spec: No port specified: {spec}<empty>")
    return {
        "host_ip": host_ip,
        "host_port": int(host_port) if host_port else 0,
        "container_port": int(cport),
        "protocol": proto.lower(),
    }


# -- cluster create ---------------------------------------------------------------------

_SIMPLE_KEYS = {
    "apiVersion",
    "kind",
    "metadata",
    "servers",
    "agents",
    "kubeAPI",
    "image",
    "network",
    "subnet",
    "token",
    "volumes",
    "ports",
    "env",
    "options",
    "registries",
    "hostAliases",
    "files",
}


def _load_config_file(path: str, log: Log) -> dict:
    from . import yamlio

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yamlio.load(fh.read())
    except FileNotFoundError:
        raise log.fatal(f"Failed to read config file {path}: open {path}: no such file or directory") from None
    except yamlio.YAMLError as exc:
        raise log.fatal(f"Failed to read config file {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise log.fatal(f"Failed to read config file {path}: invalid config")
    if doc.get("apiVersion") not in ("k3d.io/v1alpha5", "k3d.io/v1alpha4") or doc.get("kind") != "Simple":
        raise log.fatal(
            f"Failed to load config file {path}: unknown apiVersion/kind '{doc.get('apiVersion')}'/'{doc.get('kind')}'"
        )
    extra = sorted(set(doc) - _SIMPLE_KEYS)
    if extra:
        raise log.fatal(
            f"Schema Validation failed for config file {path}: (root): Additional property {extra[0]} is not allowed"
        )
    return doc


class _CreateSpec:
    """Everything `k3d cluster create` decided before touching state."""

    def __init__(self) -> None:
        self.name = DEFAULT_CLUSTER
        self.servers = 1
        self.agents = 0
        self.image = model.K3D_DEFAULT_IMAGE
        self.network = ""
        self.subnet = ""
        self.api: tuple[str, str, int | None] = ("0.0.0.0", "0.0.0.0", None)
        self.ports: list[tuple[dict, list[str]]] = []
        self.k3s_args: list[tuple[str, list[str]]] = []
        self.env: list[tuple[str, list[str]]] = []
        self.no_lb = False
        self.no_rollback = False
        self.no_image_volume = False
        self.update_default = True
        self.switch_context = True
        self.timeout = 0.0
        self.token = ""
        self.servers_memory = ""
        self.agents_memory = ""
        self.registries: list[str] = []
        self.registry_config = ""
        self.registry_content = ""


def _build_spec(p: Parsed, log: Log) -> _CreateSpec:
    spec = _CreateSpec()
    if len(p.args) > 1:
        raise UsageError(f"accepts between 0 and 1 arg(s), received {len(p.args)}")
    cfg: dict = {}
    if p["config"]:
        cfg = _load_config_file(str(p["config"]), log)
    meta = cfg.get("metadata") or {}
    opts = cfg.get("options") or {}
    k3d_opts = opts.get("k3d") or {}
    kc_opts = opts.get("kubeconfig") or {}
    spec.name = p.args[0] if p.args else (meta.get("name") or DEFAULT_CLUSTER)

    def pick(flag: str, cfg_value: object, default: object) -> object:
        if p.is_set(flag):
            return p[flag]
        return default if cfg_value is None else cfg_value

    spec.servers = int(str(pick("servers", cfg.get("servers"), 1)))
    spec.agents = int(str(pick("agents", cfg.get("agents"), 0)))
    spec.image = str(pick("image", cfg.get("image"), model.K3D_DEFAULT_IMAGE))
    if spec.image in ("latest", "stable") or spec.image.startswith("+"):
        spec.image = model.K3D_DEFAULT_IMAGE  # k3d resolves channels online; the fake uses the default
    spec.network = str(pick("network", cfg.get("network"), ""))
    spec.subnet = str(pick("subnet", cfg.get("subnet"), ""))
    spec.token = str(pick("token", cfg.get("token"), ""))
    spec.no_lb = bool(pick("no-lb", k3d_opts.get("disableLoadbalancer"), False))
    spec.no_rollback = bool(pick("no-rollback", k3d_opts.get("disableRollback"), False))
    spec.no_image_volume = bool(pick("no-image-volume", k3d_opts.get("disableImageVolume"), False))
    spec.update_default = bool(pick("kubeconfig-update-default", kc_opts.get("updateDefaultKubeconfig"), True))
    spec.switch_context = bool(pick("kubeconfig-switch-context", kc_opts.get("switchCurrentContext"), True))
    timeout = pick("timeout", k3d_opts.get("timeout"), 0.0)
    if isinstance(timeout, str):
        spec.timeout = parse_go_duration(timeout)
    else:
        spec.timeout = float(timeout) if isinstance(timeout, (int, float)) else 0.0
    spec.servers_memory = str(p["servers-memory"])
    spec.agents_memory = str(p["agents-memory"])
    spec.registries = p.strings("registry-use")
    spec.registry_config = str(p["registry-config"])

    if p.is_set("api-port"):
        spec.api = _parse_api_port(str(p["api-port"]), log)
    elif cfg.get("kubeAPI"):
        api = cfg["kubeAPI"]
        host_ip = api.get("hostIP") or "0.0.0.0"
        spec.api = (api.get("host") or host_ip, host_ip, int(api["hostPort"]) if api.get("hostPort") else None)

    port_values = [_split_filter(v, log) for v in p.strings("port")]
    for item in cfg.get("ports") or []:
        port_values.append((item.get("port", ""), list(item.get("nodeFilters") or [])))
    seen = set()
    for body, filters in port_values:
        if body in seen:
            raise log.fatal("Same Portmapping can not be used for multiple nodes")
        seen.add(body)
        spec.ports.append((_parse_port(body, log), filters))
    spec.k3s_args = [_split_filter(v, log) for v in p.strings("k3s-arg")]
    for item in (opts.get("k3s") or {}).get("extraArgs") or []:
        spec.k3s_args.append((item.get("arg", ""), list(item.get("nodeFilters") or [])))
    spec.env = [_split_filter(v, log) for v in p.strings("env")]
    for item in cfg.get("env") or []:
        spec.env.append((item.get("envVar", ""), list(item.get("nodeFilters") or [])))
    return spec


def _validate_spec(spec: _CreateSpec, log: Log) -> None:
    if not _HOSTNAME_RE.match(spec.name) or len(spec.name) > 63:
        raise log.fatal(
            f"Failed Cluster Configuration Validation: provided cluster name '{spec.name}' does not "
            f"match requirements: Invalid Hostname: Hostname [{spec.name}] contains characters other "
            "than 'Aa-Zz', '0-9' or '-' or is too long"
        )
    if spec.servers < 1:
        raise log.fatal("Failed Cluster Configuration Validation: Cluster has no server nodes")
    if spec.subnet and spec.subnet != "auto" and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+/\d+", spec.subnet):
        raise log.fatal(f"invalid subnet '{spec.subnet}': netip.ParsePrefix(\"{spec.subnet}\"): no '/'")
    node_count = spec.servers + spec.agents + (0 if spec.no_lb else 1)
    for arg, filters in spec.k3s_args:
        if not filters and node_count > 1:
            raise log.fatal(f"K3sExtraArg '{arg}' lacks a node filter, but there's more than one node")
    for var, filters in spec.env:
        if not filters and node_count > 1:
            raise log.fatal(f"EnvVarMapping '{var}' lacks a node filter, but there's more than one node")
    for mem in (spec.servers_memory, spec.agents_memory):
        if mem:
            try:
                ram_in_bytes(mem)
            except ValueError:
                raise log.fatal(
                    f"Failed Cluster Configuration Validation: provided memory limit value is "
                    f"invalid: invalid size: '{mem}'"
                ) from None
    if spec.registry_config and "\n" not in spec.registry_config and not os.path.isfile(spec.registry_config):
        raise log.fatal(
            f"failed to open registry config file at {spec.registry_config}: "
            f"open {spec.registry_config}: no such file or directory"
        )
    if spec.registry_config:
        spec.registry_content = _registry_content(spec.registry_config, log)


def _registry_content(config: str, log: Log) -> str:
    """pkg/config/transform.go: a multi-line value is the registries.yaml itself, else a path;
    the YAML is parsed into wharfie's Registry and marshalled again (pkg/client/cluster.go), which
    is what every server and agent node gets at /etc/rancher/k3s/registries.yaml."""
    from . import yamlio

    if "\n" in config:
        text, what = config, "failed to read embedded registries config"
    else:
        with open(config, encoding="utf-8") as fh:
            text, what = fh.read(), "failed to read registry configuration"
    try:
        doc = yamlio.load(text)
    except yamlio.YAMLError as exc:
        raise log.fatal(f"{what}: {exc}") from None
    if doc is not None and not isinstance(doc, dict):
        raise log.fatal(f"{what}: yaml: unmarshal errors: cannot unmarshal into a registries.yaml")
    doc = doc or {}
    unknown = sorted(set(doc) - {"mirrors", "configs"})
    if unknown:
        # goyaml ignores unknown fields: they vanish from what the nodes get.
        doc = {k: v for k, v in doc.items() if k not in unknown}
    return yamlio.dump({"mirrors": doc.get("mirrors") or {}, "configs": doc.get("configs") or {}})


def _disabled_components(spec: _CreateSpec) -> list[str]:
    disabled: list[str] = []
    for arg, _ in spec.k3s_args:
        match = re.match(r"--disable[= ](.+)", arg)
        if match:
            disabled.extend(x.strip() for x in match.group(1).split(","))
    return disabled


def _nodes_for(spec: _CreateSpec) -> list[dict]:
    nodes = []
    for i in range(spec.servers):
        nodes.append(
            {
                "name": f"k3d-{spec.name}-server-{i}",
                "role": "server",
                "kube": True,
                "images": [],
                "memory": spec.servers_memory,
            }
        )
    for i in range(spec.agents):
        nodes.append(
            {
                "name": f"k3d-{spec.name}-agent-{i}",
                "role": "agent",
                "kube": True,
                "images": [],
                "memory": spec.agents_memory,
            }
        )
    if not spec.no_lb:
        nodes.append({"name": f"k3d-{spec.name}-serverlb", "role": "loadbalancer", "kube": False, "images": []})
    return nodes


def _port_target(spec: _CreateSpec, filters: list[str], log: Log, raw: str) -> str:
    if not filters:
        if spec.no_lb and spec.servers + spec.agents == 1:
            return f"k3d-{spec.name}-server-0"
        if spec.no_lb:
            raise log.fatal(
                f"Failed to transform ports: portmapping '{raw}' lacks a node filter, "
                "but there's more than one node and no loadbalancer"
            )
        log.info(
            f"portmapping '{raw}' lacks a nodefilter, but there's more than one node: "
            "defaulting to [servers:*:proxy agents:*:proxy]"
        )
        return f"k3d-{spec.name}-serverlb"
    first = filters[0]
    if (
        first.startswith("loadbalancer")
        or first.endswith(":proxy")
        or (not spec.no_lb and not first.endswith(":direct"))
    ):
        if spec.no_lb:
            raise log.fatal("Failed to transform ports: cannot use loadbalancer node filter: loadbalancer disabled")
        return f"k3d-{spec.name}-serverlb"
    group, _, rest = first.partition(":")
    idx = rest.split(":")[0] if rest else "0"
    idx = "0" if idx in ("*", "") else re.split(r"[-,]", idx)[0]
    role = "server" if group.startswith("server") else "agent"
    return f"k3d-{spec.name}-{role}-{idx}"


def _bind_error(node: str, ip: str, port: int) -> str:
    return (
        f"runtime failed to start node '{node}': docker failed to start container for node '{node}': "
        f"Error response from daemon: driver failed programming external connectivity on endpoint {node} "
        f"({netalloc.container_id(node)}): Bind for {ip}:{port} failed: port is already allocated"
    )


def _rollback(env: FakeEnv, log: Log, spec: _CreateSpec, reason: str) -> FakeExit:
    log.erro(reason)
    if spec.no_rollback:
        with env.store.transaction() as state:
            cluster = model.find(state, TOOL, spec.name)
            if cluster is not None:
                model.set_running(cluster, False)
        return log.fatal("Cluster creation FAILED, rollback deactivated.")
    log.erro("Failed to create cluster >>> Rolling Back")
    log.info(f"Deleting cluster '{spec.name}'")
    with env.store.transaction() as state:
        cluster = model.find(state, TOOL, spec.name)
        if cluster is not None:
            for node in cluster["nodes"]:
                log.info(f"Deleted {node['name']}")
            _drop_cluster(state, cluster)
    log.info("Deleting 1 attached volumes...")
    return log.fatal("Cluster creation FAILED, all changes have been rolled back!")


def _drop_cluster(state: dict, cluster: dict) -> str:
    """Remove a cluster and (if k3d created it) its network.

    pkg/client/cluster.go ClusterDelete: a network labelled external is skipped ("external"); otherwise
    k3d tries `docker network rm`: it fails while containers are attached -- other k3d nodes keep it
    silently ("kept"), other containers give the "still in use" warning ("in-use").
    """
    del state["clusters"][cluster["key"]]
    netalloc.release_members(state, cluster["key"])
    net = state["networks"].get(cluster.get("network", ""))
    if cluster["opts"].get("network_external"):
        return "external"
    if net is None:
        return "deleted"
    if net["members"]:
        others = {member.split("#", 1)[0] for member in net["members"]}
        return "kept" if any(o.startswith(TOOL + "/") for o in others) else "in-use"
    del state["networks"][net["name"]]
    return "deleted"


def _cluster_create(env: FakeEnv, log: Log, p: Parsed) -> int:
    spec = _build_spec(p, log)
    _validate_spec(spec, log)
    if model.find(env.store.read(), TOOL, spec.name) is not None:
        raise _exists(log, spec.name)
    log.info("Prep: Network")
    if spec.network and spec.subnet and spec.subnet != "auto":
        # pkg/client/cluster.go ClusterPrepNetwork: any --network (External) plus a subnet prefix
        raise _rollback(env, log, spec, f"{_PREP_FAILED}cannot specify subnet for exiting network")
    cluster, conflict = _reserve(env, log, spec)
    _start(env, log, spec, cluster, conflict)
    _finish(env, log, spec)
    return 0


_PREP_FAILED = "Failed Cluster Preparation: Failed Network Preparation: "


def _exists(log: Log, name: str) -> FakeExit:
    return log.fatal(f"Failed to create cluster '{name}' because a cluster with that name already exists")


def _server_not_ready(name: str, why: str) -> str:
    node = f"k3d-{name}-server-0"
    return (
        f"Failed Cluster Start: Failed to start server {node}: Node {node} failed to get ready: error waiting for "
        f"log line `k3s is up and running` from node '{node}': stopped returning log lines: {why}"
    )


def _reserve(env: FakeEnv, log: Log, spec: _CreateSpec) -> tuple[dict, tuple[str, int] | None]:
    """Step 0: network + containers exist (cluster "creating" in state), nothing runs yet."""
    docker_subnet = netalloc.docker_network_subnet(spec.network, FAKES_BIN) if spec.network else None
    messages: list[str] = []
    pool_error = ""
    with env.store.transaction() as state:
        if model.find(state, TOOL, spec.name) is not None:
            raise _exists(log, spec.name)
        cluster = model.new_cluster(TOOL, spec.name)
        net_name = spec.network or f"k3d-{spec.name}"
        net = state["networks"].get(net_name)
        if net is None and docker_subnet is not None:
            # the network exists in the real Docker engine (e.g. created by kenv itself)
            subnet = docker_subnet or netalloc.pick_subnet(state)
            net = netalloc.add_network(state, net_name, subnet, owner="", external=True)
        # pkg/runtimes/docker/network.go CreateNetworkIfNotPresent: an existing network is re-used as it
        # is (a --subnet is then silently ignored), labelled external and never IPAM-managed; a network
        # k3d creates from --subnet CIDR|auto is IPAM-managed (server IPs pinned).
        reused = net is not None
        managed = False
        if reused:
            messages.append(f"Re-using existing network '{net_name}' ({net['id']})")
        else:
            try:
                subnet = spec.subnet if spec.subnet not in ("", "auto") else netalloc.pick_subnet(state)
            except RuntimeError:  # Docker's default address pools are all taken
                subnet = ""
            if not subnet:
                net = None
                pool_error = (
                    "Error response from daemon: could not find an available, non-overlapping IPv4 address pool "
                    "among the defaults to assign to the network"
                )
            elif netalloc.subnet_in_use(state, subnet) is not None:
                net = None
            else:
                # a --network that k3d had to create is still "external": it survives cluster deletion
                owner = "" if spec.network else cluster["key"]
                net = netalloc.add_network(state, net_name, subnet, owner=owner, external=bool(spec.network))
                net["labels"] = {"app": "k3d"}  # k3d.DefaultRuntimeLabels
                net["options"] = {"com.docker.network.bridge.enable_ip_masquerade": "true"}
                managed = bool(spec.subnet)
                net["managed"] = managed
                messages.append(f"Created network '{net_name}'")
        conflict = None
        if net is not None:
            _fill_cluster(state, cluster, spec, net, external=bool(spec.network) or reused, managed=managed)
            # Decided now, reported when the serverlb "starts": of two creates racing for a port the first
            # one wins, as with Docker.
            conflict = netalloc.first_conflict(state, cluster, cluster["key"])
            state["clusters"][cluster["key"]] = cluster
    for msg in messages:
        log.info(msg)
    if net is None:
        raise _rollback(
            env,
            log,
            spec,
            f"{_PREP_FAILED}failed to create cluster network: failed to create network '{net_name}': "
            + (pool_error or "Error response from daemon: Pool overlaps with other one on this address space"),
        )
    if not spec.no_image_volume:
        log.info(f"Created image volume k3d-{spec.name}-images")
    log.info("Starting new tools node...")
    log.info(f"Starting node 'k3d-{spec.name}-tools'")
    for node in cluster["nodes"]:
        log.info(f"Creating {'LoadBalancer' if node['role'] == 'loadbalancer' else 'node'} '{node['name']}'")
    log.info("Using the k3d-tools node to gather environment information")
    log.info(f"HostIP: using network gateway {net['gateway']} address")
    return cluster, conflict


def _start(env: FakeEnv, log: Log, spec: _CreateSpec, cluster: dict, conflict: tuple[str, int] | None) -> None:
    """ClusterStart: servers one by one (each waited for), then agents, then helpers (serverlb).

    Injection applies while k3d waits for the first server: by then ``server-0`` *runs* and every other
    container exists in Docker state ``created``, which is what a create killed at that point leaves.
    """
    log.info(f"Starting cluster '{spec.name}'")
    log.info("Starting servers...")
    log.info(f"Starting node 'k3d-{spec.name}-server-0'")
    if conflict is not None and spec.no_lb:  # the API port is published by server-0 itself
        raise _rollback(
            env,
            log,
            spec,
            f"Failed Cluster Start: Failed to start server k3d-{spec.name}-server-0: "
            + _bind_error(f"k3d-{spec.name}-server-0", *conflict),
        )
    with env.store.transaction() as state:
        live = model.find(state, TOOL, spec.name)
        if live is None:
            raise log.fatal(f"Cluster creation FAILED: cluster '{spec.name}' was deleted while it was being created")
        model.set_node_running(live["nodes"][0], True)
    started = time.time()
    env.maybe_hang("cluster-create", [spec.name])
    delay = next((float(r.value) for r in env.delay_rules if r.matches(TOOL, "cluster-create", [spec.name])), 0.0)
    if spec.timeout and delay > spec.timeout:
        time.sleep(spec.timeout)
        raise _rollback(env, log, spec, _server_not_ready(spec.name, "context deadline exceeded"))
    time.sleep(max(0.0, delay - (time.time() - started)))
    if env.should_fail("cluster-create", [spec.name]):
        reason = f"node k3d-{spec.name}-server-0 is running=true in status=restarting"
        raise _rollback(env, log, spec, _server_not_ready(spec.name, reason))
    if model.find(env.store.read(), TOOL, spec.name) is None:
        raise log.fatal(f"Cluster creation FAILED: cluster '{spec.name}' was deleted while it was being created")
    for i in range(1, spec.servers):
        log.info(f"Starting node 'k3d-{spec.name}-server-{i}'")
    if spec.agents:
        log.info("Starting agents...")
        for i in range(spec.agents):
            log.info(f"Starting node 'k3d-{spec.name}-agent-{i}'")
    else:
        log.info("All agents already running.")
    if not spec.no_lb:
        log.info("Starting helpers...")
        log.info(f"Starting node 'k3d-{spec.name}-serverlb'")
    if conflict is not None:
        raise _rollback(
            env,
            log,
            spec,
            "Failed Cluster Start: Failed to add one or more helper nodes: "
            + _bind_error(f"k3d-{spec.name}-serverlb", *conflict),
        )
    log.info(
        "Injecting records for hostAliases (incl. host.k3d.internal) and for "
        f"{len(cluster['nodes']) + 1} network members into CoreDNS configmap..."
    )


def _finish(env: FakeEnv, log: Log, spec: _CreateSpec) -> None:
    """Step 2: mark the cluster running, then update the default kubeconfig."""
    switch = spec.switch_context
    if not spec.update_default and switch:
        log.info("--kubeconfig-update-default=false --> sets --kubeconfig-switch-context=false")
        switch = False
    kc_path, kc_error = _default_kubeconfig(env) if spec.update_default else ("", "")
    with env.store.transaction() as state:
        live = model.find(state, TOOL, spec.name)
        if live is None:
            raise log.fatal(f"Cluster creation FAILED: cluster '{spec.name}' was deleted while it was being created")
        model.set_running(live, True)
        if kc_path:
            model.remember_kubeconfig(live, kc_path)
        snapshot = dict(live)
    log.info(f"Cluster '{spec.name}' created successfully!")
    if kc_error:
        log.warn(kc_error)  # cmd/cluster/clusterCreate.go: Warningln(err), the create still succeeds
    if kc_path:
        try:
            kubeconfig.merge(env.state_dir, kc_path, snapshot, switch_context=switch)
        except (kubeconfig.KubeconfigError, OSError, ValueError) as exc:
            log.warn(str(exc))  # k3d only warns when the kubeconfig update fails
    log.info("You can now use it like this:")
    if spec.update_default and not switch:
        out(f"kubectl config use-context k3d-{spec.name}")
    elif not switch:
        out(f"export KUBECONFIG=$(k3d kubeconfig write {spec.name})")
    out("kubectl cluster-info")


def _filtered(node: dict, filters: list[str]) -> bool:
    """Whether a node filter list selects the node (pkg/util/filter.go): a group (server(s),
    agent(s), loadbalancer, all) and a subset (`*`, an index list, a range); no filter: one node."""
    if not filters:
        return True
    role, index = node["role"], int(node["name"].rsplit("-", 1)[-1]) if node["name"][-1].isdigit() else 0
    for item in filters:
        group, _, rest = item.partition(":")
        subset = rest.split(":")[0]
        if group == "all" or (group.rstrip("s") == role) or (group == "loadbalancer" and role == "loadbalancer"):
            if group in ("all", "loadbalancer") or subset in ("", "*"):
                return True
            if "-" in subset:
                low, _, high = subset.partition("-")
                if int(low or 0) <= index <= int(high or 10**6):
                    return True
            elif str(index) in subset.split(","):
                return True
    return False


def _fill_cluster(state: dict, cluster: dict, spec: _CreateSpec, net: dict, external: bool, managed: bool) -> None:
    host, host_ip, port = spec.api
    cluster.update(
        {
            "image": spec.image,
            "k8s_version": model.k8s_version_from_k3s_image(spec.image),
            "container_runtime": "containerd://1.7.23-k3s2",
            "network": net["name"],
            "service_cidr": "10.43.0.0/16",
            "pod_cidr": "10.42.0.0/16",
            "dns_ip": "10.43.0.10",
            "api": {
                "host": host,
                "host_ip": host_ip,
                "port": port or netalloc.random_port(state),
                "server_host": host,
                "container_port": 6443,
            },
            "token": spec.token or hashlib.sha256(cluster["uid"].encode()).hexdigest()[:20],
        }
    )
    cluster["os_image"] = f"K3s {cluster['k8s_version']}"
    cluster["nodes"] = _nodes_for(spec)
    cluster["setup_done"] = False  # set when the create finished (model.set_running)
    if managed:
        # pkg/client/cluster.go: ClusterPrepNetwork reserves the first free IP (for the tools node), then
        # nodeSetup gives every *server* (only servers) the next free IP as a static one (label
        # k3d.node.staticIP, Docker IPAMConfig.IPv4Address) -- they keep it across stop/start.
        tools = netalloc.member_key(cluster["key"], f"k3d-{spec.name}-tools")
        netalloc.allocate_ip(net, tools)
        for node in cluster["nodes"]:
            if node["role"] == "server":
                node["ip"] = netalloc.allocate_ip(net, netalloc.member_key(cluster["key"], node["name"]))
                node["static_ip"] = True
        del net["members"][tools]  # the tools node is deleted before the nodes start
    for node in cluster["nodes"]:
        if not node.get("ip"):
            node["ip"] = netalloc.allocate_ip(net, netalloc.member_key(cluster["key"], node["name"]))
        model.set_node_created(node)  # ClusterCreate only `docker create`s; ClusterStart starts them
        if spec.registry_content and node["role"] in ("server", "agent"):
            # pkg/client/cluster.go: a PreStart hook writes it into every server and agent node.
            node.setdefault("files", {})["/etc/rancher/k3s/registries.yaml"] = spec.registry_content
        node_env = [var for var, filters in spec.env if _filtered(node, filters)]
        if node_env:
            node["env"] = node_env
    for port_spec, filters in spec.ports:
        raw = f"{port_spec['host_port'] or ''}:{port_spec['container_port']}"
        port_spec["node"] = _port_target(spec, filters, Log(), raw)
        if not port_spec["host_port"]:
            port_spec["host_port"] = netalloc.random_port(state)
        cluster["ports"].append(port_spec)
    cluster["opts"] = {
        "network_external": external,
        "network_managed": managed,
        "image_volume": "" if spec.no_image_volume else f"k3d-{spec.name}-images",
        "disabled_components": _disabled_components(spec),
        "k3s_args": [a for a, _ in spec.k3s_args],
        "env": [e for e, _ in spec.env],
        "registries": spec.registries,
        "registry_config": spec.registry_config,
        "wait": True,
        "timeout": spec.timeout,
    }


# -- cluster list ------------------------------------------------------------------------


def _cluster_list(env: FakeEnv, log: Log, p: Parsed) -> int:
    fail = env.inject("cluster-list", p.args)
    if fail:
        raise log.fatal(
            "runtime failed to list nodes: docker failed to get containers with labels "
            "'map[app:k3d]': Error response from daemon: Cannot connect to the Docker daemon"
        )
    state = env.store.read()
    if p.args:
        clusters = []
        for name in p.args:
            cluster = model.find(state, TOOL, name)
            if cluster is None:
                raise _missing(log)
            clusters.append(cluster)
        clusters.sort(key=lambda c: c["name"])
    else:
        clusters = _k3d_clusters(state)
    fmt = str(p["output"]).lower()
    if fmt in ("json", "yaml"):
        entries = [cluster_json(state, c, bool(p["token"]), bool(p.args)) for c in clusters]
        if fmt == "json":
            out(go_json(entries))
        else:
            from . import yamlio

            out(yamlio.dump(entries) if entries else "[]\n")
        return 0
    rows = [] if p["no-headers"] else [["NAME", "SERVERS", "AGENTS", "LOADBALANCER"]]
    if p["token"] and rows:
        rows[0].append("TOKEN")
    for c in clusters:
        entry = cluster_json(state, c, False, False)
        row = [
            c["name"],
            f"{entry['serversRunning']}/{entry['serversCount']}",
            f"{entry['agentsRunning']}/{entry['agentsCount']}",
            "true" if entry.get("hasLoadbalancer") else "false",
        ]
        if p["token"]:
            row.append(c["token"])
        rows.append(row)
    if rows:
        out(table(rows, padding=3, minwidth=6))
    return 0


# -- delete / start / stop ----------------------------------------------------------------


def _names(p: Parsed, state: dict, log: Log, config_name: str = "") -> list[str]:
    if p["all"]:
        return [c["name"] for c in _k3d_clusters(state)]
    if p.args:
        return list(p.args)
    return [config_name or DEFAULT_CLUSTER]


def _cluster_delete(env: FakeEnv, log: Log, p: Parsed) -> int:
    config_name = ""
    if p["config"]:
        config_name = (_load_config_file(str(p["config"]), log).get("metadata") or {}).get("name") or ""
    state = env.store.read()
    if p["all"]:
        log.info("Deleting all clusters...")
    names = []
    for name in _names(p, state, log, config_name):
        if model.find(state, TOOL, name) is None:
            log.info(f"No nodes found for cluster '{name}', nothing to delete.")
        else:
            names.append(name)
    if not names:
        log.info("No clusters found")
        return 0
    for name in names:
        if env.inject("cluster-delete", [name]):
            node = f"k3d-{name}-server-0"
            log.erro(
                f"Failed to delete node '{node}': docker failed to remove the container '{node}': "
                f"Error response from daemon: removal of container {node} is already in progress"
            )
            raise log.fatal("Failed to delete 1 nodes: Try to delete them manually")
        log.info(f"Deleting cluster '{name}'")
        with env.store.transaction() as state:
            cluster = model.find(state, TOOL, name)
            if cluster is None:
                continue
            for node in cluster["nodes"]:
                log.info(f"Deleted {node['name']}")
            net_result = _drop_cluster(state, cluster)
        if net_result != "external":
            log.info(f"Deleting cluster network '{cluster['network']}'")
        if net_result == "in-use":
            log.warn(
                f"Failed to delete cluster network '{cluster['network']}' because it's still in use: "
                "is there another cluster using it?"
            )
        log.info(f"Deleting {1 if cluster['opts'].get('image_volume') else 0} attached volumes...")
        log.info("Removing cluster details from default kubeconfig...")
        problem = _remove_from_default_kubeconfig(env, cluster)
        if problem:
            log.warn("Failed to remove cluster details from default kubeconfig")
            log.warn(problem)
        log.info("Removing standalone kubeconfig file (if there is one)...")
        standalone = os.path.join(env.home(), ".config", "k3d", f"kubeconfig-{name}.yaml")
        if os.path.isfile(standalone):
            os.unlink(standalone)
        log.info(f"Successfully deleted cluster {name}!")
    return 0


def _remove_from_default_kubeconfig(env: FakeEnv, cluster: dict) -> str:
    """pkg/client/kubeconfig.go KubeconfigRemoveClusterFromDefaultConfig; returns the error text or "".

    Loads the default kubeconfig (a missing file is an error: nothing is written), drops context and
    cluster ``k3d-NAME`` and user ``admin@k3d-NAME``, moves current-context to *another* context (Go map
    order; the fake takes the first remaining one) or "" and always writes the whole file back.
    """
    path, problem = _default_kubeconfig(env)
    if problem:
        return problem
    if not os.path.isfile(path):
        return f"failed to get default kubeconfig file: open {path}: no such file or directory"
    cname, ctx, user = kubeconfig.names_for(cluster)
    try:
        with kubeconfig._serialised(env.state_dir):  # the fakes' shared kubeconfig lock
            doc = kubeconfig.load(path)
            doc["clusters"] = [e for e in doc["clusters"] if e.get("name") != cname]
            doc["contexts"] = [e for e in doc["contexts"] if e.get("name") != ctx]
            doc["users"] = [e for e in doc["users"] if e.get("name") != user]
            if doc.get("current-context") == ctx:
                doc["current-context"] = next((str(e.get("name")) for e in doc["contexts"]), "")
            kubeconfig.write_atomic(path, kubeconfig.render(doc))
    except (kubeconfig.KubeconfigError, OSError, ValueError) as exc:
        return f"failed to get default kubeconfig file: {exc}"
    return ""


def _existing_names(env: FakeEnv, log: Log, p: Parsed) -> list[str]:
    """The clusters a start/stop names, each of which must exist (k3d fails on the first missing)."""
    state = env.store.read()
    names = _names(p, state, log)
    for name in names:
        if model.find(state, TOOL, name) is None:
            raise _missing(log)
    if not names:
        log.info("No clusters found")
    return names


def _cluster_start(env: FakeEnv, log: Log, p: Parsed) -> int:
    names = _existing_names(env, log, p)
    if not names:
        return 0
    for name in names:
        fail = env.inject("cluster-start", [name])
        log.info("Using the k3d-tools node to gather environment information")
        log.info(f"Starting cluster '{name}'")
        with env.store.transaction() as state:
            cluster = model.find(state, TOOL, name)
            if cluster is None:
                raise _missing(log)
            # ClusterStart starts only the containers that do not run (servers, agents, helpers in that order),
            # so it also completes a create that was killed half-way.
            todo = [dict(n) for n in cluster["nodes"] if not n.get("running")]
            already = not todo
            conflict = None if already else netalloc.first_conflict(state, cluster, cluster["key"])
            if not fail and conflict is None and not already:
                model.set_running(cluster, True)
        if already:
            log.info("All servers already running.")
            log.info("All agents already running.")
            log.info("All helpers already running.")
        elif conflict is not None:
            raise log.fatal("Failed to add one or more helper nodes: " + _bind_error(f"k3d-{name}-serverlb", *conflict))
        elif fail:
            raise log.fatal(
                f"Failed to start server k3d-{name}-server-0: Node k3d-{name}-server-0 failed to get "
                f"ready: error waiting for log line `k3s is up and running` from node "
                f"'k3d-{name}-server-0': stopped returning log lines: context deadline exceeded"
            )
        else:
            for role, title in (("server", "servers"), ("agent", "agents"), ("loadbalancer", "helpers")):
                group = [n for n in todo if n["role"] == role]
                if not group:
                    log.info(f"All {title} already running.")
                    continue
                log.info(f"Starting {title}...")
                for node in group:
                    log.info(f"Starting node '{node['name']}'")
        log.info(f"Started cluster '{name}'")
    return 0


def _cluster_stop(env: FakeEnv, log: Log, p: Parsed) -> int:
    names = _existing_names(env, log, p)
    if not names:
        return 0
    for name in names:
        if env.inject("cluster-stop", [name]):
            raise log.fatal("Failed to stop 1 nodes: Try to stop them manually")
        log.info(f"Stopping cluster '{name}'")
        with env.store.transaction() as state:
            cluster = model.find(state, TOOL, name)
            if cluster is None:
                raise _missing(log)
            model.set_running(cluster, False)
        log.info(f"Stopped cluster '{name}'")
    return 0


# -- kubeconfig ------------------------------------------------------------------------------


def _selected(env: FakeEnv, log: Log, p: Parsed, default_when_empty: bool) -> list[dict]:
    state = env.store.read()
    if p["all"]:
        return _k3d_clusters(state)
    names = list(p.args) or ([DEFAULT_CLUSTER] if default_when_empty else [])
    clusters = []
    for name in names:
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            raise _missing(log)
        clusters.append(cluster)
    return clusters


def _kubeconfig_get(env: FakeEnv, log: Log, p: Parsed) -> int:
    if (not p.args and not p["all"]) or (p.args and p["all"]):
        raise UsageError("Need to specify one or more cluster names *or* set `--all` flag")
    clusters = _selected(env, log, p, default_when_empty=False)
    failed = False
    for cluster in clusters:
        out("---")
        if env.inject("kubeconfig-get", [cluster["name"]]):
            log.erro(
                f"failed to get kubeconfig from node 'k3d-{cluster['name']}-server-0': "
                "Error response from daemon: Could not find the file /output/kubeconfig.yaml"
            )
            failed = True
            continue
        sys.stdout.write(kubeconfig.render(kubeconfig.standalone(cluster)))
    return 1 if failed else 0


def _kubeconfig_merge(env: FakeEnv, log: Log, p: Parsed) -> int:
    output = str(p["output"])
    if p["kubeconfig-merge-default"] and output:
        raise log.fatal("Cannot use both '--output' and '--kubeconfig-merge-default' at the same time")
    clusters = _selected(env, log, p, default_when_empty=True)
    outputs, failed = [], False
    for cluster in clusters:
        if env.inject("kubeconfig-write", [cluster["name"]]):
            log.erro(
                f"failed to get kubeconfig from node 'k3d-{cluster['name']}-server-0': "
                "Error response from daemon: Could not find the file /output/kubeconfig.yaml"
            )
            failed = True
            continue
        target = output
        if not target and not p["kubeconfig-merge-default"]:
            target = os.path.join(env.home(), ".config", "k3d", f"kubeconfig-{cluster['name']}.yaml")
        elif not target:
            target, problem = _default_kubeconfig(env)
            if problem:
                log.erro(problem)
                failed = True
                continue
        if target == "-":
            sys.stdout.write(kubeconfig.render(kubeconfig.standalone(cluster)))
            continue
        try:
            if p["overwrite"]:
                kubeconfig.write_standalone(env.state_dir, target, cluster)
            else:
                kubeconfig.merge(env.state_dir, target, cluster, switch_context=bool(p["kubeconfig-switch-context"]))
        except (kubeconfig.KubeconfigError, OSError, ValueError) as exc:
            log.erro(str(exc))
            failed = True
            continue
        with env.store.transaction() as state:
            live = model.find(state, TOOL, cluster["name"])
            if live is not None:
                model.remember_kubeconfig(live, target)
        outputs.append(target)
    if output != "-":
        out(":".join(outputs))
    return 1 if failed else 0


# -- image import -------------------------------------------------------------------------------


def _image_import(env: FakeEnv, log: Log, p: Parsed) -> int:
    if not p.args:
        raise UsageError("requires at least 1 arg(s), only received 0")
    mode = str(p["mode"])
    state = env.store.read()
    clusters = []
    for name in p.strings("cluster"):
        cluster = model.find(state, TOOL, name)
        if cluster is None:
            raise log.fatal(f"failed to get cluster {name}: No nodes found for given cluster")
        clusters.append(cluster)
    if mode not in IMPORT_MODES:
        raise log.fatal(f"Unknown image loading mode '{mode}'\n")
    images: list[str] = []
    broken: list[tuple[str, str]] = []  # (archive, ctr's complaint)
    for arg in p.args:
        if os.path.isfile(arg):
            problem = archive_error(arg)
            if problem is None:
                images.extend(images_in_archive(arg))
            else:
                broken.append((arg, problem))
        elif arg.startswith(("/", ".")):
            # pkg/client/tools.go findImages: not a file, and no image by that name in Docker.
            log.warn(f"Image '{arg}' is not a file and couldn't be found in the container runtime")
        else:
            images.append(arg)
    failed = False
    if not images and not broken:
        for cluster in clusters:
            log.erro(f"Failed to import image(s) into cluster '{cluster['name']}': no valid images specified")
        log.warn("At least one error occured while trying to import the image(s) into the selected cluster(s)")
        return 1
    for cluster in clusters:
        name = cluster["name"]
        log.info(f"Importing image(s) into cluster '{name}'")
        if env.inject("image-import", [name]) or cluster["status"] != "running":
            reason = (
                (
                    "failed to import images in node 'k3d-{n}-server-0': Error response from daemon: "
                    "container {c} is not running"
                )
                if cluster["status"] != "running"
                else "failed to import images in node 'k3d-{n}-server-0': Exec process in node 'k3d-{n}-server-0' "
                "failed with exit code '1': ctr: failed to import images: unexpected EOF"
            )
            log.erro(
                f"Failed to import image(s) into cluster '{name}': "
                + reason.format(n=name, c=netalloc.container_id(f"k3d-{name}-server-0"))
            )
            failed = True
            continue
        if broken and mode == "direct":
            # importWithStream returns the first node's ctr failure: the command fails.
            node = model.kube_nodes(cluster)[0]["name"]
            log.erro(
                f"Failed to import image(s) into cluster '{name}': could not load image to cluster from stream "
                f"{broken[0][0]}: error loading image to cluster, first error: failed to import images in node "
                f"'{node}': Exec process in node '{node}' failed with exit code '1'"
            )
            failed = True
            continue
        if mode != "direct":
            log.info("Starting new tools node...")
            log.info(f"Starting node 'k3d-{name}-tools'")
        for _archive, _problem in broken:
            # importWithToolsNode only logs a node's ctr failure, and goes on (exit 0).
            for node in model.kube_nodes(cluster):
                log.erro(
                    f"failed to import images in node '{node['name']}': Exec process in node "
                    f"'{node['name']}' failed with exit code '1'"
                )
        log.info(f"Saving {len(images)} image(s) from runtime...")
        log.info("Importing images into nodes...")
        with env.store.transaction() as state:
            live = model.find(state, TOOL, name)
            if live is not None:
                for node in model.kube_nodes(live):
                    for image in images:
                        ref = model.normalize_image(image)
                        if ref not in node["images"]:
                            node["images"].append(ref)
        if not p["keep-tarball"]:
            log.info("Removing the tarball(s) from image volume...")
        if mode != "direct" and not p["keep-tools"]:
            log.info("Removing k3d-tools node...")
        log.info("Successfully imported image(s)")
    if failed:
        log.warn("At least one error occured while trying to import the image(s) into the selected cluster(s)")
        return 1
    log.info(f"Successfully imported {len(images)} image(s) into {len(clusters)} cluster(s)")
    return 0


_HANDLERS = {
    "k3d version": _version,
    "k3d version list": _version_list,
    "k3d cluster create": _cluster_create,
    "k3d cluster delete": _cluster_delete,
    "k3d cluster list": _cluster_list,
    "k3d cluster start": _cluster_start,
    "k3d cluster stop": _cluster_stop,
    "k3d kubeconfig get": _kubeconfig_get,
    "k3d kubeconfig merge": _kubeconfig_merge,
    "k3d image import": _image_import,
}
