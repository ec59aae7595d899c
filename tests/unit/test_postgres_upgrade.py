"""The pure rules of `kenv postgres upgrade`: which upgrade a `--to` asks for, which image a minor
upgrade moves to, the exact-count statements, the comparison that decides a switch, the errors a
replayed dump may and may not have, the image bump in deployed manifests, and the refusals the
command makes before it touches anything."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.platform.postgres import upgrade as rules
from kenv.platform.postgres.upgrade import Mismatch, UpgradeKind, Version
from kenv.workflows.postgres_upgrade import Endpoint
from tests.conftest import run_kenv

V = Version
DIGEST = "sha256:" + "ab" * 32
PINS = {15: "postgres:15.10-bookworm", 16: "postgres:16.6-bookworm", 17: "postgres:17.2-bookworm"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("17", V(17)), ("16.6", V(16, 6)), (" 16.10 ", V(16, 10)), ("10.23", V(10, 23))],
)
def test_target_versions_are_a_major_or_a_major_minor(text: str, expected: Version) -> None:
    assert rules.parse_target(text) == expected


@pytest.mark.parametrize("text", ["latest", "16.6.1", "16-alpine", "9.6", "", "v17", "16."])
def test_anything_else_is_refused_as_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a PostgreSQL version"):
        rules.parse_target(text)


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        (V(16, 4), V(16, 6), UpgradeKind.MINOR),
        (V(16, 6), V(16, 6), UpgradeKind.NONE),
        (V(16, 6), V(17), UpgradeKind.MAJOR),
        (V(15, 18), V(16), UpgradeKind.MAJOR),
        (V(16, 6), V(17, 2), UpgradeKind.MAJOR),
    ],
)
def test_classify(current: Version, target: Version, kind: UpgradeKind) -> None:
    assert rules.classify(current, target) is kind


@pytest.mark.parametrize(("current", "target"), [(V(16, 6), V(16, 4)), (V(16, 6), V(15)), (V(16, 6), V(15, 10))])
def test_a_downgrade_is_refused(current: Version, target: Version) -> None:
    with pytest.raises(InvalidInput, match="kenv does not downgrade"):
        rules.classify(current, target)


def test_the_running_major_alone_is_not_a_target() -> None:
    with pytest.raises(InvalidInput, match="already runs PostgreSQL 16") as caught:
        rules.classify(V(16, 6), V(16))
    assert "--to 16.7" in (caught.value.hint or "")
    assert "--to 17" in (caught.value.hint or "")


def test_versions_from_the_server_and_from_the_programs() -> None:
    assert rules.version_from_number(160002) == V(16, 2)
    assert rules.version_from_number(150018) == V(15, 18)
    assert rules.version_from_tool("initdb (PostgreSQL) 16.2\n") == V(16, 2)
    assert rules.version_from_tool("initdb (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)") == V(15, 8)
    with pytest.raises(InvalidInput, match="cannot tell the PostgreSQL version"):
        rules.version_from_tool("bash: initdb: not found")


def test_the_new_binaries_must_be_the_target_and_newer_than_the_server() -> None:
    rules.check_new_binaries(V(16, 2), V(16), V(15, 18))
    rules.check_new_binaries(V(16, 2), V(16, 2), V(15, 18))
    with pytest.raises(InvalidInput, match=re.escape("holds PostgreSQL 16.2, not the 17")):
        rules.check_new_binaries(V(16, 2), V(17), V(15, 18))
    with pytest.raises(InvalidInput, match=re.escape("not the 16.4")):
        rules.check_new_binaries(V(16, 2), V(16, 4), V(15, 18))
    with pytest.raises(InvalidInput, match=re.escape("not newer than the server's 16.6")):
        rules.check_new_binaries(V(16, 2), V(16), V(16, 6))


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("postgres:16.6-bookworm", V(16, 6)),
        ("postgres:16.6", V(16, 6)),
        (f"registry.local:5000/library/postgres:17.2-bookworm@{DIGEST}", V(17, 2)),
        ("postgres:16-alpine", None),
        ("postgres:latest", None),
        ("postgres", None),
    ],
)
def test_image_version_reads_only_a_pinned_minor(image: str, version: Version | None) -> None:
    assert rules.image_version(image) == version


def test_a_minor_upgrade_goes_to_the_pinned_image_of_that_minor() -> None:
    assert rules.image_for_minor(V(16, 6), PINS, None) == "postgres:16.6-bookworm"


def test_a_minor_kenv_does_not_pin_is_refused_naming_the_pins() -> None:
    with pytest.raises(InvalidInput, match=r"16\.7 is not a pinned version") as caught:
        rules.image_for_minor(V(16, 7), PINS, None)
    assert "16.6 (postgres:16.6-bookworm)" in caught.value.message
    assert "--image" in (caught.value.hint or "")


def test_an_explicit_image_must_pin_that_minor_by_digest() -> None:
    given = f"postgres:16.7-bookworm@{DIGEST}"
    assert rules.image_for_minor(V(16, 7), PINS, given) == given
    for wrong in ("postgres:16.7-bookworm", f"postgres:16.8-bookworm@{DIGEST}", f"postgres:16-bookworm@{DIGEST}"):
        with pytest.raises(InvalidInput, match=re.escape("does not pin PostgreSQL 16.7 by digest")):
            rules.image_for_minor(V(16, 7), PINS, wrong)


def test_the_commit_message_names_both_versions_and_images() -> None:
    message = rules.commit_message("postgres:16.4-bookworm", "postgres:16.6-bookworm")
    assert message.splitlines()[0] == "postgres: upgrade 16.4 -> 16.6"
    assert "postgres:16.4-bookworm -> postgres:16.6-bookworm" in message


def test_count_statements_quote_every_name_and_batch() -> None:
    tables = [("public", "orders"), ("audit", 'Event "Log"'), *[("s", f"t{i}") for i in range(rules.COUNT_BATCH)]]
    statements = rules.count_statements(tables)
    assert len(statements) == 2
    first = statements[0].split("\nUNION ALL ")
    assert first[0] == 'SELECT 0 AS i, count(*) AS n FROM "public"."orders"'
    assert first[1] == 'SELECT 1 AS i, count(*) AS n FROM "audit"."Event ""Log"""'
    last = rules.COUNT_BATCH  # the 201st table starts the second statement, numbered on
    assert statements[1].split("\nUNION ALL ") == [
        f'SELECT {last} AS i, count(*) AS n FROM "s"."t{last - 2}"',
        f'SELECT {last + 1} AS i, count(*) AS n FROM "s"."t{last - 1}"',
    ]
    assert rules.count_statements([]) == []


