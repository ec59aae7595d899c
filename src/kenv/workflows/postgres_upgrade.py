"""`kenv postgres upgrade`, the side-effect half: a major upgrade of a server on this machine into a
NEW instance (dump, restore, exact row counts compared, switch only on a match, the old one kept
until `--cleanup`), the record of which instance is current, and a minor upgrade of the platform's
PostgreSQL by bumping the pinned image in its deployed manifests (a GitOps commit, or apply).

Every command goes through the Runner, so a dry run prints the exact commands and changes nothing.
The dump is taken with the NEW version's pg_dumpall (what the PostgreSQL documentation asks for:
a newer pg_dump reads an older server, not the other way round) and replayed with the new psql.
PostgreSQL refuses to run its server as root: when kenv runs as root, `run_as` names the account
initdb and pg_ctl run as (the executor's `runuser -u USER --`); the client programs run as kenv itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.files import write_file
from kenv.platform.postgres import upgrade as rules
from kenv.platform.postgres.executor import Executor, Target, executor_for, redact_url
from kenv.platform.postgres.upgrade import ClusterSettings, Mismatch, TableKey, Version
from kenv.runtime.git import Git
from kenv.runtime.process import CommandResult, Runner
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Progress

log = logging.getLogger("kenv.workflows")

QUERY_TIMEOUT = 120.0
DUMP_TIMEOUT = 6 * 3600.0
START_TIMEOUT = 120
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
STATE_FILE = "upgrades.json"


class UpgradeMismatch(KenvError):
    """The new instance does not hold what the old one does: nothing was switched (exit 1)."""

    def __init__(self, message: str, mismatches: Sequence[Mismatch], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.mismatches = list(mismatches)


# --- connections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where a server listens and who kenv connects as (from the --local URL)."""

    host: str
    port: int
    user: str
    password: str | None
    database: str = "postgres"

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise InvalidInput(
                f"--local {redact_url(url)!r} is not a PostgreSQL URL",
                hint="write it like postgresql://postgres:PASSWORD@localhost:5432/postgres",
            )
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise InvalidInput(f"--local {redact_url(url)!r} has an invalid port", hint="use a port 1-65535") from exc
        password = unquote(parts.password) if parts.password is not None else os.environ.get("PGPASSWORD")
        return cls(
            host=parts.hostname or "localhost",
            port=port,
            user=unquote(parts.username or "") or os.environ.get("PGUSER", "postgres"),
            password=password,
            database=unquote(parts.path.lstrip("/")) or "postgres",
        )

    def with_port(self, port: int) -> Endpoint:
        return Endpoint(self.host, port, self.user, self.password, self.database)

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS or self.host.startswith("/")

    def url(self, *, database: str | None = None) -> str:
        """The libpq URL without the password (that travels in PGPASSWORD, see executor_at)."""
        host = f"[{self.host}]" if ":" in self.host else quote(self.host, safe="")
        login = quote(self.user, safe="")
        return f"postgresql://{login}@{host}:{self.port}/{quote(database or self.database, safe='')}"

    def key(self) -> str:
        return f"{self.host}:{self.port}"


def executor_at(endpoint: Endpoint, bin_dir: Path, runner: Runner, run_as: str | None) -> Executor:
    """An executor for the server at `endpoint`, with the programs of `bin_dir`. Its commands also
    get PGPASSWORD: pg_dumpall hands pg_dump a connection string without the URL's password, and
    psql's `\\connect` lines in a dump need it too. The runner shares the caller's plan."""
    environment = dict(os.environ if runner.env is None else runner.env)
    if endpoint.password is not None:
        environment["PGPASSWORD"] = endpoint.password
    with_password = Runner(dry_run=runner.dry_run, env=environment, planned=runner.planned)
    target = Target(kind="local", url=endpoint.url(), bin_dir=bin_dir, run_as=run_as)
    return executor_for(target, with_password)


