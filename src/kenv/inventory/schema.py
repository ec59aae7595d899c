"""Schema versions and their migrations, one DDL list per dialect.

The invariants are the database's own, so no code path can break them:
- unique environment names, valid DNS-1123 labels, 'devops' only as the management role;
- one row per host port in `host_ports`, whose primary key makes every host port unique across
  all environments and all purposes;
- non-overlapping subnets: an exclusion constraint on inet `&&` (PostgreSQL; `inet_ops` must be
  named because it is not the default GiST opclass) or a trigger over integer bounds (SQLite);
- CHECKs on every enumerated column and numeric range.

`kenv db upgrade` applies pending migrations; every command applies them on first use. A
database written by a newer kenv is refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from kenv.errors import InvalidInput
from kenv.inventory.database import MIGRATION_LOCK_KEY, Database

_ENUMS = {
    "provider": "('k3d', 'kind', 'minikube', 'external')",
    "role": "('management', 'business')",
    "desired_state": "('present', 'absent')",
    "status": "('unknown', 'creating', 'running', 'stopped', 'failed', 'deleting', 'absent')",
    "purpose": "('http', 'https', 'pf', 'api')",
    "op_status": "('running', 'succeeded', 'failed')",
}

_COMMON_CHECKS = f"""
    CHECK (provider IN {_ENUMS["provider"]}),
    CHECK (role IN {_ENUMS["role"]}),
    CHECK (desired_state IN {_ENUMS["desired_state"]}),
    CHECK (status IN {_ENUMS["status"]}),
    CHECK (node_port BETWEEN 1 AND 65535),
    CHECK (servers BETWEEN 1 AND 9),
    CHECK (agents BETWEEN 0 AND 99),
    CHECK (name <> 'devops' OR role = 'management'),
    CHECK (provider IN ('k3d', 'minikube') OR subnet IS NULL)
