"""Running HAProxy: validating a configuration, starting, reloading gracefully, stopping.

Two runtimes (`haproxy_runtime`):

- `binary`: the host's haproxy (Debian 12: 2.6) in master-worker mode, `haproxy -W -D -S
  <master socket> -p <pidfile> -f <config>` (doc/management.txt 2.6, section 3 "-W", "-S", "-D",
  "-p"). A reload is SIGUSR2 to the master (management.txt section 4): it re-executes itself with
  the new file and, because the configuration's stats socket carries `expose-fd listeners`, the
  new worker takes the listening sockets from the old one (the master adds `-x` itself), so no
  connection is refused; the old worker finishes the requests it holds, then leaves. The
  master's `show proc` (master CLI, management.txt 9.4) counts reloads: kenv waits for the count
  to move so a sync returns when the new worker serves.
- `docker`: the official image pinned (`IMAGE`, setting `haproxy_image`), whose entrypoint runs
  `haproxy -W -db` (docker-library/haproxy 2.6/alpine/docker-entrypoint.sh) on the image's CMD
  `-f /usr/local/etc/haproxy/haproxy.cfg`, as the image's user `haproxy` (uid 99, which owns
  /var/lib/haproxy, where the stats socket goes); the image documents `docker kill -s HUP` to
  reload (the master treats SIGHUP like SIGUSR2). The directory holding the configuration is
  mounted, not the file, because a file replaced by rename is a new inode a file mount would never
  see. A signal returns before the reload is done, so kenv waits for the master's own word in the
  container's log: it prints "Loading success." once it has parsed the file and forked the new
  worker, "Loading failure!" when it keeps the old one (src/haproxy.c of 2.6). The old worker
  still accepts until the new one, started, tells it to stop (`-sf`); it then stops its listeners
  and logs "Proxy NAME stopped" (src/proxy.c), before or after the master's line (two processes
  write the log). A reload waits for both, so `routes sync` returns when only the new routes
  answer; a start waits for the master's line alone.

The configuration is always validated with `haproxy -c -f NEW` before it is renamed over the
live one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kenv.errors import ExternalCommandError, OperationFailed
from kenv.runtime.process import Runner, parse_json
from kenv.settings import HAPROXY_IMAGE

IMAGE = HAPROXY_IMAGE
CONTAINER = "kenv-haproxy"
LABEL = "io.kenv.component=haproxy"
# Inside the container haproxy runs as an unprivileged user: it listens on high ports there and
# Docker publishes them on the host's haproxy_http_port / haproxy_https_port.
CONTAINER_HTTP_PORT = 8080
CONTAINER_HTTPS_PORT = 8443
CONTAINER_POSTGRES_PORT = 15432  # fe_postgres inside the container, published on haproxy_postgres_port
CONTAINER_DIR = "/usr/local/etc/haproxy"
CONTAINER_STATS_SOCKET = "/var/lib/haproxy/stats.sock"
CONFIG_NAME = "haproxy.cfg"
SOCKET_PATH_MAX = 97  # HAProxy's own limit for a UNIX socket path (see Paths.socket_directory)
CHECK_TIMEOUT = 30.0
DOCKER_TIMEOUT = 60.0
RELOAD_WAIT_SECONDS = 10.0
STOP_GRACE_SECONDS = 10
LOADED = "Loading success."
LOAD_FAILED = "Loading failure!"
LOG_POLL_SECONDS = 0.05
OLD_WORKER_STOPPED = re.compile(r"\] +\(\d+\) : Proxy \S+ stopped")
OLD_WORKER_WAIT_SECONDS = 2.0  # past it there was no old worker to stop (it had died): not an error
DOCKER_RUN_FAILED = (
    125  # `docker run`: "the error is with Docker daemon itself" (docker docs, run reference "Exit status")
)


@dataclass(frozen=True)
class Paths:
    """Where kenv keeps HAProxy's files: `<data>/haproxy/`."""

    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / CONFIG_NAME

    @property
    def pidfile(self) -> Path:
        return self.directory / "haproxy.pid"

    @property
    def master_socket(self) -> Path:
        return self.socket_directory / "master.sock"

    @property
    def stats_socket(self) -> Path:
        return self.socket_directory / "stats.sock"

    @property
    def socket_directory(self) -> Path:
        """`<data>/haproxy/` when its socket paths fit, else a short private directory named by a
        hash of it (as ssh's ControlPath `%C` does): HAProxy refuses a UNIX socket path longer than
        97 bytes ("socket path '…' too long (max 97)", src/tools.c `str2sa_range` keeps room in
        sun_path's 108 for its `.<pid>.tmp` suffix), and a data directory under a deep home, a
        CI workspace or a test's temporary directory is easily longer."""
        if len(str(self.directory / "master.sock").encode()) <= SOCKET_PATH_MAX:
            return self.directory
        digest = hashlib.sha256(str(self.directory.absolute()).encode()).hexdigest()[:16]
        candidates = [os.environ.get("XDG_RUNTIME_DIR"), tempfile.gettempdir(), "/tmp"]  # noqa: S108 (private subdirectory, checked)
        for base in filter(None, candidates):
            directory = Path(base) / f"kenv-{os.getuid()}" / f"haproxy-{digest}"
            if len(str(directory / "master.sock").encode()) <= SOCKET_PATH_MAX:
                return directory
        return directory

    def ensure_socket_directory(self) -> None:
        """Make the socket directory private (0700) and refuse one another user owns: under /tmp
        anyone could have made the name first."""
        directory = self.socket_directory
        if directory == self.directory:
            return
        for level in (directory.parent, directory):
            level.mkdir(mode=0o700, exist_ok=True)
            info = level.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                raise OperationFailed(
                    f"{level} is not a private directory of this user (HAProxy's sockets go there)",
                    hint=f"remove {level}, or set XDG_RUNTIME_DIR to a directory only you can write",
                )


