"""Which of the tools kenv drives are installed, in which version, and whether kenv was tested with it.

`detect(runner, name)` never raises for a missing, broken or hanging tool: the answer is data
(`ToolVersion`), so a preflight can report every problem at once instead of stopping at the first.
Docker is asked once for both halves: `docker version` prints the client part even when no
engine answers, and exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kenv.catalogue import CATALOGUE
from kenv.errors import ExternalCommandError
from kenv.runtime.process import INSTALL_HINTS, CommandResult, Runner, stderr_tail

TOOL_TIMEOUT = 10.0
log = logging.getLogger("kenv.runtime.tools")
TOOLS: tuple[str, ...] = ("docker", "kubectl", *(f.tool for f in CATALOGUE.values() if f.tool is not None))

_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
_SHOWN_OUTPUT_CHARS = 80


@dataclass(frozen=True)
class VersionRange:
    """`minimum <= version < below` (no upper bound when `below` is None)."""

    minimum: tuple[int, ...]
    below: tuple[int, ...] | None = None

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, tuple):
            return False
        return version >= self.minimum and (self.below is None or version < self.below)

    def __str__(self) -> str:
        text = ">=" + ".".join(map(str, self.minimum))
        return text if self.below is None else text + " <" + ".".join(map(str, self.below))


# The versions kenv's commands and output parsers were tested with. Outside them kenv may still
# work, but flags and output formats it relies on have changed before (k3d v4 -> v5, kind 0.x).
# The providers' tools take their ranges from the catalogue.
TESTED_RANGES: dict[str, VersionRange] = {
    "docker": VersionRange((20, 10)),
    "kubectl": VersionRange((1, 27), (2,)),
    **{
        facts.tool: VersionRange(*facts.tested_versions)
        for facts in CATALOGUE.values()
        if facts.tool is not None and facts.tested_versions is not None
    },
}


@dataclass(frozen=True)
class ToolVersion:
    name: str
    found: bool
    version: str | None
    supported: bool
    detail: str


@dataclass(frozen=True)
class DockerEngine:
    """The server half of `docker version`: whether an engine answers, and which."""

    reachable: bool
    version: str | None
    supported: bool
    detail: str


@dataclass(frozen=True)
class DockerVersions:
    client: ToolVersion
    engine: DockerEngine


def parse_version(text: str) -> tuple[int, ...] | None:
    """(major, minor, patch) from `v1.32.4-dispatcher`, `5.8.3`, `20.10`; None when there is none."""
    match = _VERSION_RE.match(text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _shown(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return repr(first[:_SHOWN_OUTPUT_CHARS]) if first else "nothing"


def _judge(name: str, version: str | None, output: str) -> ToolVersion:
    """A found tool: supported when its version parses and lies in the tested range."""
    if version is None:
        return ToolVersion(name, True, None, False, f"{name} printed no version kenv understands: {_shown(output)}")
    tested = TESTED_RANGES[name]
    if parse_version(version) in tested:
        return ToolVersion(name, True, version, True, f"{name} {version} (tested {tested})")
    return ToolVersion(name, True, version, False, f"{name} {version} is outside the tested range {tested}")


def _missing(name: str) -> ToolVersion:
    hint = INSTALL_HINTS.get(name, f"install {name} and make sure it is on PATH")
    return ToolVersion(name, False, None, False, f"{name} is not installed (not found on PATH); {hint}")


def _first_line_token(pattern: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def parse(stdout: str) -> str | None:
        for line in stdout.splitlines():
            match = compiled.match(line.strip())
            if match:
                return match.group(1)
        return None

    return parse


def _kubectl_version(stdout: str) -> str | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    client = data.get("clientVersion") if isinstance(data, dict) else None
    version = client.get("gitVersion") if isinstance(client, dict) else None
    return version if isinstance(version, str) and version else None


# name -> (argv, parser of stdout). Each argv is read-only and works without a cluster or network;
# the providers' tools are asked the way the catalogue says.
_PROBES: dict[str, tuple[tuple[str, ...], Callable[[str], str | None]]] = {
    "kubectl": (("kubectl", "version", "--client", "-o", "json"), _kubectl_version),
    **{
        f.tool: (f.version_command, _first_line_token(f.version_pattern))
        for f in CATALOGUE.values()
        if f.tool is not None and f.version_command
    },
}


def _run_quietly(runner: Runner, argv: tuple[str, ...]) -> CommandResult | ToolVersion:
    """Run a version query; a tool that is missing, not executable or hanging becomes a ToolVersion."""
    name = argv[0]
    try:
        return runner.run(argv, timeout=TOOL_TIMEOUT, check=False, mutating=False)
    except ExternalCommandError as exc:
        if not isinstance(exc.__cause__, FileNotFoundError):
            return ToolVersion(name, True, None, False, f"{name} did not answer: {exc.message}")
        search_path = (runner.env if runner.env is not None else os.environ).get("PATH")
        location = shutil.which(name, path=search_path)
        if location is None:
            return _missing(name)
        # exec reports ENOENT too when the file exists but its `#!` interpreter does not.
        return ToolVersion(name, True, None, False, f"{location} cannot start: its interpreter is missing")
    except OSError as exc:
        # Found on PATH but not runnable (no execute bit, wrong architecture).
        return ToolVersion(name, True, None, False, f"{name} is on PATH but cannot run: {exc.strerror or exc}")


def detect(runner: Runner, name: str) -> ToolVersion:
    """Whether `name` (one of TOOLS) is installed, its version, and whether kenv was tested with it."""
    if name == "docker":
        return detect_docker(runner).client
    if name not in _PROBES:
        raise ValueError(f"unknown tool {name!r}; known tools: {', '.join(TOOLS)}")
    argv, parse = _PROBES[name]
    outcome = _run_quietly(runner, argv)
    if isinstance(outcome, ToolVersion):
        return outcome
    if outcome.returncode != 0:
        tail = stderr_tail(outcome.stderr) or stderr_tail(outcome.stdout) or "no output"
        return ToolVersion(
            name, True, None, False, f"`{shlex.join(argv)}` failed with exit code {outcome.returncode}: {tail}"
        )
    return _judge(name, parse(outcome.stdout), outcome.stdout)


def _docker_json_versions(stdout: str) -> tuple[str | None, str | None]:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    found: list[str | None] = []
    for part in ("Client", "Server"):
        section = data.get(part)
        version = section.get("Version") if isinstance(section, dict) else None
        found.append(version if isinstance(version, str) and version else None)
    return found[0], found[1]


def _docker_client_fallback(runner: Runner) -> str | None:
    """`docker --version` (`Docker version 28.2.2, build e6534b4`): for clients whose `version`
    command prints nothing when the engine is down."""
    outcome = _run_quietly(runner, ("docker", "--version"))
    if isinstance(outcome, ToolVersion) or outcome.returncode != 0:
        return None
    match = re.search(r"version\s+(v?\d[^\s,]*)", outcome.stdout)
    return match.group(1) if match else None


def detect_docker(runner: Runner) -> DockerVersions:
    """The docker client and the engine it talks to, from one `docker version` call."""
    argv = ("docker", "version", "--format", "{{json .}}")
    outcome = _run_quietly(runner, argv)
    if isinstance(outcome, ToolVersion):
        reason = "docker is not installed" if not outcome.found else outcome.detail
        return DockerVersions(outcome, DockerEngine(False, None, False, reason))
    client_version, server_version = _docker_json_versions(outcome.stdout)
    if client_version is None:
        client_version = _docker_client_fallback(runner)
    client = _judge("docker", client_version, outcome.stdout or outcome.stderr)
    if outcome.returncode == 0 and server_version is not None:
        tested = TESTED_RANGES["docker"]
        if parse_version(server_version) in tested:
            return DockerVersions(client, DockerEngine(True, server_version, True, f"engine {server_version}"))
        detail = f"engine {server_version} is outside the tested range {tested}"
        return DockerVersions(client, DockerEngine(True, server_version, False, detail))
    tail = stderr_tail(outcome.stderr) or f"`{shlex.join(argv)}` exited with code {outcome.returncode}"
    return DockerVersions(client, DockerEngine(False, None, False, tail))


def docker_root_dir(runner: Runner) -> str | None:
    """Where the engine keeps images and container layers (the filesystem kubelet evicts on), or None."""
    outcome = _run_quietly(runner, ("docker", "info", "--format", "{{.DockerRootDir}}"))
    if isinstance(outcome, ToolVersion) or outcome.returncode != 0:
        return None
    return outcome.stdout.strip() or None


def _fingerprint(runner: Runner, name: str) -> str | None:
    """Where the tool is on PATH and which file it is (inode, size, mtime): a new binary, or
    another one first on PATH, is a new tool."""
    search_path = (runner.env if runner.env is not None else os.environ).get("PATH")
    location = shutil.which(name, path=search_path)
    if location is None:
        return None
    try:
        info = os.stat(location)
    except OSError:
        return None
    return f"{os.path.realpath(location)}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def detect_remembered(runner: Runner, name: str, cache: Path) -> ToolVersion:
    """`detect`, remembered in `cache` (a JSON file) for a tool binary that has not changed since:
    every kenv command that changes a cluster checks its tools, and asking them costs a process
    each. Only supported versions are remembered, so a problem is always asked afresh."""
    fingerprint = _fingerprint(runner, name)
    remembered: dict[str, dict[str, str]] = {}
    try:
        loaded = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            remembered = loaded
    except (OSError, ValueError):
        pass
    entry = remembered.get(name)
    if fingerprint is not None and isinstance(entry, dict) and entry.get("fingerprint") == fingerprint:
        version = entry.get("version")
        if isinstance(version, str) and parse_version(version) in TESTED_RANGES[name]:
            return ToolVersion(name, True, version, True, f"{name} {version} (tested {TESTED_RANGES[name]})")
    found = detect(runner, name)
    if found.supported and fingerprint is not None and found.version is not None and not runner.dry_run:
        remembered[name] = {"fingerprint": fingerprint, "version": found.version}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            temp.write_text(json.dumps(remembered, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temp, cache)
        except OSError:
            log.debug("could not remember tool versions in %s", cache)
    return found
