"""kenv apply -f FILE: a YAML list of environments as desired state.

Creates what is missing (concurrently with --parallel), changes in place what differs and can be
(labels, role), reports what differs and needs the environment recreated (and recreates it with
--recreate), reports what exists but is not listed, and removes it with --prune.

The whole file is validated before anything changes: each entry, the entries against each other,
then against the inventory, by allocating every new entry in one transaction that is rolled
back. The real run then records the new entries in file order, so the ports and subnets the dry
run shows are the ones they get, whatever order --parallel finishes them in.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import MANAGEMENT_NAME, PORT_PURPOSES, Environment
from kenv.inventory.repository import (
    DockerNetworkLike,
    NoHostChecks,
    check_port_free,
    check_subnet_free,
    ensure_ports_spec,
)
from kenv.inventory.validation import (
    Auto,
    EnvironmentSpec,
    PortChoice,
    SubnetChoice,
    check_spec,
    parse_labels,
    parse_port_choice,
    parse_subnet_choice,
)
from kenv.runtime.host import LiveHostProbe
from kenv.settings import Settings
from kenv.workflows.context import WorkflowContext
from kenv.workflows.create import CreateRequest, create_environment, update_labels
from kenv.workflows.delete import DeleteRequest, delete_environment
from kenv.workflows.engine import WorkflowResult

FIELDS = {
    "name",
    "provider",
    "role",
    "subnet",
    "http_port",
    "https_port",
    "pf_port",
    "api_port",
    "node_port",
    "servers",
    "agents",
    "k8s_version",
    "labels",
}


@dataclass(frozen=True)
class Desired:
    spec: EnvironmentSpec
    explicit: frozenset[str]


def parse_desired(text: str, source: str, *, default_provider: str, default_node_port: int) -> list[Desired]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise InvalidInput(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if isinstance(data, dict) and set(data) == {"environments"}:
        data = data["environments"]
    if not isinstance(data, list):
        raise InvalidInput(f"{source}: expected a list of environments (or `environments:` holding one)")
    desired = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        where = f"{source}: environments[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: expected a mapping with at least `name`")
        unknown = sorted(set(map(str, item)) - FIELDS)
        if unknown:
            raise InvalidInput(
                f"{where}: unknown field(s) {', '.join(unknown)}", hint=f"known: {', '.join(sorted(FIELDS))}"
            )
        try:
            spec, explicit = _spec(item, default_provider, default_node_port)
        except KenvError as exc:
            raise InvalidInput(f"{where}: {exc.message}", hint=exc.hint) from exc
        if spec.name in seen:
            raise InvalidInput(f"{where}: {spec.name!r} is listed twice")
        seen.add(spec.name)
        desired.append(Desired(spec, explicit))
    check_entries_agree(desired, source)
    return desired


def check_entries_agree(desired: list[Desired], source: str) -> None:
    """Values the file gives on purpose must not clash between its own entries: a host port is
    held by one environment (whatever its purpose), subnets do not overlap."""
    ports: dict[int, tuple[int, str]] = {}
    subnets: list[tuple[int, ipaddress.IPv4Network]] = []
    for index, item in enumerate(desired):
        where = f"{source}: environments[{index}] ({item.spec.name})"
        for purpose, choice in item.spec.ports:
            if not isinstance(choice, int):
                continue
            if choice in ports:
                other, other_purpose = ports[choice]
                raise InvalidInput(
                    f"{where}: {purpose}_port {choice} is also {other_purpose}_port of environments[{other}] "
                    f"({desired[other].spec.name})",
                    hint="a host port belongs to one environment; change one or use auto",
                )
            ports[choice] = (index, purpose)
        subnet = item.spec.subnet
        if isinstance(subnet, ipaddress.IPv4Network):
            for other, network in subnets:
                if network.overlaps(subnet):
                    raise InvalidInput(
                        f"{where}: subnet {subnet} overlaps {network} of environments[{other}] "
                        f"({desired[other].spec.name})",
                        hint="give each environment its own subnet, or use auto",
                    )
            subnets.append((index, subnet))


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"{what} must be a string or number, not {type(value).__name__}")
    return str(value)


def _int(item: dict[str, Any], key: str, default: int) -> int:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{key} must be a whole number")
    return value


def _spec(
    item: dict[str, Any], default_provider: str, default_node_port: int
) -> tuple[EnvironmentSpec, frozenset[str]]:
    name = _text(item.get("name", ""), "name")
    provider = _text(item.get("provider", default_provider), "provider")
    subnet_value = item.get("subnet")
    subnet = parse_subnet_choice(None if subnet_value is None else _text(subnet_value, "subnet"), provider)
    ports = {
        purpose: parse_port_choice(_text(item[f"{purpose}_port"], f"{purpose}_port"), f"{purpose} port")
        for purpose in ("http", "https", "pf", "api")
        if item.get(f"{purpose}_port") is not None
    }
    labels = item.get("labels") or {}
    if not isinstance(labels, dict):
        raise InvalidInput("labels must be a mapping of key: value")
    servers, agents = _int(item, "servers", 1), _int(item, "agents", 0)
    spec = EnvironmentSpec(
        name=name,
        provider=provider,
        role=_text(item.get("role", "business"), "role"),
        subnet=subnet,
        ports=ensure_ports_spec(ports, provider, servers + agents),
        node_port=_int(item, "node_port", default_node_port),
        servers=servers,
        agents=agents,
        k8s_version=str(item["k8s_version"]) if item.get("k8s_version") else None,
        labels=tuple(parse_labels([f"{k}={v}" for k, v in labels.items()]).items()),
    )
    check_spec(spec)
    explicit = frozenset(k for k in item if k != "name") | frozenset(f"{p}_port" for p in ports)
    return spec, explicit


# What changes in place (kenv's own metadata); every other difference needs the cluster made again.
IN_PLACE = frozenset({"labels"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    recorded: Any
    desired: Any
    in_place: bool

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "recorded": self.recorded, "desired": self.desired, "in_place": self.in_place}

    def text(self) -> str:
        return f"{self.field} {_show_text(self.recorded)} -> {_show_text(self.desired)}"


@dataclass
class Entry:
    """What applying one listed environment does."""

    desired: Desired
    # create (no record) | resume (recorded, not running) | update (in place) | recreate |
    # needs-recreate (differs, no --recreate) | none
    action: str
    changes: list[FieldChange] = field(default_factory=list)
    record: Environment | None = None
    allocated: Environment | None = None  # a new entry's record as the plan allocated it
    target: EnvironmentSpec | None = None  # what a recreate makes

    @property
    def name(self) -> str:
        return self.desired.spec.name

    @property
    def in_place(self) -> list[FieldChange]:
        return [c for c in self.changes if c.in_place]

    @property
    def recreate_fields(self) -> list[FieldChange]:
        return [c for c in self.changes if not c.in_place]

    def to_dict(self) -> dict[str, Any]:
        ports: dict[str, Any] | None = None
        subnet: Any = None
        if self.target is not None:
            # A recreate takes again what it holds, so these are the values it gets ("auto": a new
            # provider needs a port the old one did not have, chosen when it is recorded).
            ports = {p: "auto" if isinstance(c, Auto) else c for p, c in sorted(self.target.ports) if c is not None}
            subnet = "auto" if isinstance(self.target.subnet, Auto) else self.target.subnet
        else:
            shown = self.allocated or self.record
            ports = dict(sorted(shown.ports.items())) if shown else None
            subnet = shown.subnet if shown else None
        return {
            "environment": self.name,
            "action": self.action,
            "changes": [c.to_dict() for c in self.changes],
            "ports": ports,
            "subnet": None if subnet is None else str(subnet),
        }


def _show(value: Any) -> Any:
    if isinstance(value, ipaddress.IPv4Network):
        return str(value)
    if isinstance(value, dict):
        return dict(sorted(value.items()))
    return value


def _show_text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items())) or "(none)"
    return "none" if value is None else str(value)


def _desired_values(spec: EnvironmentSpec) -> dict[str, Any]:
    return {
        "provider": spec.provider,
        "role": spec.role,
        "subnet": spec.subnet,
        "node_port": spec.node_port,
        "servers": spec.servers,
        "agents": spec.agents,
        "k8s_version": spec.k8s_version,
        "labels": dict(spec.labels),
        **{f"{purpose}_port": choice for purpose, choice in spec.ports},
    }


def _recorded_values(env: Environment) -> dict[str, Any]:
    return {
        "provider": env.provider,
        "role": env.role,
        "subnet": env.subnet,
        "node_port": env.node_port,
        "servers": env.servers,
        "agents": env.agents,
        "k8s_version": env.k8s_version,
        "labels": dict(env.labels),
        **{f"{purpose}_port": env.port(purpose) for purpose in PORT_PURPOSES},
    }


def diff(env: Environment, item: Desired) -> list[FieldChange]:
    """What the file says on purpose and the record does not have; a field the file leaves out (or
    gives as auto) accepts whatever the record holds."""
    desired, recorded = _desired_values(item.spec), _recorded_values(env)
    changes = []
    for key in sorted(item.explicit):
        if key not in desired or isinstance(desired[key], Auto):
            continue
        if desired[key] != recorded[key]:
            changes.append(FieldChange(key, _show(recorded[key]), _show(desired[key]), key in IN_PLACE))
    return changes


def plan_entries(existing: dict[str, Environment], desired: list[Desired], *, recreate: bool) -> list[Entry]:
    """Pure: the action for each listed environment, given the records."""
    entries = []
    for item in desired:
        env = existing.get(item.spec.name)
        if env is None:
            entries.append(Entry(item, "create"))
            continue
        changes = diff(env, item)
        if any(not c.in_place for c in changes):
            action = "recreate" if recreate else "needs-recreate"
        elif env.status != "running":
            action = "resume"
        elif changes:
            action = "update"
        else:
            action = "none"
        entries.append(Entry(item, action, changes, env))
    return entries


def not_listed(existing: dict[str, Environment], desired: list[Desired]) -> list[str]:
    listed = {d.spec.name for d in desired}
    return sorted(n for n, e in existing.items() if n not in listed and e.role != "management" and n != MANAGEMENT_NAME)


def recreate_spec(env: Environment, item: Desired) -> EnvironmentSpec:
    """The environment made again: what the file says on purpose, the record for everything else,
    including the host ports and subnet it already holds (freed by the delete, taken again)."""
    spec, explicit = item.spec, item.explicit
    provider = spec.provider if "provider" in explicit else env.provider
    servers = spec.servers if "servers" in explicit else env.servers
    agents = spec.agents if "agents" in explicit else env.agents
    defaults = dict(ensure_ports_spec({}, provider, servers + agents))
    asked = spec.port_choices()
    ports: dict[str, PortChoice] = {}
    for purpose in PORT_PURPOSES:
        choice = asked.get(purpose)
        if f"{purpose}_port" in explicit and not isinstance(choice, Auto):
            ports[purpose] = choice
        elif defaults[purpose] is not None and env.port(purpose) is not None:
            ports[purpose] = env.port(purpose)
        else:
            ports[purpose] = defaults[purpose]
    subnet: SubnetChoice = parse_subnet_choice(None, provider)
    if "subnet" in explicit and not isinstance(spec.subnet, Auto):
        subnet = spec.subnet
    elif subnet is not None and env.subnet is not None:
        subnet = env.subnet
    return check_spec(
        EnvironmentSpec(
            name=env.name,
            provider=provider,
            role=spec.role if "role" in explicit else env.role,
            subnet=subnet,
            ports=tuple((p, ports[p]) for p in PORT_PURPOSES),
            node_port=spec.node_port if "node_port" in explicit else env.node_port,
            servers=servers,
            agents=agents,
            k8s_version=spec.k8s_version if "k8s_version" in explicit else env.k8s_version,
            labels=spec.labels if "labels" in explicit else tuple(sorted(env.labels.items())),
        )
    )


def _check_recreate_free(ctx: WorkflowContext, entry: Entry, spec: EnvironmentSpec) -> None:
    """The values a recreated environment asks for are free, its own current ones aside."""
    assert entry.record is not None
    inventory = ctx.inventory()
    own = set(entry.record.ports.values())
    holders = {port: held for port, held in inventory.port_holders().items() if held[0] != entry.name}
    probe = LiveHostProbe(ctx.runner) if spec.check_host else NoHostChecks()
    for purpose, choice in spec.ports:
        if isinstance(choice, int):
            check_port_free(choice, purpose, holders, NoHostChecks() if choice in own else probe)
    if isinstance(spec.subnet, ipaddress.IPv4Network):
        check_subnet_free(spec.subnet, inventory.subnet_holders(), [], ignore=entry.name)


def _allocate(ctx: WorkflowContext, entries: list[Entry], source: str, probe: LiveHostProbe) -> None:
    """Allocate every new entry, in file order, in the current transaction (the caller rolls it
    back): each sees what the ones before it took, as the real run will."""
    inventory = ctx.inventory()
    docker: list[DockerNetworkLike] = (
        list(probe.docker_networks() or []) if any(e.desired.spec.subnet is not None for e in entries) else []
    )
    for entry in entries:
        spec = entry.desired.spec
        host = probe if spec.check_host else NoHostChecks()
        try:
            # The allocation register() runs, inside a transaction shared by the whole file.
            entry.allocated = inventory.insert_new(spec, ctx.policy(), host, docker)
        except InvalidInput as exc:
            raise InvalidInput(f"{source}: {spec.name}: {exc.message}", hint=exc.hint) from exc


@dataclass
class _Plan:
    entries: list[Entry]
    extra: list[str]


def _validate(ctx: WorkflowContext, desired: list[Desired], source: str, *, recreate: bool) -> _Plan:
    inventory = ctx.inventory()
    existing = {e.name: e for e in inventory.environments()}
    entries = plan_entries(existing, desired, recreate=recreate)
    for entry in entries:
        if entry.action == "recreate" and entry.record is not None:
            try:
                entry.target = recreate_spec(entry.record, entry.desired)
                _check_recreate_free(ctx, entry, entry.target)
            except InvalidInput as exc:
                raise InvalidInput(f"{source}: {entry.name}: {exc.message}", hint=exc.hint) from exc
    # Tools first: a missing one must leave nothing recorded.
    for provider in sorted({_provider_of(e) for e in entries if e.action in ("create", "resume", "recreate")}):
        ctx.ensure_tools(provider)
    return _Plan(entries, not_listed(existing, desired))


def _provider_of(entry: Entry) -> str:
    if entry.record is not None and "provider" not in entry.desired.explicit:
        return entry.record.provider
    return entry.desired.spec.provider


def apply(
    ctx: WorkflowContext,
    desired: list[Desired],
    *,
    prune: bool,
    parallel: int,
    timeout: float,
    recreate: bool = False,
    source: str = "file",
) -> dict[str, Any]:
    plan = _validate(ctx, desired, source, recreate=recreate)
    new = [e for e in plan.entries if e.action == "create"]
    inventory = ctx.inventory()
    probe = LiveHostProbe(ctx.runner)  # asks Docker for its networks once
    if ctx.dry_run:
        # One transaction for the whole plan, rolled back: every create's plan sees the records
        # of the entries before it, so each shows the ports and subnet it would really get. It
        # runs on this thread: another thread's connection would not see these records.
        with inventory.db.write(commit=False):
            _allocate(ctx, new, source, probe)
            results = [_act_or_fail(ctx, entry, timeout) for entry in plan.entries if entry.action != "none"]
    else:
        with inventory.db.write(commit=False):
            _allocate(ctx, new, source, probe)
        for entry in new:  # in file order, as the plan allocated them (register logs itself)
            entry.allocated = inventory.register(entry.desired.spec, ctx.policy(), probe)
        results = _act_all(ctx, plan.entries, parallel, timeout)
    deleted: list[WorkflowResult] = []
    if prune:
        for name in plan.extra:
            with ctx.recorded("delete", name) as outcome:
                deleted.append(delete_environment(ctx, DeleteRequest(name)))
                outcome.of(deleted[-1])
    created = [r for r in results if r.workflow == "create" and _action(plan, r.environment) in ("create", "resume")]
    recreated = [r for r in results if _action(plan, r.environment) == "recreate"]
    updated = [e.name for e in plan.entries if e.in_place and e.action != "recreate"]
    waiting = [e.name for e in plan.entries if e.action == "needs-recreate"]
    changed = any(e.action != "none" for e in plan.entries) or (prune and bool(plan.extra))
    return {
        "dry_run": ctx.dry_run,
        "created": sorted((r.to_dict() for r in created), key=lambda r: str(r["environment"])),
        "unchanged": sorted(e.name for e in plan.entries if e.action == "none"),
        "not_listed": plan.extra,
        "pruned": [r.to_dict() for r in deleted],
        "ok": all(r.ok for r in results) and all(r.ok for r in deleted),
        "entries": [e.to_dict() for e in plan.entries],
        "updated": sorted(updated),
        "recreated": sorted((r.to_dict() for r in recreated), key=lambda r: str(r["environment"])),
        "needs_recreate": sorted(waiting),
        "changed": changed,
        "failed": [
            {"environment": r.environment, "workflow": r.workflow, "error": r.error}
            for r in sorted([*results, *deleted], key=lambda r: r.environment)
            if not r.ok
        ],
    }


def _action(plan: _Plan, name: str) -> str:
    return next((e.action for e in plan.entries if e.name == name), "none")


def _act_all(ctx: WorkflowContext, entries: list[Entry], parallel: int, timeout: float) -> list[WorkflowResult]:
    acting = [e for e in entries if e.action != "none"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="kenv-apply") as pool:
        futures = [pool.submit(_act_or_fail, ctx, entry, timeout) for entry in acting]
        return [future.result() for future in concurrent.futures.as_completed(futures)]


def _act_or_fail(ctx: WorkflowContext, entry: Entry, timeout: float) -> WorkflowResult:
    """One entry's failure (a refused record, a busy environment) is its result, not the run's end."""
    try:
        return _act(ctx, entry, timeout)
    except KenvError as exc:
        failed = WorkflowResult(_workflow_of(entry), entry.name, ctx.dry_run)
        failed.fail(exc.one_line(), exc.exit_code)
        return failed


def _workflow_of(entry: Entry) -> str:
    return {"update": "update", "needs-recreate": "update", "recreate": "recreate"}.get(entry.action, "create")


def _act(ctx: WorkflowContext, entry: Entry, timeout: float) -> WorkflowResult:
    """One listed environment: labels in place, then create, resume or recreate."""
    # A resumed create changes the labels itself (create compares them with the record).
    if entry.action in ("update", "needs-recreate") and entry.in_place:
        assert entry.record is not None
        with ctx.recorded("update", entry.name) as outcome:
            outcome.detail = "; ".join(c.text() for c in entry.in_place)
            entry.record = update_labels(ctx, entry.record, dict(entry.desired.spec.labels))
    if entry.action in ("update", "needs-recreate"):
        result = WorkflowResult(_workflow_of(entry), entry.name, ctx.dry_run)
        if entry.action == "needs-recreate":
            result.error = "needs recreating: " + "; ".join(c.text() for c in entry.recreate_fields)
        return result
    if entry.action == "recreate":
        return _recreate(ctx, entry, timeout)
    request = CreateRequest(
        spec=entry.desired.spec,
        explicit=entry.desired.explicit,
        timeout=timeout,
        planned_record=ctx.dry_run and entry.action == "create",
    )
    with ctx.recorded("create", entry.name) as outcome:
        result = create_environment(ctx, request)
        outcome.of(result)
    return result


def _recreate(ctx: WorkflowContext, entry: Entry, timeout: float) -> WorkflowResult:
    assert entry.record is not None
    spec = entry.target or recreate_spec(entry.record, entry.desired)
    why = "; ".join(c.text() for c in entry.recreate_fields)
    ctx.progress.note(entry.name, f"{'would recreate' if ctx.dry_run else 'recreating'}: {why}")
    with ctx.recorded("delete", entry.name) as outcome:
        outcome.detail = f"to recreate it: {why}"
        removed = delete_environment(ctx, DeleteRequest(entry.name))
        outcome.of(removed)
    result = WorkflowResult("recreate", entry.name, ctx.dry_run)
    result.steps.extend(removed.steps)
    if not removed.ok:
        result.fail(f"could not delete it to recreate it: {removed.error}", removed.exit_code, removed.traceback)
        return result
    if ctx.dry_run:
        ctx.progress.note(entry.name, f"would create it again as {spec.provider} with {why}")
        return result
    with ctx.recorded("create", entry.name) as outcome:
        outcome.detail = f"recreated: {why}"
        made = create_environment(ctx, CreateRequest(spec=spec, timeout=timeout))
        outcome.of(made)
    result.steps.extend(made.steps)
    if not made.ok:
        result.fail(f"deleted, but creating it again failed: {made.error}", made.exit_code, made.traceback)
    result.seconds = removed.seconds + made.seconds
    return result


def spec_for_name(name: str, settings: Settings) -> EnvironmentSpec:
    """The environment `kenv up` creates for a name listed in config: everything by default."""
    provider = settings.default_provider
    return check_spec(
        EnvironmentSpec(
            name=name,
            provider=provider,
            subnet=parse_subnet_choice(None, provider),
            ports=ensure_ports_spec({}, provider),
            node_port=settings.node_port,
        )
    )
