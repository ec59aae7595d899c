"""Moving a whole inventory: backup to a portable JSON file, restore from it, copy between
databases (SQLite <-> PostgreSQL). Every load is verified by reading the target back and
comparing it with the source, inside the same transaction, so a mismatch leaves nothing behind.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from kenv.errors import InvalidInput, KenvError
from kenv.inventory import schema
from kenv.inventory.database import ConstraintViolation
from kenv.inventory.files import write_file
from kenv.inventory.model import DESIRED_STATES, JSON_KEYS, PORT_PURPOSES, PROVIDERS, ROLES, STATUSES
from kenv.inventory.operations import OPERATION_KEYS
from kenv.inventory.records import utcnow
from kenv.inventory.repository import Inventory

FORMAT = "kenv-inventory-backup"
FORMAT_VERSION = 1
# A backup holds every field of the `-o json` contract, which is every column that matters.
ENV_FIELDS = JSON_KEYS
OP_FIELDS = tuple(k for k in OPERATION_KEYS if k != "id")


def dump(inventory: Inventory) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema_version": schema.current_version(inventory.db),
        "written_at": utcnow().isoformat(),
        "environments": [{k: env.to_dict()[k] for k in ENV_FIELDS} for env in inventory.environments()],
        # Ids are the database's own; order carries the history.
        "operations": [{k: op[k] for k in OP_FIELDS} for op in inventory.operations(limit=None, oldest_first=True)],
    }


def content(snapshot: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """What must survive a round trip (the envelope's own timestamps excepted)."""
    return sorted(snapshot["environments"], key=lambda e: str(e["name"])), snapshot["operations"]


# -- validation of a snapshot read from a file -------------------------------------------------


def _fail(where: str, problem: str) -> InvalidInput:
    return InvalidInput(f"backup {where}: {problem}", hint="the file is not a valid kenv backup; use another one")


def _expect(value: Any, kinds: type | tuple[type, ...], where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) and kinds is int:
        raise _fail(where, "expected a number, found a boolean")
    if not isinstance(value, kinds):
        raise _fail(where, f"expected {getattr(kinds, '__name__', kinds)}, found {type(value).__name__}")
    return value


def _check_time(value: Any, where: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    try:
        datetime.fromisoformat(_expect(value, str, where))
    except ValueError as exc:
        raise _fail(where, f"{value!r} is not an ISO-8601 time") from exc


def validate_snapshot(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput("the file is not a kenv inventory backup (no 'format: kenv-inventory-backup')")
    if data.get("version") != FORMAT_VERSION:
        raise InvalidInput(
            f"backup format version {data.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    envs = _expect(data.get("environments"), list, "environments")
    ops = _expect(data.get("operations"), list, "operations")
    for i, env in enumerate(envs):
        where = f"environments[{i}]"
        _expect(env, dict, where)
        missing = [k for k in ENV_FIELDS if k not in env]
        if missing:
            raise _fail(where, f"missing {', '.join(missing)}")
        for key, allowed in (
            ("provider", PROVIDERS),
            ("role", ROLES),
            ("status", STATUSES),
            ("desired_state", DESIRED_STATES),
        ):
            if env[key] not in allowed:
                raise _fail(f"{where}.{key}", f"{env[key]!r} is not one of {', '.join(allowed)}")
        _expect(env["name"], str, f"{where}.name")
        for key in ("node_port", "servers", "agents"):
            _expect(env[key], int, f"{where}.{key}")
        for purpose in PORT_PURPOSES:
            _expect(env[f"{purpose}_port"], int, f"{where}.{purpose}_port", optional=True)
        if env["subnet"] is not None:
            try:
                ipaddress.IPv4Network(_expect(env["subnet"], str, f"{where}.subnet"))
            except ValueError as exc:
                raise _fail(f"{where}.subnet", str(exc)) from exc
        labels = _expect(env["labels"], dict, f"{where}.labels")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise _fail(f"{where}.labels", "keys and values must be strings")
        for key in ("register_portainer", "haproxy_route"):
            _expect(env[key], bool, f"{where}.{key}")
        for key in ("k8s_version", "last_error", "last_step"):
            _expect(env[key], str, f"{where}.{key}", optional=True)
        _check_time(env["created_at"], f"{where}.created_at")
        _check_time(env["updated_at"], f"{where}.updated_at")
    for i, op in enumerate(ops):
        where = f"operations[{i}]"
        _expect(op, dict, where)
        missing = [k for k in OP_FIELDS if k not in op]
        if missing:
            raise _fail(where, f"missing {', '.join(missing)}")
        _expect(op["operation"], str, f"{where}.operation")
        _expect(op["actor"], str, f"{where}.actor")
        if op["status"] not in ("running", "succeeded", "failed"):
            raise _fail(f"{where}.status", f"{op['status']!r} is not running, succeeded or failed")
        _check_time(op["started_at"], f"{where}.started_at")
        _check_time(op["finished_at"], f"{where}.finished_at", optional=True)
    return data


# -- loading ---------------------------------------------------------------------------------------


def load(
    target: Inventory,
    snapshot: dict[str, Any],
    *,
    force: bool = False,
    dry_run: bool = False,
    operation: str = "restore",
    source: str = "",
) -> dict[str, Any]:
    """Replace the target's content with the snapshot's; verified before commit, then logged as
    `operation` (restore, copy) in the target's history, after the snapshot's own entries."""
    validate_snapshot(snapshot)
    started = utcnow()
    try:
        with target.db.write(commit=not dry_run):
            existing = target.count()
            if existing and not force:
                raise InvalidInput(
                    f"the target inventory {target.db.url.masked()} already holds {existing} environment(s)",
                    hint="use --force to replace them, or choose an empty database",
                )
            target.db.execute("DELETE FROM operations")
            target.db.execute("DELETE FROM host_ports")
            target.db.execute("DELETE FROM environments")
            for env in snapshot["environments"]:
                _insert_environment(target, env)
            for op in snapshot["operations"]:
                _insert_operation(target, op)
            written = dump(target)
            if content(written) != content(snapshot):
                raise KenvError(
                    "verification failed: the target does not read back as the source (nothing was written)",
                    hint="rerun with --debug and report it",
                )
            target.record_operation(
                None,
                operation,
                "succeeded",
                started_at=started,
                detail=f"{source or 'a snapshot'}: {len(snapshot['environments'])} environment(s), {existing} replaced",
            )
            result = {
                "target": target.db.url.masked(),
                "environments": len(snapshot["environments"]),
                "operations": len(snapshot["operations"]),
                "replaced": existing,
                "verified": True,
                "dry_run": dry_run,
            }
    except ConstraintViolation as violation:
        raise InvalidInput(f"the backup breaks an inventory rule ({violation.kind}): {violation.detail}") from violation
    return result


def _insert_environment(target: Inventory, env: dict[str, Any]) -> None:
    ports = {p: env[f"{p}_port"] for p in PORT_PURPOSES if env.get(f"{p}_port") is not None}
    target.insert_record(
        name=env["name"],
        provider=env["provider"],
        role=env["role"],
        subnet=ipaddress.IPv4Network(env["subnet"]) if env["subnet"] else None,
        ports=ports,
        node_port=env["node_port"],
        servers=env["servers"],
        agents=env["agents"],
        k8s_version=env["k8s_version"],
        labels=env["labels"],
        register_portainer=env["register_portainer"],
        haproxy_route=env["haproxy_route"],
        desired_state=env["desired_state"],
        status=env["status"],
        last_error=env["last_error"],
        last_step=env["last_step"],
        created_at=datetime.fromisoformat(env["created_at"]),
        updated_at=datetime.fromisoformat(env["updated_at"]),
    )


def _insert_operation(target: Inventory, op: dict[str, Any]) -> None:
    values = dict(op)
    for key in ("started_at", "finished_at"):
        if values[key] is not None:
            values[key] = target._timestamp(datetime.fromisoformat(values[key]))
    target.db.execute(
        f"INSERT INTO operations ({', '.join(OP_FIELDS)}) VALUES ({', '.join(':' + k for k in OP_FIELDS)})",
        values,
    )


# -- files -------------------------------------------------------------------------------------------


def write_backup(snapshot: dict[str, Any], path: Path, *, force: bool = False) -> Path:
    """Atomic and private (mode 0600); an existing file is replaced only with force."""
    return write_file(path, json.dumps(snapshot, indent=2, sort_keys=False) + "\n", force=force, mode=0o600)


def read_backup(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"backup file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read backup file {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"backup file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint="the file is damaged or not a kenv backup",
        ) from exc
    return validate_snapshot(data)
