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
from kenv.cli.root_help import COMMANDS, DESCRIPTION, EPILOG, OPTION_HELP, help_width
from kenv.errors import KenvError

if TYPE_CHECKING:
    from kenv.inventory.repository import Inventory
    from kenv.settings import Settings

# Commands that only read the inventory (`db status` and `db backup` say so themselves).
READ_COMMANDS = frozenset({"list", "get", "history", "config", "export-csv", "kubeconfig", "verify", "images"})


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


@click.group(
    cls=LazyGroup,
    help=DESCRIPTION,
    epilog=EPILOG,
    # The width click would compute, told to it so that it does not import shutil for it.
    context_settings={"help_option_names": ["-h", "--help"], "terminal_width": help_width()},
)
@click.version_option(
    __version__, "--version", prog_name="kenv", message="%(prog)s %(version)s", help=OPTION_HELP["version"]
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help=OPTION_HELP["config"],
)
@click.option("--db-url", metavar="URL", help=OPTION_HELP["db-url"])
@click.option("--debug", is_flag=True, help=OPTION_HELP["debug"])
@click.option("-v", "--verbose", is_flag=True, help=OPTION_HELP["verbose"])
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_url: str | None, debug: bool, verbose: bool) -> None:
    # The group's help is DESCRIPTION (cli/root_help.py prints the same page without click).
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