def answer(executor: Executor, sql: str, database: str | None = None) -> str:
    """The one value (column `answer`) of one read-only statement."""
    rows = executor.query(sql, database=database, timeout=QUERY_TIMEOUT)
    return (rows[0].get("answer") if rows else None) or ""


def installed_version(bin_dir: Path, runner: Runner) -> Version:
    """The version of the PostgreSQL installation in `bin_dir` (`initdb --version`)."""
    program = bin_dir / "initdb"
    if not program.is_file():
        raise InvalidInput(
            f"{bin_dir} holds no PostgreSQL installation (no initdb)",
            hint="give the directory of the PostgreSQL programs, e.g. /usr/lib/postgresql/17/bin",
        )
    result = runner.run([str(program), "--version"], timeout=30, mutating=False)
    return rules.version_from_tool(result.stdout)


def check_run_as(run_as: str | None) -> None:
    """PostgreSQL's server programs refuse root; say so before anything starts rather than after."""
    if run_as is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        raise InvalidInput(
            "kenv runs as root and PostgreSQL refuses to run its server as root",
            hint="give --run-as USER (the unprivileged account that owns the PostgreSQL data, e.g. postgres)",
        )
    if run_as is not None:
        import pwd

        try:
            pwd.getpwnam(run_as)
        except KeyError as exc:
            raise InvalidInput(f"--run-as {run_as!r} is not an account on this machine", hint="create it") from exc


# --- the record of which instance is current ---------------------------------------------------


@dataclass
class UpgradeState:
    """`<data>/postgres/upgrades.json`: per target (the old server's host:port), which instance is
    current, the one it replaced and how the upgrade ended. No password is ever written."""

    path: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> UpgradeState:
        path = data_dir / "postgres" / STATE_FILE
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            records = {}
        except (OSError, ValueError) as exc:
            raise KenvError(f"cannot read {path}: {exc}", hint="fix or remove the file") from exc
        return cls(path, records if isinstance(records, dict) else {})

    def find(self, endpoint: Endpoint) -> tuple[str, dict[str, Any]] | None:
        """The record whose old or new instance listens at `endpoint`."""
        for key, record in self.records.items():
            if endpoint.key() in (key, record.get("new", {}).get("key")):
                return key, record
        return None

    def save(self, key: str, record: dict[str, Any]) -> None:
        self.records[key] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_file(self.path, json.dumps(self.records, indent=2, sort_keys=True) + "\n", force=True, mode=0o600)


# --- the major upgrade -------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalMajorRequest:
    url: str
    target: Version
    bin_dir: Path  # the old server's programs (its pg_ctl stops it at --cleanup)
    new_bin_dir: Path
    data_dir: Path
    port: int
    method: str = "dump"
    run_as: str | None = None


