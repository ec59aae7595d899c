"""`kenv --help` is printed without click; it must be the page click itself would print, at every
width click can use (the terminal's, at most 80, less 2, at least 50)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kenv.cli import root_help
from kenv.cli.main import cli


@pytest.mark.parametrize("columns", [*range(40, 83), 200])
def test_the_root_help_is_clicks_page_at_every_width(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    width = root_help.help_width()
    assert width == max(min(columns, 80) - 2, 50)
    result = CliRunner().invoke(cli, ["--help"], prog_name="kenv", terminal_width=width)
    assert result.exit_code == 0
    assert root_help.render(width) == result.output


def test_the_entry_point_prints_it_without_importing_click() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from kenv.cli.entry import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('click' if 'click' in sys.modules else 'no click')"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stderr == "no click"
    assert done.stdout.startswith("Usage: kenv [OPTIONS] COMMAND [ARGS]...")
