"""Moving the inventory into the platform's PostgreSQL (`kenv bootstrap --move-inventory`).

HAProxy's fe_postgres (`haproxy_postgres_port` on `haproxy_bind`) relays to the PostgreSQL
Service's NodePort on the devops server node, so every kenv run on this host reaches the inventory
at one fixed address, with no port-forward to keep alive. In order, each part checking first:

1. fe_postgres in the live configuration (a route sync), its port published with the docker runtime;
2. PostgreSQL answering through it, as its admin user (the password from the 0600 copy `kenv
   postgres deploy` keeps), until the timeout;
3. a role `kenv` (LOGIN only) owning a database `kenv`; its password is made once, written to a
   libpq password file (0600) before the server learns it, and sent as a SCRAM verifier only;
4. the same copy `kenv db copy` makes, verified by reading back before commit, then read again on
   a new connection. A target that already holds exactly the source's environments is a rerun
   after a kill between the copy and the next step: nothing is copied again. Any other content
   is refused;
5. `db_url` written into kenv's config file (atomic, 0600, the rest of the file kept).

The URL written carries no password: libpq's own `passfile` parameter names the password file, so
the config file can be shown and the same URL works for psql or pg_dump. `sslmode=disable`:
bootstrap renders PostgreSQL without TLS, and the hop is this host's loopback and Docker bridge.
The SQLite file stays where it was, untouched by the move (a way back, `kenv db copy`).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from kenv.errors import DatabaseUnavailable, InvalidInput, KenvError, OperationFailed
from kenv.inventory.model import MANAGEMENT_NAME
from kenv.workflows.context import WorkflowContext

if TYPE_CHECKING:
    from kenv.inventory.database import Database

ROLE = "kenv"
DATABASE = "kenv"
ADMIN_USER = "postgres"  # POSTGRES_USER of the platform's StatefulSet
ADMIN_DATABASE = "postgres"
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class MoveTarget:
    host: str
    port: int
    passfile: Path
    config: Path

    @property
    def url(self) -> str:
        """The inventory's URL as written into the config file (no password in it)."""
        query = f"passfile={quote(str(self.passfile), safe='/')}&sslmode=disable"
        return f"postgresql://{ROLE}@{self.host}:{self.port}/{DATABASE}?{query}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def move_target(ctx: WorkflowContext) -> MoveTarget:
    from kenv.workflows.routes import postgres_listen_address

    host, port = postgres_listen_address(ctx)
    passfile = ctx.settings.data_dir / "secrets" / MANAGEMENT_NAME / "inventory.pgpass"
    return MoveTarget(host, port, passfile, ctx.settings.config_path)


def moved(ctx: WorkflowContext) -> bool:
    """The inventory already is the platform's (this run reads it from there)."""
    return ctx.settings.db_url == move_target(ctx).url


def plan(ctx: WorkflowContext) -> str:
    target = move_target(ctx)
    source = _masked(ctx.settings.db_url)
    return (
        f"would route fe_postgres {target.address} to PostgreSQL on {MANAGEMENT_NAME}, wait for it to answer, "
        f"make role {ROLE} and database {DATABASE} (password in {target.passfile}, 0600), "
        f"copy the inventory from {source} to {target.url}, verify it, and set db_url in {target.config}"
    )


@dataclass
class MoveResult:
    source: str
    target: str
    environments: int
    operations: int
    copied: bool  # False: the target already held the same environments (a resumed move)
    config: str
    passfile: str
    advice: str = ""


def move_inventory(ctx: WorkflowContext, timeout: float) -> MoveResult:
    from kenv.workflows.routes import ensure_postgres_entry

    target = move_target(ctx)
    entry = ensure_postgres_entry(ctx)
    admin = _wait_for_admin(ctx, target, str(entry.backend), timeout)
    try:
        _ensure_login(ctx, admin, target)
    finally:
        admin.close()
    result = _copy(ctx, target)
    _write_config(target)
    source = ctx.settings.sources.get("db_url", "default")
    if source.startswith("KENV_") or source == "flag":
        result.advice = f"db_url is set by {source}, which overrides the config file: unset it to use the move"
    return result


def _masked(url: str) -> str:
    from kenv.inventory.database import mask_url

    return mask_url(url)


def _admin_password(ctx: WorkflowContext) -> str:
    from kenv.workflows.postgres_deploy import _read_local, secret_file

    path = secret_file(ctx, MANAGEMENT_NAME)
    password = _read_local(path)
    if password is None:
        raise KenvError(
            f"no PostgreSQL admin password at {path}",
            hint=f"run `kenv postgres deploy --env {MANAGEMENT_NAME} --via gitops`: it copies the cluster's Secret",
        )
    return password


