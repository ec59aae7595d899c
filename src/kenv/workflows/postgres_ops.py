"""PostgreSQL operations through one executor: base backups (taken, verified, indexed, pruned),
point-in-time recovery into a new local instance, and status.

Every file operation at the target is a plain command (`sh`, `tar`, `cat`, `rm`, `du`) run by
the executor, so the same code works inside the pod and on this machine, and a dry run records
the exact commands. Refusals (a directory that is not a backup directory, a time out of range, a
data directory in use) come before anything is written.
"""

from __future__ import annotations

import os
import pwd
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kenv.errors import ExternalCommandError, InvalidInput, KenvError, OperationFailed
from kenv.platform.postgres import ops_backup, ops_restore, ops_status
from kenv.platform.postgres.executor import Executor, Target, executor_for, redact_url
from kenv.runtime.host import port_is_bindable
from kenv.runtime.postgres_exec import find_bin_dir
from kenv.runtime.process import Runner
from kenv.workflows.engine import Progress, SilentProgress

# The platform's PostgreSQL as `kenv postgres render` names it.
DEFAULT_ENV = "devops"
DEFAULT_NAMESPACE = "infra"
STATEFULSET = "postgres"
CONTAINER = "postgres"
POD_ARCHIVE_DIR = "/wal-archive"
_WAL_FILE = re.compile(r"^[0-9A-F]{24}$")

# `sh -c` scripts: the paths are positional arguments, never spliced into the script.
_DIR_STATE = (
    'if [ ! -e "$1" ]; then echo missing; elif [ ! -d "$1" ]; then echo file; '
    'elif [ -f "$1/kenv-backups.json" ]; then echo index; '
    'elif [ -z "$(ls -A "$1")" ]; then echo empty; '
    'elif ls "$1"/*/backup_manifest >/dev/null 2>&1; then echo backups; else echo other; fi'
)
# Backups in the directory, indexed or not (the base-backup CronJob writes none): the manifest's
# modification time (pg_basebackup renames it into place last) and its path.
_MANIFESTS = 'for m in "$1"/*/backup_manifest; do [ -f "$m" ] && echo "$(stat -c %Y "$m") $m"; done; true'
_WRITE_ATOMIC = 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"'
_APPEND = 'cat >> "$1"'


def shown(planned: list[tuple[str, ...]]) -> list[list[str]]:
    """Planned command lines for output: a password in a URL is masked."""
    return [[redact_url(a) if a.startswith(("postgresql://", "postgres://")) else a for a in argv] for argv in planned]


def local_target(url: str, *, bin_dir: Path | None, run_as: str | None, runner: Runner) -> Target:
    if not url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput(
            f"--local {redact_url(url)!r} is not a PostgreSQL URL", hint="write postgresql://USER@HOST:PORT/DATABASE"
        )
    directory = bin_dir if bin_dir is not None else find_bin_dir(runner)
    if not (directory / "psql").exists():
        raise InvalidInput(
            f"--bin-dir {directory} holds no psql", hint="give the bin directory of a PostgreSQL installation"
        )
    return Target(kind="local", url=url, bin_dir=directory, run_as=run_as)


def pod_target(env: str, kubeconfig: Path, *, namespace: str = DEFAULT_NAMESPACE) -> Target:
    return Target(
        kind="pod",
        env=env,
        namespace=namespace,
        pod=f"{STATEFULSET}-0",
        container=CONTAINER,
        kubeconfig=kubeconfig,
    )


def _sh(executor: Executor, script: str, *args: str, stdin: str | None = None, mutating: bool = True) -> str:
    result = executor.run(
        "sh", ["-c", script, "sh", *args], stdin=stdin.encode() if stdin is not None else None, mutating=mutating
    )
    return result.stdout


def dir_state(executor: Executor, path: str) -> str:
    """missing, file, index (a backup directory), empty or other."""
    return _sh(executor, _DIR_STATE, path, mutating=False).strip()


def _check_login(executor: Executor) -> tuple[int, int]:
    """The server's version; a wrong password is bad input (exit 2), a server that does not answer
    a failed operation (exit 1). Both before anything is written."""
    try:
        return executor.version()
    except ExternalCommandError as exc:
        if "password is wrong" in exc.message:
            raise InvalidInput(exc.message, hint=exc.hint) from exc
        raise


