"""Upgrades of the platform's PostgreSQL, the pure half: which kind of upgrade a `--to` asks for,
the queries that count every row, and the comparison that decides whether a new instance may take
over.

A minor upgrade (16.4 -> 16.6) changes binaries only: the data directory stays, so it is an image
bump rolled out through GitOps. A major upgrade (16 -> 17) changes the on-disk format: the data go
into a NEW instance (a dump restored into a fresh data directory), every table's exact row count is
compared between the two, and only an identical count lets the new instance become the current one;
the old one is kept until `--cleanup`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kenv.errors import ExternalCommandError, InvalidInput

_VERSION = re.compile(r"^(\d{1,2})(?:\.(\d{1,3}))?$")
# What `postgres --version` / `initdb --version` print: "initdb (PostgreSQL) 16.2" (Debian adds
# " (Debian 15.8-0+deb12u1)"); development builds say "17beta1" or "17devel".
_TOOL_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
# Majors kenv knows how to run (10 is the first with a two-part version number).
OLDEST_MAJOR = 10


class UpgradeKind(StrEnum):
    NONE = "none"  # already there: nothing to do
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int | None = None

    def __str__(self) -> str:
        return str(self.major) if self.minor is None else f"{self.major}.{self.minor}"


def parse_target(text: str) -> Version:
    """`--to`: a major (17) or a major.minor (16.6); never a floating name."""
    match = _VERSION.match(text.strip())
    if match is None or int(match.group(1)) < OLDEST_MAJOR:
        raise InvalidInput(
            f"--to {text!r} is not a PostgreSQL version",
            hint="write a major version (17) for a major upgrade or major.minor (16.6) for a minor one",
        )
    return Version(int(match.group(1)), None if match.group(2) is None else int(match.group(2)))


def version_from_number(number: int) -> Version:
    """`server_version_num` (160002) as a version (16.2)."""
    return Version(number // 10000, number % 10000)


def version_from_tool(text: str) -> Version:
    """The version a PostgreSQL program prints with --version."""
    match = _TOOL_VERSION.search(text)
    if match is None:
        raise InvalidInput(
            f"cannot tell the PostgreSQL version from {' '.join(text.split())[:80]!r}",
            hint="point the bin directory at a PostgreSQL installation (the one holding initdb and pg_ctl)",
        )
    return Version(int(match.group(1)), None if match.group(2) is None else int(match.group(2)))


def classify(current: Version, target: Version) -> UpgradeKind:
    """Which upgrade `--to target` asks for on a server at `current` (which has a minor); refuses a
    downgrade and a major upgrade written as if it were a minor one the other way round."""
    assert current.minor is not None
    if target.major < current.major or (
        target.major == current.major and target.minor is not None and target.minor < current.minor
    ):
        raise InvalidInput(
            f"--to {target} is older than the server's {current}: kenv does not downgrade",
            hint="restore a backup taken before the upgrade into a new instance instead (`kenv postgres restore`)",
        )
    if target.major == current.major:
        if target.minor is None:
            raise InvalidInput(
                f"the server already runs PostgreSQL {current.major} ({current})",
                hint=f"name a newer minor (--to {current.major}.{current.minor + 1}) or a newer major "
                f"(--to {current.major + 1})",
            )
        return UpgradeKind.NONE if target.minor == current.minor else UpgradeKind.MINOR
    return UpgradeKind.MAJOR


def check_new_binaries(found: Version, target: Version, old: Version) -> None:
    """The new bin directory must hold the version `--to` names, and a newer major than the old."""
    if found.major != target.major or (target.minor is not None and found.minor != target.minor):
        raise InvalidInput(
            f"--new-bin-dir holds PostgreSQL {found}, not the {target} that --to asks for",
            hint="point --new-bin-dir at the installation of the target version, or change --to",
        )
    if found.major <= old.major:
        raise InvalidInput(
            f"--new-bin-dir holds PostgreSQL {found}, not newer than the server's {old}",
            hint="a major upgrade needs the binaries of a newer major version",
        )


# --- image pins (minor upgrades) -------------------------------------------------------------

_PINNED_TAG = re.compile(r":(\d+)\.(\d+)(?:[-.][A-Za-z0-9._-]*)?(?:@sha256:[0-9a-f]{64})?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_version(image: str) -> Version | None:
    """The major.minor an image reference pins (postgres:16.6-bookworm -> 16.6); None when the tag
    does not pin one (latest, 16-alpine, no tag)."""
    match = _PINNED_TAG.search(image)
    return None if match is None else Version(int(match.group(1)), int(match.group(2)))


def image_for_minor(target: Version, pinned: Mapping[int, str], explicit: str | None) -> str:
    """The image a minor upgrade moves to: the pinned one for that major when it is that minor, or
    an image given explicitly, which must carry a digest and a tag naming exactly that minor (so a
    floating tag never gets in)."""
    if explicit is not None:
        found = image_version(explicit)
        if found != target or _DIGEST.search(explicit) is None:
            raise InvalidInput(
                f"--image {explicit!r} does not pin PostgreSQL {target} by digest",
                hint=f"give a reference whose tag starts with {target} and that ends in @sha256:<digest>, "
                f"e.g. postgres:{target}-bookworm@sha256:...",
            )
        return explicit
    image = pinned.get(target.major)
    if image is None or image_version(image) != target:
        known = ", ".join(f"{image_version(i)} ({i})" for _, i in sorted(pinned.items())) or "none"
        raise InvalidInput(
            f"PostgreSQL {target} is not a pinned version (kenv pins: {known})",
            hint=f"upgrade kenv for a newer pin, or give --image postgres:{target}-bookworm@sha256:<digest>",
        )
    return image


def commit_message(old_image: str, new_image: str) -> str:
    """The GitOps commit of a minor upgrade names both versions and both images."""
    return (
        f"postgres: upgrade {image_version(old_image) or old_image} -> {image_version(new_image) or new_image}\n\n"
        f"image {old_image} -> {new_image} (minor upgrade: same data directory, rolling restart)\n"
    )


# --- row counts (major upgrades) -------------------------------------------------------------

# Every database a dump carries (templates are rebuilt by initdb; a database nobody may connect to
# cannot be dumped).
DATABASES_SQL = (
    "SELECT coalesce(json_agg(datname ORDER BY datname), '[]') AS answer FROM pg_database "
    "WHERE datallowconn AND NOT datistemplate"
)

# Every user table: plain tables only ('r': partitions are plain tables, so a partitioned parent
# would count its rows twice); temporary ones belong to another session.
TABLES_SQL = """
SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname) ORDER BY n.nspname, c.relname), '[]') AS answer
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
""".strip()
# Tables per counting statement: one round trip for many tables, a statement of bounded size.
COUNT_BATCH = 200


def quote_identifier(name: str) -> str:
    """An SQL identifier, quoted the way PostgreSQL's quote_ident does it (always quoted)."""
    return '"' + name.replace('"', '""') + '"'


