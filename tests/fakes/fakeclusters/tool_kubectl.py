"""Fake ``kubectl`` (client v1.31) talking to the fake clusters.

The context is resolved through real kubeconfig files (--kubeconfig, else
$KUBECONFIG merged, else ~/.kube/config); the server URL's port selects the
fake cluster whose API port it is.  A missing or stopped cluster gives
kubectl's real "connection refused" text.  Error texts were captured from a
real kubectl v1.32 client (the error paths are identical in 1.31).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from urllib.parse import urlsplit

from . import jsonpath, kubeconfig, kubeobjects, model
from .cli import BOOL, INT, SLICE, Command, Flag, Parsed, UsageError, parse
from .common import err, go_json, out, table
from .env import FakeEnv, FakeExit
from .kubectl_print import PrintError, render

TOOL = "kubectl"
_RESOURCES = {
    "nodes": "Node",
    "node": "Node",
    "no": "Node",
    "pods": "Pod",
    "pod": "Pod",
    "po": "Pod",
    "namespaces": "Namespace",
    "namespace": "Namespace",
    "ns": "Namespace",
}
_PLURAL = {"Node": "nodes", "Pod": "pods", "Namespace": "namespaces"}
_LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "localhost", "::1", "[::1]")
_UNIMPLEMENTED = (
    "apply",
    "create",
    "delete",
    "describe",
    "logs",
    "exec",
    "port-forward",
    "edit",
    "patch",
    "label",
    "annotate",
    "scale",
    "rollout",
    "top",
    "cp",
    "auth",
    "api-resources",
    "api-versions",
    "explain",
    "expose",
    "set",
    "drain",
    "cordon",
    "uncordon",
    "taint",
    "events",
    "diff",
    "debug",
    "replace",
    "proxy",
    "attach",
    "certificate",
    "kustomize",
    "plugin",
    "completion",
    "alpha",
)


def _tree() -> Command:
    output = Flag("output", short="o")
    return Command(
        "kubectl",
        short="kubectl controls the Kubernetes cluster manager",
        persistent=[
            Flag("kubeconfig"),
            Flag("context"),
            Flag("namespace", short="n"),
            Flag("request-timeout", default="0"),
            Flag("cluster"),
            Flag("user"),
            Flag("server", short="s"),
            Flag("insecure-skip-tls-verify", BOOL),
            Flag("token"),
            Flag("as"),
            Flag("as-group", SLICE),
            Flag("as-uid"),
            Flag("cache-dir"),
            Flag("certificate-authority"),
            Flag("client-certificate"),
            Flag("client-key"),
            Flag("match-server-version", BOOL),
            Flag("tls-server-name"),
            Flag("v", INT, short="v"),
            Flag("vmodule"),
            Flag("log-flush-frequency", default="5s"),
            Flag("profile", default="none"),
            Flag("profile-output"),
            Flag("password"),
            Flag("username"),
            Flag("warnings-as-errors", BOOL),
            Flag("disable-compression", BOOL),
        ],
        subcommands=[
            Command("version", flags=[Flag("client", BOOL), output]),
            Command(
                "config",
                subcommands=[
                    Command("get-contexts", flags=[output, Flag("no-headers", BOOL)]),
                    Command("current-context"),
                    Command("use-context", aliases=("use",)),
                    Command(
                        "view",
                        flags=[
                            Flag("minify", BOOL),
                            Flag("raw", BOOL),
                            Flag("flatten", BOOL),
                            output,
                            Flag("merge", BOOL, default=True),
                        ],
                    ),
                ],
            ),
            Command(
                "get",
                flags=[
                    output,
                    Flag("all-namespaces", BOOL, short="A"),
                    Flag("selector", short="l"),
                    Flag("no-headers", BOOL),
                    Flag("show-labels", BOOL),
                    Flag("raw"),
                    Flag("ignore-not-found", BOOL),
                    Flag("field-selector"),
                    Flag("watch", BOOL, short="w"),
                    Flag("chunk-size", INT, default=500),
                    Flag("show-kind", BOOL),
                ],
            ),
            Command("cluster-info", subcommands=[Command("dump")]),
            Command(
                "wait",
                flags=[
                    Flag("for"),
                    Flag("all", BOOL),
                    Flag("all-namespaces", BOOL, short="A"),
                    Flag("selector", short="l"),
                    Flag("timeout", default="30s"),
                    Flag("field-selector"),
                    output,
                ],
            ),
            Command(
                "run",
                flags=[
                    Flag("image"),
                    Flag("restart", default="Always"),
                    Flag("rm", BOOL),
                    Flag("stdin", BOOL, short="i"),
                    Flag("tty", BOOL, short="t"),
                    Flag("command", BOOL),
                    Flag("attach", BOOL),
                    Flag("env", SLICE),
                    Flag("labels", short="l"),
                    Flag("overrides"),
                    Flag("image-pull-policy"),
                    Flag("quiet", BOOL, short="q"),
                    Flag("pod-running-timeout", default="1m0s"),
                    Flag("port"),
                    Flag("dry-run", default="none"),
                    output,
                ],
            ),
        ]
        + [Command(name) for name in _UNIMPLEMENTED],
    )


def run(env: FakeEnv, argv: list[str]) -> int:
    root = _tree()
    try:
        p = parse(root, argv)
    except UsageError as exc:
        cmd = exc.command or root
        if _flag_before_command(argv, exc.message, cmd):
            # kubectl's plugin lookup (cobra Find + stripFlags) fails first
            err(f"Error: flags cannot be placed before plugin name: {argv[0].split('=')[0]}")
            return 1
        where = "kubectl" if cmd is root else f"kubectl {cmd.path().partition(' ')[2]}"
        err(f"Error: {exc.message}\nSee '{where} --help' for usage.")
        return 1
    path = p.command.path()
    if p["help"]:
        out(p.command.help_text().rstrip("\n"))
        return 0
    if path == "kubectl":
        if p.args:
            leading = next((a for a in argv if a.startswith("-")), None)
            if leading is not None and argv.index(leading) < argv.index(p.args[0]):
                err(f"Error: flags cannot be placed before plugin name: {leading.split('=')[0]}")
            else:
                err(f'Error: unknown command "{p.args[0]}" for "kubectl"')
            return 1
        out(p.command.help_text().rstrip("\n"))
        return 0
    handler = _HANDLERS.get(path)
    if handler is None:
        if p.command.subcommands:
            out(p.command.help_text().rstrip("\n"))
            return 0
        err(f"fake kubectl: 'kubectl {path.partition(' ')[2]}' is not implemented by the test fake")
        return 2
    try:
        return handler(env, p)
    except PrintError as exc:
        err(f"error: {exc}")
        return 1


def _flag_before_command(argv: list[str], message: str, cmd: Command) -> bool:
    if not message.startswith("unknown") or cmd.parent is None or not argv or not argv[0].startswith("-"):
        return False
    bad = message.rsplit(" ", 1)[-1]
    command_word = cmd.path().split()[1]
    bad_index = next((i for i, a in enumerate(argv) if a.split("=")[0] == bad or a == bad), len(argv))
    return command_word in argv and bad_index < argv.index(command_word)


# -- connection resolution ----------------------------------------------------------------


class Conn:
    """The resolved target of a kubectl call."""

    def __init__(self, server: str, context: str, namespace: str, cluster: dict | None, merged: dict) -> None:
        self.server = server
        self.context = context
        self.namespace = namespace
        self.cluster = cluster
        self.merged = merged

    @property
    def hostport(self) -> str:
        parts = urlsplit(self.server)
        return parts.netloc or self.server

    def names(self) -> list[str]:
        return [self.cluster["name"], self.context] if self.cluster else [self.context]


def _kubeconfig_paths(env: FakeEnv, p: Parsed) -> list[str]:
    explicit = str(p["kubeconfig"])
    if explicit:
        if not os.path.exists(explicit):
            err(f"error: stat {explicit}: no such file or directory")
            raise FakeExit(1)
        return [explicit]
    return env.kubeconfig_env_paths() or [env.default_kubeconfig()]


def _load(env: FakeEnv, p: Parsed) -> dict:
    try:
        return kubeconfig.load_merged(_kubeconfig_paths(env, p))
    except (ValueError, kubeconfig.KubeconfigError) as exc:
        err(f"error: error loading config file: {exc}")
        raise FakeExit(1) from None


def _connect(env: FakeEnv, p: Parsed, need_server: bool = True) -> Conn:
    merged = _load(env, p)
    ctx_name = str(p["context"]) or merged["current-context"]
    namespace = str(p["namespace"])
    server = "http://localhost:8080"  # client-go default when nothing is configured
    if ctx_name:
        ctx = merged["contexts"].get(ctx_name)
        if ctx is None:
            err(f"Error in configuration: context was not found for specified context: {ctx_name}")
            raise FakeExit(1)
        ctx_body = ctx.get("context") or {}
        namespace = namespace or str(ctx_body.get("namespace") or "")
        cluster_name = str(p["cluster"]) or str(ctx_body.get("cluster") or "")
        entry = merged["clusters"].get(cluster_name)
        if entry is None or not (entry.get("cluster") or {}).get("server"):
            err("Error in configuration: \n* cluster has no server defined")
            raise FakeExit(1)
        server = str(entry["cluster"]["server"])
    if p["server"]:
        server = str(p["server"])
    conn = Conn(server, ctx_name, namespace or "default", None, merged)
    parts = urlsplit(server if "//" in server else "https://" + server)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    state = env.store.read()
    cluster = model.by_api_port(state, port) if host in _LOCAL_HOSTS or _is_fake_host(state, host, port) else None
    if cluster is not None and cluster.get("status") == "running":
        conn.cluster = cluster
    elif need_server and host not in _LOCAL_HOSTS and not _is_fake_host(state, host, port):
        err(f"Unable to connect to the server: dial tcp: lookup {host} on 127.0.0.53:53: no such host")
        raise FakeExit(1)
    return conn


def _is_fake_host(state: dict, host: str, port: int) -> bool:
    cluster = model.by_api_port(state, port)
    return bool(cluster and cluster["api"].get("server_host") == host)


def _refused(conn: Conn, discovery: bool) -> FakeExit:
    if discovery:
        scheme_url = conn.server.rstrip("/")
        for _ in range(5):  # client-go's discovery retries print these (klog format) before giving up
            now = time.time()
            stamp = time.strftime("%m%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
            err(
                f'E{stamp} {os.getpid():7d} memcache.go:265] "Unhandled Error" err="couldn\'t get '
                f'current server API group list: Get \\"{scheme_url}/api?timeout=32s\\": dial tcp '
                f'{_dial_target(conn)}: connect: connection refused"'
            )
    err(f"The connection to the server {conn.hostport} was refused - did you specify the right host or port?")
    return FakeExit(1)


def _dial_target(conn: Conn) -> str:
    parts = urlsplit(conn.server)
    host = parts.hostname or "localhost"
    host = "127.0.0.1" if host == "localhost" else host
    return f"{host}:{parts.port or 443}"


def _require_cluster(env: FakeEnv, p: Parsed, op: str, discovery: bool = True) -> tuple[Conn, dict]:
    conn = _connect(env, p)
    if conn.cluster is None:
        raise _refused(conn, discovery)
    if env.inject(op, conn.names()):
        err("Error from server (ServiceUnavailable): the server is currently unable to handle the request")
        raise FakeExit(1)
    return conn, conn.cluster


# -- version -----------------------------------------------------------------------------------


def _client_version() -> dict:
    return {
        "major": "1",
        "minor": model.KUBECTL_VERSION.split(".")[1],
        "gitVersion": model.KUBECTL_VERSION,
        "gitCommit": "6b5d3fa5a3ac4cd3b9ee9b7e5e0c9f9b1d9e8e5e",
        "gitTreeState": "clean",
        "buildDate": "2025-02-12T21:26:09Z",
        "goVersion": "go1.22.12",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _server_version(cluster: dict) -> dict:
    version = cluster["k8s_version"]
    minor = version.lstrip("v").split(".")[1]
    return {
        "major": "1",
        "minor": minor,
        "gitVersion": version,
        "gitCommit": hashlib.sha1(version.encode()).hexdigest(),
        "gitTreeState": "clean",
        "buildDate": "2025-01-15T10:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _version(env: FakeEnv, p: Parsed) -> int:
    fmt = str(p["output"])
    if fmt not in ("", "json", "yaml"):
        err("error: --output must be 'yaml' or 'json'")
        return 1
    data: dict = {"clientVersion": _client_version(), "kustomizeVersion": "v5.4.2"}
    failure: FakeExit | None = None
    if not p["client"]:
        conn = _connect(env, p)
        if conn.cluster is None:
            failure = _refused_quiet(conn)
        elif env.inject("version", conn.names()):
            failure = FakeExit(1)
            err("Error from server (ServiceUnavailable): the server is currently unable to handle the request")
        else:
            data["serverVersion"] = _server_version(conn.cluster)
    if fmt == "json":
        out(go_json(data, indent=2))
    elif fmt == "yaml":
        from . import yamlmini

        sys.stdout.write(yamlmini.dumps(data))
    else:
        out(f"Client Version: {model.KUBECTL_VERSION}")
        out("Kustomize Version: v5.4.2")
        if "serverVersion" in data:
            out(f"Server Version: {data['serverVersion']['gitVersion']}")
    if "serverVersion" in data:
        client_minor = int(_client_version()["minor"])
        server_minor = int(data["serverVersion"]["minor"])
        if abs(client_minor - server_minor) > 1:
            err(
                f"WARNING: version difference between client (1.{client_minor}) and server "
                f"(1.{server_minor}) exceeds the supported minor version skew of +/-1"
            )
    if failure is not None:
        raise failure
    return 0


def _refused_quiet(conn: Conn) -> FakeExit:
    err(f"The connection to the server {conn.hostport} was refused - did you specify the right host or port?")
    return FakeExit(1)


# -- config ----------------------------------------------------------------------------------------


def _config_get_contexts(env: FakeEnv, p: Parsed) -> int:
    merged = _load(env, p)
    names = sorted(merged["contexts"])
    fmt = str(p["output"])
    if fmt == "name":
        for name in names:
            out(name)
        return 0
    if fmt:
        err("error: output must be one of '' or 'name'")
        return 1
    current = str(p["context"]) or merged["current-context"]
    rows = [] if p["no-headers"] else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
    for name in names:
        ctx = merged["contexts"][name].get("context") or {}
        rows.append(
            [
                "*" if name == current else "",
                name,
                str(ctx.get("cluster", "")),
                str(ctx.get("user", "")),
                str(ctx.get("namespace", "")),
            ]
        )
    if rows:
        out(table(rows, padding=3, minwidth=6))
    return 0


def _config_current_context(env: FakeEnv, p: Parsed) -> int:
    merged = _load(env, p)
    if not merged["current-context"]:
        err("error: current-context is not set")
        return 1
    out(merged["current-context"])
    return 0


def _config_use_context(env: FakeEnv, p: Parsed) -> int:
    if len(p.args) != 1:
        err("error: Unexpected args: " + str(p.args) if p.args else "error: Missing context name")
        return 1
    name = p.args[0]
    merged = _load(env, p)
    if name not in merged["contexts"]:
        err(f'error: no context exists with the name: "{name}"')
        return 1
    paths = _kubeconfig_paths(env, p)
    target = next((path for path in paths if os.path.isfile(path)), paths[0])
    doc = kubeconfig.load(target)
    doc["current-context"] = name
    kubeconfig.write_atomic(target, kubeconfig.render(doc))
    out(f'Switched to context "{name}".')
    return 0


_FIELD_ORDER = {
    "cluster": (
        "server",
        "tls-server-name",
        "insecure-skip-tls-verify",
        "certificate-authority",
        "certificate-authority-data",
        "proxy-url",
        "disable-compression",
        "extensions",
    ),
    "user": (
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
        "as",
        "username",
        "password",
        "exec",
        "auth-provider",
        "extensions",
    ),
    "context": ("cluster", "user", "namespace", "extensions"),
}


def _ordered(entry: dict, section: str, redact: bool) -> dict:
    """A named kubeconfig entry in client-go's struct field order (as kubectl prints it)."""
    body = dict(entry.get(section) or {})
    order = _FIELD_ORDER[section]
    ordered = {k: body[k] for k in order if k in body}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    if redact:
        for key in list(ordered):
            if key.endswith("-data"):
                ordered[key] = "DATA+OMITTED"
            elif key in ("token", "password"):
                ordered[key] = "REDACTED"
    return {"name": entry["name"], section: ordered}