@dataclass
class UpgradeResult:
    kind: str
    from_version: str
    to_version: str
    method: str | None
    old_url: str
    new_url: str | None
    data_dir: str | None
    databases: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    sequences: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    switched: bool = False
    dry_run: bool = False
    plan: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The `-o json` contract (keys pinned by tests)."""
        return {
            "kind": self.kind,
            "from": self.from_version,
            "to": self.to_version,
            "method": self.method,
            "old_url": self.old_url,
            "new_url": self.new_url,
            "data_dir": self.data_dir,
            "databases": self.databases,
            "tables": self.tables,
            "rows": self.rows,
            "sequences": self.sequences,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "switched": self.switched,
            "dry_run": self.dry_run,
            "plan": self.plan,
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
        }


class _Notes:
    def __init__(self, progress: Progress | None, name: str) -> None:
        self.progress = progress
        self.name = name

    def __call__(self, text: str) -> None:
        if self.progress is not None:
            self.progress.note(self.name, text)


def read_cluster(executor: Executor) -> tuple[ClusterSettings, list[str]]:
    settings = rules.parse_cluster_settings(answer(executor, rules.CLUSTER_SETTINGS_SQL))
    databases = rules.parse_json_answer(rules.DATABASES_SQL, answer(executor, rules.DATABASES_SQL))
    return settings, [str(d) for d in databases]


def count_rows(
    executor: Executor, databases: Sequence[str]
) -> tuple[dict[TableKey, int | None], dict[TableKey, int | None]]:
    """Exact row counts of every user table and the position of every sequence, per database."""
    tables: dict[TableKey, int | None] = {}
    sequences: dict[TableKey, int | None] = {}
    for database in databases:
        names = rules.parse_tables(answer(executor, rules.TABLES_SQL, database))
        for statement in rules.count_statements(names):
            rows = executor.query(statement, database=database, timeout=DUMP_TIMEOUT)
            tables.update(rules.counts_from_rows(database, names, rows))
        sequences.update(rules.parse_sequences(database, answer(executor, rules.SEQUENCES_SQL, database)))
    return tables, sequences


@dataclass
class _Prepared:
    """What the checks found, before anything changed."""

    request: LocalMajorRequest
    old: Endpoint
    new: Endpoint
    settings: ClusterSettings
    databases: list[str]
    new_version: Version
    target_dir: Path
    listen: str
    sockets: str
    old_exec: Executor  # the old server, through the new installation's clients (dump, counts)
    new_exec: Executor  # the new instance and its server programs


def _prepare(request: LocalMajorRequest, runner: Runner, state: UpgradeState) -> _Prepared:
    """Every check a major upgrade makes before it changes anything (InvalidInput: exit 2)."""
    if request.method != "dump":
        raise InvalidInput(
            f"--method {request.method} is not supported for a local server",
            hint="use --method dump (pg_dumpall into a new instance)",
        )
    check_run_as(request.run_as)
    old = Endpoint.from_url(request.url)
    if old.password is None:
        raise InvalidInput(
            f"{old.url()} carries no password",
            hint="the new instance gets scram authentication with the same superuser password: put it in the URL "
            "or in PGPASSWORD",
        )
    found = state.find(old)
    if found is not None and found[0] == old.key() and found[1].get("status") in ("switched", "cleaned"):
        raise InvalidInput(
            f"{old.url()} was already upgraded: {found[1].get('new', {}).get('url')} is current",
            hint="upgrade that one instead, or `--cleanup` to remove the old instance",
        )
    reader = executor_at(old, request.bin_dir, runner, request.run_as)
    settings, databases = read_cluster(reader)
    if rules.classify(settings.version, request.target) is not rules.UpgradeKind.MAJOR:
        raise InvalidInput(
            f"--to {request.target} is not a major upgrade of PostgreSQL {settings.version}",
            hint="a minor upgrade keeps the data directory: restart the server with the new binaries "
            "(on a cluster: kenv postgres upgrade --to X.Y --env ENV bumps the image)",
        )
    new_version = installed_version(request.new_bin_dir, runner)
    rules.check_new_binaries(new_version, request.target, settings.version)
    target_dir = Path(os.path.abspath(request.data_dir))
    if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
        raise InvalidInput(
            f"--data-dir {target_dir} exists and is not empty",
            hint="a major upgrade goes into a new data directory: give one that does not exist",
        )
    if not target_dir.parent.is_dir():
        raise InvalidInput(f"--data-dir {target_dir}: directory {target_dir.parent} does not exist", hint="create it")
    new = old.with_port(request.port)
    new_exec = executor_at(new, request.new_bin_dir, runner, request.run_as)
    probe = new_exec.run("pg_isready", ["-h", new.host, "-p", str(new.port)], check=False, timeout=30)
    if probe.returncode in (0, 1):
        raise InvalidInput(
            f"--port {request.port}: a server already answers on {new.host}:{new.port}",
            hint="choose a free port for the new instance",
        )
    return _Prepared(
        request=request,
        old=old,
        new=new,
        settings=settings,
        databases=databases,
        new_version=new_version,
        target_dir=target_dir,
        listen=answer(reader, "SELECT current_setting('listen_addresses') AS answer"),
        sockets=answer(reader, "SELECT current_setting('unix_socket_directories') AS answer"),
        old_exec=executor_at(old, request.new_bin_dir, runner, request.run_as),
        new_exec=new_exec,
    )


def _plan(p: _Prepared, dump_file: Path) -> list[str]:
    s = p.settings
    return [
        f"initdb {p.target_dir} with PostgreSQL {p.new_version} ({s.encoding}, collate {s.collate}, "
        f"ctype {s.ctype}, superuser {s.user}, scram-sha-256)",
        f"append to {p.target_dir}/postgresql.conf: port = {p.new.port}, listen_addresses and "
        "unix_socket_directories as the old server's",
        f"start the new instance on port {p.new.port}",
        f"pg_dumpall {p.old.url()} (with PostgreSQL {p.new_version}'s) into {dump_file} (0600, removed afterwards)",
        f"replay it into {p.new.url()} with psql",
        f"compare exact row counts of every table and every sequence in {len(p.databases)} database(s)",
        f"on a match: record {p.new.url()} as current (the old instance keeps running until --cleanup)",
    ]


def upgrade_major_local(
    request: LocalMajorRequest, *, runner: Runner, data_dir: Path, progress: Progress | None = None
) -> UpgradeResult:
    """Dump the server at `request.url` into a new instance of `request.target` on `request.port`,
    compare every table's rows, and record the new instance as current only when all match.

    Raises InvalidInput before anything changes for a request that cannot work, UpgradeMismatch
    (nothing switched, the new instance stopped and kept for inspection) when counts differ."""
    started = time.monotonic()
    note = _Notes(progress, "postgres")
    state = UpgradeState.load(data_dir)
    note(f"reading {Endpoint.from_url(request.url).url()}")
    p = _prepare(request, runner, state)
    work = data_dir / "postgres" / "upgrade-work" / f"{p.old.host}-{p.old.port}"
    dump_file = work / "dumpall.sql"
    result = UpgradeResult(
        kind="major",
        from_version=str(p.settings.version),
        to_version=str(p.new_version),
        method="dump",
        old_url=p.old.url(),
        new_url=p.new.url(),
        data_dir=str(p.target_dir),
        databases=list(p.databases),
        dry_run=runner.dry_run,
        plan=_plan(p, dump_file),
    )
    if runner.dry_run:
        # The commands go into runner.planned; nothing is created.
        _initdb(p, p.old.password)
        _start(p.new_exec, p.target_dir)
        _dump(p, dump_file)
        _replay(p, dump_file)
        result.seconds = time.monotonic() - started
        return result

    record: dict[str, Any] = {
        "status": "upgrading",
        "from": str(p.settings.version),
        "to": str(p.new_version),
        "old": {
            "key": p.old.key(),
            "url": p.old.url(),
            "bin_dir": str(request.bin_dir),
            "data_dir": p.settings.data_directory if p.old.local else None,
        },
        "new": {
            "key": p.new.key(),
            "url": p.new.url(),
            "bin_dir": str(request.new_bin_dir),
            "data_dir": str(p.target_dir),
        },
        "run_as": request.run_as,
        "started_at": _now(),
    }
    state.save(p.old.key(), record)  # the intent first: a crash leaves a record saying what was under way
    try:
        _build(p, work, dump_file, state, record, note)
        note("comparing row counts")
        _compare(p, result)
    except KenvError as exc:
        if record["status"] == "upgrading":
            _stop_quietly(p)
            record.update(status="failed", error=exc.one_line(), finished_at=_now())
            state.save(p.old.key(), record)
        raise
    if result.mismatches:
        _stop(p.new_exec, p.target_dir)
        record.update(status="mismatch", mismatches=[m.to_dict() for m in result.mismatches], finished_at=_now())
        state.save(p.old.key(), record)
        raise UpgradeMismatch(
            rules.mismatch_message(result.mismatches) + "; nothing switched",
            result.mismatches,
            hint=f"{p.old.url()} stays current; the new instance ({p.target_dir}, stopped) is kept for inspection: "
            "remove it before trying again",
        )
    record.update(status="switched", tables=result.tables, rows=result.rows, sequences=result.sequences)
    record["finished_at"] = _now()
    state.save(p.old.key(), record)
    result.switched = True
    result.seconds = time.monotonic() - started
    result.detail = f"{result.tables} tables, {result.rows} rows and {result.sequences} sequences match"
    return result


def _build(
    p: _Prepared, work: Path, dump_file: Path, state: UpgradeState, record: dict[str, Any], note: _Notes
) -> None:
    """The new instance, made, started and filled."""
    note(f"initdb {p.target_dir} (PostgreSQL {p.new_version})")
    _initdb(p, p.old.password)
    with (p.target_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(
            "\n# kenv postgres upgrade: where this instance listens (the old one keeps its own port)\n"
            f"port = {p.new.port}\nlisten_addresses = {_conf_string(p.listen)}\n"
            f"unix_socket_directories = {_conf_string(p.sockets)}\n"
        )
    note(f"starting the new instance on port {p.new.port}")
    _start(p.new_exec, p.target_dir)
    _transfer(p, work, dump_file, state, record, note)


def _conf_string(value: str) -> str:
    """A postgresql.conf string value: quoted, a quote inside doubled."""
    return "'" + value.replace("'", "''") + "'"


def _transfer(
    p: _Prepared, work: Path, dump_file: Path, state: UpgradeState, record: dict[str, Any], note: _Notes
) -> None:
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(work, 0o700)
    try:
        note(f"pg_dumpall {p.old.url()}")
        _dump(p, dump_file)
        note(f"restoring into {p.new.url()}")
        errors = rules.restore_errors(_replay(p, dump_file).stderr, p.settings.user)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if errors:
        _stop(p.new_exec, p.target_dir)
        record.update(status="failed", error=errors[0], finished_at=_now())
        state.save(p.old.key(), record)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise KenvError(
            f"restoring the dump into {p.new.url()} failed: {errors[0]}{more}; nothing switched",
            hint=f"the new instance ({p.target_dir}, stopped) is kept for inspection; remove it before trying again",
        )


def _compare(p: _Prepared, result: UpgradeResult) -> None:
    """Exact counts on both sides, read with the new psql (which reads the old server too)."""
    new_databases = {
        str(d) for d in rules.parse_json_answer(rules.DATABASES_SQL, answer(p.new_exec, rules.DATABASES_SQL))
    }
    missing = [
        Mismatch(d, "-", "-", old=None, new=None, what="database") for d in p.databases if d not in new_databases
    ]
    present = [d for d in p.databases if d in new_databases]
    old_tables, old_sequences = count_rows(p.old_exec, present)
    new_tables, new_sequences = count_rows(p.new_exec, present)
    result.mismatches = (
        missing
        + rules.compare_counts(old_tables, new_tables)
        + rules.compare_counts(old_sequences, new_sequences, what="sequence")
    )
    result.tables = len(old_tables)
    result.rows = rules.count_total(old_tables.values())
    result.sequences = len(old_sequences)


def _initdb(p: _Prepared, password: str | None) -> None:
    """initdb with the old cluster's encoding, locale and superuser; the superuser's password comes
    from a 0600 file readable only by the account initdb runs as, removed right after (an argv or
    an environment variable would show it to `ps`)."""
    s = p.settings
    args = [
        "-D",
        str(p.target_dir),
        "-U",
        s.user,
        "--auth=scram-sha-256",
        f"--encoding={s.encoding}",
        f"--lc-collate={s.collate}",
        f"--lc-ctype={s.ctype}",
    ]
    if p.new_exec.runner.dry_run:
        p.new_exec.run("initdb", [*args, "--pwfile=<a temporary 0600 file>"], timeout=300)
        return
    import tempfile

    descriptor, name = tempfile.mkstemp(prefix="kenv-initdb-", suffix=".pw")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write((password or "") + "\n")
        run_as = p.request.run_as
        if run_as is not None and os.geteuid() == 0:
            import pwd

            account = pwd.getpwnam(run_as)
            os.chown(name, account.pw_uid, account.pw_gid)
        p.new_exec.run("initdb", [*args, f"--pwfile={name}"], timeout=300)
    finally:
        os.unlink(name)


def _dump(p: _Prepared, dump_file: Path) -> None:
    # Written as kenv's own user into a 0700 directory: the dump holds the roles' password hashes.
    p.old_exec.run("pg_dumpall", ["-w", "-d", p.old.url(), "-f", str(dump_file)], timeout=DUMP_TIMEOUT)


def _replay(p: _Prepared, dump_file: Path) -> CommandResult:
    # No ON_ERROR_STOP: the script's CREATE ROLE of the superuser initdb made fails by design (the
    # ALTER ROLE after it applies); restore_errors() judges every other error.
    return p.new_exec.run(
        "psql",
        ["-X", "-q", "-w", "-d", p.new.url(database="postgres"), "-f", str(dump_file)],
        mutating=True,
        timeout=DUMP_TIMEOUT,
    )


def _start(executor: Executor, target: Path) -> None:
    # -l: the server's output goes to a file; without it the postmaster would hold kenv's pipes open.
    executor.run(
        "pg_ctl",
        ["-D", str(target), "-l", str(target / "kenv-start.log"), "-w", "-t", str(START_TIMEOUT), "start"],
        timeout=START_TIMEOUT + 30,
    )


def _stop(executor: Executor, target: Path) -> None:
    executor.run("pg_ctl", ["-D", str(target), "-m", "fast", "-w", "stop"], timeout=START_TIMEOUT + 30)


def _stop_quietly(p: _Prepared) -> None:
    """After a failure: the new instance stops (it is not current), its data directory stays."""
    if (p.target_dir / "postmaster.pid").exists():
        try:
            _stop(p.new_exec, p.target_dir)
        except KenvError as exc:
            log.warning("could not stop the new instance in %s: %s", p.target_dir, exc.one_line())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- cleanup -----------------------------------------------------------------------------------


@dataclass
class CleanupResult:
    old_url: str
    current_url: str
    data_dir: str | None
    removed: bool
    dry_run: bool
    plan: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_url": self.old_url,
            "current_url": self.current_url,
            "data_dir": self.data_dir,
            "removed": self.removed,
            "dry_run": self.dry_run,
            "plan": self.plan,
        }


def cleanup_local(url: str, *, runner: Runner, data_dir: Path, run_as: str | None = None) -> CleanupResult:
    """Stop and remove the old instance of an upgrade that switched (counts matched) — and nothing
    else: a failed or mismatched upgrade, or none recorded, is refused."""
    endpoint = Endpoint.from_url(url)
    state = UpgradeState.load(data_dir)
    found = state.find(endpoint)
    if found is None:
        raise InvalidInput(
            f"no upgrade of {endpoint.url()} is recorded",
            hint="--cleanup removes the old instance of an upgrade kenv made; run the upgrade first",
        )
    key, record = found
    status = record.get("status")
    old, new = record.get("old", {}), record.get("new", {})
    if status == "cleaned":
        return CleanupResult(old.get("url", ""), new.get("url", ""), old.get("data_dir"), False, runner.dry_run)
    if status != "switched":
        raise InvalidInput(
            f"the upgrade of {old.get('url')} ended {status!r}, not switched: the old instance stays",
            hint="only an upgrade whose row counts matched lets --cleanup remove the old instance",
        )
    old_dir = old.get("data_dir")
    if not old_dir:
        raise InvalidInput(
            f"{old.get('url')} is not on this machine: kenv cannot stop it",
            hint="stop and remove the old server yourself",
        )
    user = run_as if run_as is not None else record.get("run_as")
    check_run_as(user)
    executor = executor_at(Endpoint.from_url(old["url"]), Path(old["bin_dir"]), runner, user)
    result = CleanupResult(
        old.get("url", ""),
        new.get("url", ""),
        old_dir,
        removed=False,
        dry_run=runner.dry_run,
        plan=[f"stop {old.get('url')} (pg_ctl stop -m fast)", f"remove its data directory {old_dir}"],
    )
    if Path(old_dir, "postmaster.pid").exists() or runner.dry_run:
        _stop(executor, Path(old_dir))
    if runner.dry_run:
        return result
    if not Path(old_dir, "PG_VERSION").is_file():
        raise KenvError(f"{old_dir} is not a PostgreSQL data directory (no PG_VERSION): left in place")
    shutil.rmtree(old_dir)
    record.update(status="cleaned", cleaned_at=_now())
    state.save(key, record)
    result.removed = True
    return result


# --- the minor upgrade -------------------------------------------------------------------------


@dataclass(frozen=True)
class MinorRequest:
    environment: str
    target: Version
    via: str = "gitops"
    image: str | None = None  # an explicit image (pinned by digest) instead of kenv's pin
    timeout: float = 300.0


def manifests_dir(ctx: WorkflowContext, request: MinorRequest) -> Path:
    from kenv.workflows.postgres_deploy import GITOPS_PATH, gitops_repo, rendered_dir

    return gitops_repo(ctx) / GITOPS_PATH if request.via == "gitops" else rendered_dir(ctx, request.environment)


def upgrade_minor(ctx: WorkflowContext, request: MinorRequest) -> UpgradeResult:
    """Bump the pinned image in the deployed manifests and roll the StatefulSet: through a commit
    to the GitOps repository (Argo CD applies it) or `kubectl apply -k` and a rollout wait.

    The manifests deployed are edited, not rendered again: a render from today's defaults would
    also revert the memory, profile or connections the deployment was made with. Only the `image:`
    lines holding the current pin change, in every file (the backup jobs run the server's version
    of pg_basebackup)."""
    from kenv.platform.postgres.params import IMAGES
    from kenv.workflows.postgres_deploy import GITOPS_PATH, gitops_repo

    directory = manifests_dir(ctx, request)
    files = rules.read_manifests(directory)
    if not files:
        raise InvalidInput(
            f"no PostgreSQL manifests for {request.environment} at {directory}",
            hint=f"deploy first: kenv postgres deploy --env {request.environment} --via {request.via}",
        )
    current_image = rules.current_image(files, where=str(directory))
    current = rules.image_version(current_image)
    assert current is not None
    kind = rules.classify(current, request.target)
    result = UpgradeResult(
        kind=str(kind),
        from_version=str(current),
        to_version=str(request.target),
        method=None,
        old_url=f"{request.via}:{directory}",
        new_url=None,
        data_dir=None,
        dry_run=ctx.dry_run,
    )
    if kind is rules.UpgradeKind.NONE:
        result.detail = f"already at {current} ({current_image}): nothing to do"
        return result
    if kind is rules.UpgradeKind.MAJOR:
        return _major_cluster_plan(ctx, request, result, files, current_image)
    new_image = rules.image_for_minor(request.target, IMAGES, request.image)
    changed = rules.bump_image(files, current_image, new_image)
    message = rules.commit_message(current_image, new_image)
    result.plan = [f"{name}: image {current_image} -> {new_image}" for name in sorted(changed)]
    if request.via == "gitops":
        git = Git(ctx.runner, gitops_repo(ctx))
        if not git.is_repository():
            raise InvalidInput(
                f"{gitops_repo(ctx)} is not a git repository",
                hint=f"deploy first: kenv postgres deploy --env {request.environment} --via gitops",
            )
        from kenv.workflows.gitops import commit_changes

        changes = {f"{GITOPS_PATH}/{name}": text.encode() for name, text in changed.items()}
        commit = commit_changes(ctx, changes, message) or git.head()  # a dry run records the commit only
        result.detail = (
            f"committed {commit[:12]} to {gitops_repo(ctx)}: Argo CD rolls statefulset/postgres to {new_image}"
            if not ctx.dry_run
            else f"would commit to {gitops_repo(ctx)}: {message.splitlines()[0]}"
        )
        result.switched = not ctx.dry_run
        return result
    result.detail = _apply_minor(ctx, request, directory, changed)
    result.switched = not ctx.dry_run
    return result


def _major_cluster_plan(
    ctx: WorkflowContext, request: MinorRequest, result: UpgradeResult, files: dict[str, str], current_image: str
) -> UpgradeResult:
    """A major upgrade on a cluster: with --dry-run its steps; otherwise carried out by
    postgres_upgrade_cluster (a new StatefulSet, the dump piped between the pods, the counts
    compared, the Service switched on a match)."""
    from kenv.platform.postgres.manifests import NAME
    from kenv.platform.postgres.params import IMAGES

    current = rules.image_version(current_image)
    new_image = IMAGES.get(request.target.major)
    if new_image is None:
        pinned = ", ".join(str(v) for v in IMAGES)
        raise InvalidInput(
            f"--to {request.target} is a major version kenv pins no image for", hint=f"choose one of {pinned}"
        )
    if not ctx.dry_run:
        from kenv.workflows.postgres_upgrade_cluster import upgrade_major_cluster

        return upgrade_major_cluster(
            ctx,
            request.environment,
            files,
            current_image=current_image,
            new_image=new_image,
            major=request.target.major,
            result=result,
            timeout=request.timeout,
        )
    assert current is not None
    result.method = "dump"
    result.to_version = str(rules.image_version(new_image))
    result.plan = rules.cluster_major_plan(
        rules.namespace_of(files), NAME, current_image, new_image, request.target.major
    )
    result.detail = "the steps; without --dry-run kenv carries them out"
    return result


def _apply_minor(ctx: WorkflowContext, request: MinorRequest, directory: Path, changed: dict[str, str]) -> str:
    from kenv.platform.postgres.manifests import NAME
    from kenv.runtime.kubectl import Kubectl

    env = ctx.inventory().get(request.environment)
    kubeconfig = ctx.kubeconfig_path(env.name)
    if not kubeconfig.exists():
        raise KenvError(f"no kubeconfig for {env.name!r} at {kubeconfig}", hint=f"run `kenv create {env.name}`")
    kubectl = Kubectl(ctx.runner, kubeconfig, ctx.provider(env.provider).context_name(env), timeout=60.0)
    if not ctx.dry_run:
        for name, text in changed.items():
            write_file(directory / name, text, force=True, mode=0o644)
    ctx.progress.note(request.environment, f"applying {directory}")
    kubectl.run("apply", "-k", str(directory), mutating=True)
    if ctx.dry_run:
        return f"would apply {directory} and wait for statefulset/{NAME}"
    ctx.progress.note(request.environment, f"waiting up to {request.timeout:.0f}s for statefulset/{NAME} to roll")
    namespace = rules.namespace_of(changed)
    argv = kubectl.argv(
        "rollout", "status", f"statefulset/{NAME}", "-n", namespace, f"--timeout={request.timeout:.0f}s"
    )
    rolled = ctx.runner.run(argv, timeout=request.timeout + 60, mutating=False, check=False)
    if rolled.returncode != 0:
        reason = (rolled.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1]
        raise KenvError(
            f"statefulset/{NAME} in {namespace} did not roll to the new image: {reason}",
            hint=f"kenv doctor {request.environment}",
        )
    return (rolled.stdout.strip().splitlines() or ["rolled out"])[-1]