def count_statements(tables: Sequence[tuple[str, str]]) -> list[str]:
    """Exact `count(*)` of each table (reltuples is only the planner's estimate), batched into
    UNION ALL statements whose rows are (index into `tables`, count). Names appear only as quoted
    identifiers, never as literals; no server extension (query_to_xml needs libxml) is assumed."""
    statements = []
    for start in range(0, len(tables), COUNT_BATCH):
        parts = [
            f"SELECT {start + i} AS i, count(*) AS n FROM {quote_identifier(schema)}.{quote_identifier(table)}"
            for i, (schema, table) in enumerate(tables[start : start + COUNT_BATCH])
        ]
        statements.append("\nUNION ALL ".join(parts))
    return statements


def parse_tables(text: str) -> list[tuple[str, str]]:
    return [(str(s), str(t)) for s, t in parse_json_answer(TABLES_SQL, text)]


# Where each sequence stands: a restored sequence behind its table hands out duplicate keys.
SEQUENCES_SQL = (
    "SELECT coalesce(json_agg(json_build_array(schemaname, sequencename, last_value) "
    "ORDER BY schemaname, sequencename), '[]') AS answer FROM pg_sequences"
)

# Encoding and locale the new instance must be created with (template1 is what CREATE DATABASE
# copies; initdb sets all three from one set of options).
CLUSTER_SETTINGS_SQL = (
    "SELECT json_build_object('encoding', pg_encoding_to_char(encoding), 'collate', datcollate, "
    "'ctype', datctype, 'version', current_setting('server_version_num')::int, "
    "'user', current_user, 'data_directory', current_setting('data_directory')) AS answer "
    "FROM pg_database WHERE datname = 'template1'"
)