def check_config_binary(runner: Runner, path: Path) -> None:
    """`haproxy -c -f PATH`; a refusal raises with HAProxy's own ALERT lines (so never `-q`, which
    silences them too: management.txt 3, "-q")."""
    result = runner.run(["haproxy", "-c", "-f", str(path)], timeout=CHECK_TIMEOUT, mutating=False, check=False)
    if not result.ok:
        raise _refused(result.stdout + result.stderr, path)


def check_config_docker(runner: Runner, directory: Path, name: str, image: str = IMAGE) -> None:
    """The same check with the image that runs, so the version that runs is the one that judges.
    No network: the check resolves nothing (every server line says `init-addr ... none`)."""
    argv = ["docker", "run", "--rm", "--network", "none", "-v", f"{directory}:{CONTAINER_DIR}:ro", image]
    argv += ["haproxy", "-c", "-f", f"{CONTAINER_DIR}/{name}"]
    result = runner.run(argv, timeout=CHECK_TIMEOUT + DOCKER_TIMEOUT, mutating=False, check=False)
    if result.returncode == DOCKER_RUN_FAILED:  # docker itself failed (no image, no engine), not haproxy
        raise ExternalCommandError(
            f"docker could not run {image} to check the configuration: {_docker_error(result.stderr)}",
            argv=list(argv),
            returncode=result.returncode,
            stderr_tail=result.stderr[-400:],
            hint=f'pull it (`docker pull {image}`, or load it from a bundle), or set haproxy_runtime = "binary"',
        )
    if not result.ok:
        raise _refused(result.stdout + result.stderr, directory / name)


def _docker_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return next((line for line in lines if "Error" in line), lines[-1] if lines else "no output")


def _refused(output: str, path: Path) -> OperationFailed:
    alerts = [line.strip() for line in output.splitlines() if "ALERT" in line or "error" in line.lower()]
    detail = "; ".join(alerts[:3]) or output.strip()[-300:] or "no output"
    return OperationFailed(
        f"haproxy refused the rendered configuration {path}: {detail}",
        hint="the live configuration was left as it was; report this with `kenv routes show -o json`",
    )


# -- binary runtime ---------------------------------------------------------------------------


def master_pid(paths: Paths) -> int | None:
    """The master's pid when it runs (pidfile present, process alive and an haproxy)."""
    try:
        pid = int(paths.pidfile.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ProcessLookupError):
        return None
    return pid if b"haproxy" in cmdline else None


def start_binary(runner: Runner, paths: Paths) -> None:
    """Start the master detached (-D); it writes its pid to the pidfile."""
    if not runner.dry_run:
        paths.ensure_socket_directory()
    with contextlib.suppress(FileNotFoundError):
        paths.master_socket.unlink()
    argv = ["haproxy", "-W", "-D", "-S", f"{paths.master_socket},mode,600", "-p", str(paths.pidfile)]
    argv += ["-f", str(paths.config)]
    runner.run(argv, timeout=CHECK_TIMEOUT)
    if runner.dry_run:
        return
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while master_pid(paths) is None:
        if time.monotonic() > deadline:
            raise OperationFailed(
                "haproxy did not start (no master process after 10 s)",
                hint=f"run `haproxy -c -f {paths.config}` and check that nothing else holds its ports",
            )
        time.sleep(0.05)


