"""The one process runner: argv lists, never a shell; a timeout on every call; output captured
and logged; failures raised as ExternalCommandError with argv, exit code and the stderr tail.

In dry-run mode, commands that change something are recorded instead of run, so `--dry-run`
can print the exact plan; read-only commands still run because the plan depends on them.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kenv.catalogue import CATALOGUE
from kenv.errors import ExternalCommandError

log = logging.getLogger("kenv.runtime")

STDERR_TAIL_LINES = 5

# How to install each tool kenv drives, for the "not found" message.
INSTALL_HINTS = {
    "docker": "install Docker Engine (Debian/Ubuntu: apt-get install docker.io; macOS: Docker Desktop or colima)",
    "kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
    "git": "install git (apt-get install git / brew install git)",
    **{f.tool: f.install_hint for f in CATALOGUE.values() if f.tool is not None and f.install_hint is not None},
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
# client-go's log lines (klog): `E1201 10:00:00.123456   12345 memcache.go:265] ...`. kubectl
# prints five of them before its own one-line verdict, which says the same thing.
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")
STDERR_TAIL_CHARS = 400

# What the docker CLI (and the tools built on its client: k3d, kind, minikube) print when no
# engine answers.
_ENGINE_DOWN = (
    "Cannot connect to the Docker daemon",
    "Is the docker daemon running?",
    "error during connect",
    "failed to connect to the docker API",  # docker CLI v29, no socket file
    "PROVIDER_DOCKER_NOT_RUNNING",
)
ENGINE_DOWN_HINT = (
    "the Docker engine is not running: start it (`sudo systemctl start docker`, or open Docker Desktop / "
    "colima) and run the command again"
)


def engine_down(text: str) -> bool:
    """Whether a tool's output says that no Docker engine answered."""
    return any(marker in text for marker in _ENGINE_DOWN)


def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last meaningful lines, colour codes and client-go log lines removed, repeats dropped,
    joined into one line (at most STDERR_TAIL_CHARS) for an error message."""
    plain = [line.strip() for line in _ANSI.sub("", text).strip().splitlines() if line.strip()]
    verdicts = [line for line in plain if not _KLOG.match(line)] or [_KLOG.sub("", line) for line in plain]
    kept: list[str] = []  # the last `lines` distinct lines, in order, found from the end
    for line in reversed(verdicts):
        if line not in kept:
            kept.insert(0, line)
            if len(kept) == lines:
                break
    joined = " | ".join(kept)
    return joined if len(joined) <= STDERR_TAIL_CHARS else "..." + joined[-(STDERR_TAIL_CHARS - 3) :]


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
                # Only tools that change something: a read-only query changes nothing if it
                # outlives kenv, and a preexec hook costs each call a full fork (~1.4 ms).
                preexec_fn=_die_with_parent() if mutating else None,  # noqa: PLW1509 - see there
            )
        except FileNotFoundError as exc:
            raise not_installed(args) from exc
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
        log.debug("exit %s after %.4fs: %s", result.returncode, result.seconds, shlex.join(args))
        if stderr.strip():
            log.debug("stderr: %s", stderr_tail(stderr, 20))
        if check and not result.ok:
            raise failure(result)
        return result


def failure(result: CommandResult) -> ExternalCommandError:
    """The error for a command that exited non-zero: argv, exit code and the tail of its output."""
    tail = stderr_tail(result.stderr) or stderr_tail(result.stdout)
    return ExternalCommandError(
        f"`{shlex.join(result.argv)}` failed with exit code {result.returncode}: {tail or 'no output'}",
        argv=list(result.argv),
        returncode=result.returncode,
        stderr_tail=tail,
        hint=ENGINE_DOWN_HINT if engine_down(result.stderr + result.stdout) else None,
    )


def parse_json(argv: Sequence[str], text: str, *, empty: object = None) -> Any:
    """A tool's JSON output; anything else is the tool failing, named with its command (a raw
    decoder error would cross the layers as an unexpected exception). `empty` stands for no output."""
    if not text.strip() and empty is not None:
        return empty
    try:
        return json.loads(text)
    except ValueError as exc:
        shown = " ".join(text.split())[:120] or "nothing"
        raise ExternalCommandError(
            f"`{shlex.join(argv)}` printed something that is not JSON: {shown}",
            argv=list(argv),
            returncode=0,
            stderr_tail=shown,
            hint="check the tool's version (`kenv doctor host`)",
        ) from exc


PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        function: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def _die_with_parent() -> Callable[[], None] | None:
    """In the child, before exec: ask Linux to SIGKILL the tool when the kenv that started it dies.

    The tool runs in a session of its own (so a timeout can kill its whole group, and Ctrl-C
    reaches kenv first), which also means nothing would stop it when kenv itself is killed
    (kill -9, a closed terminal): a `k3d cluster create` would go on racing with the rerun.
    The signal is tied to the thread that forked, which waits for the tool, so it fires only when
    kenv is gone. The hook does nothing but two system calls (no allocation, no import), which is
    what keeps a preexec function safe in a process with threads (`apply --parallel`). Elsewhere
    (macOS) there is no such signal; the per-environment lock still keeps two kenv from working
    on one environment."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, kill)
        if os.getppid() != parent:  # kenv died between fork and prctl
            os.kill(os.getpid(), kill)

    return arm


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def not_installed(argv: Sequence[str]) -> ExternalCommandError:
    """The error for a program that could not be started because it is not there, with how to
    install it: every place that starts a process (the Runner, pipes, interactive sessions) says
    it the same way."""
    tool = os.path.basename(argv[0])
    return ExternalCommandError(
        f"{tool} is not installed (not found on PATH)",
        argv=list(argv),
        returncode=None,
        stderr_tail="",
        hint=INSTALL_HINTS.get(tool, f"install {tool} and make sure it is on PATH"),
    )
