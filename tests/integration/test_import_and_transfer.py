"""CSV import, legacy import and whole-inventory transfer, on both backends."""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import InvalidInput
from kenv.inventory import transfer
from kenv.inventory.csv_format import parse_csv, render_csv
from kenv.inventory.importer import ImportRecord, import_records, records_from_csv
from kenv.inventory.legacy import read_legacy
from kenv.inventory.repository import Inventory, open_inventory
from tests.integration.test_inventory import POLICY, spec

CSV = """\
# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet
devops,k3d,30800,19000,false,false,23800,23843,
dev,k3d,30080,19001,true,true,18090,18443,10.101.0.0/16
uat,k3d,30080,19002,true,true,28080,28443,10.102.0.0/16
dev-a,kind,30081,19011,true,false,18093,18446,
"""


def records(text: str) -> list[ImportRecord]:
    return records_from_csv(parse_csv(text, "test.csv"))


@pytest.fixture
def inventory(db_url: str) -> Iterator[Inventory]:
    with open_inventory(db_url) as inv:
        yield inv


def test_csv_import_is_idempotent_and_export_import_is_a_no_op(inventory: Inventory) -> None:
    first = import_records(inventory, records(CSV), POLICY, source="t").to_dict()
    assert (first["total"], first["imported"], first["skipped"], first["failed"]) == (4, 3, 1, 0)
    assert first["rows"][0] == {
        "ref": "line 2",
        "name": "devops",
        "result": "skipped",
        "reason": "the management cluster belongs to bootstrap",
    }
    dev = inventory.get("dev")
    assert dev.subnet == ipaddress.IPv4Network("10.101.0.0/16")
    assert dev.ports["http"] == 18090
    assert "api" in dev.ports
    assert inventory.get("dev-a").haproxy_route is False

    second = import_records(inventory, records(CSV), POLICY, source="t").to_dict()
    assert (second["imported"], second["skipped"], second["conflicts"]) == (0, 4, 0)

    exported = render_csv(inventory.environments())
    before = [e.to_dict() for e in inventory.environments()]
    third = import_records(inventory, records(exported), POLICY, source="t").to_dict()
    assert (third["imported"], third["updated"], third["conflicts"], third["failed"]) == (0, 0, 0, 0)
    assert [e.to_dict() for e in inventory.environments()] == before


def test_a_changed_row_is_a_conflict_until_update(inventory: Inventory) -> None:
    import_records(inventory, records(CSV), POLICY, source="t")
    changed = CSV.replace("18090", "18091")
    summary = import_records(inventory, records(changed), POLICY, source="t").to_dict()
    assert summary["conflicts"] == 1
    assert "http_port 18090 -> 18091" in summary["rows"][1]["reason"]
    assert inventory.get("dev").ports["http"] == 18090
    updated = import_records(inventory, records(changed), POLICY, source="t", update=True).to_dict()
    assert updated["updated"] == 1
    assert inventory.get("dev").ports["http"] == 18091


def test_rows_clashing_with_the_inventory_fail_alone(inventory: Inventory) -> None:
    inventory.register(spec("other", ports={"http": 28080}), POLICY)
    summary = import_records(inventory, records(CSV), POLICY, source="t").to_dict()
    assert summary["failed"] == 1
    failed = next(r for r in summary["rows"] if r["result"] == "failed")
    assert failed["name"] == "uat"
    assert "'other'" in failed["reason"]
    assert {e.name for e in inventory.environments()} == {"other", "dev", "dev-a"}


def test_dry_run_import_writes_nothing(inventory: Inventory) -> None:
    summary = import_records(inventory, records(CSV), POLICY, source="t", dry_run=True).to_dict()
    assert summary["imported"] == 3
    assert inventory.environments() == []


# -- legacy databases -----------------------------------------------------------------------------

