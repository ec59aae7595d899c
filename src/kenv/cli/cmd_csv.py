"""import-csv and export-csv: the predecessor's config/environments.csv."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option

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
        sys.exit(1)
    if conflicts:
        sys.exit(3)


@click.command("import-csv")
@click.argument("file", metavar="FILE")
@click.option(
    "--update",
    is_flag=True,
    help="Change records that differ from their row (otherwise reported as conflicts).",
)
@dry_run_option()
@output_option()
@click.pass_obj
def import_csv(app: App, file: str, update: bool, dry_run: bool, output: str) -> None:
    """Import environments from FILE (the predecessor's config/environments.csv; '-' for stdin).

    Rows named 'devops' are skipped: the management cluster belongs to bootstrap. A row equal to
    its record is skipped; one that differs is a conflict, changed only with --update. A file
    with any malformed line changes nothing. Exit 1 if rows failed, 3 if conflicts remain.

    \b
    Examples:
      kenv import-csv config/environments.csv --dry-run
      kenv import-csv config/environments.csv --update -o json
    """
    from kenv.errors import InvalidInput
    from kenv.inventory.csv_format import parse_csv
    from kenv.inventory.importer import records_from_csv

    source = "stdin" if file == "-" else file
    rows = parse_csv(read_text_file(file), source)
    if not rows:
        # "0 imported" would read as success for a truncated file or the wrong path.
        raise InvalidInput(f"{source} holds no environment rows", hint="check that this is the right file")
    run_import(app, records_from_csv(rows), source=file, update=update, dry_run=dry_run, output=output)


@click.command("export-csv")
@click.argument("file", required=False, metavar="[FILE]")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.pass_obj
def export_csv(app: App, file: str | None, force: bool) -> None:
    """Write every environment in the environments.csv format to FILE (default: stdout).

    Export then import is a no-op. An existing FILE is replaced only with --force.

    \b
    Example:
      kenv export-csv config/environments.csv
    """
    from kenv.inventory.csv_format import render_csv

    text = render_csv(app.inventory().environments())
    if file is None or file == "-":
        sys.stdout.write(text)
        return
    from kenv.inventory.files import write_file

    write_file(Path(file), text, force=force, mode=0o644)
    click.echo(f"wrote {text.count(chr(10)) - 1} environment(s) to {file}", err=True)
