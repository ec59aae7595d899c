"""`kenv postgres backup|backups|restore|status|psql|port-forward`: operations on the platform's
PostgreSQL, in its pod (`--env`, through kubectl exec) or on a server on this machine (`--local`)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kenv.cli.main import App
from kenv.cli.options import complete_environment_names, dry_run_option
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.platform.postgres.executor import Executor
    from kenv.runtime.process import Runner

F = TypeVar("F", bound=Callable[..., Any])

TARGET_HELP = """
\b
Where it runs:
  --env ENV        inside the pod postgres-0 (namespace --namespace, default infra) of
                   environment ENV (default devops), through `kubectl exec`
  --local URL      against a server on this machine: postgresql://USER[:PASSWORD]@HOST:PORT/DB
                   (or PGPASSWORD), with the programs of --bin-dir or of `pg_config` on PATH
"""


def target_options(command: F) -> F:
    options = [
        click.option(
            "--env",
            "env",
            default=None,
            metavar="ENV",
            shell_complete=complete_environment_names,
            help="Environment whose PostgreSQL pod to use (default devops).",
        ),
        click.option("--namespace", default="infra", show_default=True, help="Namespace of the PostgreSQL pod."),
        click.option("--local", "local", default=None, metavar="URL", help="A server on this machine, by libpq URL."),
        click.option(
            "--bin-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="PostgreSQL programs for --local (default: `pg_config --bindir`).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _echo_plan(planned: list[tuple[str, ...]]) -> None:
    """The planned command lines, passwords in URLs masked."""
    from kenv.workflows.postgres_ops import shown

    for argv in shown(planned):
        click.echo(shlex.join(argv))


def _runner(dry_run: bool = False) -> Runner:
    from kenv.runtime.process import Runner

    return Runner(dry_run=dry_run)


def _progress() -> Any:
    from kenv.cli.progress import StepPrinter

    printer = StepPrinter()
    click.get_current_context().call_on_close(printer.close)
    return printer


def _executor(
    app: App, runner: Runner, env: str | None, namespace: str, local: str | None, bin_dir: Path | None
) -> Executor:
    from kenv.errors import InvalidInput, NotFound
    from kenv.platform.postgres.executor import executor_for
    from kenv.workflows import postgres_ops

    if local and env:
        raise InvalidInput("give either --env or --local, not both")
    if local:
        target = postgres_ops.local_target(local, bin_dir=bin_dir, run_as=None, runner=runner)
    else:
        name = env or postgres_ops.DEFAULT_ENV
        kubeconfig = app.settings().kubeconfig_dir / f"{name}.yaml"
        if not kubeconfig.exists():
            raise NotFound(
                f"environment {name!r} has no kubeconfig ({kubeconfig})",
                hint="create it (`kenv create`), name another with --env, or use --local URL",
            )
        target = postgres_ops.pod_target(name, kubeconfig, namespace=namespace)
    return executor_for(target, runner)


def _backup_dir(app: App, executor: Executor, given: str | None) -> str:
    """--backup-dir, else the default: the pod's /wal-archive/base, or under kenv's data
    directory; absolute on this machine (the index records each backup's path)."""
    from kenv.platform.postgres.ops_backup import POD_BACKUP_DIR

    if executor.target.kind == "pod":
        return given or POD_BACKUP_DIR
    return str(Path(given).absolute()) if given else str(app.settings().data_dir / "postgres-backups")


@click.command(
    "backup", epilog=TARGET_HELP, short_help="Take a verified base backup (pg_basebackup + pg_verifybackup)."
)
@target_options
@click.option("--backup-dir", default=None, metavar="DIR", help="Backup directory (default: see below).")
@click.option("--keep", type=int, default=None, metavar="N", help="Then keep only the newest N verified backups.")
@click.option("--keep-days", type=float, default=None, metavar="D", help="Then keep only backups younger than D days.")
@dry_run_option()
@output_option()
@click.pass_obj
def backup(
    app: App,
    env: str | None,
    namespace: str,
    local: str | None,
    bin_dir: Path | None,
    backup_dir: str | None,
    keep: int | None,
    keep_days: float | None,
    dry_run: bool,
    output: str,
) -> None:
    """Take a base backup (pg_basebackup: tar, gzip, WAL streamed alongside, SHA-256 manifest),
    verify it with pg_verifybackup over an extracted copy, and add it to the backup directory's
    index (kenv-backups.json). Prints its id, time and WAL range (start/end LSN).

    The backup directory is, in the pod, /wal-archive/base (the WAL-archive volume, where the
    base-backup CronJob writes too) and, for --local, <kenv data>/postgres-backups. With --keep
    or --keep-days older backups are removed afterwards; the newest verified backup is never
    removed (every recovery to a recent time starts from it), and the answer names the oldest
    WAL file a kept backup needs (what pg_archivecleanup may cut before).

    Exit codes: 0 taken and verified, 1 the server or a program failed (the partial backup is
    removed), 2 bad input (a directory that is not a backup directory, a wrong password).

    \b
    Examples:
      kenv postgres backup                                  the devops environment's pod
      kenv postgres backup --local postgresql://postgres@localhost:5432/postgres --backup-dir /srv/pgbackup
      kenv postgres backup --keep 7 --keep-days 14
      kenv postgres backup --dry-run                        the exact commands
    """
    from kenv.workflows import postgres_ops

    runner = _runner(dry_run)
    executor = _executor(app, runner, env, namespace, local, bin_dir)
    directory = _backup_dir(app, executor, backup_dir)
    report = postgres_ops.take_backup(executor, directory, keep=keep, keep_days=keep_days, progress=_progress())
    if output != "table":
        emit(report.to_dict(), output)
        return
    if report.backup is None:
        _echo_plan(report.planned)
        return
    taken = report.backup
    click.echo(
        f"backup {taken.id}: {taken.started_at} .. {taken.finished_at}, LSN {taken.start_lsn} .. {taken.end_lsn} "
        f"(timeline {taken.timeline}), {taken.size_bytes // 1024} KiB, verified; in {report.backup_dir}"
    )
    if report.removed:
        click.echo(f"removed (retention): {', '.join(report.removed)}; WAL needed from {report.wal_needed_from}")


BACKUP_COLUMNS = [
    ("ID", "id"),
    ("FINISHED", "finished_at"),
    ("START LSN", "start_lsn"),
    ("END LSN", "end_lsn"),
    ("TL", "timeline"),
    ("VERSION", "server_version"),
    ("SIZE", "size_bytes"),
    ("VERIFIED", "verified"),
]


@click.command("backups", epilog=TARGET_HELP, short_help="List the base backups of a backup directory.")
@target_options
@click.option("--backup-dir", default=None, metavar="DIR", help="Backup directory (default as for backup).")
@output_option()
@click.pass_obj
def backups(
    app: App,
    env: str | None,
    namespace: str,
    local: str | None,
    bin_dir: Path | None,
    backup_dir: str | None,
    output: str,
) -> None:
    """List the base backups of a backup directory: its index, each entry checked against its
    backup_manifest (a backup whose files are gone or differ shows VERIFIED no).

    JSON keys (-o json, one object per backup): id, started_at, finished_at, start_lsn,
    end_lsn, timeline, wal_start_file, server_version, size_bytes, verified, path.

    \b
    Examples:
      kenv postgres backups
      kenv postgres backups --local postgresql://postgres@localhost/postgres --backup-dir /srv/pgbackup -o json
    """
    from kenv.workflows import postgres_ops

    executor = _executor(app, _runner(), env, namespace, local, bin_dir)
    directory = _backup_dir(app, executor, backup_dir)
    found = [b.as_json() for b in postgres_ops.list_backups(executor, directory)]
    emit(found, output, columns=BACKUP_COLUMNS, empty=f"No backups in {directory}.")


@click.command("restore", short_help="Point-in-time recovery into a new instance, never in place.")
@click.option(
    "--to-time", "to_time", required=True, metavar="T", help="Recover up to this time (ISO 8601, UTC default)."
)
@click.option(
    "--backup", "backup_id", default=None, metavar="ID", help="Start from this backup (default: the newest before T)."
)
@click.option("--backup-dir", default=None, metavar="DIR", help="The backup directory (--into: /wal-archive/base).")
@click.option("--archive-dir", default=None, metavar="DIR", help="The WAL archive (--into: /wal-archive).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="New (or empty) data directory.")
@click.option("--port", type=int, default=None, help="Port the new instance listens on (localhost).")
@click.option("--into", "into", default=None, metavar="NAME", help="Restore into a new StatefulSet NAME in --env.")
@click.option("--env", "env", default=None, metavar="ENV", help="With --into: the environment (default devops).")
@click.option("--namespace", default="infra", show_default=True, help="With --into: the namespace.")
@click.option(
    "--local", "local", default=None, metavar="URL", help="The source's URL: user and password to check with."
)
@click.option("--bin-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="PostgreSQL programs.")
@click.option("--run-as", default=None, metavar="USER", help="When kenv runs as root: the user the instance runs as.")
@click.option("--timeout", type=float, default=900, show_default=True, help="Seconds to wait for the recovery.")
@dry_run_option()
@output_option()
@click.pass_obj
def restore(
    app: App,
    to_time: str,
    backup_id: str | None,
    backup_dir: str | None,
    archive_dir: str | None,
    data_dir: Path | None,
    port: int | None,
    into: str | None,
    env: str | None,
    namespace: str,
    local: str | None,
    bin_dir: Path | None,
    run_as: str | None,
    timeout: float,
    dry_run: bool,
    output: str,
) -> None:
    """Point-in-time recovery into a NEW instance on this machine, never in place: the newest
    verified backup that ended before T is unpacked into --data-dir (new or empty), with
    recovery.signal, a restore_command copying from --archive-dir, recovery_target_time T and
    recovery_target_action promote; the instance starts on --port (loopback, archiving off),
    replays the archive up to T and promotes itself. Prints the time of the last transaction
    it replayed and the first one it stopped before.

    Refused before anything is written (exit 2): T in the future or before the oldest backup
    ended, a directory that is not a backup directory, an archive with no WAL file, a data
    directory that is not empty, a port in use, programs of another major version. A recovery
    that fails (the archive ends before T) exits 1 and removes what it wrote.

    JSON keys (-o json): backup, target_time, reached_time, stopped_before, data_dir, port,
    url (no password), timeline.

    On a cluster, --into NAME does the same in --env: a new StatefulSet NAME whose init
    container unpacks the backup from /wal-archive/base into the new claim data-NAME-0 and
    writes the recovery settings is applied, rolled out, and its pod NAME-0 polled (kubectl
    exec psql) until it left recovery; prints the time it reached. A NAME that exists is
    refused (exit 2); one that does not recover within --timeout is deleted again, its claim
    kept for `kubectl logs NAME-0 -c restore`. --dry-run prints the StatefulSet instead.
    JSON keys (--into, -o json): backup, target_time, reached_time, statefulset, namespace,
    pod, timeline.

    \b
    Examples:
      kenv postgres restore --to-time '2026-12-01 14:05:00+00' --backup-dir /srv/pgbackup \\
          --archive-dir /srv/wal-archive --data-dir /srv/pg-restored --port 5433
      kenv postgres restore --to-time 2026-12-01T14:05:00Z ... --dry-run
      kenv postgres restore --to-time 2026-12-01T14:05:00Z --into postgres-restored --dry-run
      kenv postgres restore --to-time 2026-12-01T14:05:00Z --into postgres-restored --env devops
    """
    from kenv.errors import InvalidInput
    from kenv.platform.postgres.ops_backup import POD_BACKUP_DIR
    from kenv.workflows import postgres_ops

    if into is not None:
        if data_dir is not None or port is not None or local is not None:
            raise InvalidInput("give either --into NAME (a cluster) or --data-dir and --port (this machine), not both")
        executor = _executor(app, _runner(dry_run), env, namespace, None, None)
        if not dry_run:
            done = postgres_ops.restore_into(
                executor,
                into,
                to_time=to_time,
                backup_id=backup_id,
                backup_dir=backup_dir or POD_BACKUP_DIR,
                archive_dir=archive_dir or postgres_ops.POD_ARCHIVE_DIR,
                timeout=timeout,
                progress=_progress(),
            )
            if output != "table":
                emit(done.to_dict(), output)
            else:
                click.echo(
                    f"restored backup {done.backup} into statefulset {done.namespace}/{done.statefulset}: "
                    f"recovered to {done.reached_time or 'the backup end (no later transaction)'}"
                    f" (target {done.target_time}, timeline {done.timeline})"
                )
            return
        click.echo(
            postgres_ops.plan_restore_into(
                executor,
                into,
                to_time=to_time,
                backup_id=backup_id,
                backup_dir=backup_dir or POD_BACKUP_DIR,
                archive_dir=archive_dir or postgres_ops.POD_ARCHIVE_DIR,
            ),
            nl=False,
        )
        return
    missing = [flag for flag, value in (("--data-dir", data_dir), ("--port", port), ("--backup-dir", backup_dir),
                                        ("--archive-dir", archive_dir)) if value is None]  # fmt: skip
    if missing:
        raise InvalidInput(
            f"restore on this machine needs {', '.join(missing)}", hint="or plan a cluster restore with --into NAME"
        )
    assert data_dir is not None
    assert port is not None
    assert backup_dir is not None
    assert archive_dir is not None
    runner = _runner(dry_run)
    report = postgres_ops.restore_local(
        runner,
        backup_dir=str(Path(backup_dir).absolute()),
        archive_dir=archive_dir,
        to_time=to_time,
        data_dir=data_dir,
        port=port,
        backup_id=backup_id,
        source_url=local,
        bin_dir=bin_dir,
        run_as=run_as,
        timeout=timeout,
        progress=_progress(),
    )
    if output != "table":
        emit(report.to_dict(), output)
        return
    if report.planned:
        _echo_plan(report.planned)
        return
    click.echo(
        f"restored backup {report.backup} into {report.data_dir}: recovered to {report.reached_time} "
        f"(target {report.target_time}; stopped before the commit at {report.stopped_before or '-'}), "
        f"promoted on timeline {report.timeline}; {report.url}"
    )


STATUS_EPILOG = (
    TARGET_HELP
    + """
\b
JSON keys (-o json):
  target, version, version_num, started_at, uptime_seconds, in_recovery,
  connections {used, max, ratio}, cache_hit_ratio,
  longest_running [{pid, user, database, state, seconds, query}],
  slowest_queries {available, reason, queries [{calls, mean_ms, total_ms, query}]},
  archiving {mode, archived_count, failed_count, last_archived_wal, last_archived_time,
             last_failed_wal, last_failed_time, lag_seconds},
  database {name, size_bytes, all_databases_bytes},
  volume {path, size_bytes, used_bytes, available_bytes}
"""
)


@click.command("status", epilog=STATUS_EPILOG, short_help="Connections, cache hits, slow queries, archiving, sizes.")
@target_options
@output_option()
@click.pass_obj
def status(app: App, env: str | None, namespace: str, local: str | None, bin_dir: Path | None, output: str) -> None:
    """Version, uptime, connections used of max, cache hit ratio, the longest running and the
    slowest queries (pg_stat_statements, when loaded), WAL archiving (archived, failed, last
    failure, lag since the last archived file), database and volume size.

    \b
    Examples:
      kenv postgres status
      kenv postgres status --local postgresql://postgres@localhost:5432/postgres -o json
    """
    from kenv.platform.postgres.ops_status import status_lines
    from kenv.workflows import postgres_ops

    executor = _executor(app, _runner(), env, namespace, local, bin_dir)
    result = postgres_ops.status(executor)
    if output != "table":
        emit(result, output)
        return
    click.echo("\n".join(status_lines(result)))


@click.command(
    "psql",
    short_help="Open psql on the platform's PostgreSQL or --local URL.",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@target_options
@dry_run_option()
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def psql(
    app: App,
    env: str | None,
    namespace: str,
    local: str | None,
    bin_dir: Path | None,
    dry_run: bool,
    args: tuple[str, ...],
) -> None:
    """Open psql on the platform's PostgreSQL (in the pod, as postgres over its socket) or on
    --local URL; ARGS after `--` go to psql. Exits with psql's exit code.

    \b
    Examples:
      kenv postgres psql
      kenv postgres psql -- -c 'select version()'
      kenv postgres psql --local postgresql://postgres@localhost:5432/postgres
    """
    from kenv.runtime.postgres_exec import interactive

    runner = _runner(dry_run)
    executor = _executor(app, runner, env, namespace, local, bin_dir)
    argv = executor.argv("psql", [*executor.psql_args(None), *args])
    if executor.target.kind == "pod":
        argv.insert(argv.index("-i") + 1, "-t")  # a terminal for people
    code = interactive(argv, runner, extra_env=executor.extra_env())
    _echo_plan(runner.planned)
    raise SystemExit(code)


@click.command("port-forward", short_help="Forward a local port to the PostgreSQL Service.")
@click.option(
    "--env",
    "env",
    default=None,
    metavar="ENV",
    shell_complete=complete_environment_names,
    help="Environment (default devops).",
)
@click.option("--namespace", default="infra", show_default=True, help="Namespace of the PostgreSQL Service.")
@click.option("--port", type=int, default=5432, show_default=True, help="Local port.")
@dry_run_option()
@click.pass_obj
def port_forward(app: App, env: str | None, namespace: str, port: int, dry_run: bool) -> None:
    """Forward a local port to the platform's PostgreSQL Service (kubectl port-forward) until
    Ctrl-C, and print the URL to connect with (no password: it is in the Secret postgres-admin).

    \b
    Examples:
      kenv postgres port-forward --port 15432
      psql postgresql://postgres@localhost:15432/postgres
    """
    from kenv.errors import InvalidInput, NotFound
    from kenv.runtime.postgres_exec import interactive
    from kenv.workflows import postgres_ops

    if not 1 <= port <= 65535:
        raise InvalidInput(f"--port {port} is not a TCP port (1-65535)")
    name = env or postgres_ops.DEFAULT_ENV
    kubeconfig = app.settings().kubeconfig_dir / f"{name}.yaml"
    if not kubeconfig.exists():
        raise NotFound(
            f"environment {name!r} has no kubeconfig ({kubeconfig})", hint="create it or name another with --env"
        )
    runner = _runner(dry_run)
    argv = [
        "kubectl",
        "--kubeconfig",
        str(kubeconfig),
        "port-forward",
        "-n",
        namespace,
        f"svc/{postgres_ops.STATEFULSET}",
        f"{port}:5432",
    ]
    click.echo(f"postgresql://postgres@localhost:{port}/postgres  (Ctrl-C to stop)")
    code = interactive(argv, runner)
    _echo_plan(runner.planned)
    raise SystemExit(code)


COMMANDS = (backup, backups, restore, status, psql, port_forward)
