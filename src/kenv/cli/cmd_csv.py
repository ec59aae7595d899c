"""import-csv and export-csv: the predecessor's config/environments.csv."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kenv.cli.importing import read_text_file, run_import
from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import output_option


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
