"""Base backups: the pg_basebackup command line, the backup directory's index, the manifest's
WAL range, and which backups retention keeps. Pure: data in, data out.

A backup directory holds one sub-directory per backup (`base.tar.gz`, `pg_wal.tar.gz`,
`backup_manifest`, as `pg_basebackup -Ft -z -Xstream` writes them) and `kenv-backups.json`, the
index kenv keeps of them. The archive of WAL files lives elsewhere (the pod's `/wal-archive`,
or the `archive_command`'s directory of a local server); a base backup plus that archive is what
point-in-time recovery replays.

Why tar + gzip: one compressed file per tablespace that the pod's own `tar` can unpack (lz4 and
zstd need programs the official image lacks). Why the verification extracts: up to PostgreSQL 17,
pg_verifybackup checks only a plain-format backup (doc/src/sgml/ref/pg_verifybackup.sgml, v15 and
v16: "The backup must be stored in the "plain" format; a "tar" format backup can be checked after
extracting it"), and 18 reads tar but parses WAL "only for plain-format backups". So kenv unpacks
the backup into a scratch directory next to it, adds the manifest and runs pg_verifybackup there:
every file's checksum and the WAL that makes the backup consistent are checked, then the scratch
copy is removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from kenv.errors import InvalidInput

INDEX_FILE = "kenv-backups.json"
INDEX_VERSION = 1
POD_BACKUP_DIR = "/wal-archive/base"  # on the WAL-archive volume, beside the archived WAL files
WAL_SEGMENT_BYTES = 16 * 1024 * 1024  # initdb's default --wal-segsize
BACKUP_FILES = ("base.tar.gz", "pg_wal.tar.gz", "backup_manifest")

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_ID = re.compile(r"^\d{8}T\d{6}Z$")

# `-o json` keys of `kenv postgres backups` (pinned by a test).
BACKUP_JSON_KEYS = (
    "id",
    "started_at",
    "finished_at",
    "start_lsn",
    "end_lsn",
    "timeline",
    "wal_start_file",
    "server_version",
    "size_bytes",
    "verified",
    "path",
)


@dataclass(frozen=True)
class Backup:
    id: str
    started_at: str  # ISO 8601 UTC, the server's clock
    finished_at: str
    start_lsn: str
    end_lsn: str
    timeline: int
    wal_start_file: str  # the first WAL segment a restore from this backup needs
    server_version: str
    size_bytes: int
    verified: bool
    path: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def finished(self) -> datetime:
        return parse_time(self.finished_at)


def new_backup_id(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def valid_backup_id(value: str) -> bool:
    return bool(_ID.match(value))


def parse_time(value: str) -> datetime:
    """An ISO 8601 or PostgreSQL timestamp; without a zone it is UTC."""
    text = value.strip().replace(" ", "T", 1)
    if re.search(r"[+-]\d\d$", text):  # PostgreSQL's `+00`
        text += ":00"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{value!r} is not a time",
            hint="write it as ISO 8601, e.g. 2026-12-01T16:20:00Z or '2026-12-01 16:20:00+00'",
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def lsn_value(lsn: str) -> int:
    match = _LSN.match(lsn)
    if match is None:
        raise ValueError(f"not an LSN: {lsn!r}")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def wal_file_name(timeline: int, lsn: str, segment_bytes: int = WAL_SEGMENT_BYTES) -> str:
    """The WAL segment holding `lsn` (XLogFileName in src/include/access/xlog_internal.h)."""
    value = lsn_value(lsn)
    per_id = 0x100000000 // segment_bytes
    segment = value // segment_bytes
    return f"{timeline:08X}{segment // per_id:08X}{segment % per_id:08X}"


def basebackup_args(url: str | None, target_dir: str, label: str) -> list[str]:
    """pg_basebackup's arguments: tar, gzip, the WAL it needs streamed alongside, a fast
    checkpoint (the backup starts now, not at the next scheduled checkpoint) and a SHA-256
    manifest that pg_verifybackup checks."""
    connection = ["-d", url] if url else ["-U", "postgres"]
    return [
        *connection,
        "-D",
        target_dir,
        "-Ft",
        "-z",
        "-Xstream",
        "-c",
        "fast",
        "--manifest-checksums=SHA256",
        "-l",
        label,
        "--no-password",
    ]


@dataclass(frozen=True)
class ManifestFacts:
    timeline: int
    start_lsn: str
    end_lsn: str


def manifest_facts(text: str) -> ManifestFacts:
    """The WAL range a backup_manifest records (its `WAL-Ranges`; the last range is the one the
    backup ends on)."""
    try:
        data = json.loads(text)
        ranges = data["WAL-Ranges"]
        first, last = ranges[0], ranges[-1]
        return ManifestFacts(int(last["Timeline"]), str(first["Start-LSN"]), str(last["End-LSN"]))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InvalidInput("the backup_manifest is not a PostgreSQL backup manifest (no WAL-Ranges)") from exc


def parse_index(text: str, where: str) -> list[Backup]:
    try:
        data = json.loads(text)
        if data.get("version") != INDEX_VERSION:
            raise InvalidInput(f"{where} has index version {data.get('version')!r}; this kenv reads {INDEX_VERSION}")
        names = {f.name for f in fields(Backup)}
        return [Backup(**{k: v for k, v in item.items() if k in names}) for item in data["backups"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"{where} is not a kenv backup index", hint="point --backup-dir at a backup directory"
        ) from exc


def render_index(backups: list[Backup]) -> str:
    ordered = sorted(backups, key=lambda b: b.id)
    return json.dumps({"version": INDEX_VERSION, "backups": [b.as_json() for b in ordered]}, indent=2) + "\n"


@dataclass(frozen=True)
class Retention:
    keep: list[Backup]
    remove: list[Backup]
    wal_needed_from: str | None  # the oldest WAL file a kept backup needs (pg_archivecleanup's bound)


def choose_retention(
    backups: list[Backup], *, keep_count: int | None, keep_days: float | None, now: datetime
) -> Retention:
    """Which backups to keep: the newest `keep_count` and those younger than `keep_days` (a
    backup kept by either rule stays). Whatever the rules say, the newest verified backup stays:
    it is the base every recovery to a recent time replays the WAL archive from, and deleting it
    would leave the archive's newer WAL with nothing to start from. Unverified backups never
    count toward `keep_count` (they cannot be trusted as a base) and are removed once a newer
    verified one exists."""
    if keep_count is not None and keep_count < 1:
        raise InvalidInput(f"--keep {keep_count} would delete every backup: give 1 or more")
    if keep_days is not None and keep_days <= 0:
        raise InvalidInput(f"--keep-days {keep_days:g} would delete every backup: give a positive number of days")
    ordered = sorted(backups, key=lambda b: b.id, reverse=True)
    verified = [b for b in ordered if b.verified]
    kept: set[str] = set()
    if verified:
        kept.add(verified[0].id)
    if keep_count is None and keep_days is None:
        kept = {b.id for b in ordered}
    if keep_count is not None:
        kept.update(b.id for b in verified[:keep_count])
    if keep_days is not None:
        horizon = now - timedelta(days=keep_days)
        kept.update(b.id for b in verified if b.finished >= horizon)
    newest_verified = verified[0].id if verified else ""
    # An unverified backup newer than every verified one is kept: it may be the only recent one.
    kept.update(b.id for b in ordered if not b.verified and b.id > newest_verified)
    keep = [b for b in ordered if b.id in kept]
    remove = [b for b in ordered if b.id not in kept]
    oldest = min((b for b in keep if b.verified), key=lambda b: b.id, default=None)
    return Retention(keep, remove, oldest.wal_start_file if oldest else None)


def backup_for_time(backups: list[Backup], when: datetime, requested: str | None) -> Backup:
    """The backup a recovery to `when` starts from: the one named, or the newest verified backup
    that finished before `when` (recovery cannot stop before a backup's end: the data are not
    consistent until then)."""
    usable = sorted((b for b in backups if b.verified), key=lambda b: b.id)
    if not usable:
        raise InvalidInput("the backup directory holds no verified backup", hint="take one with `kenv postgres backup`")
    if requested is not None:
        chosen = next((b for b in backups if b.id == requested), None)
        if chosen is None:
            known = ", ".join(b.id for b in usable[-5:])
            raise InvalidInput(f"no backup {requested!r} in the backup directory", hint=f"known: {known}")
        if chosen.finished > when:
            raise InvalidInput(
                f"--to-time {iso(when)} is before backup {chosen.id} ended ({chosen.finished_at})",
                hint="choose a later time or an older backup",
            )
        return chosen
    before = [b for b in usable if b.finished <= when]
    if not before:
        raise InvalidInput(
            f"--to-time {iso(when)} is before the oldest backup ended ({usable[0].finished_at})",
            hint="a point-in-time recovery can only reach times after a base backup; choose a later time",
        )
    return before[-1]
