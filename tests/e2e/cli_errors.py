"""What every refusal of the CLI looks like: one line on stderr, `kenv: error: ...`, no traceback."""

from __future__ import annotations

import subprocess


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kenv: error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
