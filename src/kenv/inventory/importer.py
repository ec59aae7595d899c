"""Applying imported records (CSV or a legacy database) to the inventory, with a summary.

All rows go through one write transaction, each in its own savepoint: a row that conflicts
with the inventory is reported and skipped while the others apply, and a crash mid-import
leaves the inventory as it was. A dry run executes the whole import and rolls it back.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import Conflict, KenvError
from kenv.inventory.allocation import lowest_free_port
from kenv.inventory.allocator import AllocationPolicy, HostProbe, NoHostChecks, check_subnet_free
from kenv.inventory.csv_format import CsvRow
from kenv.inventory.database import ConstraintViolation
from kenv.inventory.model import MANAGEMENT_NAME, Environment
from kenv.inventory.records import utcnow
from kenv.inventory.repository import Inventory


@dataclass(frozen=True)
class ImportRecord:
    ref: str  # "line 7" or "row dev": where the record came from, for the summary
    name: str
    provider: str
    subnet: ipaddress.IPv4Network | None
    ports: dict[str, int]
    node_port: int
    register_portainer: bool = True
    haproxy_route: bool = True
    status: str = "unknown"
    desired_state: str = "present"
    last_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    invalid: str | None = None  # a problem found before the inventory was consulted


def records_from_csv(rows: Iterable[CsvRow]) -> list[ImportRecord]:
    return [
        ImportRecord(
            ref=f"line {row.line}",
            name=row.name,
            provider=row.provider,
            subnet=row.subnet,
            ports=row.ports(),
            node_port=row.node_port,
            register_portainer=row.register_portainer,
            haproxy_route=row.haproxy_route,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RowResult:
    ref: str
    name: str
    result: str  # imported | updated | skipped | conflict | failed
    reason: str


@dataclass
class ImportSummary:
    source: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for r in self.rows if r.result == result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "total": len(self.rows),
            "imported": self.count("imported"),
            "updated": self.count("updated"),
            "skipped": self.count("skipped"),
            "conflicts": self.count("conflict"),
            "failed": self.count("failed"),
            "rows": [asdict(r) for r in self.rows],
        }


def _compared(item: Environment | ImportRecord) -> dict[str, Any]:
    """The fields an import owns, read the same way from a record in the inventory or from a row."""
    return {
        "provider": item.provider,
        "subnet": item.subnet,
        "node_port": item.node_port,
        "register_portainer": item.register_portainer,
        "haproxy_route": item.haproxy_route,
        **{p: item.ports.get(p) for p in ("http", "https", "pf")},
    }


def _differences(env: Environment, record: ImportRecord) -> list[str]:
    have, want = _compared(env), _compared(record)
    return [f"{_label(k)} {_show(have[k])} -> {_show(want[k])}" for k in have if have[k] != want[k]]


def _show(value: Any) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def import_records(
    inventory: Inventory,
    records: Iterable[ImportRecord],
    policy: AllocationPolicy,
    *,
    source: str,
    update: bool = False,
    dry_run: bool = False,
    probe: HostProbe | None = None,
) -> ImportSummary:
    """Apply records; explicit ports are those of running clusters, so only the API ports kenv
    allocates are checked against this machine."""
    host = probe or NoHostChecks()
    summary = ImportSummary(source=source, dry_run=dry_run)
    started = utcnow()
    with inventory.db.write(commit=not dry_run):
        for record in records:
            summary.rows.append(_apply(inventory, record, policy, host, update))
        refused = summary.count("failed") + summary.count("conflict")
        inventory.record_operation(
            None,
            "import",
            "failed" if refused else "succeeded",
            started_at=started,
            detail=f"{source}: {summary.count('imported')} imported, {summary.count('updated')} updated, "
            f"{summary.count('conflict')} conflict(s), {summary.count('failed')} failed",
            error=f"{refused} row(s) not imported" if refused else None,
        )
    return summary


def _apply(
    inventory: Inventory, record: ImportRecord, policy: AllocationPolicy, host: HostProbe, update: bool
) -> RowResult:
    def result(kind: str, reason: str) -> RowResult:
        return RowResult(record.ref, record.name, kind, reason)

    if record.name == MANAGEMENT_NAME:
        return result("skipped", "the management cluster belongs to bootstrap")
    if record.invalid:
        return result("failed", record.invalid)
    existing = inventory.find(record.name)
    if existing is not None:
        changes = _differences(existing, record)
        if not changes:
            return result("skipped", "unchanged")
        if not update:
            return result("conflict", "differs from the inventory: " + "; ".join(changes) + " (use --update)")
    try:
        with inventory.db.savepoint():
            _check_free(inventory, record, existing)
            if existing is None:
                _insert(inventory, record, policy, host)
                return result("imported", "new")
            inventory.replace_record(
                existing,
                provider=record.provider,
                subnet=record.subnet,
                node_port=record.node_port,
                register_portainer=record.register_portainer,
                haproxy_route=record.haproxy_route,
                ports={**{p: v for p, v in existing.ports.items() if p == "api"}, **record.ports},
            )
            return result("updated", "; ".join(_differences(existing, record)))
    except ConstraintViolation as violation:
        return result("failed", f"the database refused it ({violation.kind}): {violation.detail}")
    except KenvError as exc:
        return result("failed", exc.one_line())


def _check_free(inventory: Inventory, record: ImportRecord, existing: Environment | None) -> None:
    holders = inventory.port_holders()
    for purpose, port in sorted(record.ports.items()):
        holder = holders.get(port)
        if holder is not None and holder[0] != record.name:
            raise Conflict(f"port {port} ({purpose}_port) is already used by environment {holder[0]!r}")
    if record.subnet is not None:
        check_subnet_free(record.subnet, inventory.subnet_holders(), [], ignore=existing.name if existing else None)


def _insert(inventory: Inventory, record: ImportRecord, policy: AllocationPolicy, host: HostProbe) -> None:
    ports = dict(record.ports)
    if "api" not in ports and facts_for(record.provider).api_port_on_host:
        taken = set(inventory.port_holders()) | set(ports.values())
        api = lowest_free_port(policy.port_ranges["api"], taken, host.port_is_free)
        if api is not None:
            ports["api"] = api
    now = utcnow()
    inventory.insert_record(
        name=record.name,
        provider=record.provider,
        role="business",
        subnet=record.subnet,
        ports=ports,
        node_port=record.node_port,
        register_portainer=record.register_portainer,
        haproxy_route=record.haproxy_route,
        status=record.status,
        desired_state=record.desired_state,
        last_error=record.last_error,
        created_at=record.created_at or now,
        updated_at=record.updated_at or record.created_at or now,
    )


def _label(field_name: str) -> str:
    return f"{field_name}_port" if field_name in ("http", "https", "pf") else field_name
