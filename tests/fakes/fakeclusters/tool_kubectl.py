"""Fake ``kubectl`` (client v1.31) talking to the fake clusters.

The context is resolved through real kubeconfig files (--kubeconfig, else
$KUBECONFIG merged, else ~/.kube/config); the server URL's port selects the
fake cluster whose API port it is.  A missing or stopped cluster gives
kubectl's real "connection refused" text.  Error texts were captured from a
real kubectl v1.32 client (the error paths are identical in 1.31) or read in
kubectl v0.31.6's source (kubernetes/kubectl pkg/cmd/run/run.go,
pkg/cmd/delete/delete.go, pkg/cmd/util/helpers.go; client-go
tools/clientcmd/loader.go and config.go; cli-runtime pkg/resource/builder.go).

Pods made by ``kubectl run`` live in the cluster's state record (``"pods"``):
created before the (injected) image pull, so a kubectl killed mid-run leaves
its pod, and removed by ``--rm`` only after the attach ends, client side, as
run.go's deferred ``removeCreatedObjects`` does.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from urllib.parse import urlsplit

from . import kubeconfig, kubectl_apply, kubectl_exec, kubemutate, kubeobjects, model
from .cli import ARRAY, BOOL, DURATION, INT, SLICE, Command, Flag, Parsed, UsageError, parse
from .common import err, go_json, out, table
from .env import FakeEnv, FakeExit
from .kubectl_print import GENERIC_FORMATS, NotEmulated, PrintError, render, unsupported_format

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
    "configmaps": "ConfigMap",
    "configmap": "ConfigMap",
    "cm": "ConfigMap",
}
_PLURAL = {"Node": "nodes", "Pod": "pods", "Namespace": "namespaces", "ConfigMap": "configmaps"}
# the types `kenv doctor snapshot` lists (events, claims, workloads, services, ...): served from the
# seed, plus the few objects every fresh cluster has (kubeobjects.extra_objects)
_RESOURCES.update({plural: kind for plural, (kind, _) in kubeobjects.EXTRA_TYPES.items()})
_RESOURCES.update({alias: kubeobjects.EXTRA_TYPES[plural][0] for alias, plural in kubeobjects.EXTRA_ALIASES.items()})
_PLURAL.update({kind: plural for plural, (kind, _) in kubeobjects.EXTRA_TYPES.items()})
_NAMESPACED = {"Pod", "ConfigMap"} | {kind for kind, namespaced in kubeobjects.EXTRA_TYPES.values() if namespaced}
# kinds only `kubectl apply` makes (kubectl_apply.py); no generator or seed has them
_RESOURCES.update(
    {"secrets": "Secret", "secret": "Secret", "networkpolicies": "NetworkPolicy", "netpol": "NetworkPolicy"}
)
_PLURAL.update({"Secret": "secrets", "NetworkPolicy": "networkpolicies"})
_NAMESPACED |= {"Secret", "NetworkPolicy"}
# what Argo CD's install and its registered clusters add (`kubectl api-resources`, v1.31, and the
# CRDs' names in argo-cd manifests/install.yaml v3.5.1)
_APPLIED_ONLY = {
    "serviceaccounts": ("ServiceAccount", True, ("serviceaccount", "sa")),
    "roles": ("Role", True, ("role",)),
    "rolebindings": ("RoleBinding", True, ("rolebinding",)),
    "clusterroles": ("ClusterRole", False, ("clusterrole",)),
    "clusterrolebindings": ("ClusterRoleBinding", False, ("clusterrolebinding",)),
    "customresourcedefinitions": ("CustomResourceDefinition", False, ("customresourcedefinition", "crd", "crds")),
    "applications": ("Application", True, ("application", "app", "apps")),
    "applicationsets": ("ApplicationSet", True, ("applicationset", "appset", "appsets")),
    "appprojects": ("AppProject", True, ("appproject", "appproj", "appprojs")),
    # ingress-nginx's (kubectl api-resources, v1.31: no short names)
    "ingressclasses": ("IngressClass", False, ("ingressclass",)),
    "validatingwebhookconfigurations": ("ValidatingWebhookConfiguration", False, ("validatingwebhookconfiguration",)),
}
for _plural, (_kind, _namespaced, _aliases) in _APPLIED_ONLY.items():
    _RESOURCES.update(dict.fromkeys((_plural, *_aliases), _kind))
    _PLURAL[_kind] = _plural
    if _namespaced:
        _NAMESPACED.add(_kind)
# kinds `kubectl delete` removes from what `kubectl apply` made
_DELETABLE = {"Secret", "ConfigMap", "Service", "Deployment", "NetworkPolicy", "StatefulSet"} | {
    kind for kind, _, _ in _APPLIED_ONLY.values()
}
_LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "localhost", "::1", "[::1]")
_UNIMPLEMENTED = (
    "create",
    "describe",
    "port-forward",
    "edit",
    "label",
    "annotate",
    "scale",
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
                "logs",
                # pkg/cmd/logs/logs.go AddFlags (kubectl v0.31.6) + the pod-running-timeout flag
                flags=[
                    Flag("all-pods", BOOL),
                    Flag("all-containers", BOOL),
                    Flag("follow", BOOL, short="f"),
                    Flag("timestamps", BOOL),
                    Flag("limit-bytes", INT),
                    Flag("previous", BOOL, short="p"),
                    Flag("tail", INT, default=-1),
                    Flag("ignore-errors", BOOL),
                    Flag("since-time"),
                    Flag("since", DURATION),
                    Flag("container", short="c"),
                    Flag("insecure-skip-tls-verify-backend", BOOL),
                    Flag("selector", short="l"),
                    Flag("max-log-requests", INT, default=5),
                    Flag("prefix", BOOL),
                    Flag("pod-running-timeout", DURATION, default=20.0),
                ],
            ),
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
                # pkg/cmd/run/run.go addRunFlags + DeleteFlags (NewDeleteFlags) + PrintFlags + RecordFlags
                flags=[
                    Flag("image"),
                    Flag("restart", default="Always"),
                    Flag("rm", BOOL),
                    Flag("stdin", BOOL, short="i"),
                    Flag("tty", BOOL, short="t"),
                    Flag("command", BOOL),
                    Flag("attach", BOOL),
                    Flag("leave-stdin-open", BOOL),
                    Flag("env", ARRAY),
                    Flag("annotations", ARRAY),
                    Flag("labels", short="l"),
                    Flag("overrides"),
                    Flag("override-type", default="merge"),
                    Flag("image-pull-policy"),
                    Flag("quiet", BOOL, short="q"),
                    Flag("pod-running-timeout", DURATION, default=60.0),
                    Flag("port"),
                    Flag("expose", BOOL),
                    Flag("privileged", BOOL),
                    Flag("dry-run", default="none"),
                    Flag("field-manager", default="kubectl-run"),
                    Flag("save-config", BOOL),
                    Flag("record", BOOL),
                    Flag("filename", SLICE, short="f"),
                    Flag("kustomize", short="k"),
                    Flag("recursive", BOOL, short="R"),
                    Flag("cascade", default="background"),
                    Flag("grace-period", INT, default=-1),
                    Flag("force", BOOL),
                    Flag("timeout", DURATION),
                    Flag("wait", BOOL),
                    Flag("template"),
                    Flag("show-managed-fields", BOOL),
                    Flag("allow-missing-template-keys", BOOL, default=True),
                    output,
                ],
            ),
            Command(
                "delete",
                # pkg/cmd/delete/delete_flags.go NewDeleteCommandFlags + AddDryRunFlag
                flags=[
                    Flag("filename", SLICE, short="f"),
                    Flag("kustomize", short="k"),
                    Flag("recursive", BOOL, short="R"),
                    Flag("selector", short="l"),
                    Flag("field-selector"),
                    Flag("all", BOOL),
                    Flag("all-namespaces", BOOL, short="A"),
                    Flag("force", BOOL),
                    Flag("cascade", default="background"),
                    Flag("now", BOOL),
                    Flag("grace-period", INT, default=-1),
                    Flag("timeout", DURATION),
                    Flag("ignore-not-found", BOOL),
                    Flag("wait", BOOL, default=True),
                    output,
                    Flag("raw"),
                    Flag("interactive", BOOL, short="i"),
                    Flag("dry-run", default="none"),
                ],
            ),
            kubectl_apply.apply_command(output),
            kubectl_exec.command(),
            Command("rollout", subcommands=[kubectl_apply.rollout_command(), kubemutate.rollout_restart_command()]),
        ]
        + kubemutate.commands(output)
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
    except NotEmulated as exc:
        err(f"fake kubectl: {exc}")
        return 2
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
        self.lookup_error = ""  # set when the server's host does not resolve

    @property
    def hostport(self) -> str:
        parts = urlsplit(self.server)
        return parts.netloc or self.server

    def names(self) -> list[str]:
        return [self.cluster["name"], self.context] if self.cluster else [self.context]


def _kubeconfig_paths(env: FakeEnv, p: Parsed) -> list[str]:
    """client-go's loading precedence: --kubeconfig (ONE path, never a list), else
    every $KUBECONFIG entry, else ~/.kube/config."""
    explicit = str(p["kubeconfig"])
    if explicit:
        return [explicit]
    return env.kubeconfig_env_paths() or [env.default_kubeconfig()]


def _explicit_missing(p: Parsed) -> bool:
    """--kubeconfig names a path that os.Stat reports as not existing (loader.go Load)."""
    explicit = str(p["kubeconfig"])
    if not explicit:
        return False
    try:
        os.stat(explicit)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # e.g. ENOTDIR: not IsNotExist, the read fails later
    return False


def _merge_files(paths: list[str]) -> dict:
    try:
        return kubeconfig.load_merged(paths)
    except kubeconfig.KubeconfigError as exc:
        err(f"error: {exc}")
        raise FakeExit(1) from None


def _load(env: FakeEnv, p: Parsed) -> dict:
    """The merged kubeconfig as API commands load it (ClientConfigLoadingRules.Load):
    a --kubeconfig that does not exist -- a ``a:b`` list is one path to it -- is an error."""
    if _explicit_missing(p):
        err(f"error: stat {p['kubeconfig']}: no such file or directory")
        raise FakeExit(1)
    return _merge_files(_kubeconfig_paths(env, p))


def _starting_config(env: FakeEnv, p: Parsed) -> dict:
    """The merged kubeconfig as ``kubectl config`` sub-commands load it
    (client-go PathOptions.GetStartingConfig): a --kubeconfig that does not exist
    gives an empty Config, no error."""
    if _explicit_missing(p):
        return {"clusters": {}, "contexts": {}, "users": {}, "current-context": ""}
    return _merge_files(_kubeconfig_paths(env, p))


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
        from . import argocd_controller

        if argocd_controller.wants_reconcile(cluster):  # Argo CD syncs what the next call sees
            argocd_controller.reconcile(env, cluster["key"])
            cluster = model.by_api_port(env.store.read(), port) or cluster
        conn.cluster = cluster
    elif host not in _LOCAL_HOSTS and not _is_fake_host(state, host, port):
        conn.lookup_error = f"Unable to connect to the server: dial tcp: lookup {host} on 127.0.0.53:53: no such host"
        if need_server:
            err(conn.lookup_error)
            raise FakeExit(1)
    return conn


def _is_fake_host(state: dict, host: str, port: int) -> bool:
    cluster = model.by_api_port(state, port)
    return bool(cluster and cluster["api"].get("server_host") == host)


def _refused(conn: Conn, discovery: bool) -> FakeExit:
    if conn.lookup_error:
        err(conn.lookup_error)
        return FakeExit(1)
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
        from . import yamlio

        sys.stdout.write(yamlio.dump(data))
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
    fmt = str(p["output"])
    if fmt not in ("", "name"):  # get_contexts.go Complete
        err(
            f"error: --output {fmt} is not available in kubectl config get-contexts; resetting to default output format"
        )
        return 1
    merged = _starting_config(env, p)
    missing = [name for name in p.args if name not in merged["contexts"]]
    names = sorted(name for name in (p.args or merged["contexts"]) if name in merged["contexts"])
    code = _print_contexts(merged, names, fmt == "name", bool(p["no-headers"]))
    if missing:  # an aggregate: one error keeps kubectl's "error: " prefix, several are listed bare
        lines = [f"context {name} not found" for name in missing]
        err(f"error: {lines[0]}" if len(lines) == 1 else "\n".join(lines))
        return 1
    return code


def _print_contexts(merged: dict, names: list[str], name_only: bool, no_headers: bool) -> int:
    if name_only:
        for name in names:
            out(name)
        return 0
    current = merged["current-context"]  # GetStartingConfig applies no --context override
    rows = [] if no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
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
    merged = _starting_config(env, p)
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
    merged = _starting_config(env, p)
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
    # pkg/cmd/config/view.go: with --kubeconfig and no --merge, merge is false and the
    # file is read on its own (LoadFromFile: a missing one is "open PATH: ..."); otherwise
    # PathOptions.GetStartingConfig (a missing --kubeconfig is an empty Config).
    explicit = str(p["kubeconfig"])
    merge = bool(p["merge"]) if p.is_set("merge") else not explicit
    if not merge and not explicit:
        err("error: if merge==false a precise file must be specified")
        return 1
    if merge:
        merged = _starting_config(env, p)
    elif not os.path.exists(explicit):
        err(f"error: open {explicit}: no such file or directory")
        return 1
    else:
        merged = _merge_files([explicit])
    current = merged["current-context"]
    contexts, clusters, users = merged["contexts"], merged["clusters"], merged["users"]
    if p["minify"]:  # clientcmd/api helpers.go MinifyConfig
        current = str(p["context"]) or current
        if not current:
            err("error: current-context must exist in order to minify")
            return 1
        if current not in contexts:
            err(f"error: cannot locate context {current}")
            return 1
        ctx = contexts[current].get("context") or {}
        for section, key, entries in (("cluster", "cluster", clusters), ("user", "user", users)):
            if ctx.get(key) and ctx[key] not in entries:
                err(f"error: cannot locate {section} {ctx[key]}")
                return 1
        contexts = {current: contexts[current]}
        clusters = {k: v for k, v in clusters.items() if k == ctx.get("cluster")}
        users = {k: v for k, v in users.items() if k == ctx.get("user")}
    redact = not (p["raw"] or p["flatten"])

    def named(entries: dict, section: str, hide: bool) -> list[dict] | None:
        # v1 conversion: entries sorted by name; no entries is a nil slice (null)
        return [_ordered(entries[name], section, hide) for name in sorted(entries)] or None

    doc: dict = {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": named(clusters, "cluster", redact),
        "users": named(users, "user", redact),
        "contexts": named(contexts, "context", False),
        "current-context": current,
    }
    fmt = str(p["output"]) or "yaml"
    if fmt == "json":
        out(go_json(doc, indent=4))
    elif fmt == "yaml":
        sys.stdout.write(kubeconfig.to_yaml(doc))
    else:
        raise unsupported_format(fmt, GENERIC_FORMATS)
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
        generated = kubeobjects.nodes(cluster, unhealthy)
    elif kind == "Pod":
        generated = kubeobjects.pods(cluster, unhealthy)
    elif kind == "ConfigMap":
        generated = kubeobjects.configmaps(cluster)
    elif kind == "Namespace":
        generated = kubeobjects.namespaces(cluster)
    else:
        generated = kubeobjects.extra_objects(cluster, _PLURAL[kind], unhealthy)
    generated += [kubectl_apply.visible(o) for o in kubectl_apply.applied_objects(cluster, kind)]
    return kubeobjects.merge_seeded(generated, kubeobjects.seeded_objects(_seed(env, conn), kind))


def _seed(env: FakeEnv, conn: Conn) -> dict:
    try:
        return kubeobjects.load_seed(env.state_dir, conn.names())
    except ValueError as exc:
        raise NotEmulated(str(exc)) from None


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
    seed = _seed(env, conn)
    if kind is None or _PLURAL[kind] in (seed.get("unknown") or []):
        err(f'error: the server doesn\'t have a resource type "{kind_token}"')
        return 1
    if _PLURAL[kind] in (seed.get("forbidden") or []):
        # the apiserver's RBAC denial (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go
        # forbiddenMessage) for a user of the seed's "user" (default: the k3d/kind admin)
        group = {"Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps"}.get(kind)
        group = group or {"Job": "batch", "CronJob": "batch", "StorageClass": "storage.k8s.io"}.get(kind)
        group = group or ("apiregistration.k8s.io" if kind == "APIService" else "")
        resource = _PLURAL[kind] + (f".{group}" if group else "")
        scope = "at the cluster scope"
        if kind in _NAMESPACED and not p["all-namespaces"]:
            scope = f'in the namespace "{conn.namespace}"'
        user = seed.get("user") or "system:serviceaccount:default:viewer"
        err(
            f'Error from server (Forbidden): {resource} is forbidden: User "{user}" cannot list resource '
            f'"{_PLURAL[kind]}" in API group "{group}" {scope}'
        )
        return 1
    objs = _objects(env, conn, kind)
    namespaced = kind in _NAMESPACED
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
        if not objs and p["ignore-not-found"]:
            return 0  # get.go printGeneric: nothing found and --ignore-not-found prints nothing
    fmt = str(p["output"])
    extra = kind in _NAMESPACED - {"Pod", "ConfigMap"} or kind in ("PersistentVolume", "StorageClass", "APIService")
    if extra and fmt in ("", "wide"):
        raise NotEmulated(f"the table of 'kubectl get {_PLURAL[kind]}' is not implemented by the test fake")
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
    if text:
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
            raise NotEmulated("'kubectl wait --for=jsonpath=...' is not implemented by the test fake")
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


# distribution/reference ReferenceRegexp (kubectl run validates --image with it)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_IMAGE_REF = re.compile(
    rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _usage_error(command: str, message: str) -> FakeExit:
    """cmdutil.UsageErrorf as CheckErr prints it."""
    err(f"error: {message}\nSee 'kubectl {command} -h' for help and examples")
    return FakeExit(1)


def _namespace_exists(cluster: dict, namespace: str) -> bool:
    return any(ns["metadata"]["name"] == namespace for ns in kubeobjects.namespaces(cluster))


def _find_pod(cluster: dict, namespace: str, name: str) -> dict | None:
    return next((r for r in cluster.get("pods") or [] if r["namespace"] == namespace and r["name"] == name), None)


def _is_system_pod(env: FakeEnv, conn: Conn, namespace: str, name: str) -> bool:
    assert conn.cluster is not None
    return any(
        o["metadata"]["namespace"] == namespace and o["metadata"]["name"] == name
        for o in kubeobjects.pods({**conn.cluster, "pods": []}, env.unhealthy_for(conn.names()))
    )


def _update_pod(env: FakeEnv, key: str, uid: str, change: dict | None) -> bool:
    """Apply ``change`` to the stored pod with this uid (None deletes it); False if it is gone."""
    with env.store.transaction() as state:
        cluster = state["clusters"].get(key)
        records = (cluster or {}).get("pods") or []
        record = next((r for r in records if r["uid"] == uid), None)
        if record is None:
            return False
        if change is None:
            records.remove(record)
        else:
            record.update(change)
        return True


def _injected_delay(env: FakeEnv, op: str, names: list[str]) -> float:
    for rule in env.delay_rules:
        if rule.matches(env.tool, op, names):
            return float(rule.value)
    return 0.0


def _run(env: FakeEnv, p: Parsed) -> int:
    """``kubectl run`` (pkg/cmd/run/run.go, kubectl v0.31.6)."""
    if not p.is_set("image"):  # cobra MarkFlagRequired, checked before anything else
        err('error: required flag(s) "image" not set')
        return 1
    dry_run = str(p["dry-run"])
    if dry_run != "none":
        raise NotEmulated("'kubectl run --dry-run' is not implemented by the test fake")
    conn = _connect(env, p, need_server=False)  # Complete: f.DynamicClient() loads the kubeconfig
    fmt = str(p["output"])
    if fmt not in ("", "json", "yaml", "name"):
        raise unsupported_format(fmt, GENERIC_FORMATS)
    if not p.args:
        raise _usage_error("run", "NAME is required for run")
    name = p.args[0]
    if p.seconds("pod-running-timeout") <= 0:
        raise _usage_error("run", "--pod-running-timeout must be higher than zero")
    image = str(p["image"])
    if not image:
        err("error: --image is required")
        return 1
    if not _IMAGE_REF.match(image):
        err(f'error: Invalid image name "{image}": invalid reference format')
        return 1
    if p["tty"] and not p["stdin"]:
        raise _usage_error("run", "-i/--stdin is required for containers with -t/--tty=true")
    if p["expose"] and not p["port"]:
        raise _usage_error("run", "--port must be set when exposing a service")
    restart = str(p["restart"]) or ("OnFailure" if p["stdin"] else "Always")
    if restart not in ("Always", "OnFailure", "Never"):
        raise _usage_error("run", f"invalid restart policy: {restart}")
    attach = bool(p["attach"]) if p.is_set("attach") else bool(p["stdin"])
    if p["rm"] and not attach:
        raise _usage_error("run", "--rm should only be used for attached containers")
    pull_policy = str(p["image-pull-policy"])
    if pull_policy not in ("", "Always", "IfNotPresent", "Never"):
        raise _usage_error("run", f"invalid image pull policy: {pull_policy}")
    for flag in ("expose", "overrides", "leave-stdin-open"):
        if p[flag]:
            raise NotEmulated(f"'kubectl run --{flag}' is not implemented by the test fake")
    if not _DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        raise NotEmulated(f"the API server's validation error for pod name {name!r} is not emulated by the test fake")
    command = list(p.dash_args if p.dash_args is not None else p.args[1:])
    if attach and restart == "OnFailure" and _simulate(env, conn, conn.cluster or {}, command)[0]:
        raise NotEmulated("an attached OnFailure pod that fails (kubectl waits for success) is not emulated")

    # -- create (server side) --
    if conn.cluster is None:
        raise _refused(conn, discovery=True)  # the REST mapper's discovery comes first
    names = conn.names()
    if env.should_fail("run", names):
        err("Error from server (ServiceUnavailable): the server is currently unable to handle the request")
        return 1
    namespace, key = conn.namespace, conn.cluster["key"]
    if not _namespace_exists(conn.cluster, namespace):
        err(f'Error from server (NotFound): namespaces "{namespace}" not found')
        return 1
    untagged = "@" not in image and ":" not in image.rsplit("/", 1)[-1]
    spec = {
        "image": image,
        "command": command,
        "use_command": bool(p["command"]),
        "restart": restart,
        "stdin": bool(p["stdin"]),
        "stdin_once": bool(p["stdin"]) and not p["leave-stdin-open"],
        "tty": bool(p["tty"]),
        "labels": _labels(str(p["labels"])) if p["labels"] else {"run": name},
        "image_pull_policy": pull_policy or ("Always" if untagged or image.endswith(":latest") else "IfNotPresent"),
    }
    with env.store.transaction() as state:
        cluster = state["clusters"].get(key)
        exists = cluster is not None and _find_pod(cluster, namespace, name) is not None
        if cluster is not None and not exists:
            record = kubeobjects.new_run_pod(cluster, name, namespace, spec, model.now_rfc3339())
            cluster.setdefault("pods", []).append(record)
    if cluster is None:
        raise _refused(conn, discovery=False)
    if exists:
        err(f'Error from server (AlreadyExists): pods "{name}" already exists')
        return 1
    uid = record["uid"]

    # -- the kubelet pulls the image: a kubectl killed here leaves the pod behind --
    env.maybe_hang("run", names)
    delay, timeout = _injected_delay(env, "run", names), p.seconds("pod-running-timeout")
    if attach and delay > timeout:  # waitForPod(podRunningAndReady) gives up first
        time.sleep(timeout)
        _remove_run_pod(env, p, key, uid, name)
        err("error: timed out waiting for the condition")
        return 1
    time.sleep(delay)
    code, text = _simulate(env, conn, conn.cluster, command)
    if not command:
        final: dict = {"phase": "Running"}  # the image's own server process
    elif restart == "Never" or (restart == "OnFailure" and code == 0):
        final = {"phase": "Succeeded" if code == 0 else "Failed", "exit_code": code}
    else:
        final = {"phase": "Running"}  # restarts are not modelled
    _update_pod(env, key, uid, final)
    if not attach:
        record.update(final)
        if fmt == "name":
            out(f"pod/{name}")
        elif fmt:
            obj = kubeobjects.run_pod_object(conn.cluster, record)
            out(render(fmt, "Pod", [obj], single=True, no_headers=False, with_namespace=False))
        else:
            out(f"pod/{name} created")
        return 0
    sys.stdout.write(text)
    # run.go: `defer o.removeCreatedObjects(...)` -- client side, once the attach has ended
    _remove_run_pod(env, p, key, uid, name)
    if restart == "Never" and code:
        err(f"pod {namespace}/{name} terminated (Error)")
        return code
    return 0


def _labels(text: str) -> dict:
    labels = {}
    for item in text.split(","):
        k, _, v = item.partition("=")
        labels[k.strip()] = v.strip()
    return labels


def _remove_run_pod(env: FakeEnv, p: Parsed, key: str, uid: str, name: str) -> None:
    """`--rm`: delete with IgnoreNotFound, no wait, Quiet = --quiet (run.go Complete)."""
    if p["rm"] and _update_pod(env, key, uid, None) and not p["quiet"]:
        out(f'pod "{name}" deleted')


_MISSING_RESOURCE = (
    "You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n"
    "   '-f rsrc.yaml'\n"
    "   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n"
    "   '<resource>'"
)


def _resource_args(args: list[str]) -> tuple[str, list[str]]:
    """cli-runtime Builder.ResourceTypeOrNameArgs: ``TYPE NAME...`` or ``TYPE/NAME...``
    (one type; mixing the forms is an error).  Returns (type, names); raises on errors."""
    slashed = [a for a in args if "/" in a]
    if slashed and len(slashed) != len(args):
        err(
            "error: there is no need to specify a resource type as a separate argument when passing arguments in "
            "resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource "
            "resource/<resource_name>'"
        )
        raise FakeExit(1)
    if slashed:
        types, names = set(), []
        for arg in args:
            parts = arg.split("/")
            if len(parts) != 2:
                err("error: arguments in resource/name form may not have more than one slash")
                raise FakeExit(1)
            if not parts[0] or not parts[1] or "," in parts[0]:
                err("error: arguments in resource/name form must have a single resource and name")
                raise FakeExit(1)
            types.add(_PLURAL.get(_RESOURCES.get(parts[0].split(".")[0], ""), parts[0]))
            names.append(parts[1])
        if len(types) > 1:
            raise NotEmulated("'kubectl delete' of several resource types is not implemented by the test fake")
        return types.pop(), names
    if not args:
        err(f"error: {_MISSING_RESOURCE}")
        raise FakeExit(1)
    return args[0], list(args[1:])


def _delete(env: FakeEnv, p: Parsed) -> int:
    """``kubectl delete pod NAME...`` / ``pod/NAME...`` (pkg/cmd/delete/delete.go, kubectl v0.31.6)."""
    cascade = str(p["cascade"])  # delete_flags.go parseCascadingFlag (in ToOptions, before anything else)
    if cascade.lower() in ("1", "t", "true", "0", "f", "false"):
        new = "background" if cascade.lower() in ("1", "t", "true") else "orphan"
        err(f"warning: --cascade={cascade} is deprecated (boolean value) and can be replaced with --cascade={new}.")
    elif cascade not in ("background", "foreground", "orphan"):
        err(f'error: invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan"')
        return 1
    conn = _connect(env, p, need_server=False)  # Complete: ToRawKubeConfigLoader().Namespace()
    grace = p.number("grace-period")
    if p["now"]:
        if grace != -1:
            err("error: --now and --grace-period cannot be specified together")
            return 1
        grace = 1
    if grace == 0 and not p["force"]:
        grace = 1  # kubectl turns --grace-period=0 into 1 unless --force
    if p["force"] and grace < 0:
        grace = 0
    if str(p["dry-run"]) != "none":
        raise NotEmulated("'kubectl delete --dry-run' is not implemented by the test fake")
    for flag in ("filename", "kustomize", "selector", "field-selector", "all", "all-namespaces", "raw", "interactive"):
        if p[flag]:
            raise NotEmulated(f"'kubectl delete --{flag}' is not implemented by the test fake")
    kind_token, names = _resource_args(list(p.args))
    if conn.cluster is None:
        raise _refused(conn, discovery=True)  # the REST mapper needs discovery
    if "," in kind_token:
        raise NotEmulated("'kubectl delete' of several resource types is not implemented by the test fake")
    kind = _RESOURCES.get(kind_token.split(".")[0])
    if kind is None:
        err(f'error: the server doesn\'t have a resource type "{kind_token}"')
        return 1
    if kind in _DELETABLE:
        return _delete_applied(env, p, conn, kind, names, fmt=str(p["output"]))
    if kind != "Pod":
        raise NotEmulated(f"'kubectl delete {_PLURAL[kind]}' is not implemented by the test fake")
    if not names:
        err("error: resource(s) were provided, but no name was specified")
        return 1
    fmt = str(p["output"])
    if fmt not in ("", "name"):  # Validate
        err(f"error: unexpected -o output mode: {fmt}. We only support '-o name'")
        return 1
    if p["force"] and grace > 0:
        err("error: --force and --grace-period greater than 0 cannot be specified together")
        return 1
    if p["force"] and grace == 0:
        err(
            "Warning: Immediate deletion does not wait for confirmation that the running resource has been "
            "terminated. The resource may continue to run on the cluster indefinitely."
        )
    cluster_names = conn.names()
    if env.inject("delete", cluster_names):
        err("Error from server (ServiceUnavailable): the server is currently unable to handle the request")
        return 1
    namespace, key = conn.namespace, conn.cluster["key"]
    errors: list[str] = []
    for name in names:
        if _is_system_pod(env, conn, namespace, name):
            raise NotEmulated(f"deleting the system pod {name!r} is not implemented by the test fake")
        with env.store.transaction() as state:
            records = (state["clusters"].get(key) or {}).get("pods") or []
            record = next((r for r in records if r["namespace"] == namespace and r["name"] == name), None)
            if record is not None:
                records.remove(record)
        if record is None and kubemutate.delete_seeded_pod(env, conn, conn.cluster, namespace, name):
            record = {"name": name}  # a seeded pod: gone, and its controller made a new one
        if record is not None:  # DeleteOptions.PrintObj (Quiet is false for `kubectl delete`)
            out(f"pod/{name}" if fmt == "name" else f'pod "{name}" {"force deleted" if grace == 0 else "deleted"}')
        elif not p["ignore-not-found"]:
            errors.append(f'Error from server (NotFound): pods "{name}" not found')
    # --wait: the fake's pods are gone at once, so there is nothing to wait for
    if errors:
        err("\n".join(errors))  # MultipleErrors: one StandardErrorMessage per line
        return 1
    return 0


def _delete_applied(env: FakeEnv, p: Parsed, conn: Conn, kind: str, names: list[str], fmt: str) -> int:
    """``kubectl delete TYPE NAME...`` of objects `kubectl apply` made (delete.go: "<plural>
    "NAME" deleted"; NotFound unless --ignore-not-found). A ServiceAccount takes its token
    Secrets with it (the token controller deletes them)."""
    if not names:
        err("error: resource(s) were provided, but no name was specified")
        return 1
    if fmt not in ("", "name"):
        err(f"error: unexpected -o output mode: {fmt}. We only support '-o name'")
        return 1
    if env.inject("delete", conn.names()):
        err("Error from server (ServiceUnavailable): the server is currently unable to handle the request")
        return 1
    assert conn.cluster is not None
    namespace = conn.namespace if kind in _NAMESPACED else None
    group = kubectl_apply.GROUPS.get(kind)
    qualified = _PLURAL[kind] + (f".{group}" if group else "")
    errors: list[str] = []
    for name in names:
        with env.store.transaction() as state:
            applied = (state["clusters"].get(conn.cluster["key"]) or {}).get("applied") or []
            found = [
                o
                for o in applied
                if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
            ]
            for obj in found:
                applied.remove(obj)
            if found and kind == "ServiceAccount":
                applied[:] = [
                    o
                    for o in applied
                    if not (
                        o.get("type") == "kubernetes.io/service-account-token"
                        and o["metadata"].get("namespace") == namespace
                        and (o["metadata"].get("annotations") or {}).get("kubernetes.io/service-account.name") == name
                    )
                ]
        if found:
            # delete.go PrintObj: the lower-case kind and its group, not the resource
            kind_string = kind.lower() + (f".{group}" if group else "")
            out(f"{kind_string}/{name}" if fmt == "name" else f'{kind_string} "{name}" deleted')
        elif not p["ignore-not-found"]:
            errors.append(f'Error from server (NotFound): {qualified} "{name}" not found')
    if errors:
        err("\n".join(errors))
        return 1
    return 0


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


def _logs(env: FakeEnv, p: Parsed) -> int:
    """``kubectl logs [-n NS] POD [-c C] [--tail=N] [--previous]`` (kubectl v0.31.6
    pkg/cmd/logs/logs.go, polymorphichelpers/logsforobject.go; the refusals are kubelet's,
    pkg/kubelet/kubelet_pods.go validateContainerLogStatus, returned as a BadRequest)."""
    usage = (
        "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
        "POD or TYPE/NAME is a required argument for the logs command"
    )
    if not p.args or len(p.args) > 2:
        raise _usage_error("logs", usage)
    for flag in ("selector", "all-pods", "all-containers", "follow", "since", "since-time", "limit-bytes", "prefix"):
        if p[flag]:
            raise NotEmulated(f"'kubectl logs --{flag}' is not implemented by the test fake")
    if len(p.args) == 2 and p["container"]:
        err("error: only one of -c or an inline [CONTAINER] arg is allowed")
        return 1
    if p.number("tail") < -1:
        err("error: --tail must be greater than or equal to -1")
        return 1
    conn, _ = _require_cluster(env, p, "logs")
    target = p.args[0]
    kind_token, _, name = target.rpartition("/")
    if kind_token and _RESOURCES.get(kind_token.split(".")[0]) != "Pod":
        raise NotEmulated("'kubectl logs TYPE/NAME' for other types than pods is not implemented by the test fake")
    namespace = conn.namespace
    pods = _objects(env, conn, "Pod")
    pod = next((o for o in pods if (o["metadata"]["namespace"], o["metadata"]["name"]) == (namespace, name)), None)
    if pod is None:
        err(f'error: error from server (NotFound): pods "{name}" not found in namespace "{namespace}"')
        return 1
    container = str(p["container"]) or (p.args[1] if len(p.args) == 2 else "")
    names = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
    if not container:
        container = pod["spec"]["containers"][0]["name"]
        if len(pod["spec"]["containers"]) > 1:
            err(f'Defaulted container "{container}" out of: {", ".join(names)}')
    elif container not in names:
        err(f"error: container {container} is not valid for pod {name}")
        return 1
    refusal, text = kubeobjects.container_log(_seed(env, conn), pod, container, bool(p["previous"]))
    if refusal is not None:
        err(f"Error from server (BadRequest): {refusal}")
        return 1
    tail = p.number("tail")
    lines = text.splitlines(keepends=True)
    if tail >= 0:
        lines = lines[len(lines) - tail :] if tail else []
    sys.stdout.write("".join(lines))
    return 0


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
    "kubectl delete": _delete,
    "kubectl logs": _logs,
    "kubectl apply": kubectl_apply.apply,
    "kubectl rollout status": kubectl_apply.rollout_status,
    "kubectl exec": kubectl_exec.run,  # pods backed by real programs (kubectl_exec.py)
    # changes to seeded objects and the controllers behind them (kubemutate.py)
    "kubectl patch": kubemutate.patch,
    "kubectl rollout restart": kubemutate.rollout_restart,
    "kubectl replace": kubemutate.replace,
}
