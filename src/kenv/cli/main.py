"""Entry point: the `kenv` command group, global options, and the one place errors become exit codes.

Commands are imported only when they run, so `kenv --help` and `kenv list` do not pay for
modules they do not use.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from kenv import __version__
from kenv.errors import KenvError

if TYPE_CHECKING:
    from kenv.inventory.repository import Inventory
    from kenv.settings import Settings

# name -> (module:attribute, one-line help). The help lives here so `kenv --help` imports nothing.
# fmt: off
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("kenv.cli.cmd_up:up", "Preflight this machine, then bring up the configured environments."),
    "create": ("kenv.cli.cmd_lifecycle:create", "Create an environment: record, network, cluster, kubeconfig, ready."),
    "delete": ("kenv.cli.cmd_lifecycle:delete", "Delete an environment's cluster, network, kubeconfig and record."),
    "start": ("kenv.cli.cmd_lifecycle:start", "Start an environment's stopped cluster."),
    "stop": ("kenv.cli.cmd_lifecycle:stop", "Stop an environment's cluster, keeping its record."),
    "kubeconfig": ("kenv.cli.cmd_lifecycle:kubeconfig", "Print (or merge) an environment's own kubeconfig."),
    "apply": ("kenv.cli.cmd_fleet:apply", "Make the fleet match a YAML list of environments."),
    "sync": ("kenv.cli.cmd_fleet:sync", "Compare the inventory with what runs, and converge."),
    "verify": ("kenv.cli.cmd_fleet:verify", "Check environments: API, nodes, kube-system pods, DNS."),
    "doctor": ("kenv.cli.cmd_doctor:doctor", "Find what is wrong and say how to fix it (host preflight)."),
    "register": ("kenv.cli.cmd_inventory:register", "Record an environment without creating it (adopt or reserve)."),
    "list": ("kenv.cli.cmd_inventory:list_environments", "List environments in the inventory."),
    "get": ("kenv.cli.cmd_inventory:get", "Show one environment."),
    "unregister": ("kenv.cli.cmd_inventory:unregister", "Forget a record and free its ports (no cluster touched)."),
    "history": ("kenv.cli.cmd_inventory:history", "Show who did what to which environment, and how it ended."),
    "import-csv": ("kenv.cli.cmd_csv:import_csv", "Import environments from the predecessor's environments.csv."),
    "export-csv": ("kenv.cli.cmd_csv:export_csv", "Export environments in the environments.csv format."),
    "db": ("kenv.cli.cmd_db:db", "Inventory database: status, upgrade, copy, backup, restore, legacy import."),
    "config": ("kenv.cli.cmd_config:config", "Show the configuration and where it comes from."),
    "completion": ("kenv.cli.cmd_completion:completion", "Print the shell completion script for bash, zsh or fish."),
}
# fmt: on

# Commands that only read the inventory (`db status` and `db backup` say so themselves).
READ_COMMANDS = frozenset({"list", "get", "history", "config", "export-csv", "kubeconfig", "verify"})

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


class App:
    """Per-invocation state shared by commands: settings and the inventory, both opened lazily.

    A plain class, not a dataclass: `kenv --help` imports this module, and dataclasses (with
    inspect and ast behind it) would cost it a few milliseconds for nothing."""

    def __init__(
        self,
        config_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        debug: bool = False,
        read_only: bool = False,
    ) -> None:
        self.config_path = config_path
        self.overrides: dict[str, Any] = overrides or {}
        self.debug = debug
        # Set for commands that only read: the inventory is opened without creating it.
        self.read_only = read_only
        self._settings: Settings | None = None
        self._inventory: Inventory | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from kenv.settings import load_settings

            self._settings = load_settings(config_path=self.config_path, overrides=self.overrides)
        return self._settings

    def inventory(self) -> Inventory:
        if self._inventory is None:
            from kenv.inventory.repository import open_inventory

            self._inventory = open_inventory(self.settings().db_url, create=self.may_create_inventory())
        return self._inventory

    def may_create_inventory(self) -> bool:
        """A read against a path that does not exist is a mistyped path, not a new inventory; the
        default location is still made on first use, whatever the command."""
        return not self.read_only or self.settings().sources.get("db_url") == "default"

    def close(self) -> None:
        if self._inventory is not None:
            self._inventory.close()
            self._inventory = None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target[0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


def _help_width() -> int:
    """The width click gives help text (the terminal's, at most 80, less 2, at least 50), found
    without importing shutil (and bz2, lzma behind it) into every `kenv --help`: click imports
    it only when it is not told the width."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
        except (OSError, ValueError):
            columns = 80
    return max(min(columns, 80) - 2, 50)


@click.group(
    cls=LazyGroup,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "terminal_width": _help_width()},
)
@click.version_option(__version__, "--version", prog_name="kenv", message="%(prog)s %(version)s")
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (default: $KENV_CONFIG or the XDG config dir).",
)
@click.option("--db-url", metavar="URL", help="Inventory database URL (sqlite:////path or postgresql://...).")
@click.option("--debug", is_flag=True, help="Show debug logs and tracebacks.")
@click.option("-v", "--verbose", is_flag=True, help="Show what kenv does (commands it runs).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_url: str | None, debug: bool, verbose: bool) -> None:
    """kenv runs a fleet of local Kubernetes environments (k3d, kind, minikube) from one inventory."""
    import logging  # here, not at the top: `kenv --help` never configures logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="kenv: %(levelname)s: %(message)s", stream=sys.stderr)
    app = App(
        config_path=config_path,
        overrides={"db_url": db_url},
        debug=debug,
        read_only=ctx.invoked_subcommand in READ_COMMANDS,
    )
    ctx.obj = app
    ctx.call_on_close(app.close)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("KENV_DEBUG", "") not in ("", "0")


def fail(message: str, code: int) -> None:
    sys.stderr.write(f"kenv: error: {message}\n")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        # Without standalone mode click returns the exit code of ctx.exit() instead of exiting.
        code = cli.main(args=args, prog_name="kenv", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "kenv"
        fail(" ".join(exc.format_message().split()) + f" (see '{path} --help')", 2)
    except click.ClickException as exc:
        fail(" ".join(exc.format_message().split()), exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("kenv: interrupted\n")
        sys.exit(130)
    except KenvError as exc:
        if debug:
            # A failed workflow step's own traceback says where it failed; this one only where the CLI noticed.
            trace = getattr(exc, "trace", None)
            if trace:
                sys.stderr.write(trace)
            else:
                import traceback

                traceback.print_exc()
        fail(exc.one_line(), exc.exit_code)
    except BrokenPipeError:
        # `kenv list | head`: the reader left; that is not an error worth a traceback.
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes a clean exit
        if debug:
            import traceback

            traceback.print_exc()
        fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback and report it)", 1)
    sys.exit(code if isinstance(code, int) else 0)
