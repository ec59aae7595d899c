"""What an environment's provider gets from the `[images]` table, whether each mirror and proxy
answers, and what the first node really holds (issue 8 §4): `kenv images mirrors show`, and the
check `kenv create` makes before it makes a cluster.

A mirror or proxy that does not answer is a warning at create time, not a refusal: containerd
falls back to the registry itself when every mirror fails, and the proxy may only be down for now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import Environment
from kenv.providers.image_supply import (
    CERTS_D_IN_NODE,
    K3S_REGISTRIES_IN_NODE,
    SupplyPlan,
    plan_supply,
    url_host,
)
from kenv.settings import ImageSupply
from kenv.workflows.context import WorkflowContext

__all__ = ["JSON_KEYS", "Endpoint", "MirrorsReport", "NodeFile", "check_supply", "probe_supply", "show_mirrors"]

# The -o json contract of `kenv images mirrors show` (pinned by a test).
JSON_KEYS = {
    "top": (
        "environment",
        "provider",
        "configured",
        "args",
        "tool_env",
        "node_env",
        "no_proxy",
        "files",
        "kind_config",
        "notes",
        "endpoints",
        "node",
        "drift",
    ),
    "endpoint": ("role", "name", "url", "answers", "problem"),
    "node": ("name", "error", "files"),
    "node_file": ("path", "state", "expected", "actual"),
}


@dataclass(frozen=True)
class Endpoint:
    role: str  # mirror | proxy
    name: str  # the registry a mirror serves, or HTTP_PROXY / HTTPS_PROXY
    url: str
    problem: str | None = None
    probed: bool = True

    def to_json(self) -> dict[str, Any]:
        answers = (self.problem is None) if self.probed else None
        return {"role": self.role, "name": self.name, "url": self.url, "answers": answers, "problem": self.problem}


@dataclass(frozen=True)
class NodeFile:
    path: str
    state: str  # same | differs | missing | unexpected
    expected: str | None
    actual: str | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "state": self.state, "expected": self.expected, "actual": self.actual}


@dataclass
class MirrorsReport:
    environment: str
    provider: str
    supply: ImageSupply
    plan: SupplyPlan
    endpoints: list[Endpoint] = field(default_factory=list)
    node: str | None = None  # the node read (None: the cluster does not run, or nothing to read)
    node_error: str | None = None
    node_files: list[NodeFile] = field(default_factory=list)
    not_read: str | None = None  # why no node was read (shown in the table; null "node" in JSON)

    @property
    def drift(self) -> bool:
        return any(f.state != "same" for f in self.node_files)

    @property
    def unreachable(self) -> list[Endpoint]:
        return [e for e in self.endpoints if e.probed and e.problem is not None]

    def kind_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.plan.kind_patches:
            config["containerdConfigPatches"] = list(self.plan.kind_patches)
        if self.plan.kind_mounts:
            config["extraMounts"] = [dict(m) for m in self.plan.kind_mounts]
        return config

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "provider": self.provider,
            "configured": self.supply.configured,
            "args": list(self.plan.args),
            "tool_env": dict(self.plan.tool_env),
            "node_env": dict(self.plan.node_env),
            "no_proxy": list(self.plan.no_proxy),
            "files": [{"path": path, "content": text} for path, text in self.plan.files.items()],
            "kind_config": self.kind_config(),
            "notes": list(self.plan.notes),
            "endpoints": [e.to_json() for e in self.endpoints],
            "node": None
            if self.node is None
            else {"name": self.node, "error": self.node_error, "files": [f.to_json() for f in self.node_files]},
            "drift": self.drift,
        }


def probe_supply(supply: ImageSupply, *, probe: bool = True) -> list[Endpoint]:
    """Every mirror and proxy of the table, each with whether it answers (probed at once)."""
    from kenv.runtime.registry_probe import probe_all

    insecure = {h.lower() for h in supply.insecure_registries}
    mirrors = [(registry, url) for registry, urls in supply.mirrors.items() for url in urls]
    named = (("HTTP_PROXY", supply.http_proxy), ("HTTPS_PROXY", supply.https_proxy))
    proxies = [(key, url) for key, url in named if url]
    if not probe:
        return [Endpoint("mirror", r, u, probed=False) for r, u in mirrors] + [
            Endpoint("proxy", k, u, probed=False) for k, u in proxies
        ]
    answers = probe_all(
        [(url, url_host(url).lower() not in insecure) for _, url in mirrors], dict.fromkeys(u for _, u in proxies)
    )
    return [Endpoint("mirror", r, u, answers.get(("mirror", u))) for r, u in mirrors] + [
        Endpoint("proxy", k, u, answers.get(("proxy", u))) for k, u in proxies
    ]


def check_supply(ctx: WorkflowContext, env: Environment) -> list[Endpoint]:
    """At create, before the cluster is made: say what the provider gets from [images] and name
    every mirror or proxy that does not answer (a warning: the create goes on)."""
    supply = ctx.settings.images
    if not supply.configured or not facts_for(env.provider).managed:
        return []
    plan = plan_supply(supply, env, ctx.settings.data_dir)
    for note in plan.notes:
        ctx.progress.note(env.name, f"warning: {note}")
    if plan.tool_env:
        shown = " ".join(f"{k}={v}" for k, v in plan.node_env.items())
        ctx.progress.note(env.name, f"{'would run' if ctx.dry_run else 'runs'} {env.provider} with {shown}")
    if ctx.dry_run:
        # The command line names these files; a dry run writes none of them.
        for path in plan.files:
            ctx.progress.note(env.name, f"would write {path}")
        for mount in plan.kind_mounts:
            ctx.progress.note(env.name, f"would mount {mount['hostPath']} at {mount['containerPath']} on every node")
    # One warning per mirror or proxy, however many registries or variables name it.
    unreachable = list({(e.role, e.url): e for e in probe_supply(supply) if e.problem is not None}.values())
    for endpoint in unreachable:
        what = f"mirror {endpoint.url} (for {endpoint.name})" if endpoint.role == "mirror" else f"proxy {endpoint.url}"
        ctx.progress.note(env.name, f"warning: {what} does not answer: {endpoint.problem}")
    return unreachable


def _read_node_file(ctx: WorkflowContext, env: Environment, node: str, path: str) -> str | None:
    """The file's text, or None when the node does not have it."""
    provider = ctx.provider(env.provider)
    result = provider.exec_in_node(env, node, ["cat", path])
    if result.ok:
        return result.stdout
    if "No such file" in result.stderr:
        return None
    from kenv.runtime.process import failure

    raise failure(result)


