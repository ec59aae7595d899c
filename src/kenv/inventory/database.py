"""Connections to the inventory database: SQLite (embedded default) or PostgreSQL (shared).

Only the standard library's sqlite3 and psycopg 3 are used, not an ORM: the invariants live in
dialect-specific DDL anyway (an exclusion constraint on PostgreSQL, a trigger on SQLite), and an
ORM's import alone costs more than kenv's whole start-up budget. Queries are written once with
`:name` parameters; the PostgreSQL adapter rewrites them to psycopg's `%(name)s` style.

Write transactions serialise allocators:
- SQLite: WAL, busy_timeout, and `BEGIN IMMEDIATE` (a deferred transaction that reads and then
  writes gets SQLITE_BUSY without waiting on the busy timeout).
- PostgreSQL: `pg_advisory_xact_lock`, released by commit or rollback; callers retry on
  unique/exclusion/serialization failures (see repository.py).

This is the one module that imports the drivers: every driver error leaves it translated into
kenv's error tree, an invariant the database enforced as a `ConstraintViolation` saying which.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from kenv.errors import DatabaseUnavailable, InvalidInput, KenvError

log = logging.getLogger("kenv.inventory.db")

SQLITE_BUSY_TIMEOUT_MS = 60_000
PG_CONNECT_TIMEOUT_S = 5
# pg_advisory_xact_lock keys: one for allocation, one for schema migration.
ALLOCATION_LOCK_KEY = 0x6B656E76_0001
MIGRATION_LOCK_KEY = 0x6B656E76_0002

Row = tuple[Any, ...]
Params = Mapping[str, Any]

# The invariants a write can break, as ConstraintViolation.kind.
NAME_TAKEN = "name"
PORT_TAKEN = "port"
SUBNET_OVERLAP = "subnet"
CHECK_FAILED = "check"
SERIALIZATION = "serialization"


class ConstraintViolation(KenvError):
    """A write broke an invariant the database enforces, or lost a serialization race.

    Callers decide from `kind` alone (retry with fresh choices, report the holder); the driver's
    exception stays chained as the cause for `--debug`."""

    exit_code = 2  # the input asked for a value that is held or not allowed; nothing was written

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(
            f"the inventory database refused the write ({kind}): {detail}",
            hint="retry" if kind == SERIALIZATION else None,
        )
        self.kind = kind
        self.detail = " ".join(detail.split())
        if kind == SERIALIZATION:
            self.exit_code = 1  # a race with another writer, not bad input


class NoSuchTable(InvalidInput):
    """A read-only source database lacks the table asked for."""


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: str  # "sqlite" | "postgresql"
    raw: str
    path: Path | None = None  # sqlite
    conninfo: str | None = None  # postgresql

    def masked(self) -> str:
        return mask_url(self.raw)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))


def parse_url(url: str) -> DatabaseUrl:
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise InvalidInput(
            f"database URL {mask_url(text)!r} has no scheme",
            hint="use sqlite:////absolute/path.db or postgresql://user:password@host:5432/dbname",
        )
    if scheme == "sqlite":
        # SQLAlchemy's convention, which users already know: three slashes then the path.
        if not rest.startswith("/") or rest == "/":
            raise InvalidInput(
                f"SQLite URL {text!r} has no file path", hint="use sqlite:////absolute/path/inventory.db"
            )
        path_text = unquote(rest[1:])
        if path_text in ("", ":memory:"):
            raise InvalidInput(
                "an in-memory SQLite database would forget the inventory at exit",
                hint="use sqlite:////absolute/path/inventory.db",
            )
        return DatabaseUrl("sqlite", text, path=Path(path_text).expanduser())
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parts = urlsplit("postgresql://" + rest)
        try:
            _ = parts.port
        except ValueError as exc:
            raise InvalidInput(f"database URL {mask_url(text)!r} has an invalid port", hint=str(exc)) from exc
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise InvalidInput(
                f"database URL {mask_url(text)!r} names no database",
                hint="add the database name: postgresql://user:password@host:5432/kenv",
            )
        return DatabaseUrl("postgresql", text, conninfo=urlunsplit(parts))
    raise InvalidInput(
        f"unsupported database URL scheme {scheme!r}",
        hint="use sqlite:////path/to/inventory.db or postgresql://user:password@host:5432/dbname",
    )


class Database(Protocol):
    url: DatabaseUrl

    @property
    def dialect(self) -> str: ...

    def query(self, sql: str, params: Params | None = None) -> list[Row]: ...

    def execute(self, sql: str, params: Params | None = None) -> int | None: ...

    def executescript(self, statements: Sequence[str]) -> None: ...

    def write(
        self, lock_key: int = ALLOCATION_LOCK_KEY, *, commit: bool = True
    ) -> contextlib.AbstractContextManager[None]: ...

    def savepoint(self) -> contextlib.AbstractContextManager[None]: ...

    def close(self) -> None: ...


def _readonly(url: DatabaseUrl, detail: str) -> InvalidInput:
    return InvalidInput(
        f"the inventory database {url.masked()} is read-only ({detail})",
        hint="fix its permissions or point db_url at a writable database",
    )


def _sqlite_violation(exc: sqlite3.IntegrityError) -> ConstraintViolation:
    # SQLite names the column (UNIQUE) or carries the trigger's own text (subnet overlap).
    text = str(exc)
    if "environments.name" in text:
        return ConstraintViolation(NAME_TAKEN, text)
    if "host_ports.port" in text or "host_ports.environment_id, host_ports.purpose" in text:
        return ConstraintViolation(PORT_TAKEN, text)
    if "subnet overlaps" in text:
        return ConstraintViolation(SUBNET_OVERLAP, text)
    return ConstraintViolation(CHECK_FAILED, text)


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, url: DatabaseUrl, *, create: bool = True) -> None:
        assert url.path is not None
        self.url = url
        path = url.path
        if path.is_dir():
            raise InvalidInput(f"SQLite path {path} is a directory", hint="give a file path in db_url")
        if not create and not path.exists():
            # A read must not leave an empty inventory (and its directories) behind a mistyped path.
            raise InvalidInput(
                f"the inventory {path} does not exist",
                hint="check --db-url / db_url, or create it with a command that writes (kenv db upgrade)",
            )
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise InvalidInput(
                    f"cannot create the directory for {path}: {exc.strerror}", hint="choose a writable location"
                ) from exc
        # mode=rw opens an existing file and never creates one, even if it vanishes meanwhile.
        target = str(path) if create else f"file:{quote(str(path))}?mode=rw"
        try:
            self.conn = sqlite3.connect(
                target,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
                uri=not create,
            )
            self.conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                self.conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed allocation survives a power cut, not only a crash.
            self.conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc
        self._depth = 0

    def _translate(self, exc: sqlite3.Error) -> KenvError:
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return _readonly(self.url, text)
        if "file is not a database" in text or "malformed" in text:
            return InvalidInput(
                f"{self.url.path} is not a kenv SQLite database ({text})",
                hint="point db_url at another file, or restore it from a backup",
            )
        if "unable to open" in text:
            return InvalidInput(f"cannot open {self.url.path} ({text})", hint="check the path and its permissions")
        if "locked" in text or "busy" in text:
            return DatabaseUnavailable(
                f"the inventory {self.url.path} stayed locked for {SQLITE_BUSY_TIMEOUT_MS // 1000}s ({text})",
                hint="another kenv process holds it; retry when it finishes",
            )
        return KenvError(f"SQLite error on {self.url.path}: {text}")

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        try:
            return list(self.conn.execute(sql, params or {}).fetchall())
        except sqlite3.IntegrityError as exc:
            raise _sqlite_violation(exc) from exc
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def execute(self, sql: str, params: Params | None = None) -> int | None:
        try:
            cursor = self.conn.execute(sql, params or {})
        except sqlite3.IntegrityError as exc:
            raise _sqlite_violation(exc) from exc
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        if cursor.description:  # INSERT ... RETURNING id
            row = cursor.fetchone()
            return row[0] if row and isinstance(row[0], int) else None
        return cursor.lastrowid

    def executescript(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.execute(statement)

    @contextlib.contextmanager
    def write(self, lock_key: int = ALLOCATION_LOCK_KEY, *, commit: bool = True) -> Iterator[None]:
        """One write transaction; commit=False runs it whole and rolls it back (dry runs)."""
        del lock_key  # SQLite has one writer at a time: BEGIN IMMEDIATE is the lock.
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):  # a deferred foreign key, checked at commit
                raise _sqlite_violation(exc) from exc
            raise self._translate(exc) from exc

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        self._depth += 1
        name = f"sp{self._depth}"
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self.execute(f"RELEASE {name}")

    def close(self) -> None:
        self.conn.close()


_PARAM_RE = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def to_pyformat(sql: str) -> str:
    """':name' parameters -> '%(name)s', leaving '::type' casts alone; '%' is escaped first."""
    return _PARAM_RE.sub(r"%(\1)s", sql.replace("%", "%%"))


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: DatabaseUrl) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        assert url.conninfo is not None
        try:
            self.conn = psycopg.connect(
                url.conninfo, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT_S, application_name="kenv"
            )
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if "authentication failed" in reason or "does not exist" in reason:
                raise InvalidInput(
                    f"PostgreSQL at {url.masked()} refused the connection: {reason}",
                    hint="check the user, password and database name in db_url",
                ) from exc
            raise DatabaseUnavailable(
                f"cannot reach PostgreSQL at {url.masked()}: {reason}",
                hint="start the server or fix host/port in db_url",
            ) from exc
        except psycopg.ProgrammingError as exc:
            raise InvalidInput(f"database URL {url.masked()} is invalid: {exc}") from exc
        self.execute("SET TIME ZONE 'UTC'")

    def _translate(self, exc: Exception) -> KenvError:
        errors = self._psycopg.errors
        if isinstance(exc, errors.ReadOnlySqlTransaction):
            return _readonly(self.url, "the server rejects writes")
        if isinstance(exc, errors.InsufficientPrivilege):
            return InvalidInput(
                f"PostgreSQL user lacks a privilege kenv needs: {exc}",
                hint="grant it CREATE and write rights on the database",
            )
        if isinstance(exc, self._psycopg.OperationalError):
            return DatabaseUnavailable(f"lost the connection to PostgreSQL at {self.url.masked()}: {exc}")
        return KenvError(f"PostgreSQL error: {' '.join(str(exc).split())}")

    def _violation(self, exc: Exception) -> ConstraintViolation | None:
        """The invariant a driver error reports, from its SQLSTATE and constraint name."""
        sqlstate = getattr(exc, "sqlstate", None)
        text = str(exc)
        if sqlstate in ("40001", "40P01"):  # serialization failure, deadlock
            return ConstraintViolation(SERIALIZATION, text)
        if sqlstate == "23505":  # unique: environments_name_key or one of host_ports' keys
            constraint = getattr(getattr(exc, "diag", None), "constraint_name", "") or ""
            return ConstraintViolation(NAME_TAKEN if "name" in constraint else PORT_TAKEN, text)
        if sqlstate == "23P01":  # exclusion: environments_subnet_no_overlap
            return ConstraintViolation(SUBNET_OVERLAP, text)
        if sqlstate is not None and sqlstate.startswith("23"):
            return ConstraintViolation(CHECK_FAILED, text)
        return None

    def _run(self, sql: str, params: Params | None) -> Any:
        try:
            return self.conn.execute(to_pyformat(sql), dict(params or {}))
        except self._psycopg.Error as exc:
            raise (self._violation(exc) or self._translate(exc)) from exc

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        return [tuple(row) for row in self._run(sql, params).fetchall()]

    def execute(self, sql: str, params: Params | None = None) -> int | None:
        cursor = self._run(sql, params)
        if cursor.description:  # INSERT ... RETURNING id (other statements return no int)
            row = cursor.fetchone()
            return row[0] if row and isinstance(row[0], int) else None
        return None

    def executescript(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.execute(statement)

    @contextlib.contextmanager
    def write(self, lock_key: int = ALLOCATION_LOCK_KEY, *, commit: bool = True) -> Iterator[None]:
        """One write transaction; commit=False runs it whole and rolls it back (dry runs)."""
        try:
            with self.conn.transaction(force_rollback=not commit):
                self.execute("SELECT pg_advisory_xact_lock(:key)", {"key": lock_key})
                yield
        except self._psycopg.Error as exc:  # raised by the commit itself (statements translate their own)
            raise (self._violation(exc) or self._translate(exc)) from exc

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def close(self) -> None:
        self.conn.close()


def connect(url: str | DatabaseUrl, *, create: bool = True) -> Database:
    """Open the inventory database; create=False refuses a SQLite file that does not exist yet
    (PostgreSQL databases are never created by kenv)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.dialect == "sqlite":
        return SQLiteDatabase(parsed, create=create)
    return PostgresDatabase(parsed)


