"""gitops show, gitops sync: the platform's GitOps repository."""

from __future__ import annotations

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option
from kenv.cli.workflow_support import workflow_context


@click.group()
def gitops() -> None:
    """The GitOps repository: a directory per environment, archived on delete.

    \b
    The repository is gitops_url when configured (file://, ssh or https; git
    authenticates with your ssh keys or credential helper), else a local bare
    repository <data>/gitops.git served read-only to the devops cluster.
    Examples:
      kenv gitops show
      kenv gitops show -o json
      kenv gitops sync --dry-run
      KENV_GITOPS_URL=ssh://git@git.example/platform.git kenv gitops sync
    """


@gitops.command()
@output_option()
@click.pass_obj
def show(app: App, output: str) -> None:
    """Where the repository is, its last commit, the environments present and archived."""
    from kenv.workflows.gitops import status

    ctx = workflow_context(app, dry_run=False)
    data = status(ctx).to_dict()
    if output != "table":
        emit(data, output)
        return
    shown = {
        **data,
        "environments": ", ".join(data["environments"]) or None,  # type: ignore[arg-type]
        "archived": ", ".join(data["archived"]) or None,  # type: ignore[arg-type]
    }
    emit(shown, output)


@gitops.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@dry_run_option()
@output_option()
@click.pass_obj
def sync(app: App, names: tuple[str, ...], dry_run: bool, output: str) -> None:
    """Give every environment in the inventory its directory, and archive the directories of
    environments no longer in it, in one commit pushed to the repository. With NAMEs, only
    those (for a repository that several inventories share).

    \b
    Exit codes: 0 in sync (or synced), 3 with --dry-run when something would change.
    Examples:
      kenv gitops sync
      kenv gitops sync --dry-run
      kenv gitops sync qa        # add qa's directory, or archive it if qa is gone
    """
    from kenv.workflows.gitops import sync_environments

    ctx = workflow_context(app, dry_run=dry_run)
    result = sync_environments(ctx, names)
    if output != "table":
        emit(result.to_dict(), output)
    elif dry_run:
        import shlex

        click.echo(
            f"dry run: add {', '.join(result.added) or 'nothing'}; archive {', '.join(result.archived) or 'nothing'}"
        )
        for argv in result.planned:
            click.echo("  " + shlex.join(argv))
    else:
        commit = f" ({result.commit[:12]})" if result.commit else ""
        click.echo(
            f"added: {', '.join(result.added) or '-'}; archived: {', '.join(result.archived) or '-'}"
            + (commit or "; nothing to commit")
        )
    if dry_run and result.changed:
        raise SystemExit(3)