def _wait_for_admin(ctx: WorkflowContext, target: MoveTarget, backend: str, timeout: float) -> Database:
    """A connection as the admin user through HAProxy, retried until `timeout`: the pod may still
    be starting. A refused password is not retried."""
    from kenv.inventory.database import connect

    password = quote(_admin_password(ctx), safe="")
    url = f"postgresql://{ADMIN_USER}:{password}@{target.address}/{ADMIN_DATABASE}?sslmode=disable"
    deadline = time.monotonic() + timeout
    ctx.progress.note("inventory", f"waiting up to {timeout:.0f}s for PostgreSQL at {target.address}")
    while True:
        try:
            return connect(url)
        except DatabaseUnavailable as exc:
            if time.monotonic() >= deadline:
                raise OperationFailed(
                    f"PostgreSQL does not answer at {target.address} (HAProxy's fe_postgres, relaying to "
                    f"{backend}) within {timeout:.0f}s: {exc.message}",
                    hint=f"check that the pod is ready (`kenv postgres status --env {MANAGEMENT_NAME}`) and that "
                    f"Service infra/postgres is a NodePort on {backend.rpartition(':')[2]} "
                    f"(`kubectl -n infra get service postgres`), then rerun `kenv bootstrap --move-inventory`",
                ) from exc
            time.sleep(min(RETRY_SECONDS, max(deadline - time.monotonic(), 0.1)))


def _ensure_login(ctx: WorkflowContext, admin: Database, target: MoveTarget) -> None:
    from kenv.inventory.files import write_file
    from kenv.platform.postgres.roles import (
        SALT_BYTES,
        database_statement,
        pgpass_line,
        pgpass_password,
        role_statement,
        scram_verifier,
    )

    password = pgpass_password(target.passfile.read_text(encoding="utf-8")) if target.passfile.exists() else None
    if password is None:
        # Kept before the server learns it: a kill in between leaves a password to set again, never
        # a role whose password nobody has.
        password = secrets.token_urlsafe(32)
        target.passfile.parent.mkdir(parents=True, exist_ok=True)
        target.passfile.parent.chmod(0o700)
        line = pgpass_line(target.host, target.port, DATABASE, ROLE, password)
        write_file(target.passfile, line, force=True, mode=0o600)
    exists = bool(admin.query("SELECT 1 FROM pg_roles WHERE rolname = :name", {"name": ROLE}))
    # Set every time: the server then holds the password the file holds, whatever happened before.
    admin.execute(role_statement(ROLE, scram_verifier(password, os.urandom(SALT_BYTES)), exists=exists))
    if not admin.query("SELECT 1 FROM pg_database WHERE datname = :name", {"name": DATABASE}):
        ctx.progress.note("inventory", f"creating database {DATABASE} owned by {ROLE}")
        admin.execute(database_statement(DATABASE, ROLE))


def _copy(ctx: WorkflowContext, target: MoveTarget) -> MoveResult:
    from kenv.inventory import transfer
    from kenv.inventory.repository import open_inventory

    source = ctx.inventory()
    snapshot = transfer.dump(source)
    environments, _ = transfer.content(snapshot)
    source_url = source.db.url.masked()
    with open_inventory(target.url) as inventory:
        held = inventory.count()
        if held:
            there, _ = transfer.content(transfer.dump(inventory))
            if there != environments:
                raise InvalidInput(
                    f"the platform's inventory {target.url} already holds {held} environment(s) that differ from "
                    f"{source_url}: kenv will not replace them",
                    hint=f"compare them (`KENV_DB_URL='{target.url}' kenv list`); to replace them, "
                    f"`kenv db copy --to '{target.url}' --force`, then rerun",
                )
            copied = False
        else:
            ctx.progress.note("inventory", f"copying {len(environments)} environment(s) to {target.address}")
            transfer.load(inventory, snapshot, operation="copy", source=source_url)
            copied = True
    # Read back on a new connection: what was committed, not what the transaction saw.
    with open_inventory(target.url, create=False) as check:
        written = transfer.dump(check)
    there, operations = transfer.content(written)
    if there != environments or len(operations) < len(snapshot["operations"]):
        raise OperationFailed(
            f"the copy at {target.url} does not read back as {source_url} "
            f"({len(there)} of {len(environments)} environments, {len(operations)} operations)",
            hint="db_url was not changed; rerun `kenv bootstrap --move-inventory`",
        )
    return MoveResult(
        source_url, target.url, len(there), len(operations), copied, str(target.config), str(target.passfile)
    )


def _write_config(target: MoveTarget) -> None:
    from kenv.inventory.files import write_file
    from kenv.settings import with_config_value

    try:
        text = target.config.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise KenvError(f"cannot read the config file {target.config}: {exc}", hint="fix its permissions") from exc
    target.config.parent.mkdir(parents=True, exist_ok=True)
    write_file(target.config, with_config_value(text, "db_url", target.url), force=True, mode=0o600)