@dataclass(frozen=True)
class ClusterSettings:
    version: Version
    encoding: str
    collate: str
    ctype: str
    user: str
    data_directory: str


def parse_json_answer(sql: str, text: str) -> Any:
    """What one of the queries above printed (psql, unaligned, tuples only): one JSON value."""
    try:
        return json.loads(text)
    except ValueError as exc:
        shown = " ".join(text.split())[:120] or "nothing"
        raise ExternalCommandError(
            f"the server answered {shown!r} to {' '.join(sql.split())[:60]!r}..., not JSON",
            argv=["psql"],
            returncode=0,
            stderr_tail=shown,
        ) from exc


def parse_cluster_settings(text: str) -> ClusterSettings:
    data = parse_json_answer(CLUSTER_SETTINGS_SQL, text)
    return ClusterSettings(
        version=version_from_number(int(data["version"])),
        encoding=str(data["encoding"]),
        collate=str(data["collate"]),
        ctype=str(data["ctype"]),
        user=str(data["user"]),
        data_directory=str(data["data_directory"]),
    )


TableKey = tuple[str, str, str]  # database, schema, table


def counts_from_rows(
    database: str, tables: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, str | None]]
) -> dict[TableKey, int | None]:
    """The rows of count_statements() (columns i and n) keyed by (database, schema, table)."""
    counts: dict[TableKey, int | None] = {}
    for row in rows:
        schema, table = tables[int(row["i"] or "0")]
        counts[(database, schema, table)] = int(row["n"] or "0")
    return counts


def parse_sequences(database: str, text: str) -> dict[TableKey, int | None]:
    return {
        (database, str(s), str(q)): None if v is None else int(v) for s, q, v in parse_json_answer(SEQUENCES_SQL, text)
    }


@dataclass(frozen=True)
class Mismatch:
    """One table (or sequence) whose rows differ; None: it is missing on that side."""

    database: str
    schema: str
    name: str
    old: int | None
    new: int | None
    what: str = "table"

    def describe(self) -> str:
        unit = " rows" if self.what == "table" else ""

        def side(value: int | None) -> str:
            return "missing" if value is None else f"{value}{unit}"

        if self.what == "database":
            return f"database {self.database}: missing on the new instance"
        return f"{self.what} {self.database}.{self.schema}.{self.name}: old {side(self.old)}, new {side(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.what,
            "database": self.database,
            "schema": self.schema,
            "name": self.name,
            "old": self.old,
            "new": self.new,
        }


def compare_counts(
    old: Mapping[TableKey, int | None], new: Mapping[TableKey, int | None], *, what: str = "table"
) -> list[Mismatch]:
    """Every key whose value differs or that one side lacks, in a stable order."""
    return [
        Mismatch(*key, old=old.get(key), new=new.get(key), what=what)
        for key in sorted(set(old) | set(new))
        if key not in old or key not in new or old[key] != new[key]
    ]


def mismatch_message(mismatches: Sequence[Mismatch], limit: int = 10) -> str:
    shown = "; ".join(m.describe() for m in mismatches[:limit])
    more = f"; and {len(mismatches) - limit} more" if len(mismatches) > limit else ""
    return f"row counts differ between the old and the new instance: {shown}{more}"


# --- restore errors --------------------------------------------------------------------------

