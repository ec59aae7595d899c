"""Host preflight rules: rules of the doctor's engine over a HostSnapshot of this machine.

Each rule is a `rules.Rule[HostSnapshot]` (scope `host`) with a stable id (`host.<what>`), the
doctor's severity scale, a doc with a bad and a good example, the snapshot parts it needs, and a
check yielding `Finding`s on `Host//localhost`: what is wrong (summary), why it matters
(evidence) and how to fix it. `engine.judge` runs them as it runs the cluster rules: a rule whose
part is missing (no Docker engine, not Linux, nothing to scan) is skipped and listed as such, one
that crashes is a `doctor.rule-crashed` finding and the others still run. Each rule also says
what it saw (`seen`), so a clean run still shows what was checked.

Severities: critical when nothing can work (no Docker engine, no docker CLI), error when an
environment cannot be created or started (a missing tool it uses, a held port, a clashing subnet,
a full disk), warning when things will fail later or by chance, info for what is worth knowing.
"""

from __future__ import annotations

import ipaddress
import logging
import shlex
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from kenv.catalogue import CATALOGUE, facts_for
from kenv.doctor.engine import RULE_CRASHED, Report, judge
from kenv.doctor.findings import Finding, Fix, Severity, Skipped, at_or_above
from kenv.doctor.host_snapshot import DiskFacts, EnvironmentFacts, HostSnapshot
from kenv.doctor.rules import Rule
from kenv.errors import InvalidInput
from kenv.runtime.process import INSTALL_HINTS
from kenv.runtime.tools import TESTED_RANGES, TOOLS, ToolVersion

log = logging.getLogger("kenv.doctor")

# The object of every host finding (`Kind/namespace/name`, cluster-scoped form): this machine.
HOST_OBJECT = "Host//localhost"
Status = Literal["ok", "problem", "skipped"]
HostRule = Rule[HostSnapshot]

DISK_WARNING_PERCENT = 85.0
DISK_ERROR_PERCENT = 95.0
INOTIFY_MIN_WATCHES = 524288
INOTIFY_MIN_INSTANCES = 512
MAX_LISTED_SCRIPTS = 10
# Names listed in one finding before "and N more": a fleet of 200 must not make a 2,000-character line.
MAX_LISTED_NAMES = 5
# Not running: nothing of the environment's own should hold its ports, so a holder is a stranger.
STOPPED_STATUSES = frozenset({"stopped", "failed", "absent"})

# The parts of a HostSnapshot a rule can need, and what it means when one is missing.
PARTS: dict[str, Callable[[HostSnapshot], bool]] = {
    "docker-cli": lambda s: (tool := s.tool("docker")) is not None and tool.found,
    "docker-networks": lambda s: s.docker_networks is not None,
    "inventory": lambda s: s.inventory_error is None,
    "disks": lambda s: bool(s.disks),
    "inotify": lambda s: s.inotify_max_user_watches is not None or s.inotify_max_user_instances is not None,
    "scan-paths": lambda s: s.scripts.root is not None,
}
MISSING_PARTS = {
    "docker-cli": "docker is not installed (see host.tool-missing)",
    "docker-networks": "no Docker engine answered, so there are no networks to compare",
    "inventory": "the inventory could not be read (see host.inventory-unreadable)",
    "disks": "no filesystem could be measured",
    "inotify": "inotify limits are not readable here (not Linux)",
    "scan-paths": "nothing to scan: name the paths you deploy from with --scan PATH",
}


def has(snapshot: HostSnapshot) -> Callable[[str], bool]:
    return lambda part: PARTS[part](snapshot)


def missing_text(skip: Skipped) -> str:
    """Why a host rule did not run, in words (the cluster's parts are snapshot keys)."""
    return "; ".join(MISSING_PARTS.get(part, part) for part in skip.needs)