def test_counts_come_back_keyed_by_database_schema_and_table() -> None:
    tables = [("public", "orders"), ("audit", "log")]
    rows = [{"i": "1", "n": "37"}, {"i": "0", "n": "1000"}]
    assert rules.counts_from_rows("app", tables, rows) == {
        ("app", "public", "orders"): 1000,
        ("app", "audit", "log"): 37,
    }


def test_the_json_answers_parse_and_anything_else_is_the_server_failing() -> None:
    assert rules.parse_tables('[["public", "t"], ["s", "We ird"]]') == [("public", "t"), ("s", "We ird")]
    assert rules.parse_sequences("app", '[["public", "t_id_seq", 1000], ["public", "unused", null]]') == {
        ("app", "public", "t_id_seq"): 1000,
        ("app", "public", "unused"): None,
    }
    settings = rules.parse_cluster_settings(
        json.dumps(
            {
                "encoding": "UTF8",
                "collate": "C.UTF-8",
                "ctype": "C.UTF-8",
                "version": 150018,
                "user": "postgres",
                "data_directory": "/srv/pg",
            }
        )
    )
    assert settings.version == V(15, 18)
    assert (settings.encoding, settings.collate, settings.user) == ("UTF8", "C.UTF-8", "postgres")
    with pytest.raises(Exception, match="not JSON"):
        rules.parse_tables("ERROR: permission denied")


def test_equal_counts_are_no_mismatch() -> None:
    counts: dict[rules.TableKey, int | None] = {("app", "public", "orders"): 1000, ("shop", "public", "items"): 5}
    assert rules.compare_counts(counts, dict(counts)) == []


def test_every_difference_is_named_with_both_counts_in_a_stable_order() -> None:
    old: dict[rules.TableKey, int | None] = {
        ("app", "public", "orders"): 1001,
        ("app", "public", "gone"): 3,
        ("app", "public", "same"): 7,
    }
    new: dict[rules.TableKey, int | None] = {
        ("app", "public", "orders"): 1000,
        ("app", "public", "same"): 7,
        ("app", "public", "extra"): 0,
    }
    mismatches = rules.compare_counts(old, new)
    assert [m.describe() for m in mismatches] == [
        "table app.public.extra: old missing, new 0 rows",
        "table app.public.gone: old 3 rows, new missing",
        "table app.public.orders: old 1001 rows, new 1000 rows",
    ]
    message = rules.mismatch_message(mismatches)
    assert message.startswith("row counts differ between the old and the new instance: table app.public.extra")
    assert "\n" not in message


def test_a_sequence_behind_is_a_mismatch_and_a_long_list_is_cut() -> None:
    seq = rules.compare_counts({("app", "public", "s"): 12}, {("app", "public", "s"): None}, what="sequence")
    assert seq == [Mismatch("app", "public", "s", old=12, new=None, what="sequence")]
    assert seq[0].describe() == "sequence app.public.s: old 12, new missing"
    many = [Mismatch("db", "public", f"t{i}", old=i + 1, new=i) for i in range(14)]
    assert rules.mismatch_message(many).endswith("; and 4 more")
    assert (
        Mismatch("gone", "-", "-", None, None, what="database").describe()
        == "database gone: missing on the new instance"
    )


PSQL_STDERR = """psql:/x/dumpall.sql:14: ERROR:  role "postgres" already exists
psql:/x/dumpall.sql:200: ERROR:  type "geometry" does not exist
LINE 1: CREATE TABLE shapes (g geometry);
"""


