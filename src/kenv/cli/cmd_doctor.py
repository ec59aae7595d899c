"""kenv doctor: find what is wrong and say how to fix it. `host` checks this machine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import output_option
from kenv.errors import ProblemsFound

if TYPE_CHECKING:
    pass

from kenv.cli.host_report import render_host_report, run_host_preflight


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def doctor() -> None:
    """Find what is wrong and say how to fix it.

    \b
    Examples:
      kenv doctor host                     check this machine before creating clusters
      kenv doctor host -o json             every check and finding, for programs
    """


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
    given with --scan (never the current directory). Prints one line per passed check, then a
    table of findings with fixes, fitted to the terminal; `-o json` has every text in full.

    Exit codes: 0 nothing to fix (info findings aside), 3 errors or warnings found.

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