def read_backups(executor: Executor, backup_dir: str, *, must_exist: bool = True) -> list[ops_backup.Backup]:
    state = dir_state(executor, backup_dir)
    if state == "index":
        text = executor.run("cat", [f"{backup_dir}/{ops_backup.INDEX_FILE}"], mutating=False).stdout
        return ops_backup.parse_index(text, f"{backup_dir}/{ops_backup.INDEX_FILE}")
    if state == "backups":  # backups, none indexed by kenv yet (the CronJob's)
        return []
    if state in ("missing", "empty") and not must_exist:
        return []
    what = {"missing": "does not exist", "empty": "is empty", "file": "is a file"}.get(
        state, "holds no kenv-backups.json"
    )
    raise InvalidInput(
        f"{backup_dir} is not a backup directory: it {what}",
        hint="point --backup-dir at a directory `kenv postgres backup` wrote (or an empty one for a first backup)",
    )


def _write_index(executor: Executor, backup_dir: str, backups: list[ops_backup.Backup]) -> None:
    _sh(executor, _WRITE_ATOMIC, f"{backup_dir}/{ops_backup.INDEX_FILE}", stdin=ops_backup.render_index(backups))


@dataclass
class BackupReport:
    backup: ops_backup.Backup | None
    backup_dir: str
    removed: list[str] = field(default_factory=list)
    wal_needed_from: str | None = None
    planned: list[tuple[str, ...]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backup": self.backup.as_json() if self.backup else None,
            "backup_dir": self.backup_dir,
            "removed": self.removed,
            "wal_needed_from": self.wal_needed_from,
            "planned": shown(self.planned),
        }


def _server_now(executor: Executor) -> datetime:
    rows = executor.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS now")
    return ops_backup.parse_time(rows[0]["now"] or "")


def take_backup(
    executor: Executor,
    backup_dir: str,
    *,
    keep: int | None = None,
    keep_days: float | None = None,
    progress: Progress | None = None,
) -> BackupReport:
    """A base backup into BACKUP_DIR/ID, verified, added to the index; then retention."""
    progress = progress or SilentProgress()
    runner = executor.runner
    if keep is not None or keep_days is not None:  # refuse bad numbers before the backup
        ops_backup.choose_retention([], keep_count=keep, keep_days=keep_days, now=datetime.now(UTC))
    backups = read_backups(executor, backup_dir, must_exist=False)
    major, minor = _check_login(executor)
    started, backup_id = _free_backup_id(executor, backup_dir, {b.id for b in backups})
    path = f"{backup_dir}/{backup_id}"
    executor.run("mkdir", ["-p", "-m", "0700", backup_dir])
    progress.note("postgres", f"pg_basebackup into {path}")
    try:
        args = ops_backup.basebackup_args(executor.target.url, path, f"kenv-{backup_id}")
        # In the pod: over its Unix socket as the postgres user (pg_hba's `local replication peer`).
        executor.run("pg_basebackup", args, timeout=6 * 3600)
        finished = _server_now(executor) if not runner.dry_run else started
        progress.note("postgres", f"verifying {backup_id} with pg_verifybackup")
        _verify(executor, backup_dir, backup_id)
        if runner.dry_run:
            return BackupReport(None, backup_dir, planned=list(runner.planned))
        manifest = executor.run("cat", [f"{path}/backup_manifest"], mutating=False).stdout
        facts = ops_backup.manifest_facts(manifest)
        size = int(executor.run("du", ["-sk", path], mutating=False).stdout.split()[0]) * 1024
    except BaseException:
        executor.run("rm", ["-rf", "--", path], check=False)
        raise
    backup = ops_backup.Backup(
        id=backup_id,
        started_at=ops_backup.iso(started),
        finished_at=ops_backup.iso(finished),
        start_lsn=facts.start_lsn,
        end_lsn=facts.end_lsn,
        timeline=facts.timeline,
        wal_start_file=ops_backup.wal_file_name(facts.timeline, facts.start_lsn),
        server_version=f"{major}.{minor}",
        size_bytes=size,
        verified=True,
        path=path,
    )
    backups.append(backup)
    _write_index(executor, backup_dir, backups)
    report = BackupReport(backup, backup_dir)
    if keep is not None or keep_days is not None:
        retention = ops_backup.choose_retention(backups, keep_count=keep, keep_days=keep_days, now=finished)
        for old in retention.remove:
            progress.note("postgres", f"removing backup {old.id} (retention)")
            executor.run("rm", ["-rf", "--", f"{backup_dir}/{old.id}"])
        if retention.remove:
            _write_index(executor, backup_dir, retention.keep)
        report.removed = [b.id for b in retention.remove]
        report.wal_needed_from = retention.wal_needed_from
    return report


