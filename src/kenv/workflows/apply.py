"""kenv apply -f FILE: a YAML list of environments as desired state.

Creates what is missing (concurrently with --parallel), reports what exists but is not listed,
and removes it with --prune. The whole file is validated before anything changes.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Any

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import MANAGEMENT_NAME
from kenv.inventory.repository import ensure_ports_spec
from kenv.inventory.validation import (
    EnvironmentSpec,
    check_spec,
    parse_labels,
    parse_port_choice,
    parse_subnet_choice,
)
from kenv.settings import Settings
from kenv.workflows.context import WorkflowContext
from kenv.workflows.create import CreateRequest, create_environment
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
    return desired


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


def apply(
    ctx: WorkflowContext, desired: list[Desired], *, prune: bool, parallel: int, timeout: float
) -> dict[str, Any]:
    inventory = ctx.inventory()
    existing = {e.name: e for e in inventory.environments()}
    listed = {d.spec.name for d in desired}
    to_create = [d for d in desired if existing.get(d.spec.name) is None or existing[d.spec.name].status != "running"]
    unchanged = sorted(d.spec.name for d in desired if d not in to_create)
    extra = sorted(
        n for n, e in existing.items() if n not in listed and e.role != "management" and n != MANAGEMENT_NAME
    )

    def create_one(item: Desired) -> WorkflowResult:
        return create_environment(ctx, CreateRequest(spec=item.spec, explicit=item.explicit, timeout=timeout))

    results: list[WorkflowResult] = []
    workers = 1 if ctx.dry_run else max(1, parallel)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kenv-apply") as pool:
        futures = {pool.submit(create_one, item): item.spec.name for item in to_create}
        for future in concurrent.futures.as_completed(futures):
            try:
                results.append(future.result())
            except KenvError as exc:
                failed = WorkflowResult("create", futures[future], ctx.dry_run, ok=False, error=exc.one_line())
                results.append(failed)
    deleted: list[WorkflowResult] = []
    if prune:
        deleted = [delete_environment(ctx, DeleteRequest(name)) for name in extra]
    return {
        "dry_run": ctx.dry_run,
        "created": sorted((r.to_dict() for r in results), key=lambda r: str(r["environment"])),
        "unchanged": unchanged,
        "not_listed": extra,
        "pruned": [r.to_dict() for r in deleted],
        "ok": all(r.ok for r in results) and all(r.ok for r in deleted),
    }


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
