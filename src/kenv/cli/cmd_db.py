"""db status, upgrade, copy, backup, restore, import-legacy."""

from __future__ import annotations

from pathlib import Path

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option


@click.group()
def db() -> None:
    """The inventory database.

    \b
    Examples:
      kenv db status
      kenv db backup ~/kenv-backup.json
      kenv db copy --to postgresql://kenv:PASSWORD@db.internal:5432/kenv
      kenv db import-legacy postgresql://postgres:PASSWORD@127.0.0.1:5432/kindler
      kenv db import-legacy /data/kindler-webui/kindler.db
    """


@db.command()
@output_option()
@click.pass_obj
def status(app: App, output: str) -> None:
    """Where the inventory is, its schema version and what it holds."""
    from kenv.inventory import schema
    from kenv.inventory.database import connect

    settings = app.settings()
    # A status never creates the inventory it reports on (the default location excepted).
    database = connect(settings.db_url, create=settings.sources.get("db_url") == "default")
    try:
        state = schema.status(database)
        counts = {"environments": 0, "operations": 0}
        if state.current:
            for table in counts:
                counts[table] = int(database.query(f"SELECT count(*) FROM {table}")[0][0])
        emit(
            {
                "database": database.url.masked(),
                "backend": database.dialect,
                "schema_version": state.current,
                "latest_schema_version": state.latest,
                "up_to_date": state.up_to_date,
                **counts,
            },
            output,
        )
    finally:
        database.close()


@db.command()
@dry_run_option()
@click.pass_obj
def upgrade(app: App, dry_run: bool) -> None:
    """Apply pending schema migrations (kenv also does this on first use)."""
    from kenv.inventory import schema
    from kenv.inventory.database import connect

    database = connect(app.settings().db_url)
    try:
        state = schema.status(database)
        if dry_run or state.up_to_date:
            pending = list(range(state.current + 1, state.latest + 1))
            verb = "would apply" if pending else "nothing to apply"
            click.echo(f"schema v{state.current}, latest v{state.latest}: {verb} {pending or ''}".rstrip())
            return
        applied = schema.upgrade(database)
        click.echo(f"upgraded {database.url.masked()} to schema v{state.latest} (applied {applied})")
    finally:
        database.close()


@db.command()
@click.option("--to", "target_url", required=True, metavar="URL", help="Target database URL.")
@click.option("--force", is_flag=True, help="Replace what the target holds.")
@dry_run_option()
@output_option()
@click.pass_obj
def copy(app: App, target_url: str, force: bool, dry_run: bool, output: str) -> None:
    """Copy the whole inventory to another database (SQLite <-> PostgreSQL), verified by
    reading the target back and comparing counts and content."""
    from kenv.errors import InvalidInput
    from kenv.inventory import transfer
    from kenv.inventory.database import parse_url
    from kenv.inventory.repository import open_inventory

    app.read_only = True  # the source is only read; the target is created if need be
    source = app.inventory()
    if parse_url(target_url).raw == source.db.url.raw:
        raise InvalidInput("the target is the inventory itself", hint="give another database URL in --to")
    snapshot = transfer.dump(source)
    with open_inventory(target_url) as target:
        result = transfer.load(
            target, snapshot, force=force, dry_run=dry_run, operation="copy", source=source.db.url.masked()
        )
    emit({"source": source.db.url.masked(), **result}, output)


@db.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@output_option()
@click.pass_obj
def backup(app: App, file: Path, force: bool, output: str) -> None:
    """Write the whole inventory to FILE (portable JSON, mode 0600, written atomically).
    An existing FILE is replaced only with --force."""
    from kenv.inventory import transfer
    from kenv.inventory.files import check_target

    # Refuse a bad target before reading the whole inventory.
    check_target(file, force=force)
    app.read_only = True
    snapshot = transfer.dump(app.inventory())
    transfer.write_backup(snapshot, file, force=force)
    emit(
        {
            "file": str(file),
            "environments": len(snapshot["environments"]),
            "operations": len(snapshot["operations"]),
        },
        output,
    )


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a non-empty inventory.")
@dry_run_option()
@output_option()
@click.pass_obj
def restore(app: App, file: Path, force: bool, dry_run: bool, output: str) -> None:
    """Load FILE (from `kenv db backup`) into the inventory; refuses a non-empty one without --force."""
    from kenv.inventory import transfer

    snapshot = transfer.read_backup(file)
    result = transfer.load(app.inventory(), snapshot, force=force, dry_run=dry_run, source=str(file))
    emit({"file": str(file), **result}, output)


@db.command("import-legacy")
@click.argument("url", metavar="URL")
@click.option("--update", is_flag=True, help="Change records that differ (otherwise reported as conflicts).")
@dry_run_option()
@output_option()
@click.pass_obj
def import_legacy(app: App, url: str, update: bool, dry_run: bool, output: str) -> None:
    """Import environments from the predecessor's PostgreSQL (postgresql://...) or SQLite
    (sqlite:////path or a file path), keeping timestamps and state; 'devops' is skipped."""
    from kenv.cli.importing import run_import
    from kenv.inventory.legacy import read_legacy

    source, records = read_legacy(url)
    run_import(app, records, source=source, update=update, dry_run=dry_run, output=output)
