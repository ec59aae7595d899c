"""kenv doctor: find what is wrong and say how to fix it.

`kenv doctor ENV` (or `--snapshot FILE`) judges a cluster; `host`, `rules` and `snapshot` are
subcommands. The group takes either: a first word that names a subcommand runs it, anything else
is the diagnosis (`DoctorGroup`)."""

from __future__ import annotations

from pathlib import Path

import click

from kenv.cli.doctor_render import SEVERITIES, render_report
from kenv.cli.host_report import render_host_report, run_host_preflight
from kenv.cli.main import App
from kenv.cli.options import complete_environment_names
from kenv.cli.render import emit, output_option
from kenv.errors import InvalidInput, ProblemsFound

DIAGNOSE = "diagnose"
# Subcommands defined in modules of their own, imported only when named.
LAZY_SUBCOMMANDS = {"snapshot": ("kenv.cli.doctor_snapshot", "snapshot")}

JSON_HELP = """\b
-o json (schema kenv.doctor/v1; keys are stable):
  {"schema": "kenv.doctor/v1",
   "findings": [{"id", "rule", "severity": "info|warning|error|critical",
                 "object": "Kind/namespace/name" (namespace empty when cluster-scoped),
                 "summary", "evidence": [str],
                 "fix": {"summary", "commands": [str], "risk": "low|medium|high",
                         "automatic": bool},
                 "caused_by": id or null, "symptoms": ["Kind/namespace/name", ...]}],
   "skipped": [{"rule", "needs": [part]}]}
Findings come in tree order: each cause, then what it causes.
With --fix the findings are those of the new snapshot, and
  "fixes": [{"finding", "rule", "object", "kind", "summary",
             "risk", "automatic", "diff": [str],
             "steps": [{"describe", "command", "kubectl", "stdin", "images"}],
             "outcome": "fixed|not-fixed|failed|refused|declined|manual",
             "detail"}]

\b
Exit codes: 0 nothing at or above --fail-on, 3 findings at or above it,
2 bad input (unreadable or malformed snapshot, unknown rule or ENV),
1 the cluster could not be read or (--fix) a fix failed."""


