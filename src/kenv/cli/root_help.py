"""`kenv --help` without importing click.

Importing click costs ~24 ms, two thirds of `kenv --help`, which users compare with `kubectl
--help`. The root help is static (the command table, the global options, the epilog): this
module lays it out exactly as click's HelpFormatter does (usage line, wrapped description,
definition lists with a first column of at most 30, `\\b` blocks kept as written), and
`tests/unit/test_root_help.py` checks it byte for byte against click for every width click can
use (50 to 78). The same texts feed the click group in `cli/main.py`, so they cannot drift.
"""

from __future__ import annotations

import os
import sys
import textwrap

DESCRIPTION = "kenv runs a fleet of local Kubernetes environments (k3d, kind, minikube) from one inventory."

# name -> (module:attribute, one-line help). The help lives here so `kenv --help` imports nothing.
# fmt: off
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("kenv.cli.cmd_up:up", "Preflight this machine, then bring up the configured environments."),
    "bootstrap": ("kenv.cli.cmd_platform:bootstrap", "Build the platform: HAProxy, Portainer, devops, ArgoCD, GitOps."),
    "teardown": ("kenv.cli.cmd_platform:teardown", "Delete every environment; with --all the platform too."),
    "create": ("kenv.cli.cmd_lifecycle:create", "Create an environment: record, network, cluster, kubeconfig, ready."),
    "delete": ("kenv.cli.cmd_lifecycle:delete", "Delete an environment's cluster, network, kubeconfig and record."),
    "start": ("kenv.cli.cmd_lifecycle:start", "Start an environment's stopped cluster."),
    "stop": ("kenv.cli.cmd_lifecycle:stop", "Stop an environment's cluster, keeping its record."),
    "kubeconfig": ("kenv.cli.cmd_lifecycle:kubeconfig", "Print (or merge) an environment's own kubeconfig."),
    "apply": ("kenv.cli.cmd_fleet:apply", "Make the fleet match a YAML list of environments."),
    "sync": ("kenv.cli.cmd_fleet:sync", "Compare the inventory with what runs, and converge."),
    "verify": ("kenv.cli.cmd_fleet:verify", "Check environments: API, nodes, kube-system pods, DNS."),
    "doctor": ("kenv.cli.cmd_doctor:doctor", "Diagnose an environment or a snapshot, or this host; say how to fix it."),
    "register": ("kenv.cli.cmd_inventory:register", "Record an environment without creating it (adopt or reserve)."),
    "list": ("kenv.cli.cmd_inventory:list_environments", "List environments in the inventory."),
    "get": ("kenv.cli.cmd_inventory:get", "Show one environment."),
    "unregister": ("kenv.cli.cmd_inventory:unregister", "Forget a record and free its ports (no cluster touched)."),
    "history": ("kenv.cli.cmd_inventory:history", "Show who did what to which environment, and how it ended."),
    "import-csv": ("kenv.cli.cmd_csv:import_csv", "Import environments from the predecessor's environments.csv."),
    "export-csv": ("kenv.cli.cmd_csv:export_csv", "Export environments in the environments.csv format."),
    "db": ("kenv.cli.cmd_db:db", "Inventory database: status, upgrade, copy, backup, restore, legacy import."),
    "config": ("kenv.cli.cmd_config:config", "Show the configuration and where it comes from."),
    "postgres": ("kenv.cli.cmd_postgres:postgres", "Platform PostgreSQL: render, deploy, backup, restore, upgrade."),
    "routes": ("kenv.cli.cmd_routes:routes", "HAProxy routes from the inventory: show, sync (graceful reload)."),
    "images": ("kenv.cli.cmd_images:images", "Find, check and sync images into nodes; mirrors, prefetch, bundles."),
    "gitops": ("kenv.cli.cmd_gitops:gitops", "GitOps repository: a directory per environment, archived on delete."),
    "serve": ("kenv.cli.cmd_serve:serve", "Serve the REST API and the web dashboard (token: kenv serve token)."),
    "completion": ("kenv.cli.cmd_completion:completion", "Print the shell completion script for bash, zsh or fish."),
}
# fmt: on