def problem(
    rule_id: str, severity: Severity, title: str, explanation: str, fix: str, commands: Iterable[str] = ()
) -> Finding:
    # kenv applies no host fix: the text says what to run, the user runs it
    return Finding(
        rule=rule_id,
        severity=severity,
        object=HOST_OBJECT,
        summary=title,
        evidence=(explanation,),
        fix=Fix(fix, tuple(commands), "low", False),
    )


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "summary": self.summary}


@dataclass(frozen=True)
class HostReport:
    report: Report  # the engine's: findings (worst first), skipped rules, the rules that ran
    checks: tuple[CheckResult, ...]
    snapshot: HostSnapshot

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.report.findings

    def count(self, severity: Severity) -> int:
        return self.report.count(severity)

    @property
    def problems_found(self) -> bool:
        """Warnings or worse; info findings are worth knowing but need no action."""
        return self.report.fails("warning")

    @property
    def blocking(self) -> int:
        """Errors and critical problems of this machine: what stops `kenv up`. A rule that crashed
        is kenv's bug, shown but never a reason to stop."""
        return sum(1 for f in self.findings if f.rule != RULE_CRASHED and at_or_above(f.severity, "error"))

    def summary(self) -> dict[str, int]:
        return {
            "critical": self.count("critical"),
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "info": self.count("info"),
        }

    def to_dict(self) -> dict[str, Any]:
        """The `kenv.doctor/v1` document (the cluster diagnosis's keys first), then the checks
        that ran, the counts and the facts they judged."""
        return {
            **self.report.to_dict(),
            "checks": [check.to_dict() for check in self.checks],
            "summary": self.summary(),
            "snapshot": self.snapshot.to_dict(),
        }


RULES: list[HostRule] = []
SEEN: dict[str, Callable[[HostSnapshot], str]] = {}


def rule(
    rule_id: str,
    severity: Severity,
    summary: str,
    *,
    doc: str,
    bad: str,
    good: str,
    seen: Callable[[HostSnapshot], str],
    needs: tuple[str, ...] = (),
) -> Callable[[Callable[[HostSnapshot], Iterator[Finding]]], Callable[[HostSnapshot], Iterator[Finding]]]:
    """Register a host rule: `severity` is the worst it finds, `seen` what it looked at."""

    def register(check: Callable[[HostSnapshot], Iterator[Finding]]) -> Callable[[HostSnapshot], Iterator[Finding]]:
        RULES.append(Rule(rule_id, severity, summary, doc, bad, good, check, needs, "host"))
        SEEN[rule_id] = seen
        return check

    return register