def read_table(url: DatabaseUrl, table: str) -> list[dict[str, Any]]:
    """Every row of `table` in another program's database, opened read-only and never changed,
    as dicts with lower-case column names. Raises NoSuchTable when the table is missing."""
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    sql = f"SELECT * FROM {table} ORDER BY name"
    if url.dialect == "sqlite":
        return _sqlite_table(url, table, sql)
    return _postgres_table(url, table, sql)


def _sqlite_table(url: DatabaseUrl, table: str, sql: str) -> list[dict[str, Any]]:
    path = url.path
    assert path is not None
    if not path.is_file():
        raise InvalidInput(f"database {path} does not exist", hint="check the path")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            cursor = conn.execute(sql)
            names = [d[0].lower() for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorname == "SQLITE_ERROR" and "no such table" in str(exc):
            raise NoSuchTable(f"{path} has no {table!r} table") from exc
        raise InvalidInput(f"cannot read database {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"cannot read database {path}: {exc}") from exc


def _postgres_table(url: DatabaseUrl, table: str, sql: str) -> list[dict[str, Any]]:
    import psycopg

    assert url.conninfo is not None
    try:
        with psycopg.connect(url.conninfo, connect_timeout=PG_CONNECT_TIMEOUT_S) as conn:
            conn.read_only = True
            try:
                cursor = conn.execute(sql)
            except psycopg.errors.UndefinedTable as exc:
                raise NoSuchTable(f"{url.masked()} has no {table!r} table") from exc
            names = [d.name.lower() for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {url.masked()}: {' '.join(str(exc).split())}") from exc
    except psycopg.Error as exc:
        raise KenvError(f"PostgreSQL error at {url.masked()}: {' '.join(str(exc).split())}") from exc