def test_only_the_superusers_create_role_may_fail_in_a_replayed_dump() -> None:
    assert rules.restore_errors(PSQL_STDERR.splitlines()[0], "postgres") == []
    assert rules.restore_errors(PSQL_STDERR, "postgres") == ['type "geometry" does not exist']
    # Another role that already exists is not expected: the new instance was empty.
    assert rules.restore_errors('psql:f:3: ERROR:  role "app" already exists', "postgres") == [
        'role "app" already exists'
    ]


STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: data
spec:
  template:
    spec:
      containers:
      - name: postgres
        image: postgres:16.4-bookworm
      - name: exporter
        image: quay.io/prometheuscommunity/postgres-exporter:v0.15.0
"""
CRONJOB = """kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              image: "postgres:16.4-bookworm"
"""


def test_the_bump_changes_only_the_image_lines_holding_the_current_pin() -> None:
    files = {"statefulset.yaml": STATEFULSET, "cronjob.yaml": CRONJOB, "service.yaml": "kind: Service\n"}
    assert rules.postgres_images(files) == {"postgres:16.4-bookworm"}
    assert rules.current_image(files, where="x") == "postgres:16.4-bookworm"
    changed = rules.bump_image(files, "postgres:16.4-bookworm", "postgres:16.6-bookworm")
    assert sorted(changed) == ["cronjob.yaml", "statefulset.yaml"]
    assert changed["statefulset.yaml"] == STATEFULSET.replace("16.4", "16.6")
    assert changed["cronjob.yaml"] == CRONJOB.replace("16.4", "16.6")
    assert rules.namespace_of(files) == "data"


def test_manifests_pinning_two_versions_are_refused() -> None:
    files = {"a.yaml": STATEFULSET, "b.yaml": CRONJOB.replace("16.4", "16.5")}
    with pytest.raises(InvalidInput, match="pin 2 PostgreSQL images"):
        rules.current_image(files, where="repo/postgres")
    with pytest.raises(InvalidInput, match="pin 0 PostgreSQL images"):
        rules.current_image({"a.yaml": "kind: Service\n"}, where="repo/postgres")


def test_the_endpoint_never_prints_the_password() -> None:
    endpoint = Endpoint.from_url("postgresql://admin:p%40ss@127.0.0.1:5433/app")
    assert (endpoint.user, endpoint.password, endpoint.port, endpoint.database) == ("admin", "p@ss", 5433, "app")
    assert endpoint.url() == "postgresql://admin@127.0.0.1:5433/app"
    assert endpoint.with_port(6000).url(database="postgres") == "postgresql://admin@127.0.0.1:6000/postgres"
    assert endpoint.local
    assert not Endpoint.from_url("postgresql://a:b@db.example:5432/x").local
    for bad in ("mysql://a@b/c", "postgresql://a:b@host:99999/x"):
        with pytest.raises(InvalidInput):
            Endpoint.from_url(bad)


def _refused(*args: str) -> str:
    result = run_kenv("postgres", "upgrade", *args, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_command_refuses_bad_input_before_touching_anything(tmp_path: Path) -> None:
    url = "postgresql://postgres:pw@127.0.0.1:1/postgres"
    assert "--to is missing" in _refused("--local", url)
    assert "is not a PostgreSQL version" in _refused(
        "--to", "latest", "--local", url, "--new-bin-dir", "/x", "--data-dir", "/y", "--port", "5"
    )
    assert "needs --new-bin-dir, --data-dir, --port" in _refused(
        "--to", "17", "--local", url, "--bin-dir", str(tmp_path)
    )
    assert "--local and --env" in _refused("--to", "17", "--local", url, "--env", "dev")
    assert "--cleanup needs --local" in _refused("--cleanup")
    assert "no upgrade of postgresql://postgres@127.0.0.1:1/postgres is recorded" in _refused(
        "--cleanup", "--local", url
    )
    assert "no PostgreSQL manifests for devops" in _refused("--to", "16.6")
    assert not (Path(os.environ["KENV_HOME"]) / "data" / "postgres").exists()


def test_the_json_keys_are_a_contract() -> None:
    from kenv.workflows.postgres_upgrade import CleanupResult, UpgradeResult

    result = UpgradeResult("major", "15.18", "16.2", "dump", "postgresql://p@h:1/postgres", None, None)
    result.mismatches = [Mismatch("app", "public", "orders", 1001, 1000)]
    data = result.to_dict()
    assert list(data) == [
        "kind",
        "from",
        "to",
        "method",
        "old_url",
        "new_url",
        "data_dir",
        "databases",
        "tables",
        "rows",
        "sequences",
        "mismatches",
        "switched",
        "dry_run",
        "plan",
        "seconds",
        "detail",
    ]
    assert data["mismatches"] == [
        {"kind": "table", "database": "app", "schema": "public", "name": "orders", "old": 1001, "new": 1000}
    ]
    assert list(CleanupResult("a", "b", None, False, False).to_dict()) == [
        "old_url",
        "current_url",
        "data_dir",
        "removed",
        "dry_run",
        "plan",
    ]
