"""images mirrors show: what an environment's provider gets from the [images] table (issue 8 §4)."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

import click

from kenv.cli.main import App
from kenv.cli.render import emit, output_option

if TYPE_CHECKING:
    from kenv.workflows.images_mirrors import MirrorsReport

JSON_HELP = """\b
-o json: {"environment", "provider", "configured", "args": [...], "tool_env": {...},
          "node_env": {...}, "no_proxy": [...], "files": [{"path", "content"}],
          "kind_config": {"containerdConfigPatches", "extraMounts"}, "notes": [...],
          "endpoints": [{"role": "mirror"|"proxy", "name", "url", "answers", "problem"}],
          "node": null | {"name", "error",
                          "files": [{"path", "state", "expected", "actual"}]},
          "drift": bool}
state: same | differs | missing | unexpected
"""


@click.group()
def mirrors() -> None:
    """Registry mirrors and proxies: the [images] table of the config file.

    \b
    [images]
    mirrors = {"docker.io" = ["https://mirror.example"]}
    https_proxy = "http://proxy.example:3128"
    no_proxy = ["internal.example"]
    insecure_registries = ["10.0.0.5:5000"]
    """


def _print_table(report: MirrorsReport) -> None:
    plan = report.plan
    out = sys.stdout
    out.write(f"environment  {report.environment} ({report.provider})\n")
    if not report.supply.configured:
        out.write("[images]     not configured: the provider gets no mirror, proxy or insecure registry\n")
        return
    if plan.args:
        out.write(f"flags        {shlex.join(plan.args)}\n")
    if plan.tool_env:
        out.write(f"tool env     {' '.join(f'{k}={v}' for k, v in plan.node_env.items())}\n")
    elif plan.node_env:
        out.write(f"node env     {' '.join(f'{k}={v}' for k, v in plan.node_env.items())}\n")
    for note in plan.notes:
        out.write(f"note         {note}\n")
    if report.endpoints:
        out.write("\n")
        rows = [
            {
                "role": e.role,
                "name": e.name,
                "url": e.url,
                "answers": None if not e.probed else e.problem is None,
                "problem": e.problem or "",
            }
            for e in report.endpoints
        ]
        emit(
            rows,
            "table",
            columns=[("ROLE", "role"), ("FOR", "name"), ("URL", "url"), ("ANSWERS", "answers"), ("PROBLEM", "problem")],
            wrap=("problem",),
        )
    kind_config = report.kind_config()
    if kind_config:
        from kenv.cli.render import dump_yaml

        out.write("\nkind config additions:\n")
        out.write("".join(f"  {line}\n" for line in dump_yaml(kind_config).splitlines()))
    for path, text in plan.files.items():
        out.write(f"\n{path}:\n")
        out.write("".join(f"  {line}\n" for line in text.splitlines()))
    if report.not_read:
        out.write(f"\nnodes: {report.not_read}\n")
    if report.node is not None:
        out.write(f"\nnode {report.node}:\n")
        if report.node_error:
            out.write(f"  could not be read: {report.node_error}\n")
        elif not report.node_files:
            out.write("  holds no registry configuration, as configured\n")
        for item in report.node_files:
            out.write(f"  {item.path}  {item.state}\n")


@mirrors.command(epilog=JSON_HELP)
@click.argument("env_name", metavar="ENV")
@click.option("--no-probe", is_flag=True, help="Do not check whether each mirror and proxy answers.")
@output_option()
@click.pass_obj
def show(app: App, env_name: str, no_probe: bool, output: str) -> None:
    """What ENV's provider gets from the current [images] config: k3d's registries.yaml and node
    env, kind's containerd host files and config additions, minikube's flags; the full NO_PROXY;
    whether each mirror (GET /v2/) and proxy (TCP) answers; and, when the cluster runs, whether
    its first server node holds the same registry configuration.

    Exit 0 when all is well, 3 when a mirror or proxy does not answer or the node holds another
    configuration than the current one (the config changed since the cluster was made).

    \b
    Examples:
      kenv images mirrors show dev
      kenv images mirrors show dev -o json
      kenv images mirrors show dev --no-probe
    """
    from kenv.cli.workflow_support import workflow_context
    from kenv.errors import ProblemsFound
    from kenv.workflows.images_mirrors import show_mirrors

    ctx = workflow_context(app, dry_run=False)
    report = show_mirrors(ctx, env_name, probe=not no_probe)
    if output == "table":
        _print_table(report)
    else:
        emit(report.to_json(), output)
    silent = list(dict.fromkeys(f"{e.role} {e.url}" for e in report.unreachable))
    problems = [f"not answering: {', '.join(silent)} (see the table)"] if silent else []
    drifted = [f.path for f in report.node_files if f.state != "same"]
    if drifted:
        problems.append(f"{report.node} holds another registry configuration than [images]: {', '.join(drifted)}")
    if report.node_error:
        problems.append(f"{report.node} could not be read: {report.node_error}")
    if problems:
        hint = None
        if drifted:
            hint = (
                f"the nodes keep what they got at create: `kenv delete {env_name}` and `kenv create {env_name}` "
                "to give them the current [images] config"
            )
        raise ProblemsFound("; ".join(problems), hint=hint)
