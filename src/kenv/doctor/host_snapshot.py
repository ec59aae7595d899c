"""Everything the host rules judge, captured once: tools, the Docker engine and its networks, free
disk, inotify limits, the inventory's ports and subnets, proxy variables and CRLF shell scripts.

Capturing is the only part of `kenv doctor host` with side effects (processes, sockets, files);
the snapshot itself is plain data, so rules are pure and tests build snapshots by hand. Nothing
here raises for a missing tool or an unreadable file: an unknown fact is recorded as None.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenv.inventory.model import PORT_PURPOSES, Environment
from kenv.runtime.docker import list_networks
from kenv.runtime.host import port_is_bindable
from kenv.runtime.process import Runner
from kenv.runtime.tools import TOOLS, DockerEngine, ToolVersion, detect, detect_docker, docker_root_dir
from kenv.settings import Settings

log = logging.getLogger("kenv.doctor")

INOTIFY_DIR = Path("/proc/sys/fs/inotify")
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")

MAX_SCANNED_FILES = 20_000
# A script read this far without a CRLF has LF line endings in practice (editors convert whole files).
SCRIPT_HEAD_BYTES = 64 * 1024
SCRIPT_DIRS = frozenset({"bin", "scripts"})
# Never project scripts, and large: walking them would use up the file cap for nothing.
SKIPPED_DIRS = frozenset(
    {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox"}
)


@dataclass(frozen=True)
class NetworkFacts:
    name: str
    subnets: tuple[str, ...]


@dataclass(frozen=True)
class DiskFacts:
    label: str
    path: str
    total_bytes: int
    free_bytes: int
    used_percent: float


@dataclass(frozen=True)
class PortFacts:
    purpose: str
    port: int
    bindable: bool | None  # None: the probe itself failed


@dataclass(frozen=True)
class EnvironmentFacts:
    name: str
    provider: str
    status: str
    subnet: str | None
    ports: tuple[PortFacts, ...] = ()


@dataclass(frozen=True)
class ScriptScan:
    root: str | None  # what was scanned (the paths, comma-separated); None: nothing to scan
    files_seen: int
    capped: bool
    crlf_files: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()  # each path scanned, as given
    unreadable: tuple[str, ...] = ()  # paths given that could not be read


@dataclass(frozen=True)
class HostSnapshot:
    tools: tuple[ToolVersion, ...]
    docker_engine: DockerEngine
    docker_networks: tuple[NetworkFacts, ...] | None  # None: no engine answered
    docker_root_dir: str | None
    disks: tuple[DiskFacts, ...]
    inotify_max_user_watches: int | None  # None: not Linux, or unreadable
    inotify_max_user_instances: int | None
    environments: tuple[EnvironmentFacts, ...]
    inventory_error: str | None  # the inventory could not be read: environment checks lack their input
    proxy: Mapping[str, str]  # the set PROXY_VARIABLES; credentials in proxy URLs masked
    scripts: ScriptScan
    default_provider: str
    subnet_pool: str
    base_domain: str
    data_dir: str

    def tool(self, name: str) -> ToolVersion | None:
        return next((t for t in self.tools if t.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


def _plain(value: object) -> object:
    """Dataclasses and tuples as dicts and lists: what both JSON and YAML's safe dumper accept."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


# -- capture --------------------------------------------------------------------------------


def mask_proxy_credentials(value: str) -> str:
    """`http://user:secret@proxy:3128` -> `http://***@proxy:3128`: snapshots end up in bug reports."""
    scheme, separator, rest = value.partition("://")
    if not separator:
        scheme, rest = "", value
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return (scheme + "://" if separator else "") + authority + slash + path


def read_proxy_variables(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: mask_proxy_credentials(environ[name]) for name in PROXY_VARIABLES if environ.get(name, "").strip()}


