"""The `kenv` executable: `kenv --help` is printed from cli/root_help.py without importing click
(two thirds of its time); everything else goes to the click application in cli/main.py."""

from __future__ import annotations

import sys

ROOT_HELP_ARGS = (["--help"], ["-h"])


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in ROOT_HELP_ARGS:
        from kenv.cli.root_help import help_width, render

        try:
            sys.stdout.write(render(help_width()))
            sys.stdout.flush()
        except BrokenPipeError:  # `kenv --help | head`
            sys.stderr.close()
        sys.exit(0)
    from kenv.cli.main import main as run

    run(args)
