"""The one process runner: timeouts kill the whole process group, failures carry argv, exit code
and a clean stderr tail, and a dry run records what would change without running it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError
from kenv.runtime.process import Runner, stderr_tail


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a reaped-later zombie is not alive
        return stat.read().split()[2] != "Z"


def test_a_timeout_kills_the_tool_and_what_it_started(tmp_path: Path) -> None:
    # The child starts a grandchild that a plain kill of the child would leave running.
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        # Output detached, so a surviving grandchild cannot hold the pipes (and the test) open.
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(ExternalCommandError) as caught:
        Runner().run([sys.executable, "-c", script], timeout=1.5)
    assert time.monotonic() - started < 10
    assert "timed out after 1.5s" in caught.value.one_line()
    assert caught.value.returncode is None
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the whole process group is killed on timeout"


def test_a_failure_carries_argv_exit_code_and_the_stderr_tail() -> None:
    script = "import sys; sys.stderr.write('noise\\n' * 10 + '\\x1b[31mFATA\\x1b[0m boom\\n'); sys.exit(3)"
    with pytest.raises(ExternalCommandError) as caught:
        Runner().run([sys.executable, "-c", script], timeout=10)
    error = caught.value
    assert error.returncode == 3
    assert error.argv[0] == sys.executable
    assert error.stderr_tail.endswith("FATA boom")
    assert "\x1b" not in error.one_line()
    assert "exit code 3" in error.one_line()


def test_a_missing_tool_says_how_to_install_it() -> None:
    with pytest.raises(ExternalCommandError) as caught:
        Runner(env={"PATH": "/nonexistent"}).run(["k3d", "version"], timeout=5)
    assert "k3d is not installed" in caught.value.one_line()
    assert "k3d.io" in caught.value.one_line()


@pytest.mark.parametrize("missing_side", ["first", "second"])
def test_a_missing_program_on_either_side_of_a_pipe_says_how_to_install_it(missing_side: str) -> None:
    from kenv.runtime.pipe import pipe

    present, missing = [sys.executable, "-c", "print(1)"], ["pg_dump-not-here", "--version"]
    first, second = (missing, present) if missing_side == "first" else (present, missing)
    with pytest.raises(ExternalCommandError, match="pg_dump-not-here is not installed") as caught:
        pipe(Runner(), first, second, timeout=10)
    assert caught.value.hint == "install pg_dump-not-here and make sure it is on PATH"


def test_dry_run_records_changes_and_still_runs_reads() -> None:
    runner = Runner(dry_run=True)
    planned = runner.run(["k3d", "cluster", "create", "dev"], timeout=5)
    assert planned.executed is False and planned.ok
    read = runner.run([sys.executable, "-c", "print('hello')"], timeout=5, mutating=False)
    assert read.executed is True and read.stdout.strip() == "hello"
    assert runner.planned == [("k3d", "cluster", "create", "dev")]


def test_check_false_returns_the_failure_instead_of_raising() -> None:
    result = Runner().run([sys.executable, "-c", "import sys; sys.exit(2)"], timeout=5, check=False)
    assert result.returncode == 2 and not result.ok


def test_input_and_extra_env_reach_the_tool() -> None:
    script = "import os, sys; print(sys.stdin.read().strip(), os.environ['KENV_PROBE'])"
    result = Runner().run([sys.executable, "-c", script], timeout=5, input_text="in", extra_env={"KENV_PROBE": "x"})
    assert result.stdout.split() == ["in", "x"]
    assert "KENV_PROBE" not in os.environ


def test_stderr_tail_keeps_the_last_lines_on_one_line() -> None:
    assert stderr_tail("a\n\nb\nc\n", lines=2) == "b | c"
