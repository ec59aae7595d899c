"""Running a real PostgreSQL on this machine. PostgreSQL refuses to run as root: when the tests
run as root, the servers run as the unprivileged `kenvpg` (made by .ci/install-system-packages,
or here when missing), which owns their directories, and kenv gets `--run-as kenvpg`."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

PG_USER = "kenvpg"


def as_user() -> list[str]:
    """The prefix that runs a server program as PG_USER (none when not root)."""
    return ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []


def run_as() -> list[str]:
    """kenv's `--run-as` for PG_USER (none when not root)."""
    return ["--run-as", PG_USER] if os.geteuid() == 0 else []


def ensure_user() -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )


def own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, PG_USER, PG_USER)


def debian_bin(*programs: str) -> Path | None:
    """The newest of Debian's server installations (/usr/lib/postgresql/N/bin) holding `programs`."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((candidate / program).exists() for program in programs):
            return candidate
    return None


def psql(bin_dir: Path, url: str, sql: str, *, timeout: float = 120) -> str:
    """The unaligned, header-less output of `sql` at `url`; a failing statement fails the test."""
    result = subprocess.run(
        [str(bin_dir / "psql"), "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wheel_bin() -> Path | None:
    """The server programs of the pgserver wheel (a newer major than Debian's), when installed."""
    try:
        import pgserver  # type: ignore[import-untyped]
    except ImportError:
        return None
    candidate = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return candidate if (candidate / "initdb").exists() else None