def _free_backup_id(executor: Executor, backup_dir: str, indexed: set[str]) -> tuple[datetime, str]:
    """The server's time now and an id no backup uses, indexed or not (the CronJob's are not):
    ids are to the second, so a clash waits for the next one. A failed backup removes its own
    directory, so it must never be one that was there before."""
    for _ in range(3):
        started = _server_now(executor)
        backup_id = ops_backup.new_backup_id(started)
        if backup_id not in indexed and dir_state(executor, f"{backup_dir}/{backup_id}") == "missing":
            return started, backup_id
        time.sleep(1.1)
    raise OperationFailed(f"no free backup id in {backup_dir}: {backup_id} and the two after it are taken")


def _verify(executor: Executor, backup_dir: str, backup_id: str) -> None:
    """pg_verifybackup over an extracted copy (see ops_backup: tar backups are verified after
    extraction up to PostgreSQL 17), removed afterwards whatever the outcome."""
    path = f"{backup_dir}/{backup_id}"
    scratch = f"{backup_dir}/.verify-{backup_id}"
    try:
        executor.run("mkdir", ["-p", "-m", "0700", f"{scratch}/pg_wal"])
        executor.run("tar", ["-xzf", f"{path}/base.tar.gz", "-C", scratch])
        executor.run("tar", ["-xzf", f"{path}/pg_wal.tar.gz", "-C", f"{scratch}/pg_wal"])
        executor.run("cp", [f"{path}/backup_manifest", f"{scratch}/backup_manifest"])
        result = executor.run("pg_verifybackup", ["-q", scratch], check=False, mutating=True)
        if not result.ok:
            first = next((line for line in result.stderr.splitlines() if line.strip()), "no output")
            raise OperationFailed(
                f"backup {backup_id} failed verification: {first.strip()}",
                hint="the backup was removed; check the disk and take it again",
            )
    finally:
        executor.run("rm", ["-rf", "--", scratch], check=False)


def list_backups(executor: Executor, backup_dir: str) -> list[ops_backup.Backup]:
    """The index, each entry checked against its backup_manifest: a backup whose files are gone
    or whose manifest disagrees shows as not verified. Backups kenv did not index (the base-backup
    CronJob's) are listed too, not verified, their end time the manifest's modification time."""
    backups = read_backups(executor, backup_dir)
    known = {b.id for b in backups}
    for line in _sh(executor, _MANIFESTS, backup_dir, mutating=False).splitlines():
        stamp, _, manifest = line.partition(" ")
        backup_id = manifest.rsplit("/", 2)[-2] if manifest.count("/") >= 2 else ""
        if backup_id in known or not ops_backup.valid_backup_id(backup_id) or not stamp.isdigit():
            continue
        discovered = _discovered(executor, backup_dir, backup_id, datetime.fromtimestamp(int(stamp), UTC))
        if discovered is not None:
            backups.append(discovered)
    checked = []
    for backup in backups:
        result = executor.run("cat", [f"{backup_dir}/{backup.id}/backup_manifest"], check=False, mutating=False)
        ok = result.ok
        if ok:
            try:
                facts = ops_backup.manifest_facts(result.stdout)
                ok = (facts.start_lsn, facts.end_lsn) == (backup.start_lsn, backup.end_lsn)
            except InvalidInput:
                ok = False
        checked.append(backup if ok else _unverified(backup))
    return sorted(checked, key=lambda b: b.id)


