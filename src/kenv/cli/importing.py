"""Reading an input file and running an import, shared by `import-csv`, `db import-legacy` and
`apply`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import emit
from kenv.errors import OperationFailed, ProblemsFound

if TYPE_CHECKING:
    from kenv.inventory.importer import ImportRecord

SUMMARY_COLUMNS = [("LINE", "ref"), ("ENV", "name"), ("RESULT", "result"), ("REASON", "reason")]


def read_text_file(path: str) -> str:
    from kenv.errors import InvalidInput

    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InvalidInput(f"file {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{path} is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


def run_import(app: App, records: list[ImportRecord], *, source: str, update: bool, dry_run: bool, output: str) -> None:
    """Apply CSV or legacy records to the inventory, print the summary, exit 1/3 on failures/conflicts."""
    from kenv.inventory.importer import import_records
    from kenv.inventory.repository import AllocationPolicy
    from kenv.runtime.host import LiveHostProbe

    summary = import_records(
        app.inventory(),
        records,
        AllocationPolicy.from_settings(app.settings()),
        source=source,
        update=update,
        dry_run=dry_run,
        probe=LiveHostProbe(),
    )
    report_summary(summary.to_dict(), output)


def report_summary(summary: dict[str, object], output: str) -> None:
    """Print the import summary and exit 1 when rows failed, 3 when conflicts were left alone."""
    if output == "table":
        rows = summary["rows"]
        assert isinstance(rows, list)
        shown = [r for r in rows if r["result"] != "skipped" or r["reason"] != "unchanged"] or rows
        if shown:
            emit(shown, "table", columns=SUMMARY_COLUMNS)
        prefix = "dry-run: would import" if summary["dry_run"] else "imported"
        click.echo(
            f"{prefix} {summary['imported']}, updated {summary['updated']}, skipped {summary['skipped']}, "
            f"conflicts {summary['conflicts']}, failed {summary['failed']} (total {summary['total']})"
        )
    else:
        emit(summary, output)
    failed, conflicts = summary["failed"], summary["conflicts"]
    assert isinstance(failed, int)
    assert isinstance(conflicts, int)
    if failed:
        raise OperationFailed(f"{failed} row(s) could not be imported", hint="see the rows marked failed above")
    if conflicts:
        raise ProblemsFound(
            f"{conflicts} row(s) conflict with the inventory and were left alone",
            hint="see the rows marked conflict above; --update changes records that differ",
        )
