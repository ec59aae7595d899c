"""The one process runner: argv lists, never a shell; a timeout on every call; output captured
and logged; failures raised as ExternalCommandError with argv, exit code and the stderr tail.

In dry-run mode, commands that change something are recorded instead of run, so `--dry-run`
can print the exact plan; read-only commands still run because the plan depends on them.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kenv.errors import ExternalCommandError

log = logging.getLogger("kenv.runtime")

STDERR_TAIL_LINES = 5

# How to install each tool kenv drives, for the "not found" message.
INSTALL_HINTS = {
    "docker": "install Docker Engine (Debian/Ubuntu: apt-get install docker.io; macOS: Docker Desktop or colima)",
    "k3d": "install k3d v5 (see https://k3d.io/#installation)",
    "kind": "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
    "minikube": "install minikube (https://minikube.sigs.k8s.io/docs/start/)",
    "kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
    "git": "install git (apt-get install git / brew install git)",
}


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    executed: bool = True

    @property
    def ok(self) -> bool:
        return self.returncode == 0


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last non-empty lines, colour codes removed, joined into one line for an error message."""
    plain = _ANSI.sub("", text)
    kept = [line for line in plain.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(line.strip() for line in kept)


@dataclass
class Runner:
    dry_run: bool = False
    env: Mapping[str, str] | None = None
    planned: list[tuple[str, ...]] = field(default_factory=list)

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        check: bool = True,
        mutating: bool = True,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        args = tuple(str(a) for a in argv)
        if self.dry_run and mutating:
            self.planned.append(args)
            log.info("dry-run: would run %s", shlex.join(args))
            return CommandResult(args, 0, "", "", 0.0, executed=False)
        environment = dict(os.environ if self.env is None else self.env)
        if extra_env:
            environment.update(extra_env)
        started = time.monotonic()
        log.debug("run: %s (timeout %ss)", shlex.join(args), timeout)
        try:
            # A new session gives the child its own process group, so a timeout kills the
            # tool and everything it started (k3d and minikube spawn helpers).
            proc = subprocess.Popen(  # noqa: S603 - argv list, never a shell
                args,
                stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=environment,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            tool = os.path.basename(args[0])
            raise ExternalCommandError(
                f"{tool} is not installed (not found on PATH)",
                argv=list(args),
                returncode=None,
                stderr_tail="",
                hint=INSTALL_HINTS.get(tool, f"install {tool} and make sure it is on PATH"),
            ) from exc
        try:
            stdout, stderr = proc.communicate(input=input_text, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            raise ExternalCommandError(
                f"`{shlex.join(args)}` timed out after {timeout:g}s",
                argv=list(args),
                returncode=None,
                stderr_tail=stderr_tail(stderr or ""),
                hint="raise the timeout or check why the tool hangs",
            ) from exc
        except BaseException:
            _kill_group(proc)
            raise
        result = CommandResult(args, proc.returncode, stdout, stderr, time.monotonic() - started)
        log.debug("exit %s after %.2fs: %s", result.returncode, result.seconds, shlex.join(args))
        if stderr.strip():
            log.debug("stderr: %s", stderr_tail(stderr, 20))
        if check and not result.ok:
            tail = stderr_tail(stderr) or stderr_tail(stdout)
            raise ExternalCommandError(
                f"`{shlex.join(args)}` failed with exit code {result.returncode}: {tail or 'no output'}",
                argv=list(args),
                returncode=result.returncode,
                stderr_tail=tail,
            )
        return result


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