def master_command(paths: Paths, command: str, timeout: float = 5.0) -> str:
    """One command on the master CLI socket (management.txt 9.4), its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(paths.master_socket))
        # The master CLI keeps a connection open after answering; closing our side ends it.
        sock.sendall(command.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def reload_count(paths: Paths) -> int | None:
    """The master's reload counter from `show proc` (its line: `<pid> master <reloads> ...`)."""
    try:
        answer = master_command(paths, "show proc")
    except OSError:
        return None
    for line in answer.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "master" and fields[2].isdigit():
            return int(fields[2])
    return None


def reload_binary(paths: Paths) -> None:
    """SIGUSR2 to the master, then wait until it counts the reload and a worker is back."""
    pid = master_pid(paths)
    if pid is None:
        raise OperationFailed("haproxy is not running", hint="run `kenv routes sync` to start it")
    before = reload_count(paths)
    os.kill(pid, signal.SIGUSR2)
    if before is None:
        return
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while time.monotonic() < deadline:
        count = reload_count(paths)
        if count is not None and count > before and _has_current_worker(paths):
            return
        time.sleep(0.02)
    raise OperationFailed(
        "haproxy did not finish its reload within 10 s",
        hint=f"check `echo 'show proc' | socat {paths.master_socket} -` and the configuration",
    )


def _has_current_worker(paths: Paths) -> bool:
    # Workers of the current generation are listed with reloads 0 under "# workers".
    try:
        answer = master_command(paths, "show proc")
    except OSError:
        return False
    section = answer.split("# workers", 1)[-1].split("# old workers", 1)[0]
    return any(line.split()[1:2] == ["worker"] and line.split()[2:3] == ["0"] for line in section.splitlines() if line)


def stop_binary(paths: Paths) -> None:
    """SIGUSR1 (graceful stop: workers finish what they hold), then wait for the master to go."""
    pid = master_pid(paths)
    if pid is None:
        return
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while master_pid(paths) == pid:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGTERM)
            break
        time.sleep(0.05)
    for leftover in (paths.pidfile, paths.master_socket):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


# -- docker runtime ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerInfo:
    running: bool
    networks: tuple[str, ...]
    published: tuple[str, ...] = ()  # container ports published on the host ("8080/tcp")


def container_info(runner: Runner) -> ContainerInfo | None:
    """The HAProxy container's state and networks, None when there is none."""
    argv = ["docker", "container", "inspect", CONTAINER]
    result = runner.run(argv, timeout=DOCKER_TIMEOUT, mutating=False, check=False)
    if not result.ok:
        if "No such container" in result.stderr or "No such object" in result.stderr:
            return None
        raise ExternalCommandError(
            f"`docker container inspect {CONTAINER}` failed: {result.stderr.strip()[-200:]}",
            argv=list(argv),
            returncode=result.returncode,
            stderr_tail=result.stderr[-400:],
        )
    docs = parse_json(argv, result.stdout, empty=[])
    if not docs:
        return None
    doc = docs[0]
    networks = tuple(sorted(((doc.get("NetworkSettings") or {}).get("Networks") or {}).keys()))
    published = tuple(sorted(((doc.get("HostConfig") or {}).get("PortBindings") or {}).keys()))
    return ContainerInfo(bool((doc.get("State") or {}).get("Running")), networks, published)


def start_docker(
    runner: Runner,
    directory: Path,
    *,
    network: str,
    bind: str,
    http_port: int,
    https_port: int,
    postgres_port: int | None = None,
    image: str = IMAGE,
) -> None:
    """Run (or start again) kenv's container, then wait until its master has loaded the file."""
    info = container_info(runner)
    if info is not None and info.running:
        return
    since = time.time()
    if info is not None:
        runner.run(["docker", "start", CONTAINER], timeout=DOCKER_TIMEOUT)
        if not runner.dry_run:
            _wait_loaded(runner, since, "start")
        return
    argv = ["docker", "run", "-d", "--name", CONTAINER, "--label", LABEL, "--restart", "unless-stopped"]
    argv += ["--network", network]
    argv += ["-p", f"{bind}:{http_port}:{CONTAINER_HTTP_PORT}", "-p", f"{bind}:{https_port}:{CONTAINER_HTTPS_PORT}"]
    if postgres_port is not None:
        argv += ["-p", f"{bind}:{postgres_port}:{CONTAINER_POSTGRES_PORT}"]
    argv += ["-v", f"{directory}:{CONTAINER_DIR}:ro", image]
    try:
        runner.run(argv, timeout=DOCKER_TIMEOUT * 5)
    except ExternalCommandError:
        # A `docker run` whose start fails (a host port taken, say) leaves the container created;
        # a later start would revive it with these ports and this image, whatever the settings by then.
        runner.run(["docker", "rm", "-f", CONTAINER], timeout=DOCKER_TIMEOUT, check=False)
        raise
    if not runner.dry_run:
        _wait_loaded(runner, since, "start")


