"""kenv up: prepare the inventory and show what it holds."""

from __future__ import annotations

import sys

import click

from kenv.cli.main import App
from kenv.cli.render import emit, output_option


@click.command()
@output_option()
@click.pass_obj
def up(app: App, output: str) -> None:
    """Initialise the inventory (creating and migrating the database on first use) and show
    where it lives and what it holds.

    \b
    Example:
      kenv up
    """
    from kenv.inventory import schema
    from kenv.inventory.database import mask_url

    settings = app.settings()
    inventory = app.inventory()
    envs = inventory.environments()
    state = schema.status(inventory.db)
    summary = {
        "database": mask_url(settings.db_url),
        "backend": inventory.dialect,
        "schema_version": state.current,
        "environments": len(envs),
        "names": [e.name for e in envs],
        "config_file": str(settings.config_path),
    }
    if output != "table":
        emit(summary, output)
        return
    sys.stdout.write(f"inventory ready: {summary['database']} ({inventory.dialect}, schema v{state.current})\n")
    sys.stdout.write(f"config file:     {settings.config_path}\n")
    if envs:
        sys.stdout.write(
            f"environments:    {len(envs)} ({', '.join(e.name for e in envs[:10])}"
            f"{', ...' if len(envs) > 10 else ''})\n"
        )
    else:
        sys.stdout.write("environments:    none yet (kenv register NAME, or kenv import-csv FILE)\n")