# -- helpers --------------------------------------------------------------------------------


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def _some_names(names: Collection[str], limit: int = MAX_LISTED_NAMES) -> str:
    """The first `limit` names and how many more: `a, b, c and 197 more`."""
    listed = list(names)[:limit]
    more = len(names) - len(listed)
    return _names(listed) + (f" and {more} more" if more else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def required_tools(snapshot: HostSnapshot) -> dict[str, str]:
    """Tool -> why it is needed: docker and kubectl always, a provider's CLI when something uses it."""
    needed = {"docker": "every cluster runs in Docker", "kubectl": "kenv talks to every cluster with it"}
    users: dict[str, list[str]] = {}
    for env in snapshot.environments:
        users.setdefault(env.provider, []).append(env.name)
    for provider in TOOLS:
        if provider in needed:
            continue
        reasons = []
        if provider in users:
            count = len(users[provider])
            verb = "uses" if count == 1 else "use"
            reasons.append(f"{_plural(count, 'environment')} ({_some_names(users[provider])}) {verb} it")
        if snapshot.default_provider == provider:
            reasons.append("it is the default_provider")
        if reasons:
            needed[provider] = " and ".join(reasons)
    return needed


def _version_text(tool: ToolVersion) -> str:
    return f"{tool.name} {tool.version}" if tool.version else tool.name


# -- rules ----------------------------------------------------------------------------------


def _inventory_seen(snapshot: HostSnapshot) -> str:
    if snapshot.inventory_error is not None:
        return "the inventory could not be read"
    return f"{_plural(len(snapshot.environments), 'environment')} in the inventory"


@rule(
    "host.inventory-unreadable",
    "error",
    "The inventory (SQLite file or PostgreSQL) can be read.",
    doc=(
        "kenv keeps every environment's ports and subnet in the inventory: without it, no environment can be "
        "created and the port and subnet checks have nothing to check."
    ),
    bad="db_url = postgresql://kenv@db:5432/kenv  (the server is down: connection refused)",
    good="db_url = postgresql://kenv@db:5432/kenv  (kenv db status: ok)",
    seen=_inventory_seen,
)
def inventory_unreadable(snapshot: HostSnapshot) -> Iterator[Finding]:
    if snapshot.inventory_error is None:
        return
    yield problem(
        "host.inventory-unreadable",
        "error",
        f"the inventory could not be read: {snapshot.inventory_error}",
        "kenv keeps every environment's ports and subnet there; the port and subnet checks were skipped.",
        "start the database or point db_url at a reachable one (`kenv config show`, `kenv db status`)",
        ("kenv db status",),
    )


def _docker_seen(snapshot: HostSnapshot) -> str:
    client = snapshot.tool("docker")
    engine = snapshot.docker_engine
    if not engine.reachable:
        return "the Docker engine does not answer"
    return f"Docker engine {engine.version} answers (client {(client.version if client else None) or 'unknown'})"


@rule(
    "host.docker-unreachable",
    "critical",
    "A Docker engine answers.",
    doc=(
        "Every cluster kenv runs (k3d, kind, minikube's docker driver) is a set of Docker containers: without an "
        "engine nothing can be created, started or inspected."
    ),
    bad="docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
    good="docker version: Server: Docker Engine - Community, Version: 27.5.1",
    seen=_docker_seen,
    needs=("docker-cli",),
)
def docker_unreachable(snapshot: HostSnapshot) -> Iterator[Finding]:
    engine = snapshot.docker_engine
    if engine.reachable:
        return
    if "permission denied" in engine.detail.lower():
        fix = "add yourself to the docker group (sudo usermod -aG docker $USER), then log in again"
        commands: tuple[str, ...] = ('sudo usermod -aG docker "$USER"',)
    else:
        fix = (
            "start the engine (Linux: the command below; macOS: start Docker Desktop or `colima start`), "
            "or point DOCKER_HOST / `docker context use` at a running one"
        )
        commands = ("sudo systemctl start docker",)
    yield problem(
        "host.docker-unreachable",
        "critical",
        f"the Docker engine does not answer: {engine.detail}",
        "Every cluster kenv runs is a set of Docker containers: nothing can be created, started or "
        "inspected without an engine, and subnets cannot be checked against Docker networks.",
        fix,
        commands,
    )


def _tools_seen(snapshot: HostSnapshot) -> str:
    return f"installed: {_names(t.name for t in snapshot.tools if t.found) or 'none'}"


@rule(
    "host.tool-missing",
    "critical",
    "The tools kenv drives (docker, kubectl, each provider's CLI in use) are installed.",
    doc=(
        "docker and kubectl are always needed, a provider's CLI (k3d, kind, minikube) when an environment or the "
        "default_provider uses it. A missing docker is critical, another missing tool in use an error, one "
        "nothing uses yet only info."
    ),
    bad="kind: command not found, while environment qa has provider kind",
    good="kind v0.27.0 go1.23.6 linux/amd64",
    seen=_tools_seen,
)
def tool_missing(snapshot: HostSnapshot) -> Iterator[Finding]:
    needed = required_tools(snapshot)
    for tool in snapshot.tools:
        if tool.found:
            continue
        hint = INSTALL_HINTS.get(tool.name, f"install {tool.name}")
        if tool.name in needed:
            yield problem(
                "host.tool-missing",
                "critical" if tool.name == "docker" else "error",
                f"{tool.name} is not installed (not on PATH), but {needed[tool.name]}",
                f"kenv runs {tool.name} for every operation on the environments that need it.",
                hint,
            )
        else:
            yield problem(
                "host.tool-missing",
                "info",
                f"{tool.name} is not installed; nothing uses it yet",
                f"Only environments with provider {tool.name} need it.",
                f"{hint}, before creating a {tool.name} environment",
            )


def _versions_seen(snapshot: HostSnapshot) -> str:
    fine = [_version_text(t) for t in snapshot.tools if t.found and t.supported]
    return f"tested versions: {_names(fine) or 'none'}"


@rule(
    "host.tool-unsupported",
    "warning",
    "Tool versions are within the tested ranges.",
    doc=(
        "kenv builds each tool's command line and parses its output as they are in the tested releases; other "
        "releases have renamed flags and changed output formats."
    ),
    bad="k3d version v4.4.8 (tested: >=5.4 <6)",
    good="k3d version v5.8.3",
    seen=_versions_seen,
)
def tool_unsupported(snapshot: HostSnapshot) -> Iterator[Finding]:
    needed = required_tools(snapshot)
    for tool in snapshot.tools:
        if not tool.found or tool.supported:
            continue
        tested = TESTED_RANGES[tool.name]
        yield problem(
            "host.tool-unsupported",
            "warning" if tool.name in needed else "info",
            tool.detail,
            f"kenv parses {tool.name}'s flags and output as they are in {tested}; others have changed them.",
            f"install {tool.name} {tested}: {INSTALL_HINTS.get(tool.name, 'see its documentation')}",
        )
    engine = snapshot.docker_engine
    if engine.reachable and not engine.supported:
        yield problem(
            "host.tool-unsupported",
            "warning",
            f"Docker {engine.detail}",
            "Older engines lack network and cgroup features the cluster nodes rely on.",
            f"upgrade the Docker engine to {TESTED_RANGES['docker']}",
        )


def _disk_text(disk: DiskFacts) -> str:
    free, total = _human_bytes(disk.free_bytes), _human_bytes(disk.total_bytes)
    return f"{disk.label} ({disk.path}): {free} free of {total}, {disk.used_percent:g}% used"


@rule(
    "host.disk-pressure",
    "error",
    "Enough free disk for nodes and images (warning above 85% used, error above 95%).",
    doc=(
        "kubelet evicts pods when a node's filesystem has less than 10% available, and image pulls fail on a "
        "full disk; the nodes' filesystems are the host's (kenv data dir, Docker root)."
    ),
    bad="Docker root (/var/lib/docker): 3.1 GiB free of 100.0 GiB, 97% used",
    good="Docker root (/var/lib/docker): 40.0 GiB free of 100.0 GiB, 60% used",
    seen=lambda snapshot: "; ".join(_disk_text(disk) for disk in snapshot.disks),
    needs=("disks",),
)
def disk_pressure(snapshot: HostSnapshot) -> Iterator[Finding]:
    for disk in snapshot.disks:
        if disk.used_percent <= DISK_WARNING_PERCENT:
            continue
        severity: Severity = "error" if disk.used_percent > DISK_ERROR_PERCENT else "warning"
        limit = DISK_ERROR_PERCENT if severity == "error" else DISK_WARNING_PERCENT
        yield problem(
            "host.disk-pressure",
            severity,
            f"disk almost full: {_disk_text(disk)} (above {limit:g}%)",
            "kubelet evicts pods when a node's filesystem has less than 10% available (the predecessor lost "
            "its database pod to disk-pressure eviction at 91%), and image pulls fail on a full disk. Used "
            "counts the blocks reserved for root, as kubelet does, so it can be more than df shows.",
            "free space: `docker system prune` removes stopped containers, unused networks and dangling images; "
            "`docker image prune --all` every image no container uses; or remove environments you no longer use",
            ("docker system prune",),
        )


def _inotify_seen(snapshot: HostSnapshot) -> str:
    return (
        f"max_user_watches={snapshot.inotify_max_user_watches}, "
        f"max_user_instances={snapshot.inotify_max_user_instances}"
    )


@rule(
    "host.inotify-low",
    "warning",
    f"inotify limits fit several clusters (max_user_watches >= {INOTIFY_MIN_WATCHES}, "
    f"max_user_instances >= {INOTIFY_MIN_INSTANCES}).",
    doc=(
        "Every node container's kubelet and containerd watch files; with the distribution defaults pods fail "
        "with 'too many open files' once a few clusters run (kind's known issue; k3d nodes hit it too)."
    ),
    bad="fs.inotify.max_user_instances = 128",
    good=f"fs.inotify.max_user_instances = {INOTIFY_MIN_INSTANCES}",
    seen=_inotify_seen,
    needs=("inotify",),
)
def inotify_low(snapshot: HostSnapshot) -> Iterator[Finding]:
    watches, instances = snapshot.inotify_max_user_watches, snapshot.inotify_max_user_instances
    low = []
    if watches is not None and watches < INOTIFY_MIN_WATCHES:
        low.append(("max_user_watches", watches, INOTIFY_MIN_WATCHES))
    if instances is not None and instances < INOTIFY_MIN_INSTANCES:
        low.append(("max_user_instances", instances, INOTIFY_MIN_INSTANCES))
    if not low:
        return
    # Only the low limits are raised: a host tuned above the minimum must not be lowered.
    settings = " ".join(f"fs.inotify.{name}={wanted}" for name, _, wanted in low)
    persist = f"printf '%s\\n' {settings} | sudo tee /etc/sysctl.d/99-kenv-inotify.conf"
    yield problem(
        "host.inotify-low",
        "warning",
        "inotify limits are low: " + ", ".join(f"{name}={have} (< {wanted})" for name, have, wanted in low),
        "Every node container's kubelet and containerd watch files; with these limits pods fail with "
        "'too many open files' once a few clusters run (kind's known issue; k3d nodes hit it too).",
        "raise the low limits now (sysctl), and keep them after a reboot (/etc/sysctl.d/99-kenv-inotify.conf)",
        (f"sudo sysctl {settings}", persist),
    )


def _port_problem(env: EnvironmentFacts, purpose: str, port: int) -> Finding:
    holder = (
        f"find the holder (the command below; macOS: `lsof -nP -iTCP:{port} -sTCP:LISTEN`) and stop it, "
        f"or re-register {env.name} with another --{purpose}-port"
    )
    commands = (f"ss -ltnp 'sport = :{port}'",)
    if env.status in STOPPED_STATUSES:
        return problem(
            "host.port-taken",
            "error",
            f"port {port} ({purpose} of environment {env.name!r}, {env.status}) is held by another process",
            f"{env.name} cannot start while something else listens on its {purpose} port.",
            holder,
            commands,
        )
    return problem(
        "host.port-taken",
        "warning",
        f"port {port} ({purpose} of environment {env.name!r}, status {env.status}) is bound by some process",
        f"kenv does not know whether {env.name} is running: if it is, its own cluster holds the port and all is "
        "well; if not, it cannot start until the holder goes.",
        holder,
        commands,
    )


def _ports_seen(snapshot: HostSnapshot) -> str:
    if not snapshot.environments:
        return "no environments in the inventory, so no allocated ports"
    running = sum(1 for env in snapshot.environments if env.status == "running")
    checked = sum(len(env.ports) for env in snapshot.environments if env.status != "running")
    summary = f"{_plural(checked, 'port')} of environments not running are free"
    if running:
        summary += f"; {running} running environment(s) not probed (their clusters hold their ports)"
    return summary


@rule(
    "host.port-taken",
    "error",
    "Allocated ports of environments that are not running are free.",
    doc=(
        "An environment's host ports (HTTP, HTTPS, API, port-forward) are published when it starts: another "
        "process listening on one makes the start fail. A running environment's own cluster holds them, which "
        "is fine; one in an unknown state is a warning."
    ),
    bad="qa (stopped) has http port 18007; `ss -ltnp 'sport = :18007'` shows python3 listening",
    good="qa (stopped) has http port 18007; nothing listens on it",
    seen=_ports_seen,
    needs=("inventory",),
)
def port_taken(snapshot: HostSnapshot) -> Iterator[Finding]:
    for env in snapshot.environments:
        if env.status == "running":
            # Its own cluster publishes these ports: bound is the expected state.
            continue
        for port in env.ports:
            if port.bindable is False:
                yield _port_problem(env, port.purpose, port.port)


def own_network_names(env: EnvironmentFacts) -> frozenset[str]:
    """The Docker networks a provider creates for the environment itself (its subnet lives there)."""
    network = facts_for(env.provider).network_name(env.name) if env.provider in CATALOGUE else None
    return frozenset({network}) if network else frozenset()


def _subnets_seen(snapshot: HostSnapshot) -> str:
    with_subnet = sum(1 for env in snapshot.environments if env.subnet)
    networks = len(snapshot.docker_networks or ())
    return f"{_plural(with_subnet, 'environment subnet')} checked against {_plural(networks, 'Docker network')}"


@rule(
    "host.subnet-clash",
    "error",
    "Environment subnets do not overlap other Docker networks.",
    doc=(
        "Creating an environment's network fails ('Pool overlaps with other one on this address space') when "
        "another Docker network (a VPN's, another tool's) holds part of its subnet; the environment's own "
        "network is no clash."
    ),
    bad="dev: 10.200.0.0/24; docker network corp-vpn: 10.200.0.0/16",
    good="dev: 10.200.0.0/24; docker network k3d-dev: 10.200.0.0/24 (its own)",
    seen=_subnets_seen,
    needs=("inventory", "docker-networks"),
)
def subnet_clash(snapshot: HostSnapshot) -> Iterator[Finding]:
    for env in snapshot.environments:
        if not env.subnet:
            continue
        subnet = ipaddress.ip_network(env.subnet, strict=False)
        for network in snapshot.docker_networks or ():
            if network.name in own_network_names(env):
                continue
            for other in network.subnets:
                if not subnet.overlaps(ipaddress.ip_network(other, strict=False)):
                    continue
                remove = f"docker network rm {shlex.quote(network.name)}"
                yield problem(
                    "host.subnet-clash",
                    "error",
                    f"subnet {subnet} of environment {env.name!r} overlaps Docker network {network.name!r} ({other})",
                    f"Creating {env.name}'s network fails ('Pool overlaps with other one on this address "
                    "space'), and containers attached to both would route those addresses the wrong way.",
                    f"remove network {network.name!r} if nothing uses it, or re-register {env.name} with another "
                    "--subnet",
                    (remove,),
                )


def no_proxy_requirements(snapshot: HostSnapshot) -> list[str]:
    """What NO_PROXY must cover: loopback, the environments' subnets, the in-cluster ranges and the
    apps' domain (it resolves to 127.0.0.1, which on the proxy's side is the proxy itself)."""
    in_cluster = sorted({network for facts in CATALOGUE.values() for network in facts.in_cluster()})
    return ["localhost", "127.0.0.1", snapshot.subnet_pool, *map(str, in_cluster), snapshot.base_domain]


def _covers(entry: str, required: str) -> bool:
    entry = entry.strip().lower()
    if entry == "*":
        return True
    try:
        wanted = ipaddress.ip_network(required, strict=False)
    except ValueError:
        # A host name: an entry covers it and, like curl and Go do, its subdomains.
        domain = entry.lstrip(".")
        return bool(domain) and (required == domain or required.endswith("." + domain))
    try:
        given = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    if isinstance(wanted, ipaddress.IPv4Network) and isinstance(given, ipaddress.IPv4Network):
        return wanted.subnet_of(given)
    if isinstance(wanted, ipaddress.IPv6Network) and isinstance(given, ipaddress.IPv6Network):
        return wanted.subnet_of(given)
    return False


def missing_no_proxy_entries(no_proxy: str, required: Iterable[str]) -> list[str]:
    entries = [item for item in no_proxy.split(",") if item.strip()]
    return [want for want in required if not any(_covers(entry, want) for entry in entries)]


PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")


def _no_proxy_source(snapshot: HostSnapshot) -> str:
    # Docker, kubectl, k3d, kind and minikube are Go programs: NO_PROXY wins over no_proxy there.
    return "no_proxy" if "NO_PROXY" not in snapshot.proxy and "no_proxy" in snapshot.proxy else "NO_PROXY"


def _proxy_seen(snapshot: HostSnapshot) -> str:
    if not any(name in snapshot.proxy for name in PROXY_VARIABLES):
        return "no HTTP(S)_PROXY set"
    source = _no_proxy_source(snapshot)
    if missing_no_proxy_entries(snapshot.proxy.get(source, ""), no_proxy_requirements(snapshot)):
        return f"{source} lacks entries"
    return f"{source} covers the local addresses, subnets and {snapshot.base_domain}"


@rule(
    "host.proxy-no-proxy",
    "warning",
    "NO_PROXY lets local traffic (API servers, node and pod addresses, the apps' domain) bypass the HTTP proxy.",
    doc=(
        "With HTTP(S)_PROXY set, every Go program (docker, kubectl, k3d, kind, minikube) sends what NO_PROXY "
        "does not cover to the proxy, which cannot reach 127.0.0.1, the node subnets or the apps' domain."
    ),
    bad="HTTPS_PROXY=http://proxy.corp:3128 and no NO_PROXY",
    good="HTTPS_PROXY=http://proxy.corp:3128 NO_PROXY=localhost,127.0.0.1,10.200.0.0/16,10.42.0.0/16,...",
    seen=_proxy_seen,
)
def proxy_no_proxy(snapshot: HostSnapshot) -> Iterator[Finding]:
    proxies = [name for name in PROXY_VARIABLES if name in snapshot.proxy]
    if not proxies:
        return
    source = _no_proxy_source(snapshot)
    current = snapshot.proxy.get(source, "")
    missing = missing_no_proxy_entries(current, no_proxy_requirements(snapshot))
    if not missing:
        return
    kept = [item.strip() for item in current.split(",") if item.strip()]
    value = shlex.quote(",".join([*kept, *missing]))
    gap = f"does not cover {_names(missing)}" if current else "is not set"
    command = f"export NO_PROXY={value} no_proxy={value}"
    yield problem(
        "host.proxy-no-proxy",
        "warning",
        f"{_names(proxies)} is set but {source} {gap}",
        "Requests to the clusters (API servers on 127.0.0.1, node and pod addresses, apps under "
        f"{snapshot.base_domain}) would go to the proxy, which cannot reach them: kubectl and image "
        "pulls time out or get errors from the proxy.",
        "let local traffic bypass the proxy: export NO_PROXY and no_proxy with the missing entries (add the "
        "line to your shell profile to keep it)",
        (command,),
    )


def _relative_to_roots(path: str, roots: Iterable[str]) -> str:
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def _scan_note(snapshot: HostSnapshot) -> str:
    scan = snapshot.scripts
    note = f" (stopped at the {scan.files_seen}-file cap)" if scan.capped else ""
    if scan.unreadable:
        note += f"; could not read {_some_names(scan.unreadable)}"
    return note


def _scripts_seen(snapshot: HostSnapshot) -> str:
    scan = snapshot.scripts
    found = f"{_plural(len(scan.crlf_files), 'CRLF script')}" if scan.crlf_files else "no CRLF scripts"
    return f"{found} among {_plural(scan.files_seen, 'file')} under {scan.root}{_scan_note(snapshot)}"


@rule(
    "host.crlf-script",
    "warning",
    "Shell scripts in the paths given with --scan have LF line endings.",
    doc=(
        "The shell reads a carriage return as part of each line: `/bin/bash^M: bad interpreter` or "
        "`$'\\r': command not found`. It usually comes from a checkout with core.autocrlf=true."
    ),
    bad="deploy.sh: #!/bin/bash\\r\\nset -eu\\r\\n",
    good="deploy.sh: #!/bin/bash\\nset -eu\\n  (and '*.sh text eol=lf' in .gitattributes)",
    seen=_scripts_seen,
    needs=("scan-paths",),
)
def crlf_script(snapshot: HostSnapshot) -> Iterator[Finding]:
    scan = snapshot.scripts
    if not scan.crlf_files:
        return
    listed = scan.crlf_files[:MAX_LISTED_SCRIPTS]
    more = len(scan.crlf_files) - len(listed)
    files = _names(listed) + (f" and {more} more" if more else "")
    patterns = ["*.sh"] if any(path.endswith(".sh") for path in listed) else []
    # .gitattributes patterns are relative to the repository: the scanned path, not where kenv ran.
    patterns += [_relative_to_roots(path, scan.roots) for path in listed if not path.endswith(".sh")]
    attributes = ", ".join(f"'{pattern} text eol=lf'" for pattern in patterns)
    sed = f"sed -i 's/\\r$//' {' '.join(shlex.quote(path) for path in listed)}"
    yield problem(
        "host.crlf-script",
        "warning",
        f"{_plural(len(scan.crlf_files), 'shell script')} under {scan.root} "
        f"{'has' if len(scan.crlf_files) == 1 else 'have'} CRLF line endings{_scan_note(snapshot)}: "
        f"{files}",
        "The shell reads the carriage return as part of each line: `/bin/bash^M: bad interpreter` or "
        "`$'\\r': command not found`. It usually comes from a checkout with core.autocrlf=true.",
        f"convert them to LF line endings (macOS: sed -i ''), and add {attributes} to .gitattributes so that "
        "checkouts keep them",
        (sed,),
    )


# -- running them ---------------------------------------------------------------------------

RULE_IDS = tuple(r.id for r in RULES)
SKIPPED_ON_REQUEST = "skipped on request (--skip)"


def _seen(rule_id: str, snapshot: HostSnapshot, found: int) -> str:
    try:
        return SEEN[rule_id](snapshot) if rule_id in SEEN else _plural(found, "finding")
    # What a rule saw is a courtesy: the rule's own crash, if any, is already a finding.
    except Exception:
        log.debug("what rule %s saw could not be said", rule_id, exc_info=True)
        return _plural(found, "finding")


def evaluate(
    snapshot: HostSnapshot, *, skip: Collection[str] = (), rules: Iterable[HostRule] | None = None
) -> HostReport:
    """Run the host rules (except those in `skip`) through the doctor's engine."""
    chosen = list(RULES if rules is None else rules)
    unknown = sorted(set(skip) - {r.id for r in chosen})
    if unknown:
        raise InvalidInput(
            f"unknown rule id(s): {_names(unknown)}", hint=f"known ids are {_names(r.id for r in chosen)}"
        )
    report = judge(snapshot, [r for r in chosen if r.id not in skip], has(snapshot))
    skipped = {s.rule: s for s in report.skipped}
    crashed = {f.object.rsplit("/", 1)[-1] for f in report.findings if f.rule == RULE_CRASHED}
    checks = []
    for host_rule in chosen:
        title = host_rule.summary
        if host_rule.id in skip:
            checks.append(CheckResult(host_rule.id, title, "skipped", SKIPPED_ON_REQUEST))
        elif host_rule.id in skipped:
            checks.append(CheckResult(host_rule.id, title, "skipped", missing_text(skipped[host_rule.id])))
        elif host_rule.id in crashed:
            checks.append(CheckResult(host_rule.id, title, "problem", "crashed"))
        else:
            found = [f for f in report.findings if f.rule == host_rule.id]
            status: Status = "problem" if any(f.severity != "info" for f in found) else "ok"
            checks.append(CheckResult(host_rule.id, title, status, _seen(host_rule.id, snapshot, len(found))))
    return HostReport(report, tuple(checks), snapshot)
