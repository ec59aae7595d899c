"""Host preflight rules: pure functions over a HostSnapshot.

Each rule has an id (`host.<what-is-wrong>`), a title saying what it checks, and returns a
Verdict: the problems it found (severity, what is wrong, why it matters, how to fix it) or, when
it passed, one line saying what it saw, so a clean run still shows what was checked. A rule whose
input is missing (no Docker engine, not Linux) is skipped, never silently passed. `evaluate` runs
every rule; one that crashes becomes a `host.rule-crashed` finding and the others still run.
"""

from __future__ import annotations

import ipaddress
import logging
import shlex
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from kenv.catalogue import CATALOGUE, facts_for
from kenv.doctor.findings import SCHEMA, SEVERITY_RANK, Fix
from kenv.doctor.findings import Finding as DoctorFinding
from kenv.doctor.host_snapshot import DiskFacts, EnvironmentFacts, HostSnapshot
from kenv.errors import InvalidInput
from kenv.runtime.process import INSTALL_HINTS
from kenv.runtime.tools import TESTED_RANGES, TOOLS, ToolVersion

log = logging.getLogger("kenv.doctor")

# The host rules use three of the doctor's four severities (nothing on a host is `critical`).
Severity = Literal["error", "warning", "info"]
# The object of every host finding (`Kind/namespace/name`, cluster-scoped form): this machine.
HOST_OBJECT = "Host//localhost"
Status = Literal["ok", "problem", "skipped"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

DISK_WARNING_PERCENT = 85.0
DISK_ERROR_PERCENT = 95.0
INOTIFY_MIN_WATCHES = 524288
INOTIFY_MIN_INSTANCES = 512
MAX_LISTED_SCRIPTS = 10
# Names listed in one finding before "and N more": a fleet of 200 must not make a 2,000-character line.
MAX_LISTED_NAMES = 5
RULE_CRASHED = "host.rule-crashed"
# Not running: nothing of the environment's own should hold its ports, so a holder is a stranger.
STOPPED_STATUSES = frozenset({"stopped", "failed", "absent"})


@dataclass(frozen=True)
class Problem:
    severity: Severity
    title: str  # one line: what is wrong
    explanation: str  # why it matters
    fix: str  # one line: how to fix it


@dataclass(frozen=True)
class Verdict:
    problems: tuple[Problem, ...] = ()
    summary: str = ""  # what the rule saw (shown when it passed or was skipped)
    skipped: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: Callable[[HostSnapshot], Verdict]


@dataclass(frozen=True)
class Finding:
    """One host problem as a rule found it; `as_doctor_finding` is the same problem as the cluster
    rules' `Finding` (kenv.doctor/v1), which is what `-o json` prints."""

    id: str
    severity: Severity
    title: str
    explanation: str
    fix: str

    def as_doctor_finding(self) -> DoctorFinding:
        return DoctorFinding(
            rule=self.id,
            severity=self.severity,
            object=HOST_OBJECT,
            summary=self.title,
            evidence=(self.explanation,),
            # kenv applies no host fix: the text says what to run, the user runs it
            fix=Fix(self.fix, (), "low", False),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "explanation": self.explanation,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "summary": self.summary}


@dataclass(frozen=True)
class HostReport:
    checks: tuple[CheckResult, ...]
    snapshot: HostSnapshot

    @property
    def findings(self) -> list[Finding]:
        found = [finding for check in self.checks for finding in check.findings]
        return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def problems_found(self) -> bool:
        """Errors or warnings; info findings are worth knowing but need no action."""
        return self.count("error") > 0 or self.count("warning") > 0

    def doctor_findings(self) -> list[DoctorFinding]:
        """The findings as the cluster rules' type, worst first, ids made unique (`#2`, ...)."""
        found = [f.as_doctor_finding() for f in self.findings]
        found.sort(key=lambda f: -SEVERITY_RANK[f.severity])
        seen: dict[str, int] = {}
        unique = []
        for finding in found:
            seen[finding.id] = seen.get(finding.id, 0) + 1
            unique.append(finding if seen[finding.id] == 1 else replace(finding, id=f"{finding.id}#{seen[finding.id]}"))
        return unique

    def to_dict(self) -> dict[str, Any]:
        """The `kenv.doctor/v1` document (the cluster diagnosis's keys first), then the checks
        that ran, the counts and the facts they judged."""
        return {
            "schema": SCHEMA,
            "findings": [finding.to_dict() for finding in self.doctor_findings()],
            "skipped": [{"rule": c.id, "needs": [c.summary]} for c in self.checks if c.status == "skipped"],
            "checks": [check.to_dict() for check in self.checks],
            "summary": {"errors": self.count("error"), "warnings": self.count("warning"), "info": self.count("info")},
            "snapshot": self.snapshot.to_dict(),
        }


RULES: list[Rule] = []


def rule(rule_id: str, title: str) -> Callable[[Callable[[HostSnapshot], Verdict]], Callable[[HostSnapshot], Verdict]]:
    def register(check: Callable[[HostSnapshot], Verdict]) -> Callable[[HostSnapshot], Verdict]:
        RULES.append(Rule(rule_id, title, check))
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


@rule("host.inventory-unreadable", "the inventory can be read")
def inventory_unreadable(snapshot: HostSnapshot) -> Verdict:
    if snapshot.inventory_error is None:
        return Verdict(summary=f"{_plural(len(snapshot.environments), 'environment')} in the inventory")
    return Verdict(
        problems=(
            Problem(
                "error",
                f"the inventory could not be read: {snapshot.inventory_error}",
                "kenv keeps every environment's ports and subnet there; the port and subnet checks were skipped.",
                "start the database or point db_url at a reachable one (`kenv config show`, `kenv db status`)",
            ),
        )
    )


@rule("host.docker-unreachable", "a Docker engine answers")
def docker_unreachable(snapshot: HostSnapshot) -> Verdict:
    client = snapshot.tool("docker")
    if client is None or not client.found:
        return Verdict(summary="docker is not installed (see host.tool-missing)", skipped=True)
    engine = snapshot.docker_engine
    if engine.reachable:
        return Verdict(summary=f"Docker engine {engine.version} answers (client {client.version or 'unknown'})")
    if "permission denied" in engine.detail.lower():
        fix = "add yourself to the docker group (sudo usermod -aG docker $USER), then log in again"
    else:
        fix = (
            "start the engine (Linux: sudo systemctl start docker; macOS: start Docker Desktop or `colima start`), "
            "or point DOCKER_HOST / `docker context use` at a running one"
        )
    return Verdict(
        problems=(
            Problem(
                "error",
                f"the Docker engine does not answer: {engine.detail}",
                "Every cluster kenv runs is a set of Docker containers: nothing can be created, started or "
                "inspected without an engine, and subnets cannot be checked against Docker networks.",
                fix,
            ),
        )
    )


@rule("host.tool-missing", "the tools kenv drives are installed")
def tool_missing(snapshot: HostSnapshot) -> Verdict:
    needed = required_tools(snapshot)
    problems = []
    for tool in snapshot.tools:
        if tool.found:
            continue
        hint = INSTALL_HINTS.get(tool.name, f"install {tool.name}")
        if tool.name in needed:
            problems.append(
                Problem(
                    "error",
                    f"{tool.name} is not installed (not on PATH), but {needed[tool.name]}",
                    f"kenv runs {tool.name} for every operation on the environments that need it.",
                    hint,
                )
            )
        else:
            problems.append(
                Problem(
                    "info",
                    f"{tool.name} is not installed; nothing uses it yet",
                    f"Only environments with provider {tool.name} need it.",
                    f"{hint}, before creating a {tool.name} environment",
                )
            )
    installed = [t.name for t in snapshot.tools if t.found]
    return Verdict(tuple(problems), summary=f"installed: {_names(installed) or 'none'}")


@rule("host.tool-unsupported", "tool versions are within the tested ranges")
def tool_unsupported(snapshot: HostSnapshot) -> Verdict:
    needed = required_tools(snapshot)
    problems = []
    for tool in snapshot.tools:
        if not tool.found or tool.supported:
            continue
        tested = TESTED_RANGES[tool.name]
        severity: Severity = "warning" if tool.name in needed else "info"
        problems.append(
            Problem(
                severity,
                tool.detail,
                f"kenv parses {tool.name}'s flags and output as they are in {tested}; others have changed them.",
                f"install {tool.name} {tested}: {INSTALL_HINTS.get(tool.name, 'see its documentation')}",
            )
        )
    engine = snapshot.docker_engine
    if engine.reachable and not engine.supported:
        problems.append(
            Problem(
                "warning",
                f"Docker {engine.detail}",
                "Older engines lack network and cgroup features the cluster nodes rely on.",
                f"upgrade the Docker engine to {TESTED_RANGES['docker']}",
            )
        )
    fine = [_version_text(t) for t in snapshot.tools if t.found and t.supported]
    return Verdict(tuple(problems), summary=f"tested versions: {_names(fine) or 'none'}")


def _disk_text(disk: DiskFacts) -> str:
    free, total = _human_bytes(disk.free_bytes), _human_bytes(disk.total_bytes)
    return f"{disk.label} ({disk.path}): {free} free of {total}, {disk.used_percent:g}% used"


@rule("host.disk-pressure", "enough free disk for nodes and images")
def disk_pressure(snapshot: HostSnapshot) -> Verdict:
    if not snapshot.disks:
        return Verdict(summary="no filesystem could be measured", skipped=True)
    problems = []
    for disk in snapshot.disks:
        if disk.used_percent <= DISK_WARNING_PERCENT:
            continue
        severity: Severity = "error" if disk.used_percent > DISK_ERROR_PERCENT else "warning"
        limit = DISK_ERROR_PERCENT if severity == "error" else DISK_WARNING_PERCENT
        problems.append(
            Problem(
                severity,
                f"disk almost full: {_disk_text(disk)} (above {limit:g}%)",
                "kubelet evicts pods when a node's filesystem has less than 10% available (the predecessor lost "
                "its database pod to disk-pressure eviction at 91%), and image pulls fail on a full disk. Used "
                "counts the blocks reserved for root, as kubelet does, so it can be more than df shows.",
                "free space: `docker system prune` (stopped containers, unused networks, dangling images), "
                "`docker image prune --all`, or remove environments you no longer use",
            )
        )
    return Verdict(tuple(problems), summary="; ".join(_disk_text(disk) for disk in snapshot.disks))


@rule("host.inotify-low", "inotify limits fit several clusters")
def inotify_low(snapshot: HostSnapshot) -> Verdict:
    watches, instances = snapshot.inotify_max_user_watches, snapshot.inotify_max_user_instances
    if watches is None and instances is None:
        return Verdict(summary="inotify limits not readable here (not Linux); nothing to check", skipped=True)
    low = []
    if watches is not None and watches < INOTIFY_MIN_WATCHES:
        low.append(("max_user_watches", watches, INOTIFY_MIN_WATCHES))
    if instances is not None and instances < INOTIFY_MIN_INSTANCES:
        low.append(("max_user_instances", instances, INOTIFY_MIN_INSTANCES))
    seen = f"max_user_watches={watches}, max_user_instances={instances}"
    if not low:
        return Verdict(summary=seen)
    # Only the low limits are raised: a host tuned above the minimum must not be lowered.
    settings = " ".join(f"fs.inotify.{name}={wanted}" for name, _, wanted in low)
    return Verdict(
        problems=(
            Problem(
                "warning",
                "inotify limits are low: " + ", ".join(f"{name}={have} (< {wanted})" for name, have, wanted in low),
                "Every node container's kubelet and containerd watch files; with these limits pods fail with "
                "'too many open files' once a few clusters run (kind's known issue; k3d nodes hit it too).",
                f"sudo sysctl {settings}; to keep it after a reboot: printf '%s\\n' {settings} "
                "| sudo tee /etc/sysctl.d/99-kenv-inotify.conf",
            ),
        ),
        summary=seen,
    )


def _port_problem(env: EnvironmentFacts, purpose: str, port: int) -> Problem:
    holder = (
        f"find the holder with `ss -ltnp 'sport = :{port}'` (macOS: `lsof -nP -iTCP:{port} -sTCP:LISTEN`) "
        f"and stop it, or re-register {env.name} with another --{purpose}-port"
    )
    if env.status in STOPPED_STATUSES:
        return Problem(
            "error",
            f"port {port} ({purpose} of environment {env.name!r}, {env.status}) is held by another process",
            f"{env.name} cannot start while something else listens on its {purpose} port.",
            holder,
        )
    return Problem(
        "warning",
        f"port {port} ({purpose} of environment {env.name!r}, status {env.status}) is bound by some process",
        f"kenv does not know whether {env.name} is running: if it is, its own cluster holds the port and all is "
        "well; if not, it cannot start until the holder goes.",
        holder,
    )


@rule("host.port-taken", "allocated ports of stopped environments are free")
def port_taken(snapshot: HostSnapshot) -> Verdict:
    if snapshot.inventory_error is not None:
        return Verdict(summary="inventory unreadable (see host.inventory-unreadable)", skipped=True)
    problems = []
    checked = 0
    running = 0
    for env in snapshot.environments:
        if env.status == "running":
            # Its own cluster publishes these ports: bound is the expected state.
            running += 1
            continue
        for port in env.ports:
            checked += 1
            if port.bindable is False:
                problems.append(_port_problem(env, port.purpose, port.port))
    if not snapshot.environments:
        return Verdict(summary="no environments in the inventory, so no allocated ports")
    summary = f"{_plural(checked, 'port')} of environments not running are free"
    if running:
        summary += f"; {running} running environment(s) not probed (their clusters hold their ports)"
    return Verdict(tuple(problems), summary=summary)


def own_network_names(env: EnvironmentFacts) -> frozenset[str]:
    """The Docker networks a provider creates for the environment itself (its subnet lives there)."""
    network = facts_for(env.provider).network_name(env.name) if env.provider in CATALOGUE else None
    return frozenset({network}) if network else frozenset()


@rule("host.subnet-clash", "environment subnets do not overlap other Docker networks")
def subnet_clash(snapshot: HostSnapshot) -> Verdict:
    if snapshot.inventory_error is not None:
        return Verdict(summary="inventory unreadable (see host.inventory-unreadable)", skipped=True)
    if snapshot.docker_networks is None:
        return Verdict(summary="no Docker engine answered, so there are no networks to compare", skipped=True)
    problems = []
    with_subnet = [env for env in snapshot.environments if env.subnet]
    for env in with_subnet:
        assert env.subnet is not None
        subnet = ipaddress.ip_network(env.subnet, strict=False)
        for network in snapshot.docker_networks:
            if network.name in own_network_names(env):
                continue
            for other in network.subnets:
                if not subnet.overlaps(ipaddress.ip_network(other, strict=False)):
                    continue
                problems.append(
                    Problem(
                        "error",
                        f"subnet {subnet} of environment {env.name!r} overlaps Docker network {network.name!r} "
                        f"({other})",
                        f"Creating {env.name}'s network fails ('Pool overlaps with other one on this address "
                        "space'), and containers attached to both would route those addresses the wrong way.",
                        f"remove that network if nothing uses it (docker network rm {shlex.quote(network.name)}), "
                        f"or re-register {env.name} with another --subnet",
                    )
                )
    networks = len(snapshot.docker_networks)
    summary = f"{_plural(len(with_subnet), 'environment subnet')} checked against {_plural(networks, 'Docker network')}"
    return Verdict(tuple(problems), summary=summary)


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


@rule("host.proxy-no-proxy", "NO_PROXY lets local traffic bypass the HTTP proxy")
def proxy_no_proxy(snapshot: HostSnapshot) -> Verdict:
    proxies = [name for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy") if name in snapshot.proxy]
    if not proxies:
        return Verdict(summary="no HTTP(S)_PROXY set")
    # Docker, kubectl, k3d, kind and minikube are Go programs: NO_PROXY wins over no_proxy there.
    source = "no_proxy" if "NO_PROXY" not in snapshot.proxy and "no_proxy" in snapshot.proxy else "NO_PROXY"
    current = snapshot.proxy.get(source, "")
    missing = missing_no_proxy_entries(current, no_proxy_requirements(snapshot))
    if not missing:
        return Verdict(summary=f"{source} covers the local addresses, subnets and {snapshot.base_domain}")
    kept = [item.strip() for item in current.split(",") if item.strip()]
    value = shlex.quote(",".join([*kept, *missing]))
    gap = f"does not cover {_names(missing)}" if current else "is not set"
    return Verdict(
        problems=(
            Problem(
                "warning",
                f"{_names(proxies)} is set but {source} {gap}",
                "Requests to the clusters (API servers on 127.0.0.1, node and pod addresses, apps under "
                f"{snapshot.base_domain}) would go to the proxy, which cannot reach them: kubectl and image "
                "pulls time out or get errors from the proxy.",
                f"export NO_PROXY={value} no_proxy={value} (add it to your shell profile)",
            ),
        )
    )


def _relative_to_roots(path: str, roots: Iterable[str]) -> str:
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


@rule("host.crlf-script", "shell scripts have LF line endings")
def crlf_script(snapshot: HostSnapshot) -> Verdict:
    scan = snapshot.scripts
    if scan.root is None:
        return Verdict(summary="nothing to scan: name the paths you deploy from with --scan PATH", skipped=True)
    capped = f" (stopped at the {scan.files_seen}-file cap)" if scan.capped else ""
    if scan.unreadable:
        capped += f"; could not read {_some_names(scan.unreadable)}"
    if not scan.crlf_files:
        return Verdict(summary=f"no CRLF scripts among {_plural(scan.files_seen, 'file')} under {scan.root}{capped}")
    listed = scan.crlf_files[:MAX_LISTED_SCRIPTS]
    more = len(scan.crlf_files) - len(listed)
    files = _names(listed) + (f" and {more} more" if more else "")
    patterns = ["*.sh"] if any(path.endswith(".sh") for path in listed) else []
    # .gitattributes patterns are relative to the repository: the scanned path, not where kenv ran.
    patterns += [_relative_to_roots(path, scan.roots) for path in listed if not path.endswith(".sh")]
    attributes = ", ".join(f"'{pattern} text eol=lf'" for pattern in patterns)
    quoted = " ".join(shlex.quote(path) for path in listed)
    return Verdict(
        problems=(
            Problem(
                "warning",
                f"{_plural(len(scan.crlf_files), 'shell script')} under {scan.root} "
                f"{'has' if len(scan.crlf_files) == 1 else 'have'} CRLF line endings{capped}: "
                f"{files}",
                "The shell reads the carriage return as part of each line: `/bin/bash^M: bad interpreter` or "
                "`$'\\r': command not found`. It usually comes from a checkout with core.autocrlf=true.",
                f"sed -i 's/\\r$//' {quoted} (macOS: sed -i ''); add {attributes} to .gitattributes",
            ),
        )
    )


# -- engine ---------------------------------------------------------------------------------

RULE_IDS = (*(r.id for r in RULES), RULE_CRASHED)


def _run_rule(host_rule: Rule, snapshot: HostSnapshot) -> CheckResult:
    try:
        verdict = host_rule.check(snapshot)
    # Any exception: one broken rule must not hide what the others find.
    except Exception as exc:
        log.debug("rule %s crashed", host_rule.id, exc_info=True)
        crash = Finding(
            RULE_CRASHED,
            "warning",
            f"rule {host_rule.id} crashed ({type(exc).__name__}: {exc}), so it was not checked",
            "This is a bug in kenv; the other checks ran.",
            "rerun with --debug for the traceback and report it",
        )
        return CheckResult(host_rule.id, host_rule.title, "problem", "crashed", (crash,))
    findings = tuple(
        Finding(host_rule.id, p.severity, p.title, p.explanation, p.fix)
        for p in sorted(verdict.problems, key=lambda p: SEVERITY_ORDER[p.severity])
    )
    if verdict.skipped:
        status: Status = "skipped"
    elif any(f.severity != "info" for f in findings):
        status = "problem"
    else:
        status = "ok"
    summary = verdict.summary or _plural(len(findings), "finding")
    return CheckResult(host_rule.id, host_rule.title, status, summary, findings)


def evaluate(snapshot: HostSnapshot, *, skip: Collection[str] = (), rules: Iterable[Rule] | None = None) -> HostReport:
    """Run every rule (except those in `skip`, reported as skipped) over the snapshot."""
    chosen = list(RULES if rules is None else rules)
    unknown = sorted(set(skip) - {r.id for r in chosen})
    if unknown:
        raise InvalidInput(
            f"unknown rule id(s): {_names(unknown)}", hint=f"known ids are {_names(r.id for r in chosen)}"
        )
    checks = []
    for host_rule in chosen:
        if host_rule.id in skip:
            checks.append(CheckResult(host_rule.id, host_rule.title, "skipped", "skipped on request (--skip)"))
        else:
            checks.append(_run_rule(host_rule, snapshot))
    return HostReport(tuple(checks), snapshot)
