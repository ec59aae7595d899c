"""The read-only `git daemon` that serves the local GitOps repository (`<data>/gitops.git`) to
the devops cluster: started detached by kenv through the Runner, its pid in
`<data>/gitops-daemon.pid`, stopped by that pid only (and only when /proc says it is our daemon)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from kenv.errors import ExternalCommandError, OperationFailed
from kenv.runtime.git import Git, daemon_argv
from kenv.workflows.context import WorkflowContext

DAEMON_PORT = 9418  # git's registered port (git-daemon)
DAEMON_START_SECONDS = 5.0


def daemon_pid_file(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "gitops-daemon.pid"


def daemon_running(ctx: WorkflowContext) -> bool:
    """Whether the daemon the pid file names runs (and, where /proc tells, is our git daemon and
    not a process that got its pid later)."""
    pid = _daemon_pid(ctx)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():  # Linux; elsewhere the pid alone is trusted
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            return False
        return any(b"daemon" in word for word in words[:2]) and str(daemon_pid_file(ctx)).encode() in b" ".join(words)
    return True


def _daemon_pid(ctx: WorkflowContext) -> int | None:
    try:
        return int(daemon_pid_file(ctx).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def serve(ctx: WorkflowContext, bare: Path, address: str, port: int = DAEMON_PORT) -> str:
    """Start the read-only git daemon for `bare` on `address` unless it runs; returns the URL it
    serves."""
    url = f"git://{address}:{port}/{bare.name}"
    if daemon_running(ctx):
        return url
    ctx.progress.note("gitops", f"serving {bare} read-only on {url}")
    argv = daemon_argv(bare.parent, bare, address, port, daemon_pid_file(ctx))
    try:
        ctx.runner.run(argv, timeout=30.0, mutating=True)
    except ExternalCommandError as exc:
        raise OperationFailed(
            f"cannot serve the GitOps repository on {address}:{port}: {exc.stderr_tail or exc.message}",
            hint=f"free port {port} on {address}, or set gitops_url to a remote the cluster reaches",
        ) from exc
    if not ctx.dry_run:
        _wait_served(ctx, bare, url, address, port)
    return url


def _wait_served(ctx: WorkflowContext, bare: Path, url: str, address: str, port: int) -> None:
    """`git daemon --detach` exits 0 before it binds (daemon.c: daemonize, then serve), so a port
    already taken shows only as a daemon that is gone: ours must live and answer `ls-remote`."""
    deadline = time.monotonic() + DAEMON_START_SECONDS
    while True:
        time.sleep(0.1)
        started = _daemon_pid(ctx) is not None  # the daemon writes its pid file after it forks
        alive = daemon_running(ctx)
        answered = alive and Git(ctx.runner, bare).result("ls-remote", url, mutating=False, check=False).ok
        if answered:
            return
        if (started and not alive) or time.monotonic() > deadline:
            daemon_pid_file(ctx).unlink(missing_ok=True)
            raise OperationFailed(
                f"git daemon did not serve the GitOps repository on {address}:{port}"
                + (" (it exited: the port is probably taken)" if not alive else ""),
                hint=f"free port {port} on {address}, or set gitops_url to a remote the cluster reaches",
            )


def stop_serving(ctx: WorkflowContext) -> None:
    """Stop the git daemon kenv started (its pid file names it); nothing else is touched."""
    import signal

    pid = _daemon_pid(ctx)
    if pid is None or not daemon_running(ctx):
        if not ctx.dry_run:
            daemon_pid_file(ctx).unlink(missing_ok=True)
        return
    if ctx.dry_run:
        ctx.runner.planned.append(("kill", "-TERM", str(pid)))
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    daemon_pid_file(ctx).unlink(missing_ok=True)
