"""Reading the predecessor's databases: its PostgreSQL `clusters` table (name, provider, subnet,
node_port, pf_port, http_port, https_port, server_ip, created_at, updated_at) or its SQLite file
(which adds status, desired_state, actual_state, last_reconciled_at, reconcile_error).

The source is opened read-only and never changed.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.inventory.database import NoSuchTable, parse_url, read_table
from kenv.inventory.importer import ImportRecord
from kenv.inventory.model import DESIRED_STATES, STATUSES
from kenv.inventory.validation import (
    check_host_port,
    check_node_port,
    parse_cidr,
    validate_name,
    validate_provider,
)


def read_legacy(url: str) -> tuple[str, list[ImportRecord]]:
    """(a description of the source, its records). A plain file path is taken as SQLite."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    parsed = parse_url(url)
    shown = str(parsed.path) if parsed.dialect == "sqlite" else parsed.masked()
    try:
        rows = read_table(parsed, "clusters")
    except NoSuchTable as exc:
        raise InvalidInput(
            f"{shown} has no `clusters` table: it is not the predecessor's database",
            hint="give the URL of the predecessor's PostgreSQL or the path of its kindler.db",
        ) from exc
    return shown, [_record(row) for row in rows]


def _timestamp(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    # The predecessor wrote CURRENT_TIMESTAMP (UTC) without a zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record(row: dict[str, Any]) -> ImportRecord:
    name = str(row.get("name") or "")
    ref = f"row {name or '?'}"
    base: dict[str, Any] = {
        "ref": ref,
        "name": name,
        "provider": str(row.get("provider") or ""),
        "subnet": None,
        "ports": {},
        "node_port": 30080,
    }
    try:
        validate_name(name, role="management")
        provider = validate_provider(base["provider"].lower())
        subnet_value = row.get("subnet")
        subnet = parse_cidr(str(ipaddress.ip_network(str(subnet_value), strict=False))) if subnet_value else None
        if not facts_for(provider).has_subnet:
            subnet = None  # kind clusters shared the 'kind' network whatever the row said
        ports = {}
        for purpose in ("http", "https", "pf"):
            value = row.get(f"{purpose}_port")
            if value not in (None, "", 0):
                ports[purpose] = check_host_port(int(value), f"{purpose}_port", allow_privileged=True)
        node_port = check_node_port(int(row["node_port"])) if row.get("node_port") else 30080
    except (KenvError, ValueError) as exc:
        reason = exc.one_line() if isinstance(exc, KenvError) else str(exc)
        return ImportRecord(**base, invalid=reason)
    status = _pick_status(row)
    desired = str(row.get("desired_state") or "present")
    return ImportRecord(
        ref=ref,
        name=name,
        provider=provider,
        subnet=subnet,
        ports=ports,
        node_port=node_port,
        status=status,
        desired_state=desired if desired in DESIRED_STATES else "present",
        last_error=(str(row["reconcile_error"]) if row.get("reconcile_error") else None),
        created_at=_timestamp(row.get("created_at")),
        updated_at=_timestamp(row.get("updated_at")),
    )


def _pick_status(row: dict[str, Any]) -> str:
    # actual_state is what the predecessor observed; its `status` column was a looser echo.
    for key in ("actual_state", "status"):
        value = str(row.get(key) or "").lower()
        if value in STATUSES and value != "unknown":
            return value
    return "unknown"