def _config_view(env: FakeEnv, p: Parsed) -> int:
    merged = _load(env, p)
    current = str(p["context"]) or merged["current-context"]
    contexts = list(merged["contexts"].values())
    clusters = list(merged["clusters"].values())
    users = list(merged["users"].values())
    if p["minify"]:
        if not current or current not in merged["contexts"]:
            err("error: current-context must exist in order to minify")
            return 1
        ctx = merged["contexts"][current].get("context") or {}
        contexts = [merged["contexts"][current]]
        clusters = [c for c in clusters if c["name"] == ctx.get("cluster")]
        users = [u for u in users if u["name"] == ctx.get("user")]
    redact = not p["raw"]
    clusters = [_ordered(c, "cluster", redact) for c in clusters]
    users = [_ordered(u, "user", redact) for u in users]
    contexts = [_ordered(c, "context", False) for c in contexts]
    doc: dict = {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current if p["minify"] else merged["current-context"],
    }
    fmt = str(p["output"]) or "yaml"
    if fmt == "json":
        out(go_json(doc, indent=4))
    elif fmt == "yaml":
        from . import yamlmini

        sys.stdout.write(yamlmini.dumps(doc))
    elif fmt.startswith("jsonpath="):
        sys.stdout.write(jsonpath.evaluate(fmt[len("jsonpath=") :], doc))
    else:
        raise PrintError(f'unable to match a printer suitable for the output format "{fmt}"')
    return 0