def _node_dirs(ctx: WorkflowContext, env: Environment, node: str) -> list[str]:
    """Registry directories under the node's containerd host directory."""
    provider = ctx.provider(env.provider)
    result = provider.exec_in_node(env, node, ["ls", "-1", CERTS_D_IN_NODE])
    return result.stdout.split() if result.ok else []


def _registries_equal(expected: str | None, actual: str | None) -> bool:
    """k3d re-marshals the file it copies (wharfie's Registry struct: empty rewrite maps, null
    auth, empty TLS fields appear), so the documents are compared by what they configure."""
    import yaml

    def meaning(text: str | None) -> tuple[dict[str, list[str]], dict[str, bool]]:
        try:
            document = yaml.safe_load(text or "") or {}
        except yaml.YAMLError:
            return {"<unreadable>": [text or ""]}, {}
        if not isinstance(document, dict):
            return {"<unreadable>": [text or ""]}, {}
        mirrors = {str(k): list((v or {}).get("endpoint") or []) for k, v in (document.get("mirrors") or {}).items()}
        configs = {
            str(k): bool(((v or {}).get("tls") or {}).get("insecure_skip_verify"))
            for k, v in (document.get("configs") or {}).items()
        }
        return mirrors, {k: v for k, v in configs.items() if v}

    return meaning(expected) == meaning(actual)


def _compare(path: str, expected: str | None, actual: str | None, same: bool) -> NodeFile:
    if expected is None:
        return NodeFile(path, "unexpected", None, actual)
    if actual is None:
        return NodeFile(path, "missing", expected, None)
    return NodeFile(path, "same" if same else "differs", expected, actual)


def _node_files(ctx: WorkflowContext, env: Environment, node: str, plan: SupplyPlan) -> list[NodeFile]:
    if env.provider == "k3d":
        expected = plan.node_files.get(K3S_REGISTRIES_IN_NODE)
        actual = _read_node_file(ctx, env, node, K3S_REGISTRIES_IN_NODE)
        if expected is None and actual is None:
            return []
        return [_compare(K3S_REGISTRIES_IN_NODE, expected, actual, _registries_equal(expected, actual))]
    # kind: one hosts.toml per registry directory, the expected ones and any others there.
    paths = list(plan.node_files)
    for directory in _node_dirs(ctx, env, node):
        path = f"{CERTS_D_IN_NODE}/{directory}/hosts.toml"
        if path not in paths:
            paths.append(path)
    files = []
    for path in paths:
        expected = plan.node_files.get(path)
        actual = _read_node_file(ctx, env, node, path)
        if expected is None and actual is None:
            continue
        files.append(_compare(path, expected, actual, (expected or "").strip() == (actual or "").strip()))
    return files


def show_mirrors(ctx: WorkflowContext, name: str, *, probe: bool = True) -> MirrorsReport:
    env = ctx.inventory().get(name)
    facts = facts_for(env.provider)
    if not facts.managed:
        raise InvalidInput(
            f"{name!r} is an external cluster: kenv does not configure its registries",
            hint="configure mirrors on that cluster's own nodes",
        )
    supply = ctx.settings.images
    plan = plan_supply(supply, env, ctx.settings.data_dir)
    report = MirrorsReport(env.name, env.provider, supply, plan, endpoints=probe_supply(supply, probe=probe))
    if env.provider not in ("k3d", "kind"):
        report.not_read = f"{env.provider} keeps them in dockerd's configuration: the flags are the record"
        return report
    ctx.ensure_tools(env.provider)
    provider = ctx.provider(env.provider)
    state = provider.state(env)
    servers = [n.name for n in state.nodes if n.role == "server" and n.running] if state is not None else []
    if not servers:
        report.not_read = "the cluster does not run: no node was read"
        return report
    report.node = servers[0]
    try:
        report.node_files = _node_files(ctx, env, report.node, plan)
    except KenvError as exc:
        report.node_error = exc.one_line()
    return report