def read_inotify_limit(name: str, directory: Path = INOTIFY_DIR) -> int | None:
    try:
        return int((directory / name).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def measure_disks(places: Sequence[tuple[str, Path, bool]]) -> tuple[DiskFacts, ...]:
    """Free space per filesystem for (label, path, measure-the-nearest-existing-parent) places.

    Places on one filesystem are reported once under a joint label. Used % counts reserved
    blocks as used (1 - available/total): that is how kubelet computes nodefs.available, the
    figure that triggers disk-pressure eviction.
    """
    by_device: dict[int, tuple[list[str], Path, int, int]] = {}
    for label, path, may_climb in places:
        try:
            target = _existing_ancestor(path) if may_climb else path
            if not target.exists():
                continue
            device = target.stat().st_dev
            if device in by_device:
                by_device[device][0].append(label)
                continue
            usage = shutil.disk_usage(target)
            by_device[device] = ([label], target, usage.total, usage.free)
        except OSError as exc:
            log.debug("cannot measure free space of %s: %s", path, exc)
    facts = []
    for labels, target, total, free in by_device.values():
        used = 100.0 * (1 - free / total) if total else 0.0
        facts.append(DiskFacts(" and ".join(labels), str(target), total, free, round(used, 1)))
    return tuple(facts)


def _read_script_head(path: Path, *, needs_shebang: bool) -> bytes | None:
    """The first SCRIPT_HEAD_BYTES of a regular file that is a script, else None."""
    try:
        # Only regular files: opening a FIFO under bin/ would block the whole doctor.
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as handle:
            # Two bytes first: bin/ directories are mostly binaries, and reading 64 KiB of each is slow.
            start = handle.read(2)
            if needs_shebang and start != b"#!":
                return None
            return start + handle.read(SCRIPT_HEAD_BYTES - 2)
    except OSError:
        return None


def scan_crlf_scripts(root: Path, max_files: int = MAX_SCANNED_FILES) -> ScriptScan:
    """Shell scripts with CRLF line endings under `root`: `*.sh`, and files starting with `#!` in
    a bin/ or scripts/ directory. A CRLF script fails with `/bin/bash^M: bad interpreter`."""
    seen = 0
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        relative_dir = os.path.relpath(directory, root)
        parts = () if relative_dir == "." else Path(relative_dir).parts
        in_script_dir = root.name in SCRIPT_DIRS or any(part in SCRIPT_DIRS for part in parts)
        for filename in sorted(filenames):
            if seen >= max_files:
                return ScriptScan(str(root), seen, True, tuple(found))
            seen += 1
            is_sh = filename.endswith(".sh")
            if not (is_sh or in_script_dir):
                continue
            head = _read_script_head(Path(directory, filename), needs_shebang=not is_sh)
            if head is not None and b"\r\n" in head:
                found.append(filename if relative_dir == "." else os.path.join(relative_dir, filename))
    return ScriptScan(str(root), seen, False, tuple(found))


def scan_paths(paths: Sequence[Path], max_files: int = MAX_SCANNED_FILES) -> ScriptScan:
    """CRLF scripts under each of `paths` (directories or single files), one file cap for all.

    Found files are named as the paths were given (`repo/deploy.sh`), so the fix can be pasted
    where kenv ran; under `.` they stay relative."""
    seen = 0
    capped = False
    found: list[str] = []
    roots: list[str] = []
    unreadable: list[str] = []
    for path in paths:
        roots.append(str(path))
        if seen >= max_files:
            capped = True
            break
        try:
            if path.is_dir():
                scan, base = scan_crlf_scripts(path, max_files - seen), path
            else:
                head = _read_script_head(path, needs_shebang=not path.name.endswith(".sh"))
                if head is None and not path.exists():
                    raise FileNotFoundError(path)
                crlf = (path.name,) if head is not None and b"\r\n" in head else ()
                scan, base = ScriptScan(str(path), 1, False, crlf), path.parent
        except OSError as exc:
            log.debug("cannot scan %s for scripts: %s", path, exc)
            unreadable.append(str(path))
            continue
        seen += scan.files_seen
        capped = capped or scan.capped
        found.extend(name if str(base) == "." else os.path.join(base, name) for name in scan.crlf_files)
    if not roots:
        return ScriptScan(None, 0, False)
    return ScriptScan(", ".join(roots), seen, capped, tuple(found), tuple(roots), tuple(unreadable))


def probe_environment(env: Environment) -> EnvironmentFacts:
    ports = []
    for purpose in PORT_PURPOSES:
        port = env.ports.get(purpose)
        if port is None:
            continue
        try:
            bindable: bool | None = port_is_bindable(port)
        except OSError as exc:
            log.debug("cannot probe port %s of %s: %s", port, env.name, exc)
            bindable = None
        ports.append(PortFacts(purpose, port, bindable))
    subnet = str(env.subnet) if env.subnet is not None else None
    return EnvironmentFacts(env.name, env.provider, env.status, subnet, tuple(ports))


@dataclass(frozen=True)
class _DockerFacts:
    client: ToolVersion
    engine: DockerEngine
    networks: tuple[NetworkFacts, ...] | None
    root_dir: str | None


def _capture_docker(runner: Runner) -> _DockerFacts:
    versions = detect_docker(runner)
    if not versions.engine.reachable:
        return _DockerFacts(versions.client, versions.engine, None, None)
    try:
        networks = list_networks(runner)
    except ValueError as exc:  # an engine answering with something other than JSON
        log.debug("cannot read Docker networks: %s", exc)
        networks = None
    facts = None if networks is None else tuple(NetworkFacts(n.name, tuple(map(str, n.subnets))) for n in networks)
    return _DockerFacts(versions.client, versions.engine, facts, docker_root_dir(runner))


def capture_host_snapshot(
    runner: Runner,
    settings: Settings,
    environments: Sequence[Environment] | None,
    *,
    inventory_error: str | None = None,
    scan: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> HostSnapshot:
    """Collect the facts; `environments` come from the caller (None when the inventory could not
    be read, with the reason in `inventory_error`), so this module never opens the database.

    Scripts are looked for only under `scan` (what kenv deploys and what the user names), never
    in the working directory: from `/` or `$HOME` that is system files or a whole home."""
    variables = os.environ if environ is None else environ
    # Tool queries are processes that mostly wait; run them side by side to stay well under a second.
    with ThreadPoolExecutor(max_workers=len(TOOLS)) as pool:
        docker_future = pool.submit(_capture_docker, runner)
        tool_futures = [pool.submit(detect, runner, name) for name in TOOLS if name != "docker"]
        scripts = scan_paths(scan)
        env_facts = tuple(probe_environment(env) for env in environments or ())
        proxy = read_proxy_variables(variables)
        watches = read_inotify_limit("max_user_watches")
        instances = read_inotify_limit("max_user_instances")
        docker = docker_future.result()
        tools = (docker.client, *(future.result() for future in tool_futures))
    places = [("kenv data dir", settings.data_dir, True)]
    if docker.root_dir:
        # The path is on the engine's machine; it only means something here when it exists here.
        places.append(("Docker root", Path(docker.root_dir), False))
    return HostSnapshot(
        tools=tools,
        docker_engine=docker.engine,
        docker_networks=docker.networks,
        docker_root_dir=docker.root_dir,
        disks=measure_disks(places),
        inotify_max_user_watches=watches,
        inotify_max_user_instances=instances,
        environments=env_facts,
        inventory_error=inventory_error,
        proxy=proxy,
        scripts=scripts,
        default_provider=settings.default_provider,
        subnet_pool=str(settings.subnet_pool),
        base_domain=settings.base_domain,
        data_dir=str(settings.data_dir),
    )