LEGACY_SQLITE_SCHEMA = """
CREATE TABLE clusters (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, provider TEXT NOT NULL,
 subnet TEXT, node_port INTEGER, pf_port INTEGER, http_port INTEGER, https_port INTEGER, server_ip TEXT,
 status TEXT DEFAULT 'unknown', desired_state TEXT DEFAULT 'present', actual_state TEXT DEFAULT 'unknown',
 last_reconciled_at TEXT, reconcile_error TEXT, created_at TEXT, updated_at TEXT);
INSERT INTO clusters (name, provider, subnet, node_port, pf_port, http_port, https_port, server_ip, status,
 desired_state, actual_state, reconcile_error, created_at, updated_at) VALUES
 ('devops','k3d',NULL,30800,19000,23800,23843,'172.18.0.2','running','present','running',NULL,
  '2025-10-20 08:00:00','2025-11-05 09:00:00'),
 ('dev','k3d','10.101.0.0/16',30080,19001,18090,18443,'10.101.0.2','running','present','running',NULL,
  '2025-10-21 10:11:12','2025-11-05 09:30:00'),
 ('dev-b','kind',NULL,30082,19012,18094,18447,'172.19.0.3','unknown','present','failed','create timed out',
  '2025-10-22 10:00:00','2025-11-06 10:00:00'),
 ('Bad_Name','kind',NULL,30083,19013,18095,18448,NULL,'unknown','absent','absent',NULL,
  '2025-10-23 10:00:00','2025-10-23 10:00:00');
"""


def test_import_legacy_sqlite_keeps_state_and_timestamps(inventory: Inventory, tmp_path: Path) -> None:
    legacy = tmp_path / "kindler.db"
    with sqlite3.connect(legacy) as conn:
        conn.executescript(LEGACY_SQLITE_SCHEMA)
    source, recs = read_legacy(str(legacy))
    summary = import_records(inventory, recs, POLICY, source=source).to_dict()
    assert (summary["imported"], summary["skipped"], summary["failed"]) == (2, 1, 1)
    assert "DNS-1123" in next(r for r in summary["rows"] if r["result"] == "failed")["reason"]
    dev = inventory.get("dev")
    assert dev.created_at.isoformat() == "2025-10-21T10:11:12+00:00"
    assert dev.updated_at.isoformat() == "2025-11-05T09:30:00+00:00"
    assert dev.status == "running"
    dev_b = inventory.get("dev-b")
    assert (dev_b.status, dev_b.last_error) == ("failed", "create timed out")
    again = import_records(inventory, read_legacy(f"sqlite:///{legacy}")[1], POLICY, source=source).to_dict()
    assert again["imported"] == 0
    assert again["skipped"] == 3


def test_import_legacy_postgres(inventory: Inventory, postgres_server: object) -> None:
    import psycopg

    url = postgres_server.new_database_url()  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """CREATE TABLE clusters (name VARCHAR(63) PRIMARY KEY, provider VARCHAR(10) NOT NULL
               CHECK (provider IN ('k3d','kind')), subnet CIDR, node_port INT NOT NULL, pf_port INT NOT NULL,
               http_port INT NOT NULL, https_port INT NOT NULL, server_ip VARCHAR(45),
               created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now())"""
        )
        conn.execute(
            """INSERT INTO clusters VALUES
               ('devops','k3d',NULL,30800,19000,23800,23843,NULL,'2025-10-15T08:00:00Z','2025-10-15T08:00:00Z'),
               ('dev','k3d','10.101.0.0/16',30080,19001,18090,18443,'10.101.0.2','2025-10-16T09:00:00Z',
                '2025-10-17T09:00:00Z'),
               ('dev-a','kind',NULL,30081,19011,18093,18446,NULL,'2025-10-16T10:00:00Z','2025-10-16T10:00:00Z')"""
        )
    source, recs = read_legacy(url)
    summary = import_records(inventory, recs, POLICY, source=source).to_dict()
    assert (summary["imported"], summary["skipped"], summary["failed"]) == (2, 1, 0)
    assert inventory.get("dev").created_at.isoformat() == "2025-10-16T09:00:00+00:00"
    assert inventory.get("dev").subnet == ipaddress.IPv4Network("10.101.0.0/16")


def test_a_database_without_clusters_table_is_not_legacy(tmp_path: Path) -> None:
    empty = tmp_path / "x.db"
    sqlite3.connect(empty).close()
    with pytest.raises(InvalidInput, match="no `clusters` table"):
        read_legacy(str(empty))


