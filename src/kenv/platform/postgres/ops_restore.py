"""Point-in-time recovery into a NEW instance: the recovery settings, the checks made before
anything is written, and reading how far recovery went. Pure.

The restored instance starts from a base backup, fetches archived WAL with `restore_command`,
stops at `recovery_target_time` and promotes itself (`recovery_target_action = 'promote'`), as
the PostgreSQL documentation's "Recovering Using a Continuous Archive Backup" describes
(recovery.signal + postgresql.auto.conf, PostgreSQL 12 and later). It never archives into the
source's WAL archive: two live servers writing one archive mix their timelines, so archiving is
off until someone makes the new instance a primary of its own.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RESTORE_LOG = "kenv-restore.log"
RESTORE_JSON_KEYS = ("backup", "target_time", "reached_time", "stopped_before", "data_dir", "port", "url", "timeline")


def conf_quote(value: str) -> str:
    """A postgresql.conf string literal: single quotes doubled (backslashes are escapes there too)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def pg_time(moment: datetime) -> str:
    """A time as recovery_target_time reads it: `2026-12-01 16:20:00.123456+00` (PostgreSQL 15
    refused `2026-12-01T16:21:11.895011Z`: "invalid value for parameter recovery_target_time")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def recovery_settings(*, archive_dir: str, target: datetime, port: int | None, local: bool) -> str:
    """Lines appended to postgresql.auto.conf of the restored data directory (settings read last
    win over postgresql.conf)."""
    # %f and %p are PostgreSQL's placeholders; the directory is quoted for the shell that runs it.
    restore = f"cp {shlex.quote(archive_dir.rstrip('/') + '/')}%f %p"
    lines = [
        "# point-in-time recovery written by kenv postgres restore",
        f"restore_command = {conf_quote(restore)}",
        f"recovery_target_time = {conf_quote(pg_time(target))}",
        "recovery_target_action = 'promote'",
        "recovery_target_timeline = 'latest'",
        "archive_mode = 'off'",
    ]
    if local:
        # A second instance on this machine: its own port, loopback only, no socket in a
        # directory the source server owns (pg_ctl waits on postmaster.pid, not on a socket).
        lines += [f"port = {port}", "listen_addresses = 'localhost'", "unix_socket_directories = ''"]
        lines += ["logging_collector = 'off'"]  # the log goes to the file pg_ctl -l names
    return "\n".join(lines) + "\n"


_STOPPING = re.compile(
    r"recovery stopping (?P<when>before|after) commit of transaction (?P<xid>\d+), time (?P<time>[0-9: .+-]+)"
)


@dataclass(frozen=True)
class RecoveryStop:
    when: str  # "before" or "after"
    xid: int
    time: str


def recovery_stop(log_text: str) -> RecoveryStop | None:
    """The server log's `recovery stopping before commit of transaction N, time T` (xlogrecovery.c,
    recoveryStopsBefore); None when recovery ran out of WAL before any later commit."""
    found = None
    for match in _STOPPING.finditer(log_text):
        found = RecoveryStop(match.group("when"), int(match.group("xid")), match.group("time").strip())
    return found


def recovery_failure(log_text: str) -> str | None:
    """The FATAL line that ended a recovery, e.g. `recovery ended before configured recovery target
    was reached` (the archive lacks the WAL up to the target)."""
    for line in reversed(log_text.splitlines()):
        if "FATAL:" in line or "PANIC:" in line:
            return line.split("FATAL:", 1)[-1].split("PANIC:", 1)[-1].strip()
    return None


# ------------------------------------------------------------------- a new StatefulSet (plan)

_RESTORE_SCRIPT = """\
set -eu
# Restored once: a data directory with PG_VERSION is a finished restore (the pod restarted).
if [ -s "$PGDATA/PG_VERSION" ]; then echo "already restored"; exit 0; fi
partial="$PGDATA.restoring"
rm -rf "$partial"
mkdir -p "$partial/pg_wal"
tar -xzf {source}/base.tar.gz -C "$partial"
tar -xzf {source}/pg_wal.tar.gz -C "$partial/pg_wal"
cat >> "$partial/postgresql.auto.conf" <<'KENV_RECOVERY'
{settings}KENV_RECOVERY
touch "$partial/recovery.signal"
chmod 0700 "$partial"
mv "$partial" "$PGDATA"
echo "restored base backup {backup_id}; recovery to {target} starts with the server"
"""


def restore_stateful_set(
    base: dict[str, Any], *, name: str, backup_id: str, backup_dir: str, archive_dir: str, target: datetime
) -> dict[str, Any]:
    """The platform's StatefulSet (`base`, as `kenv postgres render` makes it) turned into a new
    one named `name` whose init container unpacks backup `backup_id` from the WAL-archive volume
    into its own new data claim (data-NAME-0) and writes the recovery settings; the server then
    replays the archive to `target` and promotes. Its own instance label keeps it out of the
    platform's Services, and archive_mode is off on its command line: it never writes into the
    archive it restores from."""
    sts = copy.deepcopy(base)
    sts["metadata"]["name"] = name
    for labels in (
        sts["metadata"]["labels"],
        sts["spec"]["selector"]["matchLabels"],
        sts["spec"]["template"]["metadata"]["labels"],
    ):
        labels["app.kubernetes.io/instance"] = name
    pod = sts["spec"]["template"]["spec"]
    server = pod["containers"][0]
    server["args"] = [*server["args"], "-c", "archive_mode=off"]
    env = {e["name"]: e for e in server["env"]}
    settings = recovery_settings(archive_dir=archive_dir, target=target, port=None, local=False)
    script = _RESTORE_SCRIPT.format(
        source=shlex.quote(f"{backup_dir.rstrip('/')}/{backup_id}"),
        settings=settings,
        backup_id=backup_id,
        target=pg_time(target),
    )
    mounts = [m for m in server["volumeMounts"] if m["name"] in ("data", "wal-archive", "tmp")]
    pod["initContainers"] = [
        {
            "name": "restore",
            "image": server["image"],
            "imagePullPolicy": server.get("imagePullPolicy", "IfNotPresent"),
            "command": ["sh", "-c", script],
            "env": [env["PGDATA"]],
            "securityContext": copy.deepcopy(server["securityContext"]),
            "resources": copy.deepcopy(server["resources"]),
            "volumeMounts": copy.deepcopy(mounts),
        }
    ]
    return sts
