"""Images on the host: the docker and skopeo calls that pull, tag, inspect, save and copy them.

Proxies. `docker pull` is done by the daemon, not by the CLI: the client only sends
`POST /images/create` over its socket, and the daemon reaches the registry with ITS OWN proxy
settings (dockerd's HTTP_PROXY/HTTPS_PROXY/NO_PROXY environment, e.g. a systemd drop-in, or
`"proxies"` in daemon.json since Docker 23; moby docs "Configure the daemon to use a proxy",
daemon/config/config.go `Proxies`). Proxy variables given to the docker CLI would only route the
CLI's own connection to a tcp:// DOCKER_HOST through the proxy, so they are NOT passed to it.
skopeo talks to registries itself (containers/image docker_client.go uses Go's
`http.ProxyFromEnvironment`), so it gets HTTP_PROXY/HTTPS_PROXY/NO_PROXY in its environment.

Plain HTTP. The daemon treats 127.0.0.0/8 as insecure by default (moby registry/config.go:
"Localhost is by default considered as an insecure registry"); any other plain-HTTP mirror must
be in the daemon's `insecure-registries`. skopeo needs `--src-tls-verify=false`, with which
containers/image also falls back to plain HTTP (docker_client.go detectPropertiesHelper).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kenv.errors import ExternalCommandError
from kenv.runtime.process import CommandResult, Runner, failure, parse_json

QUERY_TIMEOUT = 30.0

__all__ = [
    "docker_load",
    "docker_pull",
    "docker_save",
    "docker_tag",
    "inspect_image",
    "proxy_env",
    "skopeo_copy",
    "skopeo_inspect",
    "skopeo_path",
]


def proxy_env(http_proxy: str | None, https_proxy: str | None, no_proxy: Sequence[str]) -> dict[str, str]:
    """The proxy variables, both spellings (Go reads the upper case first, curl the lower)."""
    env: dict[str, str] = {}
    for name, value in (("HTTP_PROXY", http_proxy), ("HTTPS_PROXY", https_proxy)):
        if value:
            env[name] = env[name.lower()] = value
    if no_proxy:
        env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)
    return env


def inspect_image(runner: Runner, ref: str) -> dict[str, Any] | None:
    """`docker image inspect REF`: the engine's record of the image, or None when it has none.

    Read-only, so it runs in a dry run too (the plan depends on it)."""
    result = runner.run(["docker", "image", "inspect", ref], timeout=QUERY_TIMEOUT, mutating=False, check=False)
    if not result.ok:
        # docker/cli: "Error: No such image: REF" (v20-v28), "Error response from daemon: No such image".
        if "No such image" in result.stderr or "no such image" in result.stderr:
            return None
        raise failure(result)
    items = parse_json(result.argv, result.stdout, empty=[])
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return None
    record: dict[str, Any] = items[0]
    return record


def docker_pull(runner: Runner, ref: str, *, timeout: float) -> CommandResult:
    """`docker pull REF` (the daemon's proxy and insecure-registries apply, see the module doc).

    Never raises for the tool's own failure: the caller tries the next endpoint."""
    return runner.run(["docker", "pull", ref], timeout=timeout, check=False)


def docker_tag(runner: Runner, source: str, target: str) -> None:
    runner.run(["docker", "tag", source, target], timeout=QUERY_TIMEOUT)


def docker_save(runner: Runner, refs: Sequence[str], path: Path, *, timeout: float = 1800.0) -> None:
    """`docker save -o PATH REF...`: one docker-archive holding every image (layers shared once).

    The archive carries RepoTags only: the registry digest is dropped (moby#22011)."""
    runner.run(["docker", "save", "-o", str(path), *refs], timeout=timeout)


def docker_load(runner: Runner, path: Path, *, timeout: float = 1800.0) -> CommandResult:
    return runner.run(["docker", "load", "-i", str(path)], timeout=timeout)


def skopeo_path() -> str | None:
    """Where skopeo is, or None (it is optional: only digest references need it)."""
    return shutil.which("skopeo")


def skopeo_copy(
    runner: Runner,
    source: str,
    destination: str,
    *,
    insecure_source: bool = False,
    preserve_digests: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800.0,
) -> CommandResult:
    """`skopeo copy [--preserve-digests] [--src-tls-verify=false] SOURCE DESTINATION`.

    `--preserve-digests` makes skopeo fail rather than write a manifest whose digest differs
    from the source's (cmd/skopeo/copy.go: copy.Options.PreserveDigests). Never raises for the
    tool's own failure: the caller tries the next endpoint."""
    argv = ["skopeo", "copy", "--quiet"]
    if preserve_digests:
        argv.append("--preserve-digests")
    if insecure_source:
        argv.append("--src-tls-verify=false")
    argv += [source, destination]
    return runner.run(argv, timeout=timeout, check=False, extra_env=env)


def skopeo_inspect(
    runner: Runner,
    ref: str,
    *,
    insecure: bool = False,
    env: Mapping[str, str] | None = None,
    timeout: float = QUERY_TIMEOUT,
) -> dict[str, Any]:
    """`skopeo inspect [--tls-verify=false] TRANSPORT:REF`: its JSON (Name, Digest, RepoTags, ...)."""
    argv = ["skopeo", "inspect"]
    if insecure:
        argv.append("--tls-verify=false")
    argv.append(ref)
    result = runner.run(argv, timeout=timeout, mutating=False, extra_env=env)
    data = parse_json(result.argv, result.stdout)
    if not isinstance(data, dict):
        raise ExternalCommandError(
            f"`{' '.join(argv)}` printed JSON that is not an object",
            argv=argv,
            returncode=0,
            stderr_tail="",
            hint="check skopeo's version",
        )
    return data