"""

SQLITE_V1 = [
    f"""
    CREATE TABLE environments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'business',
        subnet TEXT,
        net_start INTEGER,
        net_end INTEGER,
        node_port INTEGER NOT NULL DEFAULT 30080,
        servers INTEGER NOT NULL DEFAULT 1,
        agents INTEGER NOT NULL DEFAULT 0,
        k8s_version TEXT,
        labels TEXT NOT NULL DEFAULT '{{}}',
        register_portainer INTEGER NOT NULL DEFAULT 1 CHECK (register_portainer IN (0, 1)),
        haproxy_route INTEGER NOT NULL DEFAULT 1 CHECK (haproxy_route IN (0, 1)),
        desired_state TEXT NOT NULL DEFAULT 'present',
        status TEXT NOT NULL DEFAULT 'unknown',
        last_error TEXT,
        last_step TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK (length(name) BETWEEN 1 AND 32
               AND name NOT GLOB '*[^a-z0-9-]*' AND name NOT GLOB '-*' AND name NOT GLOB '*-'),
        CHECK ((subnet IS NULL AND net_start IS NULL AND net_end IS NULL)
               OR (subnet IS NOT NULL AND net_start >= 0 AND net_end >= net_start AND net_end < 4294967296)),
        {_COMMON_CHECKS}
    )
    """,
    "CREATE INDEX environments_net_start ON environments (net_start)",
    """
    CREATE TRIGGER environments_subnet_overlap_insert BEFORE INSERT ON environments
    WHEN NEW.net_start IS NOT NULL AND EXISTS (
        SELECT 1 FROM environments
        WHERE net_start IS NOT NULL AND net_start <= NEW.net_end AND NEW.net_start <= net_end)
    BEGIN SELECT RAISE(ABORT, 'subnet overlaps another environment'); END
    """,
    """
    CREATE TRIGGER environments_subnet_overlap_update BEFORE UPDATE OF subnet, net_start, net_end ON environments
    WHEN NEW.net_start IS NOT NULL AND EXISTS (
        SELECT 1 FROM environments
        WHERE id <> NEW.id AND net_start IS NOT NULL
          AND net_start <= NEW.net_end AND NEW.net_start <= net_end)
    BEGIN SELECT RAISE(ABORT, 'subnet overlaps another environment'); END
    """,
    f"""
    CREATE TABLE host_ports (
        port INTEGER PRIMARY KEY CHECK (port BETWEEN 1 AND 65535),
        environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN {_ENUMS["purpose"]}),
        UNIQUE (environment_id, purpose)
    )
    """,
    f"""
    CREATE TABLE operations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT,
        operation TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN {_ENUMS["op_status"]}),
        actor TEXT NOT NULL,
        detail TEXT,
        error TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT
    )
    """,
    "CREATE INDEX operations_environment ON operations (environment, id)",
]

POSTGRES_V1 = [
    f"""
    CREATE TABLE environments (
        id BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{{0,30}}[a-z0-9])?$'),
        provider TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'business',
        subnet CIDR CHECK (family(subnet) = 4),
        node_port INTEGER NOT NULL DEFAULT 30080,
        servers INTEGER NOT NULL DEFAULT 1,
        agents INTEGER NOT NULL DEFAULT 0,
        k8s_version TEXT,
        labels TEXT NOT NULL DEFAULT '{{}}',
        register_portainer BOOLEAN NOT NULL DEFAULT TRUE,
        haproxy_route BOOLEAN NOT NULL DEFAULT TRUE,
        desired_state TEXT NOT NULL DEFAULT 'present',
        status TEXT NOT NULL DEFAULT 'unknown',
        last_error TEXT,
        last_step TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        {_COMMON_CHECKS},
        CONSTRAINT environments_subnet_no_overlap EXCLUDE USING gist (subnet inet_ops WITH &&)
    )
    """,
    f"""
    CREATE TABLE host_ports (
        port INTEGER PRIMARY KEY CHECK (port BETWEEN 1 AND 65535),
        environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN {_ENUMS["purpose"]}),
        UNIQUE (environment_id, purpose)
    )
    """,
    f"""
    CREATE TABLE operations (
        id BIGSERIAL PRIMARY KEY,
        environment TEXT,
        operation TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN {_ENUMS["op_status"]}),
        actor TEXT NOT NULL,
        detail TEXT,
        error TEXT,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
    )
    """,
    "CREATE INDEX operations_environment ON operations (environment, id)",
]

# v2: minikube's API server is published by Docker on a random host port (its --apiserver-port
# is the port inside the node container), so the API port v1 held for minikube environments was
# never theirs: it is given back to the pool.
V2_FREE_MINIKUBE_API_PORTS = [
    """
    DELETE FROM host_ports WHERE purpose = 'api'
      AND environment_id IN (SELECT id FROM environments WHERE provider = 'minikube')
    """
]

MIGRATIONS: dict[int, dict[str, list[str]]] = {
    1: {"sqlite": SQLITE_V1, "postgresql": POSTGRES_V1},
    2: {"sqlite": V2_FREE_MINIKUBE_API_PORTS, "postgresql": V2_FREE_MINIKUBE_API_PORTS},
}
LATEST_VERSION = max(MIGRATIONS)


@dataclass(frozen=True)
class SchemaStatus:
    current: int
    latest: int

    @property
    def up_to_date(self) -> bool:
        return self.current == self.latest


def current_version(db: Database) -> int:
    """0 for an empty database."""
    if db.dialect == "sqlite":
        exists = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kenv_schema'")
    else:
        exists = db.query(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = 'kenv_schema' AND schemaname = current_schema()"
        )
    if not exists:
        return 0
    rows = db.query("SELECT version FROM kenv_schema")
    return int(rows[0][0]) if rows else 0


def _has_foreign_tables(db: Database) -> bool:
    if db.dialect == "sqlite":
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = db.query("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
    return bool(rows)


def status(db: Database) -> SchemaStatus:
    return SchemaStatus(current_version(db), LATEST_VERSION)


def _refuse_newer(db: Database, version: int) -> None:
    if version > LATEST_VERSION:
        raise InvalidInput(
            f"{db.url.masked()} has inventory schema v{version}, newer than this kenv understands (v{LATEST_VERSION})",
            hint="upgrade kenv",
        )


def upgrade(db: Database) -> list[int]:
    """Apply pending migrations; returns the versions applied. Safe to race: the migration runs
    under the write lock and re-checks the version inside it."""
    version = current_version(db)
    _refuse_newer(db, version)
    if version == LATEST_VERSION:
        return []
    applied: list[int] = []
    with db.write(MIGRATION_LOCK_KEY):
        version = current_version(db)
        _refuse_newer(db, version)
        if version == 0:
            # Checked under the lock: outside it, another kenv's migration may commit its tables
            # between "no kenv_schema yet" and this look, and they would seem foreign.
            if _has_foreign_tables(db):
                raise InvalidInput(
                    f"{db.url.masked()} holds tables that are not a kenv inventory",
                    hint="point db_url at an empty or kenv database (legacy data: kenv db import-legacy URL)",
                )
            db.execute("CREATE TABLE kenv_schema (version INTEGER NOT NULL)")
            db.execute("INSERT INTO kenv_schema (version) VALUES (0)")
        for target in range(version + 1, LATEST_VERSION + 1):
            db.executescript(MIGRATIONS[target][db.dialect])
            db.execute("UPDATE kenv_schema SET version = :v", {"v": target})
            applied.append(target)
    return applied