def connect_networks(runner: Runner, networks: list[str]) -> None:
    """Join the environments' networks the container is not on yet (node addresses live there)."""
    info = container_info(runner)
    present = set(info.networks) if info else set()
    for network in sorted(set(networks) - present):
        runner.run(["docker", "network", "connect", network, CONTAINER], timeout=DOCKER_TIMEOUT)


def reload_docker(runner: Runner) -> None:
    """SIGHUP to the master (pid 1 of the container), then wait until it has loaded the new file."""
    since = time.time()
    runner.run(["docker", "kill", "-s", "HUP", CONTAINER], timeout=DOCKER_TIMEOUT)
    if not runner.dry_run:
        _wait_loaded(runner, since, "reload", old_worker=True)


def _wait_loaded(runner: Runner, since: float, what: str, *, old_worker: bool = False) -> None:
    """Read the container's log from `since` (the engine's clock is this host's) until the master
    says it loaded the file or failed to and, with `old_worker`, the old worker has stopped its
    listeners (every such line since the signal is this reload's: the one before waited for its
    own); a log driver that cannot be read back is not waited for (as a binary master without its
    socket is not)."""
    argv = ["docker", "logs", "--since", f"{since:.6f}", CONTAINER]
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    loaded_at: float | None = None
    while True:
        result = runner.run(argv, timeout=DOCKER_TIMEOUT, mutating=False, check=False)
        if not result.ok:
            return
        output = result.stdout + result.stderr  # haproxy -db logs to stderr; docker keeps the stream
        if LOADED in output:
            loaded_at = loaded_at or time.monotonic()
            if not old_worker or OLD_WORKER_STOPPED.search(output):
                return
            if time.monotonic() - loaded_at > OLD_WORKER_WAIT_SECONDS:
                return
            time.sleep(LOG_POLL_SECONDS)
            continue
        failed = LOAD_FAILED in output
        if failed or time.monotonic() > deadline or ("[ALERT]" in output and not _running(runner)):
            alerts = [line.strip() for line in output.splitlines() if "[ALERT]" in line]
            detail = "; ".join(alerts[:3]) or (output.strip().splitlines() or ["no output"])[-1]
            verdict = "kept the old configuration" if failed else "did not load the configuration"
            raise OperationFailed(
                f"haproxy in {CONTAINER} {verdict} ({what}): {detail}",
                hint=f"see `docker logs {CONTAINER}`",
            )
        time.sleep(LOG_POLL_SECONDS)


def _running(runner: Runner) -> bool:
    info = container_info(runner)
    return info is not None and info.running


def stop_docker(runner: Runner) -> None:
    """Stop gracefully, then remove the container. `docker stop` sends the image's STOPSIGNAL,
    SIGUSR1 (the soft stop: workers finish the requests they hold), and SIGKILL only after
    STOP_GRACE_SECONDS; `docker rm -f` would kill at once and cut them."""
    if container_info(runner) is not None:
        runner.run(["docker", "stop", "-t", str(STOP_GRACE_SECONDS), CONTAINER], timeout=DOCKER_TIMEOUT)
        runner.run(["docker", "rm", CONTAINER], timeout=DOCKER_TIMEOUT)


def inspect_nodes(runner: Runner, containers: list[str]) -> dict[str, dict[str, object]]:
    """`docker inspect` documents of node containers by name (one call; missing ones left out)."""
    if not containers:
        return {}
    argv = ["docker", "inspect", "--type", "container", *containers]
    result = runner.run(argv, timeout=DOCKER_TIMEOUT, mutating=False, check=False)
    docs = parse_json(argv, result.stdout, empty=[]) if result.stdout.strip() else []
    return {str(doc.get("Name", "")).lstrip("/"): doc for doc in docs if isinstance(doc, dict)}