def _discovered(executor: Executor, backup_dir: str, backup_id: str, finished: datetime) -> ops_backup.Backup | None:
    result = executor.run("cat", [f"{backup_dir}/{backup_id}/backup_manifest"], check=False, mutating=False)
    try:
        facts = ops_backup.manifest_facts(result.stdout)
    except InvalidInput:
        return None
    started = datetime.strptime(backup_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return ops_backup.Backup(
        id=backup_id,
        started_at=ops_backup.iso(started),
        finished_at=ops_backup.iso(finished),
        start_lsn=facts.start_lsn,
        end_lsn=facts.end_lsn,
        timeline=facts.timeline,
        wal_start_file=ops_backup.wal_file_name(facts.timeline, facts.start_lsn),
        server_version="",
        size_bytes=0,
        verified=False,
        path=f"{backup_dir}/{backup_id}",
    )


def _unverified(backup: ops_backup.Backup) -> ops_backup.Backup:
    from dataclasses import replace

    return replace(backup, verified=False)


# ---------------------------------------------------------------------------------- restore


@dataclass
class RestoreReport:
    backup: str
    target_time: str
    reached_time: str | None
    stopped_before: str | None
    data_dir: str
    port: int
    url: str
    timeline: int | None
    planned: list[tuple[str, ...]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in ops_restore.RESTORE_JSON_KEYS}
        if self.planned:
            data["planned"] = shown(self.planned)
        return data


def _restored_url(source_url: str | None, port: int) -> str:
    """The new instance's URL: the source's user, password and database, this machine, --port."""
    parts = urlsplit(source_url or "postgresql://postgres@localhost/postgres")
    user = parts.username or "postgres"
    auth = f"{user}:{parts.password}@" if parts.password is not None else f"{user}@"
    return parts._replace(netloc=f"{auth}localhost:{port}").geturl()


def _run_as_user(data_dir: Path, given: str | None) -> str | None:
    """Who runs the new instance when kenv is root: --run-as, else the owner of the data
    directory's parent when that is not root."""
    if os.geteuid() != 0:
        return None
    if given:
        try:
            pwd.getpwnam(given)
        except KeyError:
            raise InvalidInput(f"--run-as {given!r} is not a user on this machine") from None
        return given
    owner = data_dir.parent.stat().st_uid
    if owner != 0:
        return pwd.getpwuid(owner).pw_name
    raise InvalidInput(
        "PostgreSQL refuses to run as root and kenv runs as root",
        hint="give --run-as USER (an unprivileged user; it will own the new data directory)",
    )


def restore_local(
    runner: Runner,
    *,
    backup_dir: str,
    archive_dir: str,
    to_time: str,
    data_dir: Path,
    port: int,
    backup_id: str | None = None,
    source_url: str | None = None,
    bin_dir: Path | None = None,
    run_as: str | None = None,
    timeout: float = 900,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> RestoreReport:
    """Point-in-time recovery into a new data directory started on `port`; waits until the new
    instance has stopped at the target and promoted itself."""
    progress = progress or SilentProgress()
    target_time = _past_time(to_time, now)
    if not 1 <= port <= 65535:
        raise InvalidInput(f"--port {port} is not a TCP port (1-65535)")
    data_dir = data_dir.absolute()
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise InvalidInput(
            f"--data-dir {data_dir} is not empty",
            hint="a restore never writes over an instance: give a new or empty directory",
        )
    if not data_dir.parent.is_dir():
        raise InvalidInput(f"--data-dir {data_dir}: its parent directory does not exist")
    archive = Path(archive_dir)
    if not archive.is_dir() or not any(_WAL_FILE.match(p.name) for p in archive.iterdir()):
        raise InvalidInput(
            f"--archive-dir {archive_dir} holds no archived WAL file",
            hint="give the directory the server's archive_command copies WAL files into",
        )
    user = _run_as_user(data_dir, run_as)
    directory = bin_dir if bin_dir is not None else find_bin_dir(runner)
    url = _restored_url(source_url, port)
    executor = executor_for(Target(kind="local", url=url, bin_dir=directory, run_as=user), runner)
    backups = list_backups(executor, backup_dir)  # checked: a backup whose files are gone is not chosen
    chosen = ops_backup.backup_for_time(backups, target_time, backup_id)
    _check_binaries(executor, chosen)
    if not port_is_bindable(port):
        raise InvalidInput(f"--port {port} is in use", hint="give a free port for the new instance")

    created = not data_dir.exists()
    log_file = str(data_dir / ops_restore.RESTORE_LOG)
    source = f"{backup_dir}/{chosen.id}"
    settings = ops_restore.recovery_settings(
        archive_dir=str(archive.absolute()), target=target_time, port=port, local=True
    )
    progress.note("postgres", f"restoring backup {chosen.id} into {data_dir}")
    try:
        _lay_out(executor, source, data_dir, settings, user)
        progress.note(
            "postgres", f"starting the new instance on port {port}; recovery to {ops_backup.iso(target_time)}"
        )
        started = executor.run(
            "pg_ctl", ["start", "-w", "-t", str(int(timeout)), "-D", str(data_dir), "-l", log_file], check=False
        )
        if runner.dry_run:
            return _planned_report(chosen, target_time, data_dir, port, url, runner)
        if not started.ok:
            raise OperationFailed(
                f"the restored instance did not start: {_log_reason(executor, log_file, started.stdout)}"
            )
        reached = _wait_promoted(executor, log_file, timeout)
    except BaseException:
        if not runner.dry_run:
            _undo_restore(executor, data_dir, created=created)
        raise
    log_text = executor.run("cat", [log_file], check=False, mutating=False).stdout
    stop = ops_restore.recovery_stop(log_text)
    timeline = executor.query("SELECT timeline_id FROM pg_control_checkpoint()")[0]["timeline_id"]
    return RestoreReport(
        backup=chosen.id,
        target_time=ops_backup.iso(target_time),
        reached_time=reached,
        stopped_before=stop.time if stop and stop.when == "before" else None,
        data_dir=str(data_dir),
        port=port,
        url=redact_url(url),
        timeline=int(timeline) if timeline else None,
    )


def _lay_out(executor: Executor, source: str, data_dir: Path, settings: str, user: str | None) -> None:
    """The base backup unpacked into the new data directory, with the recovery settings and
    recovery.signal, owned by the user the instance runs as."""
    executor.run("mkdir", ["-p", "-m", "0700", str(data_dir)])
    executor.run("tar", ["-xzf", f"{source}/base.tar.gz", "-C", str(data_dir)])
    executor.run("mkdir", ["-p", "-m", "0700", str(data_dir / "pg_wal")])
    executor.run("tar", ["-xzf", f"{source}/pg_wal.tar.gz", "-C", str(data_dir / "pg_wal")])
    _sh(executor, _APPEND, str(data_dir / "postgresql.auto.conf"), stdin=settings)
    executor.run("touch", [str(data_dir / "recovery.signal")])
    executor.run("chmod", ["0700", str(data_dir)])
    if user:
        executor.run("chown", ["-R", f"{user}:", str(data_dir)])


def _past_time(text: str, now: datetime | None) -> datetime:
    target_time = ops_backup.parse_time(text)
    current = now or datetime.now(UTC)
    if target_time > current:
        raise InvalidInput(
            f"--to-time {ops_backup.iso(target_time)} is in the future (now {ops_backup.iso(current)})",
            hint="recovery can only replay what the archive holds; give a past time",
        )
    return target_time


def _restore_manifest(
    executor: Executor,
    name: str,
    *,
    to_time: str,
    backup_id: str | None,
    backup_dir: str,
    archive_dir: str,
    now: datetime | None,
) -> tuple[dict[str, Any], ops_backup.Backup, datetime]:
    """The StatefulSet NAME that restores the pod's backup to `to_time`, from the backup index
    read in the pod; with the backup chosen and the target time."""
    from kenv.platform.postgres.manifests import stateful_set
    from kenv.platform.postgres.params import Params
    from kenv.platform.postgres.render import config_checksum

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?", name) or name == STATEFULSET:
        raise InvalidInput(
            f"--into {name!r} is not a name for a new StatefulSet",
            hint=f"lower-case letters, digits and '-', not {STATEFULSET!r} itself (a restore never replaces it)",
        )
    target_time = _past_time(to_time, now)
    chosen = ops_backup.backup_for_time(list_backups(executor, backup_dir), target_time, backup_id)
    params = Params(
        version=int(chosen.server_version.split(".")[0]), namespace=executor.target.namespace or DEFAULT_NAMESPACE
    )
    base = stateful_set(params.validate(), config_checksum(params))
    manifest = ops_restore.restore_stateful_set(
        base, name=name, backup_id=chosen.id, backup_dir=backup_dir, archive_dir=archive_dir, target=target_time
    )
    return manifest, chosen, target_time


def plan_restore_into(
    executor: Executor,
    name: str,
    *,
    to_time: str,
    backup_id: str | None = None,
    backup_dir: str = ops_backup.POD_BACKUP_DIR,
    archive_dir: str = POD_ARCHIVE_DIR,
    now: datetime | None = None,
) -> str:
    """The StatefulSet NAME that restores the pod's backup to `to_time` (YAML). A plan: nothing
    is applied."""
    from kenv.platform.postgres.yaml_text import dump

    manifest, _, _ = _restore_manifest(
        executor, name, to_time=to_time, backup_id=backup_id, backup_dir=backup_dir, archive_dir=archive_dir, now=now
    )
    return str(dump(manifest))


CLUSTER_RESTORE_JSON_KEYS = ("backup", "target_time", "reached_time", "statefulset", "namespace", "pod", "timeline")


@dataclass
class ClusterRestoreReport:
    backup: str
    target_time: str
    reached_time: str | None
    statefulset: str
    namespace: str
    pod: str
    timeline: int | None

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in CLUSTER_RESTORE_JSON_KEYS}


def restore_into(
    executor: Executor,
    name: str,
    *,
    to_time: str,
    backup_id: str | None = None,
    backup_dir: str = ops_backup.POD_BACKUP_DIR,
    archive_dir: str = POD_ARCHIVE_DIR,
    timeout: float = 900,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ClusterRestoreReport:
    """Point-in-time recovery into a new StatefulSet NAME beside the platform's: applied, rolled
    out (its init container unpacks the backup and writes the recovery settings), then polled in
    its pod until recovery stopped at the target and the server promoted itself. A StatefulSet
    NAME that exists already is refused before anything is applied; one that does not recover in
    time is deleted again (its data claim data-NAME-0 stays, for `kubectl logs NAME-0 -c restore`)."""
    import json

    from kenv.runtime.kubectl import Kubectl

    progress = progress or SilentProgress()
    target = executor.target
    if target.kind != "pod" or target.kubeconfig is None:
        raise InvalidInput("restore --into NAME restores on a cluster: give --env ENV, not --local")
    namespace = target.namespace or DEFAULT_NAMESPACE
    manifest, chosen, target_time = _restore_manifest(
        executor, name, to_time=to_time, backup_id=backup_id, backup_dir=backup_dir, archive_dir=archive_dir, now=now
    )
    runner = executor.runner
    kubectl = Kubectl(runner, target.kubeconfig)
    found = kubectl.run("get", "statefulset", name, "-n", namespace, "--ignore-not-found", "-o", "name")
    if found.strip():
        raise InvalidInput(
            f"statefulset {name} already exists in {namespace}",
            hint="a restore never writes over an instance: give --into a new name",
        )
    progress.note(target.env or "cluster", f"applying statefulset {name} (backup {chosen.id})")
    runner.run(kubectl.argv("apply", "-f", "-"), input_text=json.dumps(manifest), timeout=120, mutating=True)
    pod = Target(
        kind="pod",
        env=target.env,
        namespace=namespace,
        pod=f"{name}-0",
        container=target.container,
        kubeconfig=target.kubeconfig,
    )
    new = executor_for(pod, runner)
    deadline = time.monotonic() + timeout
    try:
        progress.note(target.env or "cluster", f"waiting for statefulset/{name} to roll out")
        rolled = runner.run(
            kubectl.argv("rollout", "status", f"statefulset/{name}", "-n", namespace, f"--timeout={int(timeout)}s"),
            timeout=timeout + 30,
            check=False,
            mutating=True,  # the StatefulSet only exists once applied: a dry run plans it
        )
        if not rolled.ok:
            reason = (rolled.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1]
            raise OperationFailed(f"statefulset {name} did not roll out: {reason.removeprefix('error: ')}")
        if runner.dry_run:
            return ClusterRestoreReport(
                chosen.id, ops_backup.iso(target_time), None, name, namespace, f"{name}-0", None
            )
        progress.note(target.env or "cluster", f"{name}-0 replays the archive to {ops_backup.iso(target_time)}")
        reached = _wait_promoted_in_pod(new, deadline)
    except BaseException:
        if not runner.dry_run:
            runner.run(
                kubectl.argv("delete", "statefulset", name, "-n", namespace, "--ignore-not-found", "--wait=false"),
                timeout=60,
                check=False,
            )
        raise
    timeline = new.query("SELECT timeline_id FROM pg_control_checkpoint()")[0]["timeline_id"]
    return ClusterRestoreReport(
        backup=chosen.id,
        target_time=ops_backup.iso(target_time),
        reached_time=reached,
        statefulset=name,
        namespace=namespace,
        pod=f"{name}-0",
        timeline=int(timeline) if timeline else None,
    )


def _wait_promoted_in_pod(executor: Executor, deadline: float) -> str | None:
    """Poll the new pod until its server left recovery (stopped at the target and promoted); the
    time of the last transaction it replayed. A server not answering yet (still starting, or
    restarting) is asked again until the deadline."""
    sql = "SELECT pg_is_in_recovery() AS recovering, pg_last_xact_replay_timestamp() AS replayed"
    last = "no answer"
    while True:
        try:
            row = executor.query(sql)[0]
            if row["recovering"] == "f":
                return row["replayed"]
            last = f"still recovering, replayed up to {row['replayed'] or 'nothing yet'}"
        except KenvError as exc:
            last = exc.message
        if time.monotonic() > deadline:
            raise OperationFailed(f"recovery in {executor.target.pod} did not reach the target in time: {last}")
        time.sleep(1)


def _undo_restore(executor: Executor, data_dir: Path, *, created: bool) -> None:
    """Leave the data directory as it was: gone when this restore made it, empty otherwise."""
    executor.run("pg_ctl", ["stop", "-m", "immediate", "-D", str(data_dir)], check=False)
    if created:
        executor.run("rm", ["-rf", "--", str(data_dir)], check=False)
    else:
        executor.run("find", [str(data_dir), "-mindepth", "1", "-delete"], check=False)


def _planned_report(
    chosen: ops_backup.Backup, target: datetime, data_dir: Path, port: int, url: str, runner: Runner
) -> RestoreReport:
    return RestoreReport(
        chosen.id, ops_backup.iso(target), None, None, str(data_dir), port, redact_url(url), None, list(runner.planned)
    )


def _check_binaries(executor: Executor, backup: ops_backup.Backup) -> None:
    """The bin directory's major version must be the backup's: a data directory only starts
    under the major version that wrote it."""
    text = executor.run("pg_ctl", ["--version"], mutating=False).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", text)
    have = match.group(1) if match else "?"
    want = backup.server_version.split(".")[0]
    if have != want:
        raise InvalidInput(
            f"backup {backup.id} is from PostgreSQL {want} but the programs in {executor.target.bin_dir} are {have}",
            hint=f"give --bin-dir of a PostgreSQL {want} installation",
        )


def _log_reason(executor: Executor, log_file: str, fallback: str) -> str:
    text = executor.run("cat", [log_file], check=False, mutating=False).stdout
    return ops_restore.recovery_failure(text) or (fallback.strip().splitlines() or ["no log"])[-1]


def _wait_promoted(executor: Executor, log_file: str, timeout: float) -> str | None:
    """Poll until recovery has stopped at the target and the instance promoted itself; the time
    of the last transaction it replayed. A server that exits (the archive ends before the
    target) fails with the log's reason."""
    deadline = time.monotonic() + timeout
    sql = "SELECT pg_is_in_recovery() AS recovering, pg_last_xact_replay_timestamp() AS replayed"
    while True:
        try:
            row = executor.query(sql)[0]
        except KenvError:
            status = executor.run("pg_ctl", ["status", "-D", str(Path(log_file).parent)], check=False, mutating=False)
            if status.returncode == 3:  # not running
                raise OperationFailed(
                    f"recovery failed: {_log_reason(executor, log_file, 'the server stopped')}"
                ) from None
            row = {"recovering": "t", "replayed": None}
        if row["recovering"] == "f":
            return row["replayed"]
        if time.monotonic() > deadline:
            raise OperationFailed(f"recovery did not reach the target within {timeout:g}s")
        time.sleep(0.5)


# ----------------------------------------------------------------------------------- status


def status(executor: Executor) -> dict[str, Any]:
    _check_login(executor)
    summary = executor.query(ops_status.SUMMARY_SQL)[0]
    archiver = executor.query(ops_status.ARCHIVER_SQL)[0]
    longest = executor.query(ops_status.LONGEST_SQL)
    readable, _ = ops_status.statements_state(summary)
    slowest = executor.query(ops_status.SLOWEST_SQL) if readable else None
    volume = None
    data_directory = summary.get("data_directory")
    if data_directory and _volume_visible(executor.target):
        result = executor.run("df", ["-Pk", data_directory], check=False, mutating=False)
        volume = ops_status.parse_df(result.stdout) if result.ok else None
    return ops_status.build_status(
        target=executor.target.describe(),
        summary=summary,
        archiver=archiver,
        longest=longest,
        slowest=slowest,
        volume=volume,
    )


def _volume_visible(target: Target) -> bool:
    """df only means something where the data directory is: in the pod, or a local server."""
    if target.kind == "pod":
        return True
    host = urlsplit(target.url or "").hostname
    return host in (None, "", "localhost", "127.0.0.1", "::1") or (host or "").startswith("/")