# -- backup, restore, copy --------------------------------------------------------------------------


def populate(inventory: Inventory) -> None:
    inventory.register(spec("dev", labels=(("team", "a"),), k8s_version="v1.31.5-k3s1"), POLICY)
    inventory.register(spec("qa", "kind"), POLICY)
    inventory.register(spec("ext", "external"), POLICY)
    inventory.set_status("qa", "failed", last_error='boom: it\'s "quoted"', last_step="cluster")
    inventory.unregister("ext")


def test_backup_restore_round_trip_loses_nothing(inventory: Inventory, tmp_path: Path) -> None:
    populate(inventory)
    snapshot = transfer.dump(inventory)
    path = tmp_path / "backup.json"
    transfer.write_backup(snapshot, path)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InvalidInput, match="already holds 2"):
        transfer.load(inventory, transfer.read_backup(path))
    result = transfer.load(inventory, transfer.read_backup(path), force=True, source=str(path))
    assert result["verified"] is True
    environments, operations = transfer.content(transfer.dump(inventory))
    assert (environments, operations[:-1]) == transfer.content(snapshot), "everything the snapshot held"
    restored = operations[-1]
    assert (restored["operation"], restored["status"]) == ("restore", "succeeded"), "and the restore itself"
    assert str(path) in restored["detail"]


def test_copy_sqlite_to_postgres_and_back(tmp_path: Path, postgres_server: object) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'a.db'}"
    pg_url = postgres_server.new_database_url()  # type: ignore[attr-defined]
    back_url = f"sqlite:///{tmp_path / 'b.db'}"
    with open_inventory(sqlite_url) as source:
        populate(source)
        original = transfer.dump(source)
    with open_inventory(pg_url) as pg:
        transfer.load(pg, original)
        via_pg = transfer.dump(pg)
    with open_inventory(back_url) as back:
        transfer.load(back, via_pg)
        final = transfer.dump(back)
    environments, operations = transfer.content(original)
    # each load adds its own entry to the history it wrote
    assert transfer.content(via_pg) == (environments, [*operations, _op(via_pg, -1)])
    assert transfer.content(final) == (environments, [*operations, _op(via_pg, -1), _op(final, -1)])
    assert [_op(final, i)["operation"] for i in (-2, -1)] == ["restore", "restore"]
    assert len(original["operations"]) == 4  # three registrations, one unregistration


def _op(snapshot: dict[str, Any], index: int) -> Any:
    return transfer.content(snapshot)[1][index]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(format="other"), "not a kenv inventory backup"),
        (lambda d: d.update(version=9), "not supported"),
        (lambda d: d["environments"][0].update(http_port="80"), "environments[0].http_port: expected int"),
        (lambda d: d["environments"][0].update(provider="docker"), "environments[0].provider"),
        (lambda d: d["environments"][0].update(subnet="10.0.0.1/8"), "environments[0].subnet"),
        (lambda d: d["environments"][0].update(created_at="yesterday"), "not an ISO-8601 time"),
        (lambda d: d["environments"][0].pop("name"), "missing name"),
        (lambda d: d["operations"][0].update(status="meh"), "operations[0].status"),
        (lambda d: d["environments"].append(dict(d["environments"][0])), "breaks an inventory rule"),
    ],
)
def test_damaged_backups_are_refused_and_change_nothing(inventory: Inventory, mutate: object, fragment: str) -> None:
    populate(inventory)
    snapshot = json.loads(json.dumps(transfer.dump(inventory)))
    before = transfer.content(transfer.dump(inventory))
    mutate(snapshot)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as caught:
        transfer.load(inventory, snapshot, force=True)
    assert fragment in caught.value.one_line()
    assert transfer.content(transfer.dump(inventory)) == before


def test_dry_run_restore_verifies_and_writes_nothing(inventory: Inventory) -> None:
    populate(inventory)
    snapshot = transfer.dump(inventory)
    inventory.unregister("dev")
    before = transfer.content(transfer.dump(inventory))
    result = transfer.load(inventory, snapshot, force=True, dry_run=True)
    assert result["verified"] is True and result["environments"] == 2
    assert transfer.content(transfer.dump(inventory)) == before