class DoctorGroup(click.Group):
    """A group whose first word is a subcommand or, for anything else, the diagnosis's ENV."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Nothing at all is the diagnosis too: it says in one line what to give it.
        if not args or (args[0] not in self.list_commands(ctx) and args[0] not in ("-h", "--help")):
            args = [DIAGNOSE, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *LAZY_SUBCOMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_SUBCOMMANDS:
            import importlib

            module, attribute = LAZY_SUBCOMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return self.commands.get(cmd_name)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[ENV] [--snapshot FILE] [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")


class DiagnoseCommand(click.Command):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        parent = ctx.parent.command_path if ctx.parent else "kenv doctor"
        formatter.write_usage(parent, "[ENV] [--snapshot FILE] [OPTIONS]")


@click.group(cls=DoctorGroup, context_settings={"help_option_names": ["-h", "--help"]})
def doctor() -> None:
    """Find what is wrong and say how to fix it: in an environment's cluster (ENV, read live),
    in a snapshot file (--snapshot, offline), or on this machine (host).

    A cluster diagnosis runs every rule (`kenv doctor rules`) and links what they find into
    cause chains: a crash-looping app under the CoreDNS failure behind it, a Pending pod under
    its claim under the helper pod's image. Each finding gives the evidence and the exact fix
    commands for this cluster. `kenv doctor ENV --help` has every option. (An environment named
    like a command, e.g. `host`, is diagnosed with `kenv doctor diagnose host`.)

    \b
    Examples:
      kenv doctor dev                           read dev's cluster and judge it
      kenv doctor --snapshot dev.json -o json   judge a snapshot file (kenv's or a kubectl List)
      kubectl get pods,events,pvc,cm -A -o json > now.json && kenv doctor --snapshot now.json
      kenv doctor dev --rule dns.coredns-bind-denied --fail-on error
      kenv doctor rules                         the rules, their severity and what they check
      kenv doctor snapshot dev -o dev.json      capture a snapshot to judge later or elsewhere
      kenv doctor host                          check this machine before creating clusters
    """


@doctor.command(DIAGNOSE, cls=DiagnoseCommand, hidden=True, epilog=JSON_HELP)
@click.argument("env_name", metavar="[ENV]", required=False, shell_complete=complete_environment_names)
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(path_type=Path, dir_okay=True),
    metavar="FILE",
    help=(
        "Judge this snapshot file (from `kenv doctor snapshot` or `kubectl get ... -A -o json`) instead of ENV's "
        "cluster."
    ),
)
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Run only this rule (repeatable).")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="warning",
    show_default=True,
    help="Exit 3 when a finding is at or above this severity.",
)
@click.option(
    "--fix",
    "fix",
    is_flag=True,
    help="Apply the allow-listed fixes to ENV's cluster: each shown as a diff first and asked for; then judge again.",
)
@click.option("--yes", "-y", "yes", is_flag=True, help="With --fix: apply without asking.")
@click.option("--force", "force", is_flag=True, help="With --fix: apply high-risk fixes too (namespace finalizers).")
@click.option(
    "--wait",
    "wait",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="With --fix: how long the new snapshot waits for restarted pods before a fix counts as not fixed.",
)
@output_option(("table", "json"))
@click.pass_obj
def diagnose(
    app: App,
    env_name: str | None,
    snapshot_path: Path | None,
    rule_ids: tuple[str, ...],
    fail_on: str,
    fix: bool,
    yes: bool,
    force: bool,
    wait: float,
    output: str,
) -> None:
    """Judge ENV's cluster (read live, read-only) or a snapshot FILE with the cluster rules; print
    each finding with its evidence and fix, causes before what they cause (indented).

    \b
    Examples:
      kenv doctor dev
      kenv doctor --snapshot dev.json
      kenv doctor dev --snapshot dev.json       a file from dev: fixes name dev's commands
      kenv doctor --snapshot now.json -o json | jq '.findings[] | select(.caused_by == null)'
      kenv doctor dev --rule image.not-in-cluster --rule storage.pvc-pending-provisioner
      kenv doctor dev --fix                     show each fix's diff, ask, apply, judge again
      kenv doctor dev --fix --yes --force       apply every fix, high-risk ones too

    \b
    --fix applies allow-listed fixes only: import a missing image (kenv
    images sync) and restart its pods; replace a digest reference
    (Deployments patched, Jobs recreated); give CoreDNS NET_BIND_SERVICE
    and restart it; convert a ConfigMap's CRLF scripts; remove a stuck
    namespace's finalizers (high risk: needs --force). The mirror/proxy
    change is shown, not applied. Exit 0 all fixed, 1 a fix failed,
    3 findings remain.
    """
    from kenv.workflows.doctor import diagnose_environment, diagnose_file

    if fix or yes or force:
        _check_fix_options(env_name, snapshot_path, fix)
    if fix:
        from kenv.cli.doctor_fix import run_fix

        assert env_name is not None
        run_fix(app, env_name, rule_ids=rule_ids, yes=yes, force=force, wait=wait, fail_on=fail_on, output=output)
        return
    if snapshot_path is not None:
        report = diagnose_file(snapshot_path, rule_ids=rule_ids, environment=env_name)
    elif env_name is not None:
        from kenv.cli.workflow_support import workflow_context

        report = diagnose_environment(workflow_context(app, dry_run=False), env_name, rule_ids=rule_ids)
    else:
        raise InvalidInput(
            "nothing to diagnose", hint="name an environment (kenv doctor dev) or a file (--snapshot FILE)"
        )
    for warning in report.warnings:
        click.echo(f"warning: snapshot: {warning}", err=True)
    if output == "table":
        render_report(report)
    else:
        emit(report.to_dict(), output)
    if report.fails(fail_on):
        worst = sum(1 for f in report.findings if SEVERITIES.index(f.severity) >= SEVERITIES.index(fail_on))
        raise ProblemsFound(f"{worst} finding(s) at or above {fail_on}")


def _check_fix_options(env_name: str | None, snapshot_path: Path | None, fix: bool) -> None:
    if not fix:
        raise InvalidInput("--yes and --force go with --fix", hint="kenv doctor ENV --fix --yes")
    if snapshot_path is not None:
        raise InvalidInput(
            "--fix needs the live cluster, not a snapshot file",
            hint="drop --snapshot and name the environment: kenv doctor ENV --fix",
        )
    if env_name is None:
        raise InvalidInput("--fix needs an environment", hint="kenv doctor ENV --fix")


@doctor.command("rules", short_help="List the rules, cluster and host: id, severity, what each checks.")
@click.option(
    "--scope",
    type=click.Choice(("all", "cluster", "host")),
    default="all",
    show_default=True,
    help="Only the rules judging a cluster (kenv doctor ENV) or this machine (kenv doctor host).",
)
@output_option(("table", "json"))
def rules(scope: str, output: str) -> None:
    """List the rules: id, scope (cluster: `kenv doctor ENV`; host: `kenv doctor host` and
    `kenv up`'s preflight), severity (the worst it finds) and what each checks; `-o json` adds the
    doc, a bad and a good example, and the snapshot parts each needs.

    \b
    Examples:
      kenv doctor rules
      kenv doctor rules --scope host
      kenv doctor rules -o json | jq -r '.[] | select(.severity == "critical") | .id'
    """
    from kenv.doctor.engine import all_rules
    from kenv.doctor.host_rules import RULES as HOST_RULES

    cluster = [rule.to_dict() for rule in all_rules()]
    data = [item for item in (*cluster, *(rule.to_dict() for rule in HOST_RULES)) if scope in ("all", item["scope"])]
    if output == "table":
        columns = [("ID", "id"), ("SCOPE", "scope"), ("SEVERITY", "severity"), ("CHECKS", "summary")]
        emit(data, "table", columns=columns, wrap=("summary",))
    else:
        emit(data, output)


@doctor.command("host", short_help="Preflight this machine: tools, Docker, disk, ports, proxy, scripts.")
@click.option(
    "--skip",
    "skip",
    multiple=True,
    metavar="RULE_ID",
    help="Do not run this check, e.g. host.inotify-low on a machine you cannot tune (repeatable).",
)
@click.option(
    "--scan",
    "scan",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="A directory or script you deploy from, checked for CRLF shell scripts (repeatable).",
)
@output_option()
@click.pass_obj
def host(app: App, output: str, skip: tuple[str, ...], scan: tuple[Path, ...]) -> None:
    """Preflight this machine: Docker engine, tool versions, free disk, inotify limits, ports and
    subnets of the inventory's environments, proxy settings, and CRLF shell scripts in the paths
    given with --scan (never the current directory). The host rules (`kenv doctor rules --scope
    host`) run on the doctor's engine: one line per passed check says what it saw, then the
    findings as `kenv doctor ENV` prints them (severity, what is wrong, why, the fix and its
    commands), worst first, wrapped to the terminal.

    `-o json` is the cluster diagnosis's schema (kenv.doctor/v1): "findings" with "rule" (the
    check's id), "severity" (info, warning, error, critical), "object" ("Host//localhost", or
    "Rule//ID" for a rule that crashed), "summary", "evidence" (why it matters), "fix"
    ({"summary", "commands", "risk", "automatic": false}); "skipped" [{"rule", "needs": [part]}]
    for rules whose input is missing; then "checks" [{"id", "title", "status", "summary"}],
    "summary" ({"critical", "errors", "warnings", "info"}) and "snapshot" (the facts judged).

    Exit codes: 0 nothing to fix (info findings aside), 3 warnings or worse found.

    \b
    Examples:
      kenv doctor host
      kenv doctor host -o json | jq '.findings[] | select(.severity == "error")'
      kenv doctor host --skip host.crlf-script
      kenv doctor host --scan ~/src/platform-gitops --scan ./deploy.sh
    """
    report = run_host_preflight(app, skip=skip, scan=scan)
    render_host_report(report, output)
    if report.problems_found:
        raise ProblemsFound("the host check found problems (see above)")