# The global options as click shows them (declaration, help), in the order the group declares them.
OPTION_HELP = {
    "version": "Show the version and exit.",
    "config": "Config file (default: $KENV_CONFIG or the XDG config dir).",
    "db-url": "Inventory database URL (sqlite:////path or postgresql://...).",
    "debug": "Show debug logs and tracebacks.",
    "verbose": "Show what kenv does (commands it runs).",
    "help": "Show this message and exit.",
}
OPTION_ROWS = [
    ("--version", OPTION_HELP["version"]),
    ("--config FILE", OPTION_HELP["config"]),
    ("--db-url URL", OPTION_HELP["db-url"]),
    ("--debug", OPTION_HELP["debug"]),
    ("-v, --verbose", OPTION_HELP["verbose"]),
    ("-h, --help", OPTION_HELP["help"]),
]

EPILOG = """\b
Examples:
  kenv up                                   prepare the inventory and the default environments
  kenv register dev --provider k3d          reserve ports and a subnet for 'dev'
  kenv register qa --provider kind --http-port 18080
  kenv list -o json                         every environment, as JSON
  kenv import-csv config/environments.csv --dry-run
  kenv db copy --to postgresql://kenv:PASSWORD@db:5432/kenv

Configuration: --config FILE, KENV_CONFIG, or ~/.config/kenv/config.toml; KENV_* variables
override the file and flags override both. KENV_HOME keeps everything under one directory.
Exit codes: 0 done, 1 operation failed, 2 invalid input (nothing changed), 3 problems found,
130 interrupted.
"""


def help_width() -> int:
    """The width click gives help text: the terminal's (COLUMNS first), at most 80, less 2, at
    least 50 (click.formatting.HelpFormatter), found without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
        except (OSError, ValueError):
            columns = 80
    return max(min(columns, 80) - 2, 50)


def _wrap(text: str, width: int, indent: str = "") -> str:
    """click.formatting.wrap_text with preserve_paragraphs: paragraphs split on blank lines,
    a paragraph opening with a `\\b` line is kept as written (only indented)."""
    paragraphs: list[tuple[int, bool, str]] = []
    buffer: list[str] = []
    para_indent: int | None = None

    def flush() -> None:
        if not buffer:
            return
        if buffer[0].strip() == "\b":
            paragraphs.append((para_indent or 0, True, "\n".join(buffer[1:])))
        else:
            paragraphs.append((para_indent or 0, False, " ".join(buffer)))
        buffer.clear()

    for line in text.expandtabs().splitlines():
        if not line:
            flush()
            para_indent = None
        else:
            stripped = line
            if para_indent is None:
                stripped = line.lstrip()
                para_indent = len(line) - len(stripped)
            buffer.append(stripped)
    flush()
    out = []
    for extra, raw, body in paragraphs:
        prefix = indent + " " * extra
        if raw:
            out.append("\n".join(prefix + line for line in body.splitlines()))
        else:
            wrapper = textwrap.TextWrapper(
                width, initial_indent=prefix, subsequent_indent=prefix, replace_whitespace=False
            )
            out.append(wrapper.fill(body))
    return "\n\n".join(out)


def _definitions(rows: list[tuple[str, str]], width: int, indent: int = 2) -> str:
    """click's HelpFormatter.write_dl (col_max 30, col_spacing 2) at one indent level."""
    first_col = min(max(len(first) for first, _ in rows), 30) + 2
    text_width = max(width - first_col - 2, 10)
    out = []
    for first, second in rows:
        line = " " * indent + first
        if len(first) <= first_col - 2:
            line += " " * (first_col - len(first))
        else:
            line += "\n" + " " * (first_col + indent)
        lines = _wrap(second, text_width).splitlines()
        out.append(line + lines[0])
        out.extend(" " * (first_col + indent) + rest for rest in lines[1:])
    return "\n".join(out)


def render(width: int) -> str:
    """The text `kenv --help` prints at this help width (what help_width() returns)."""
    parts = [
        "Usage: kenv [OPTIONS] COMMAND [ARGS]...",
        "",
        _wrap(DESCRIPTION, width, "  "),
        "",
        "Options:",
        _definitions(OPTION_ROWS, width),
        "",
        "Commands:",
        _definitions([(name, short) for name, (_, short) in COMMANDS.items()], width),
        "",
        _wrap(EPILOG, width, "  "),
    ]
    return "\n".join(parts) + "\n"
