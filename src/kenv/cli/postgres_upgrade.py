"""`kenv postgres upgrade`: a minor upgrade by image bump through GitOps, a major one into a new
instance with every table's rows compared, and `--cleanup` of the instance an upgrade replaced."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.options import dry_run_option
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.runtime.process import Runner


def _commands(planned: list[tuple[str, ...]]) -> list[str]:
    """The exact commands of a dry run, any password in a URL masked."""
    from kenv.platform.postgres.executor import redact_url

    return [shlex.join(redact_url(a) if "://" in a else a for a in argv) for argv in planned]


def _plan_lines(steps: list[str], planned: list[tuple[str, ...]]) -> list[str]:
    lines = [f"  {n}. {step}" for n, step in enumerate(steps, 1)]
    if planned:
        lines.append("commands:")
        lines += ["  " + command for command in _commands(planned)]
    return lines


def _runner(dry_run: bool) -> Runner:
    from kenv.runtime.process import Runner

    return Runner(dry_run=dry_run)


@click.command()
@click.option("--to", "to", metavar="VERSION", help="Target version: 16.6 (minor, image bump) or 17 (major).")
@click.option("--env", "env", metavar="ENV", help="The environment whose PostgreSQL to upgrade (a cluster).")
@click.option(
    "--local", "url", metavar="URL", help="A server on this machine: postgresql://USER:PASSWORD@HOST:PORT/DB."
)
@click.option(
    "--bin-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Programs of the old server's version. [default: pg_config on PATH]",
)
@click.option("--new-bin-dir", type=click.Path(path_type=Path, file_okay=False), help="Programs of the new version.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="New instance's data directory (must not exist).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port of the new instance.")
@click.option(
    "--method",
    type=click.Choice(["dump"]),
    default="dump",
    show_default=True,
    help="How a major upgrade moves the data: pg_dumpall replayed into the new instance.",
)
@click.option(
    "--via",
    type=click.Choice(["gitops", "apply"]),
    default="gitops",
    show_default=True,
    help="How a minor upgrade reaches the cluster: a commit to the GitOps repository, or kubectl apply.",
)
@click.option("--image", metavar="REF", help="A minor upgrade's image, pinned by digest, instead of kenv's pin.")
@click.option("--run-as", metavar="USER", help="Account PostgreSQL's server programs run as when kenv runs as root.")
@click.option("--cleanup", is_flag=True, help="Stop and remove the old instance of an upgrade whose counts matched.")
@click.option(
    "--delete-volumes", is_flag=True, help="With --cleanup --env: also delete the old StatefulSet's data claim."
)
@click.option("--namespace", default="infra", show_default=True, help="With --cleanup --env: the namespace.")
@dry_run_option()
@output_option()
@click.pass_obj
def upgrade(
    app: App,
    to: str | None,
    env: str | None,
    url: str | None,
    bin_dir: Path | None,
    new_bin_dir: Path | None,
    data_dir: Path | None,
    port: int | None,
    method: str,
    via: str,
    image: str | None,
    run_as: str | None,
    cleanup: bool,
    delete_volumes: bool,
    namespace: str,
    dry_run: bool,
    output: str,
) -> None:
    """Upgrade PostgreSQL: a minor version by image bump, a major one into a NEW instance.

    A minor upgrade (--env, default devops) changes the pinned image in the deployed manifests
    (every `image:` holding the current pin, nothing else) and commits it to the GitOps
    repository, naming both versions (--via apply: applies it and waits for the rollout). The
    data directory stays; the single instance restarts on the new image. A downgrade, a major
    version written as a minor one, or a minor kenv does not pin is refused (--image may give one
    pinned by digest).

    A major upgrade never touches the old data: the new version's pg_dumpall is replayed into a
    new data directory started on --port, every table's exact row count (and every sequence) is
    compared between the two, and only when all match does the new instance become the current
    one (kenv records it and prints its URL). A mismatch exits 1 naming each table and both
    counts; nothing is switched. The old instance keeps running until `--cleanup`.

    On a cluster (--to 17 --env ENV) the same happens between two pods: a new StatefulSet
    postgres-17 (the deployed one with the new pinned image, its own data claim, archiving off)
    is applied and rolled out, `kubectl exec postgres-0 -- pg_dumpall` is piped into `kubectl
    exec -i postgres-17-0 -- psql`, the counts are compared through both pods, and only on a
    match does the client Service's selector move to postgres-17. `--cleanup --env ENV` deletes
    the old StatefulSet (its claim only with --delete-volumes).

    \b
    Examples:
      kenv postgres upgrade --to 17 --local postgresql://postgres:PW@localhost:5432/postgres \\
          --bin-dir /usr/lib/postgresql/16/bin --new-bin-dir /usr/lib/postgresql/17/bin \\
          --data-dir /srv/pg17 --port 5433 --dry-run
      kenv postgres upgrade --to 17 --local URL ... --run-as postgres      kenv runs as root
      kenv postgres upgrade --cleanup --local postgresql://postgres:PW@localhost:5432/postgres
      kenv postgres upgrade --to 16.6 --env devops --dry-run              minor: the commit it would make
      kenv postgres upgrade --to 16.6 --env devops --via apply
      kenv postgres upgrade --to 17 --env devops                         major, on the cluster
      kenv postgres upgrade --cleanup --env devops --delete-volumes
    """
    from kenv.errors import InvalidInput

    if url is not None and env is not None:
        raise InvalidInput("--local and --env name two different servers", hint="give one of them")
    if delete_volumes and not (cleanup and env is not None):
        raise InvalidInput("--delete-volumes goes with --cleanup --env ENV")
    if cleanup:
        if env is not None:
            _cleanup_cluster(app, env, namespace, delete_volumes, dry_run, output)
            return
        if url is None:
            raise InvalidInput(
                "--cleanup needs --local URL (the old server of a recorded upgrade) or --env ENV (a cluster's)"
            )
        _cleanup(app, url, run_as, dry_run, output)
        return
    if to is None:
        raise InvalidInput("--to is missing", hint="give the target version: --to 16.6 (minor) or --to 17 (major)")
    if url is None:
        _minor(app, to, env or "devops", via, image, dry_run, output)
        return
    _major_local(app, to, url, bin_dir, new_bin_dir, data_dir, port, method, run_as, dry_run, output)


def _major_local(
    app: App,
    to: str,
    url: str,
    bin_dir: Path | None,
    new_bin_dir: Path | None,
    data_dir: Path | None,
    port: int | None,
    method: str,
    run_as: str | None,
    dry_run: bool,
    output: str,
) -> None:
    from kenv.cli.progress import StepPrinter
    from kenv.errors import InvalidInput
    from kenv.platform.postgres.upgrade import parse_target
    from kenv.runtime.postgres_exec import find_bin_dir
    from kenv.workflows.postgres_upgrade import LocalMajorRequest, UpgradeMismatch, upgrade_major_local

    missing = [n for n, v in (("--new-bin-dir", new_bin_dir), ("--data-dir", data_dir), ("--port", port)) if v is None]
    if missing:
        raise InvalidInput(
            f"a major upgrade of a local server needs {', '.join(missing)}",
            hint="give the new version's programs, a new data directory and a free port",
        )
    assert new_bin_dir is not None
    assert data_dir is not None
    assert port is not None
    target = parse_target(to)
    runner = _runner(dry_run)
    request = LocalMajorRequest(
        url=url,
        target=target,
        bin_dir=bin_dir if bin_dir is not None else find_bin_dir(runner),
        new_bin_dir=new_bin_dir,
        data_dir=data_dir,
        port=port,
        method=method,
        run_as=run_as,
    )
    printer = StepPrinter()
    click.get_current_context().call_on_close(printer.close)
    try:
        result = upgrade_major_local(request, runner=runner, data_dir=app.settings().data_dir, progress=printer)
    except UpgradeMismatch as exc:
        if output != "table":
            emit({"switched": False, "mismatches": [m.to_dict() for m in exc.mismatches]}, output)
        raise
    result.plan = result.plan if dry_run else []
    if output != "table":
        data = result.to_dict()
        data["commands"] = _commands(list(runner.planned)) if dry_run else []
        emit(data, output)
    elif dry_run:
        click.echo(f"would upgrade {result.old_url} from {result.from_version} to {result.to_version}:")
        click.echo("\n".join(_plan_lines(result.plan, list(runner.planned))))
    else:
        click.echo(
            f"upgraded {result.old_url} ({result.from_version}) into {result.new_url} ({result.to_version}) "
            f"in {result.seconds:.1f}s: {result.detail}"
        )
        click.echo(f"current: {result.new_url} (the old instance keeps running until --cleanup)")
    if dry_run:
        raise SystemExit(3)  # a dry run that would change something (DESIGN.md's exit codes)


def _minor(app: App, to: str, env: str, via: str, image: str | None, dry_run: bool, output: str) -> None:
    from kenv.cli.workflow_support import workflow_context
    from kenv.platform.postgres.upgrade import parse_target
    from kenv.workflows.postgres_upgrade import MinorRequest, upgrade_minor

    target = parse_target(to)
    ctx = workflow_context(app, dry_run=dry_run)
    result = upgrade_minor(ctx, MinorRequest(env, target, via=via, image=image))
    if output != "table":
        data = result.to_dict()
        data["commands"] = _commands(list(ctx.runner.planned)) if dry_run else []
        emit(data, output)
    elif dry_run and result.plan:
        click.echo(f"would upgrade PostgreSQL of {env} from {result.from_version} to {result.to_version} ({via}):")
        click.echo("\n".join(_plan_lines(result.plan, list(ctx.runner.planned))))
    elif result.kind == "none":
        click.echo(f"{env}: PostgreSQL {result.detail}")
    else:
        click.echo(f"{env}: PostgreSQL {result.from_version} -> {result.to_version}: {result.detail}")
    if dry_run and result.plan:
        raise SystemExit(3)


def _cleanup_cluster(app: App, env: str, namespace: str, delete_volumes: bool, dry_run: bool, output: str) -> None:
    from kenv.cli.workflow_support import workflow_context
    from kenv.workflows.postgres_upgrade_cluster import cleanup_cluster

    ctx = workflow_context(app, dry_run=dry_run)
    result = cleanup_cluster(ctx, env, namespace, delete_volumes=delete_volumes)
    if output != "table":
        data = result.to_dict()
        data["commands"] = _commands(list(ctx.runner.planned)) if dry_run else []
        emit(data, output)
    elif dry_run:
        click.echo(f"would remove statefulset {result.removed} ({result.current} is current):")
        click.echo("\n".join(_commands(list(ctx.runner.planned))))
    else:
        volumes = f" and claim {', '.join(result.volumes_removed)}" if result.volumes_removed else " (its claim kept)"
        click.echo(f"removed statefulset {result.namespace}/{result.removed}{volumes}; current: {result.current}")
    if dry_run:
        raise SystemExit(3)


def _cleanup(app: App, url: str, run_as: str | None, dry_run: bool, output: str) -> None:
    from kenv.workflows.postgres_upgrade import cleanup_local

    runner = _runner(dry_run)
    result = cleanup_local(url, runner=runner, data_dir=app.settings().data_dir, run_as=run_as)
    if output != "table":
        emit(result.to_dict(), output)
    elif dry_run:
        click.echo(f"would remove the old instance {result.old_url} ({result.current_url} is current):")
        click.echo("\n".join(_plan_lines(result.plan, list(runner.planned))))
    elif result.removed:
        click.echo(f"removed the old instance {result.old_url} ({result.data_dir}); current: {result.current_url}")
    else:
        click.echo(f"the old instance {result.old_url} was already removed; current: {result.current_url}")
    if dry_run and result.plan:
        raise SystemExit(3)