_PSQL_ERROR = re.compile(r"^(?:psql:[^\n]*?:\d+: )?ERROR:\s+(.*)$", re.MULTILINE)


def restore_errors(stderr: str, superuser: str) -> list[str]:
    """The errors psql met replaying a pg_dumpall script into a fresh instance, without the one that
    is expected: the script creates every role, including the superuser initdb already made (it
    follows with ALTER ROLE, so the role still ends up as dumped)."""
    expected = {f'role "{superuser}" already exists'}
    return [m.group(1).strip() for m in _PSQL_ERROR.finditer(stderr) if m.group(1).strip() not in expected]


def count_total(counts: Iterable[int | None]) -> int:
    return sum(c for c in counts if c is not None)


# --- manifests (minor upgrades) --------------------------------------------------------------

# One `image:` line (its indentation and quotes kept); [ \t], not \s: a match never eats a newline.
_IMAGE_LINE = re.compile(r"^([ \t]*(?:-[ \t]+)?image:[ \t]*)(\"?)([^\s\"#]+)\2[ \t]*$", re.MULTILINE)
_NAMESPACE_LINE = re.compile(r"^  namespace:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def read_manifests(directory: Path) -> dict[str, str]:
    """The YAML files of a rendered directory, by name (it is flat: `kenv postgres render`)."""
    if not directory.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml")) if p.is_file()}


def postgres_images(files: Mapping[str, str]) -> set[str]:
    """Every `image:` that pins a PostgreSQL version (postgres:16.6-bookworm, repo/postgres:...)."""
    found = set()
    for text in files.values():
        for match in _IMAGE_LINE.finditer(text):
            image = match.group(3)
            repository = image.split("@")[0].rsplit(":", 1)[0]
            if repository.rsplit("/", 1)[-1] == "postgres" and image_version(image) is not None:
                found.add(image)
    return found


def current_image(files: Mapping[str, str], *, where: str) -> str:
    images = postgres_images(files)
    if len(images) != 1:
        shown = ", ".join(sorted(images)) or "none"
        raise InvalidInput(
            f"the manifests at {where} pin {len(images)} PostgreSQL images ({shown}), not one",
            hint="re-deploy with `kenv postgres deploy` so that one pinned image runs everywhere",
        )
    return images.pop()


def bump_image(files: Mapping[str, str], old: str, new: str) -> dict[str, str]:
    """The files whose `image: old` lines become `image: new` (only those lines change)."""

    def swap(match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}{new}{match.group(2)}" if match.group(3) == old else match.group(0)

    changed = {}
    for name, text in files.items():
        updated = _IMAGE_LINE.sub(swap, text)
        if updated != text:
            changed[name] = updated
    return changed


def namespace_of(files: Mapping[str, str]) -> str:
    for text in files.values():
        match = _NAMESPACE_LINE.search(text)
        if match is not None:
            return match.group(1).strip("\"'")
    return "infra"


def cluster_major_plan(namespace: str, statefulset: str, current_image: str, new_image: str, major: int) -> list[str]:
    """The steps of a major upgrade on a cluster, the same ones as on this machine with a pod for
    each instance: a second StatefulSet, the dump replayed into it, the counts compared through
    both pods, and the client Service's selector moved only on a match."""
    new = f"{statefulset}-{major}"
    return [
        f"render StatefulSet {namespace}/{new} ({new_image}, its own data claim data-{new}-0, the same ConfigMap "
        f"and Secret) next to {statefulset} ({current_image}); commit or apply it",
        f"wait until pod {new}-0 is ready",
        f"pg_dumpall in pod {new}-0 (the new version's programs read the old server) from pod {statefulset}-0 "
        f"through the headless Service, replayed with psql in pod {new}-0",
        "count every table (exact count(*)) and every sequence in both pods and compare",
        f"on a match: move Service {namespace}/{statefulset}'s selector to pod {new}-0 "
        "(statefulset.kubernetes.io/pod-name) and record the switch; on a mismatch: exit 1, nothing moved",
        f"keep StatefulSet {statefulset} and its claim until --cleanup",
    ]