# -- get ---------------------------------------------------------------------------------------------


def _selector_match(labels: dict, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, _, value = term.partition("!=")
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, _, value = term.partition("==" if "==" in term else "=")
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _objects(env: FakeEnv, conn: Conn, kind: str) -> list[dict]:
    unhealthy = env.unhealthy_for(conn.names())
    cluster = conn.cluster
    assert cluster is not None
    if kind == "Node":
        return kubeobjects.nodes(cluster, unhealthy)
    if kind == "Pod":
        return kubeobjects.pods(cluster, unhealthy)
    return kubeobjects.namespaces(cluster)


def _get(env: FakeEnv, p: Parsed) -> int:
    if p["raw"]:
        return _get_raw(env, p)
    if not p.args:
        err(
            'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of '
            'supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" '
            "for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for "
            "help and examples"
        )
        return 1
    kind_token, names = p.args[0], list(p.args[1:])
    if "/" in kind_token:
        kind_token, _, first = kind_token.partition("/")
        names.insert(0, first)
    kind = _RESOURCES.get(kind_token.split(".")[0])
    conn, _ = _require_cluster(env, p, f"get-{_PLURAL.get(kind or '', kind_token)}")
    if kind is None:
        err(f'error: the server doesn\'t have a resource type "{kind_token}"')
        return 1
    objs = _objects(env, conn, kind)
    namespaced = kind == "Pod"
    all_ns = bool(p["all-namespaces"])
    if namespaced and not all_ns:
        objs = [o for o in objs if o["metadata"]["namespace"] == conn.namespace]
    if p["selector"]:
        objs = [o for o in objs if _selector_match(o["metadata"].get("labels") or {}, str(p["selector"]))]
    if names:
        found = []
        for name in names:
            match = next((o for o in objs if o["metadata"]["name"] == name), None)
            if match is None:
                if p["ignore-not-found"]:
                    continue
                err(f'Error from server (NotFound): {_PLURAL[kind]} "{name}" not found')
                return 1
            found.append(match)
        objs = found
    fmt = str(p["output"])
    if not objs and fmt in ("", "wide") and not names:
        where = f" in {conn.namespace} namespace" if namespaced and not all_ns else ""
        err(f"No resources found{where}.")
        return 0
    text = render(
        fmt,
        kind,
        objs,
        single=len(names) == 1 and len(objs) == 1,
        no_headers=bool(p["no-headers"]),
        with_namespace=namespaced and all_ns,
        show_labels=bool(p["show-labels"]),
    )
    if fmt.startswith("jsonpath"):
        sys.stdout.write(text)
    elif text:
        out(text)
    return 0


def _get_raw(env: FakeEnv, p: Parsed) -> int:
    raw = str(p["raw"])
    _, cluster = _require_cluster(env, p, "get-raw", discovery=False)
    path, _, query = raw.partition("?")
    if path in ("/readyz", "/livez", "/healthz"):
        if "verbose" in query:
            checks = [
                "ping",
                "log",
                "etcd",
                "informer-sync",
                "poststarthook/start-apiserver-admission-initializer",
                "poststarthook/generic-apiserver-start-informers",
                "poststarthook/rbac/bootstrap-roles",
            ]
            for check in checks:
                out(f"[+]{check} ok")
            out(f"{path.lstrip('/')} check passed")
        else:
            sys.stdout.write("ok")
        return 0
    if path == "/version":
        out(go_json(_server_version(cluster), indent=2))
        return 0
    err("Error from server (NotFound): the server could not find the requested resource")
    return 1


# -- cluster-info / wait / run --------------------------------------------------------------------------


def _cluster_info(env: FakeEnv, p: Parsed) -> int:
    conn = _connect(env, p)
    if conn.cluster is None or env.inject("cluster-info", conn.names()):
        err("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")
        raise _refused_quiet(conn)
    base = conn.server.rstrip("/")
    out(f"Kubernetes control plane is running at {base}")
    disabled = conn.cluster.get("opts", {}).get("disabled_components", [])
    if "coredns" not in disabled:
        out(f"CoreDNS is running at {base}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy")
    if conn.cluster["tool"] == "k3d" and "metrics-server" not in disabled:
        out(
            f"Metrics-server is running at {base}/api/v1/namespaces/kube-system/services/"
            "https:metrics-server:https/proxy"
        )
    out("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")
    return 0


def _condition_met(obj: dict, condition: str, want: str) -> bool:
    for cond in obj.get("status", {}).get("conditions", []):
        if cond["type"].lower() == condition.lower():
            return cond["status"].lower() == want.lower()
    return False


def _wait(env: FakeEnv, p: Parsed) -> int:
    spec = str(p["for"])
    if not spec:
        err("error: --for must be set")
        return 1
    if not p.args:
        err("error: resource(s) were provided, but no name was specified")
        return 1
    conn, _ = _require_cluster(env, p, "wait")
    targets: list[tuple[str, str]] = []
    for arg in p.args:
        kind_token, _, name = arg.partition("/")
        kind = _RESOURCES.get(kind_token)
        if kind is None:
            err(f'error: the server doesn\'t have a resource type "{kind_token}"')
            return 1
        targets.append((kind, name))
    matched: list[tuple[str, dict]] = []
    for kind, name in targets:
        objs = _objects(env, conn, kind)
        if kind == "Pod" and not p["all-namespaces"]:
            objs = [o for o in objs if o["metadata"]["namespace"] == conn.namespace]
        if p["selector"]:
            objs = [o for o in objs if _selector_match(o["metadata"].get("labels") or {}, str(p["selector"]))]
        if name:
            objs = [o for o in objs if o["metadata"]["name"] == name]
            if not objs:
                err(f'Error from server (NotFound): {_PLURAL[kind]} "{name}" not found')
                return 1
        elif not p["all"] and not p["selector"]:
            err("error: resource(s) were provided, but no name was specified")
            return 1
        matched.extend((kind, o) for o in objs)
    if not matched:
        err("error: no matching resources found")
        return 1
    failed = False
    for kind, obj in matched:
        ref = f"{kind.lower()}/{obj['metadata']['name']}"
        if spec.startswith("condition="):
            cond, _, want = spec[len("condition=") :].partition("=")
            ok = _condition_met(obj, cond, want or "True")
        elif spec.startswith("jsonpath="):
            expr, _, want = spec[len("jsonpath=") :].rpartition("=")
            ok = jsonpath.evaluate(expr.strip("'\""), obj) == want
        elif spec == "delete":
            ok = False
        else:
            err(f'error: unrecognized condition: "{spec}"')
            return 1
        if ok:
            out(f"{ref} condition met")
        else:
            # the real kubectl blocks until --timeout; the fake answers at once
            err(f"error: timed out waiting for the condition on {_PLURAL[kind]}/{obj['metadata']['name']}")
            failed = True
    return 1 if failed else 0


def _run(env: FakeEnv, p: Parsed) -> int:
    if not p.args:
        err("error: NAME is required for run")
        return 1
    name = p.args[0]
    if not p["image"]:
        err('error: required flag(s) "image" not set')
        return 1
    if p["restart"] not in ("Always", "OnFailure", "Never"):
        err(f"error: invalid restart policy: {p['restart']}")
        return 1
    attach = bool(p["stdin"] or p["attach"] or p["tty"])
    if p["rm"] and not attach:
        err("error: --rm should only be used for attached containers")
        return 1
    conn, cluster = _require_cluster(env, p, "run")
    if not attach:
        out(f"pod/{name} created")
        return 0
    command = list(p.dash_args if p.dash_args is not None else p.args[1:])
    code, text = _simulate(env, conn, cluster, command)
    sys.stdout.write(text)
    if p["rm"]:
        out(f'pod "{name}" deleted')
    if code:
        err(f"pod {conn.namespace}/{name} terminated (Error)")
    return code


def _simulate(env: FakeEnv, conn: Conn, cluster: dict, command: list[str]) -> tuple[int, str]:
    """What a busybox container prints for the handful of commands tests use."""
    if not command:
        return 0, ""
    joined = " ".join(command)
    if "nslookup" in joined:
        dns_ok = kubeobjects.dns_healthy(env.unhealthy_for(conn.names()))
        if not dns_ok:
            return 1, ";; connection timed out; no servers could be reached\n\n"
        target = command[-1]
        dns = cluster.get("dns_ip", "10.96.0.10")
        svc_base = cluster.get("service_cidr", "10.96.0.0/12").split("/")[0].rsplit(".", 1)[0]
        if target.startswith("kubernetes.default"):
            fqdn = "kubernetes.default.svc.cluster.local"
            return 0, (f"Server:\t\t{dns}\nAddress:\t{dns}:53\n\n\nName:\t{fqdn}\nAddress: {svc_base}.1\n\n")
        return 1, (f"Server:\t\t{dns}\nAddress:\t{dns}:53\n\n** server can't find {target}: NXDOMAIN\n\n")
    if command[0] == "echo":
        return 0, " ".join(command[1:]) + "\n"
    if command[0] in ("true", "sleep"):
        return 0, ""
    if command[0] == "false":
        return 1, ""
    return 0, ""


_HANDLERS = {
    "kubectl version": _version,
    "kubectl config get-contexts": _config_get_contexts,
    "kubectl config current-context": _config_current_context,
    "kubectl config use-context": _config_use_context,
    "kubectl config view": _config_view,
    "kubectl get": _get,
    "kubectl cluster-info": _cluster_info,
    "kubectl wait": _wait,
    "kubectl run": _run,
}
