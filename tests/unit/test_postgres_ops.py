"""The pure parts of the PostgreSQL operations (WAL names, manifests, the index, retention, the
recovery settings, the status shape) and the command lines the executor builds, in the pod
(`kubectl exec`) and on this machine, checked through a scripted runner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError, InvalidInput
from kenv.platform.postgres import ops_backup, ops_restore, ops_status
from kenv.platform.postgres.executor import Executor, Target, executor_for
from kenv.workflows import postgres_ops
from tests.unit.scripted_runner import ScriptedRunner

KUBECONFIG = Path("/home/u/.local/share/kenv/kubeconfig/devops.yaml")
POD = ["kubectl", "--kubeconfig", str(KUBECONFIG), "exec", "-i", "-n", "infra", "postgres-0", "-c", "postgres", "--"]
NULL = "null=\x01NULL\x01"


def _backup(backup_id: str, *, verified: bool = True, finished: str | None = None) -> ops_backup.Backup:
    when = datetime.strptime(backup_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return ops_backup.Backup(
        id=backup_id,
        started_at=ops_backup.iso(when),
        finished_at=finished or ops_backup.iso(when + timedelta(minutes=1)),
        start_lsn="0/2000028",
        end_lsn="0/2000100",
        timeline=1,
        wal_start_file="000000010000000000000002",
        server_version="16.6",
        size_bytes=1,
        verified=verified,
        path=f"/b/{backup_id}",
    )


# --------------------------------------------------------------------------------- WAL, manifest


@pytest.mark.parametrize(
    ("timeline", "lsn", "name"),
    [
        (1, "0/2000028", "000000010000000000000002"),  # pg_basebackup's "write-ahead log start point"
        (1, "0/FF000000", "0000000100000000000000FF"),
        (2, "1/0", "000000020000000100000000"),
        (3, "A/1F000060", "000000030000000A0000001F"),
    ],
)
def test_wal_file_name_is_xlogfilename(timeline: int, lsn: str, name: str) -> None:
    assert ops_backup.wal_file_name(timeline, lsn) == name


def test_manifest_facts_read_the_wal_ranges() -> None:
    text = json.dumps(
        {
            "PostgreSQL-Backup-Manifest-Version": 1,
            "Files": [],
            "WAL-Ranges": [{"Timeline": 1, "Start-LSN": "0/4000028", "End-LSN": "0/4000100"}],
        }
    )
    facts = ops_backup.manifest_facts(text)
    assert (facts.timeline, facts.start_lsn, facts.end_lsn) == (1, "0/4000028", "0/4000100")
    with pytest.raises(InvalidInput, match="not a PostgreSQL backup manifest"):
        ops_backup.manifest_facts('{"Files": []}')


def test_index_round_trip_and_refusals() -> None:
    backups = [_backup("20261201T100000Z"), _backup("20261130T100000Z", verified=False)]
    text = ops_backup.render_index(backups)
    assert [b.id for b in ops_backup.parse_index(text, "x")] == ["20261130T100000Z", "20261201T100000Z"]
    with pytest.raises(InvalidInput, match="is not a kenv backup index"):
        ops_backup.parse_index("[]", "dir/kenv-backups.json")
    with pytest.raises(InvalidInput, match="index version 9"):
        ops_backup.parse_index('{"version": 9, "backups": []}', "dir/kenv-backups.json")


def test_basebackup_arguments() -> None:
    args = ops_backup.basebackup_args("postgresql://u@h/db", "/b/ID", "kenv-ID")
    assert args[:2] == ["-d", "postgresql://u@h/db"]
    for flag in ("-Ft", "-z", "-Xstream", "--manifest-checksums=SHA256", "--no-password"):
        assert flag in args
    assert args[args.index("-c") + 1] == "fast"
    assert ops_backup.basebackup_args(None, "/b/ID", "kenv-ID")[:2] == ["-U", "postgres"]


# ------------------------------------------------------------------------------------ retention

NOW = datetime(2026, 12, 10, tzinfo=UTC)


def test_retention_by_count_keeps_the_newest_verified() -> None:
    backups = [_backup(f"202612{day:02d}T020000Z") for day in range(1, 8)]
    chosen = ops_backup.choose_retention(backups, keep_count=3, keep_days=None, now=NOW)
    assert [b.id for b in chosen.keep] == ["20261207T020000Z", "20261206T020000Z", "20261205T020000Z"]
    assert len(chosen.remove) == 4
    assert chosen.wal_needed_from == "000000010000000000000002"


def test_retention_by_age_never_removes_the_newest_verified_backup() -> None:
    backups = [_backup("20261101T020000Z"), _backup("20261102T020000Z")]
    chosen = ops_backup.choose_retention(backups, keep_count=None, keep_days=1, now=NOW)
    assert [b.id for b in chosen.keep] == ["20261102T020000Z"]  # every backup is old: the newest stays
    assert [b.id for b in chosen.remove] == ["20261101T020000Z"]


def test_retention_either_rule_keeps_and_unverified_do_not_count() -> None:
    backups = [
        _backup("20261201T020000Z"),
        _backup("20261208T020000Z"),
        _backup("20261209T020000Z", verified=False),  # between verified ones: not a base to trust
        _backup("20261209T120000Z"),
        _backup("20261210T000000Z", verified=False),  # newer than every verified one: kept
    ]
    chosen = ops_backup.choose_retention(backups, keep_count=1, keep_days=3, now=NOW)
    assert {b.id for b in chosen.keep} == {"20261210T000000Z", "20261209T120000Z", "20261208T020000Z"}
    assert {b.id for b in chosen.remove} == {"20261209T020000Z", "20261201T020000Z"}


@pytest.mark.parametrize(("count", "days"), [(0, None), (None, 0.0), (-1, None)])
def test_retention_that_would_delete_everything_is_refused(count: int | None, days: float | None) -> None:
    with pytest.raises(InvalidInput, match="would delete every backup"):
        ops_backup.choose_retention([_backup("20261201T020000Z")], keep_count=count, keep_days=days, now=NOW)


def test_backup_for_time() -> None:
    backups = [_backup("20261201T020000Z"), _backup("20261202T020000Z"), _backup("20261203T020000Z", verified=False)]
    chosen = ops_backup.backup_for_time(backups, datetime(2026, 12, 3, 12, tzinfo=UTC), None)
    assert chosen.id == "20261202T020000Z"  # the newest verified one that ended before the time
    with pytest.raises(InvalidInput, match="is before the oldest backup ended"):
        ops_backup.backup_for_time(backups, datetime(2026, 12, 1, 2, 0, 30, tzinfo=UTC), None)
    with pytest.raises(InvalidInput, match="no backup 'nope'"):
        ops_backup.backup_for_time(backups, NOW, "nope")
    with pytest.raises(InvalidInput, match="is before backup 20261202T020000Z ended"):
        ops_backup.backup_for_time(backups, datetime(2026, 12, 1, 12, tzinfo=UTC), "20261202T020000Z")
    with pytest.raises(InvalidInput, match="no verified backup"):
        ops_backup.backup_for_time([], NOW, None)


@pytest.mark.parametrize(
    "text",
    ["2026-12-01 16:20:00+00", "2026-12-01T16:20:00Z", "2026-12-01T16:20:00", "2026-12-01 17:20:00+01:00"],
)
def test_times_in_every_form_people_write(text: str) -> None:
    assert ops_backup.parse_time(text) == datetime(2026, 12, 1, 16, 20, tzinfo=UTC)


def test_a_time_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is not a time"):
        ops_backup.parse_time("yesterday")


# ------------------------------------------------------------------------------------- restore


def test_recovery_settings_quote_for_the_shell_and_the_config_file() -> None:
    text = ops_restore.recovery_settings(
        archive_dir="/srv/it's archive", target=datetime(2026, 12, 1, 16, 20, tzinfo=UTC), port=5433, local=True
    )
    # shlex quotes the directory for the shell; postgresql.conf doubles the single quotes.
    assert "restore_command = 'cp ''/srv/it''\"''\"''s archive/''%f %p'" in text
    assert "recovery_target_time = '2026-12-01 16:20:00.000000+00'" in text
    assert "recovery_target_action = 'promote'" in text
    assert "archive_mode = 'off'" in text and "port = 5433" in text
    pod = ops_restore.recovery_settings(archive_dir="/wal-archive", target=NOW, port=None, local=False)
    assert "port" not in pod and "restore_command = 'cp /wal-archive/%f %p'" in pod


def test_recovery_stop_and_failure_from_the_server_log() -> None:
    log = (
        "2026-12-01 16:21:10.486 UTC [1] LOG:  starting point-in-time recovery to 2026-12-01 16:21:02.382439+00\n"
        "2026-12-01 16:21:10.533 UTC [1] LOG:  recovery stopping before commit of transaction 737, "
        "time 2026-12-01 16:21:03.410957+00\n"
        "2026-12-01 16:21:10.533 UTC [1] LOG:  redo done at 0/5016020\n"
    )
    stop = ops_restore.recovery_stop(log)
    assert stop == ops_restore.RecoveryStop("before", 737, "2026-12-01 16:21:03.410957+00")
    assert ops_restore.recovery_stop("LOG:  redo done") is None
    failed = (
        log + "2026-12-01 16:21:10.6 UTC [1] FATAL:  recovery ended before configured recovery target was reached\n"
    )
    assert ops_restore.recovery_failure(failed) == "recovery ended before configured recovery target was reached"


# -------------------------------------------------------------------------------------- status

SUMMARY: dict[str, str | None] = {
    "version": "16.6",
    "version_num": "160006",
    "started_at": "2026-12-01 10:00:00+00",
    "uptime_seconds": "3700",
    "connections": "7",
    "max_connections": "200",
    "cache_hit_ratio": "0.9912",
    "database": "postgres",
    "database_bytes": "7634279",
    "all_databases_bytes": "15179626",
    "in_recovery": "f",
    "archive_mode": "on",
    "preload": "pg_stat_statements",
    "statements_created": "0",
    "data_directory": "/var/lib/postgresql/data/pgdata",
}
ARCHIVER: dict[str, str | None] = {
    "archived_count": "12",
    "last_archived_wal": "00000001000000000000000C",
    "last_archived_time": "2026-12-01 11:00:00+00",
    "failed_count": "1",
    "last_failed_wal": "00000001000000000000000B",
    "last_failed_time": "2026-12-01 10:59:00+00",
    "lag_seconds": "61.5",
}


def test_status_keys_are_pinned() -> None:
    status = ops_status.build_status(
        target="t", summary=SUMMARY, archiver=ARCHIVER, longest=[], slowest=None, volume=None
    )
    assert tuple(status) == ops_status.STATUS_JSON_KEYS
    assert tuple(status["connections"]) == ops_status.CONNECTIONS_KEYS
    assert tuple(status["archiving"]) == ops_status.ARCHIVING_KEYS
    assert tuple(status["slowest_queries"]) == ops_status.SLOWEST_KEYS
    assert tuple(status["database"]) == ops_status.DATABASE_KEYS
    assert tuple(status["volume"]) == ops_status.VOLUME_KEYS
    assert status["connections"] == {"used": 7, "max": 200, "ratio": 0.035}
    assert status["archiving"]["failed_count"] == 1 and status["archiving"]["lag_seconds"] == 61.5
    assert status["slowest_queries"]["available"] is False
    assert "CREATE EXTENSION" in status["slowest_queries"]["reason"]
    lines = "\n".join(ops_status.status_lines(status))
    assert "7 of 200" in lines and "last failure:  00000001000000000000000B" in lines and "1h1m" in lines


def test_status_epilog_documents_every_key() -> None:
    from kenv.cli.postgres_ops import STATUS_EPILOG

    keys = [*ops_status.STATUS_JSON_KEYS, *ops_status.ARCHIVING_KEYS, *ops_status.VOLUME_KEYS]
    assert all(key in STATUS_EPILOG for key in keys)


def test_statements_state() -> None:
    assert ops_status.statements_state({"preload": "", "statements_created": "1"})[1] == (
        "pg_stat_statements is not loaded (add it to shared_preload_libraries and restart)"
    )
    assert ops_status.statements_state({"preload": "auto_explain, pg_stat_statements", "statements_created": "1"}) == (
        True,
        None,
    )


def test_parse_df() -> None:
    text = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
    text += "/dev/sda1 20511312 1048576 18400000 6% /data\n"
    assert ops_status.parse_df(text) == {
        "size_bytes": 20511312 * 1024,
        "used_bytes": 1048576 * 1024,
        "available_bytes": 18400000 * 1024,
    }
    assert ops_status.parse_df("df: /x: No such file or directory\n") is None


# ------------------------------------------------------------------------------------ executor


def _pod_executor(runner: ScriptedRunner) -> Executor:
    return executor_for(postgres_ops.pod_target("devops", KUBECONFIG), runner)


PSQL_QUERY = ["psql", "-U", "postgres", "-d", "postgres", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-P", NULL]


def test_pod_query_runs_psql_through_kubectl_exec_and_keeps_null_apart() -> None:
    runner = ScriptedRunner()
    runner.expect([*POD, *PSQL_QUERY], stdout='a,b,c\n1,\x01NULL\x01,""\n2,"x,y",z\n')
    rows = _pod_executor(runner).query("SELECT 1")
    assert rows == [{"a": "1", "b": None, "c": ""}, {"a": "2", "b": "x,y", "c": "z"}]
    call = runner.calls[0]
    assert call.mutating is False


def test_local_server_programs_run_as_the_unprivileged_user_when_root(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = ScriptedRunner()
    target = Target(kind="local", url="postgresql://u@h/d", bin_dir=Path("/pg/bin"), run_as="pgrun")
    executor = executor_for(target, runner)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert executor.argv("pg_ctl", ["status"]) == ["runuser", "-u", "pgrun", "--", "/pg/bin/pg_ctl", "status"]
    assert executor.argv("psql", ["-c", "x"]) == ["/pg/bin/psql", "-c", "x"]  # clients run as they are
    assert executor.argv("tar", ["-x"]) == ["tar", "-x"]
    nobody = executor_for(Target(kind="local", url="postgresql://u@h/d", bin_dir=Path("/pg/bin")), runner)
    with pytest.raises(InvalidInput, match="refuses to run as root"):
        nobody.argv("initdb", [])


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (
            'psql: error: connection to server at "127.0.0.1", port 5999 failed: Connection refused\n'
            "\tIs the server running on that host and accepting TCP/IP connections?\n",
            "is not running",
        ),
        (
            'psql: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication '
            'failed for user "postgres"\n',
            "the password is wrong",
        ),
    ],
)
def test_libpq_failures_become_one_line(stderr: str, message: str) -> None:
    runner = ScriptedRunner()
    runner.expect(["/pg/bin/psql"], prefix=True, returncode=2, stderr=stderr)
    target = Target(kind="local", url="postgresql://postgres:pw@127.0.0.1:5999/postgres", bin_dir=Path("/pg/bin"))
    with pytest.raises(ExternalCommandError, match=message) as caught:
        executor_for(target, runner).version()
    assert "pw@" not in caught.value.message and ":***@" in caught.value.message


def test_pod_backup_dry_run_plans_the_exact_commands_and_writes_nothing() -> None:
    runner = ScriptedRunner(dry_run=True)
    state = [*POD, "sh", "-c", postgres_ops._DIR_STATE, "sh", "/wal-archive/base"]
    runner.expect(state, stdout="missing\n")
    runner.expect([*POD, *PSQL_QUERY], stdout="v\n160006\n")
    runner.expect([*POD, *PSQL_QUERY], stdout="now\n2026-12-01T16:20:00.000000Z\n")
    # The CronJob took a backup in this very second: kenv waits for the next id.
    runner.expect([*state[:-1], "/wal-archive/base/20261201T162000Z"], stdout="backups\n")
    runner.expect([*POD, *PSQL_QUERY], stdout="now\n2026-12-01T16:20:01.000000Z\n")
    runner.expect([*state[:-1], "/wal-archive/base/20261201T162001Z"], stdout="missing\n")
    report = postgres_ops.take_backup(_pod_executor(runner), "/wal-archive/base")
    runner.assert_done()
    planned = [p[len(POD) :] for p in report.planned]
    path = "/wal-archive/base/20261201T162001Z"
    assert planned[0] == ("mkdir", "-p", "-m", "0700", "/wal-archive/base")
    # over the pod's socket (pg_hba's `local replication all peer`): no password, no TCP
    assert planned[1][:9] == ("pg_basebackup", "-U", "postgres", "-D", path, "-Ft", "-z", "-Xstream", "-c")
    assert ("tar", "-xzf", f"{path}/base.tar.gz", "-C", "/wal-archive/base/.verify-20261201T162001Z") in planned
    assert ("pg_verifybackup", "-q", "/wal-archive/base/.verify-20261201T162001Z") in planned
    assert planned[-1] == ("rm", "-rf", "--", "/wal-archive/base/.verify-20261201T162001Z")
    assert report.backup is None


def test_a_directory_that_is_not_a_backup_directory_is_refused_before_the_server_is_asked() -> None:
    runner = ScriptedRunner()
    runner.expect([*POD, "sh", "-c", postgres_ops._DIR_STATE, "sh", "/data"], stdout="other\n")
    with pytest.raises(InvalidInput, match=r"/data is not a backup directory: it holds no kenv-backups\.json"):
        postgres_ops.take_backup(_pod_executor(runner), "/data")
    runner.assert_done()


# ------------------------------------------------------------------ cluster restore (a plan)


def test_restore_into_plans_a_new_statefulset_that_restores_in_an_init_container() -> None:
    import kubernetes_validate  # type: ignore[import-untyped]
    import yaml

    index = ops_backup.render_index([_backup("20261201T020000Z"), _backup("20261202T020000Z")])
    runner = ScriptedRunner(dry_run=True)
    runner.expect([*POD, "sh", "-c", postgres_ops._DIR_STATE, "sh", "/wal-archive/base"], stdout="index\n")
    runner.expect([*POD, "cat", "/wal-archive/base/kenv-backups.json"], stdout=index)
    manifest = json.dumps({"WAL-Ranges": [{"Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100"}]})
    listing = "".join(f"0 /wal-archive/base/{b}/backup_manifest\n" for b in ("20261201T020000Z", "20261202T020000Z"))
    runner.expect([*POD, "sh", "-c", postgres_ops._MANIFESTS, "sh", "/wal-archive/base"], stdout=listing)
    runner.answer([*POD, "cat"], prefix=True, stdout=manifest)
    text = postgres_ops.plan_restore_into(
        _pod_executor(runner), "postgres-restored", to_time="2026-12-02T12:00:00Z", now=NOW
    )
    runner.assert_done()
    assert runner.planned == []  # a plan: nothing applied
    sts = yaml.safe_load(text)
    assert kubernetes_validate.validate(sts, "1.31", strict=True)
    assert sts["metadata"]["name"] == "postgres-restored"
    assert sts["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "postgres-restored"
    server = sts["spec"]["template"]["spec"]["containers"][0]
    assert server["args"][-2:] == ["-c", "archive_mode=off"]
    init = sts["spec"]["template"]["spec"]["initContainers"][0]
    script = init["command"][2]
    assert "tar -xzf /wal-archive/base/20261202T020000Z/base.tar.gz" in script
    assert "recovery_target_time = '2026-12-02 12:00:00.000000+00'" in script
    assert "restore_command = 'cp /wal-archive/%f %p'" in script
    assert init["securityContext"] == server["securityContext"]


def test_restore_into_never_names_the_platform_statefulset() -> None:
    with pytest.raises(InvalidInput, match="not a name for a new StatefulSet"):
        postgres_ops.plan_restore_into(_pod_executor(ScriptedRunner()), "postgres", to_time="2026-12-02T12:00:00Z")


def test_backups_the_cronjob_took_are_listed_but_not_trusted_as_verified() -> None:
    runner = ScriptedRunner()
    runner.expect([*POD, "sh", "-c", postgres_ops._DIR_STATE, "sh", "/wal-archive/base"], stdout="backups\n")
    stamp = int(datetime(2026, 12, 2, 2, 1, tzinfo=UTC).timestamp())
    listing = f"{stamp} /wal-archive/base/20261202T020000Z/backup_manifest\n"
    listing += f"{stamp} /wal-archive/base/20261202T020000Z.partial/backup_manifest\n"  # not finished: no id
    runner.expect([*POD, "sh", "-c", postgres_ops._MANIFESTS, "sh", "/wal-archive/base"], stdout=listing)
    manifest = json.dumps({"WAL-Ranges": [{"Timeline": 2, "Start-LSN": "0/9000028", "End-LSN": "0/9000100"}]})
    runner.answer([*POD, "cat", "/wal-archive/base/20261202T020000Z/backup_manifest"], stdout=manifest)
    (found,) = postgres_ops.list_backups(_pod_executor(runner), "/wal-archive/base")
    assert (found.id, found.verified, found.timeline, found.wal_start_file) == (
        "20261202T020000Z",
        False,
        2,
        "000000020000000000000009",
    )
    assert found.finished_at == "2026-12-02T02:01:00.000000Z"


def test_a_local_password_travels_in_the_environment_never_on_the_command_line() -> None:
    runner = ScriptedRunner()
    runner.expect(
        ["/pg/bin/psql", "-d", "postgresql://postgres@127.0.0.1:5432/postgres"], prefix=True, stdout="v\n150018\n"
    )
    target = Target(kind="local", url="postgresql://postgres:p%40ss@127.0.0.1:5432/postgres", bin_dir=Path("/pg/bin"))
    assert executor_for(target, runner).version() == (15, 18)
    call = runner.calls[0]
    assert "p%40ss" not in " ".join(call.argv)
    assert call.extra_env is not None and call.extra_env["PGPASSWORD"] == "p@ss"
