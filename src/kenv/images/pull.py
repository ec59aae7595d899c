"""Images onto the host (the Docker engine): through the configured mirrors in order, then upstream,
each with a timeout and bounded retries; a digest reference is satisfied only by that digest.

A mirror endpoint is a URL as containerd reads it (remotes/docker/config/hosts.go
parseHostConfig, containerd v1.7/v2.0, which k3s and kind use): the scheme and host name the
registry, and the registry API is at `<path>/v2/` - a path that already ends in `/v2` is used
as is, and with `override_path = true` (Harbor-style proxy projects: `https://h/v2/proxy-project`)
the path is used verbatim. `docker pull` can only address the API at the root (`/v2/<repo>`), so:

    https://mirror.example            -> docker pull mirror.example/<repo>:<tag>
    https://mirror.example/v2         -> docker pull mirror.example/<repo>:<tag>
    https://harbor.example/v2/hub     -> docker pull harbor.example/hub/<repo>:<tag>  (/v2/hub/<repo>)
    https://mirror.example/some/path  -> refused for host pulls: the API is at /some/path/v2/,
                                         which no docker reference can name

After a pull through a mirror the image is tagged with its original name, so `docker save`,
`k3d image import` and `kind load docker-image` find it where the manifests say.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kenv.errors import KenvError
from kenv.images.reference import Reference
from kenv.runtime import images_host
from kenv.runtime.process import Runner, stderr_tail
from kenv.settings import ImageSupply

__all__ = ["PullOutcome", "ensure_on_host", "mirror_name", "repository_digests"]

log = logging.getLogger("kenv.images.pull")

UPSTREAM = "upstream"
RETRY_PAUSE = 1.0  # seconds before the first retry, growing linearly
HOST = "host"


@dataclass(frozen=True)
class PullOutcome:
    """What `ensure_on_host` did for one reference."""

    ref: Reference
    ok: bool
    source: str | None  # "host" (already there, nothing pulled) | the mirror URL used | "upstream"
    tried: tuple[tuple[str, str], ...]  # (endpoint, one-line reason it failed), in order tried
    error: str | None  # one line naming every mirror/proxy that did not answer, when not ok


def mirror_name(endpoint: str, ref: Reference) -> str:
    """The docker reference that pulls `ref` through the mirror `endpoint` (see the module doc).

    Raises KenvError when the endpoint serves the registry API under a path docker cannot name."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    host = parts.netloc
    if not host:
        raise KenvError(f"mirror endpoint {endpoint!r} names no host", hint="write it as https://host[:port]")
    path = parts.path.strip("/")
    if path in ("", "v2"):
        prefix = ""
    elif path.startswith("v2/"):
        prefix = path[len("v2/") :] + "/"
    else:
        raise KenvError(
            f"mirror {endpoint} serves the registry API under /{path}/v2/, which docker pull cannot address",
            hint="pull through a mirror whose API is at /v2/ (or /v2/<project>/), or prefetch on a machine with access",
        )
    # A digest alone: docker pulls by digest, and the tag is put back afterwards (`_tag_target`).
    suffix = f"@{ref.digest}" if ref.digest is not None else f":{ref.tag or 'latest'}"
    return f"{host}/{prefix}{ref.path}{suffix}"


def repository_digests(record: dict[str, Any]) -> tuple[str, ...]:
    """`RepoDigests` of a `docker image inspect` record: `name@sha256:...` for each repository."""
    values = record.get("RepoDigests") or []
    return tuple(v for v in values if isinstance(v, str))


def _bare_name(docker_ref: str) -> str:
    """`host/repo:tag@digest` -> `host/repo` (a port colon is not a tag)."""
    name = docker_ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def _docker_long(name: str) -> str:
    """docker shows Hub names familiar (`busybox`); the canonical name, for comparing."""
    first, slash, _ = name.partition("/")
    if not slash:
        return f"docker.io/library/{name}"
    if "." in first or ":" in first or first == "localhost":
        return name
    return f"docker.io/{name}"


def _digest_matches(record: dict[str, Any], ref: Reference, pulled_as: str | None = None) -> bool:
    """The engine's record holds `ref`'s digest: under `ref`'s own name, or (after a pull through
    a mirror) under the mirror's name."""
    names = {ref.name}
    if pulled_as is not None:
        names.add(_docker_long(_bare_name(pulled_as)))
    for value in repository_digests(record):
        name, _, digest = value.partition("@")
        if digest == ref.digest and _docker_long(name) in names:
            return True
    return False


def _held_digests(record: dict[str, Any]) -> str:
    shown = sorted({v.partition("@")[2] for v in repository_digests(record)})
    return ", ".join(d[:19] + "..." for d in shown) or "no registry digest"


def on_host(runner: Runner, ref: Reference) -> bool:
    """The engine already holds `ref`. A digest reference: `name@digest` itself, or (pulled
    through a mirror and tagged back) `name:tag` whose image carries that registry digest."""
    if ref.digest is None:
        return images_host.inspect_image(runner, ref.canonical) is not None
    record = images_host.inspect_image(runner, f"{ref.name}@{ref.digest}")
    if record is not None and _digest_matches(record, ref):
        return True
    if ref.tag is None:
        return False
    record = images_host.inspect_image(runner, f"{ref.name}:{ref.tag}")
    return record is not None and any(v.partition("@")[2] == ref.digest for v in repository_digests(record))


def _attempt(runner: Runner, ref: Reference, source: str, timeout: float, retries: int) -> str | None:
    """Pull `source` (retrying a failed pull at most `retries` times); None when it worked, else
    the one-line reason. A digest reference must come back with exactly that digest."""
    reason = "not tried"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(RETRY_PAUSE * attempt)
        try:
            result = images_host.docker_pull(runner, source, timeout=timeout)
        except KenvError as exc:  # a timeout, or docker missing
            reason = exc.message
            if "not installed" in reason:
                return reason
            continue
        if not result.executed:  # dry run: pulls are planned, not made
            return None
        if result.ok:
            break
        reason = stderr_tail(result.stderr) or stderr_tail(result.stdout) or f"exit code {result.returncode}"
        if _permanent(reason):
            return reason
    else:
        return reason
    if ref.digest is not None:
        record = images_host.inspect_image(runner, source)
        if record is None or not _digest_matches(record, ref, pulled_as=source):
            held = _held_digests(record) if record is not None else "nothing"
            return f"served another digest ({held}), not {ref.digest}"
    return None


def _permanent(reason: str) -> bool:
    """Failures a retry cannot fix: the image or tag does not exist, or access is denied."""
    lowered = reason.lower()
    return any(
        marker in lowered
        for marker in ("manifest unknown", "not found", "does not exist", "unauthorized", "denied", "invalid reference")
    )


def _ensure_one(
    runner: Runner,
    supply: ImageSupply,
    ref: Reference,
    timeout: float,
    retries: int,
    progress: Callable[[str], None] | None,
) -> PullOutcome:
    try:
        if on_host(runner, ref):
            return PullOutcome(ref, True, HOST, (), None)
    except KenvError as exc:
        return PullOutcome(ref, False, None, (), f"{ref.familiar}: {exc.one_line()}")
    tried: list[tuple[str, str]] = []
    for endpoint in supply.endpoints(ref.domain):
        try:
            source = mirror_name(endpoint, ref)
        except KenvError as exc:
            tried.append((endpoint, exc.message))
            continue
        if progress:
            progress(f"{ref.familiar}: pulling through {endpoint}")
        reason = _attempt(runner, ref, source, timeout, retries)
        if reason is None:
            try:
                # docker cannot tag with a digest: a digest-only reference stays under the
                # mirror's name (the next run checks `name@digest`, misses, and the pull through
                # the mirror finds everything local).
                if ref.tag is not None or ref.digest is None:
                    images_host.docker_tag(runner, source, _tag_target(ref))
            except KenvError as exc:
                tried.append((endpoint, f"pulled but could not be tagged: {exc.one_line()}"))
                continue
            return PullOutcome(ref, True, endpoint, tuple(tried), None)
        tried.append((endpoint, reason))
    if progress:
        progress(f"{ref.familiar}: pulling from {ref.domain}")
    upstream = _upstream_name(ref)
    reason = _attempt(runner, ref, upstream, timeout, retries)
    if reason is None:
        if ref.digest is not None and ref.tag is not None:
            try:
                images_host.docker_tag(runner, upstream, _tag_target(ref))
            except KenvError as exc:
                tried.append((UPSTREAM, f"pulled but could not be tagged: {exc.one_line()}"))
                return PullOutcome(ref, False, None, tuple(tried), _error(ref, tried, supply))
        return PullOutcome(ref, True, UPSTREAM, tuple(tried), None)
    tried.append((UPSTREAM, reason))
    return PullOutcome(ref, False, None, tuple(tried), _error(ref, tried, supply))


def _tag_target(ref: Reference) -> str:
    """The name to tag a mirror pull with: `name:tag` (docker refuses to tag with a digest)."""
    return f"{ref.name}:{ref.tag if ref.tag is not None else 'latest'}"


def _upstream_name(ref: Reference) -> str:
    """By digest alone when there is one (the tag is put back afterwards, as for a mirror)."""
    return f"{ref.name}@{ref.digest}" if ref.digest is not None else ref.canonical


def _error(ref: Reference, tried: Sequence[tuple[str, str]], supply: ImageSupply) -> str:
    parts = [
        f"{'upstream ' + ref.domain if endpoint == UPSTREAM else 'mirror ' + endpoint}: {why}"
        for endpoint, why in tried
    ]
    proxy = supply.https_proxy or supply.http_proxy
    via = f" (Docker daemon's own proxy applies; kenv's is {proxy})" if proxy else ""
    return f"could not pull {ref.familiar}{via}: " + "; ".join(parts)


def ensure_on_host(
    runner: Runner,
    supply: ImageSupply,
    refs: Sequence[Reference],
    *,
    parallel: int = 4,
    timeout: float = 120.0,
    retries: int = 2,
    progress: Callable[[str], None] | None = None,
) -> list[PullOutcome]:
    """Make every reference present in the host's Docker engine; one outcome per distinct
    reference (canonical form), in the order given.

    Already there (a digest reference: under its name with that digest) -> `source="host"`, no
    pull. Else each mirror of the reference's registry (`supply.endpoints(ref.domain)`) in order,
    then upstream; each pull has `timeout` seconds and at most `retries` more tries (not for
    "not found"/"denied", which a retry cannot fix). A mirror pull is tagged with the original
    name. A digest reference counts as pulled only when the engine's RepoDigests hold that digest;
    a mirror that serves another digest is a failure with that reason and the next is tried.
    At most `parallel` references are handled at once. Never raises for one image's failure: its
    outcome says why (`error` names every mirror and upstream that failed, with the reason).
    In a dry run the pulls are planned (`runner.planned`) and reported as if they succeeded from
    the first endpoint."""
    unique: dict[str, Reference] = {}
    for ref in refs:
        unique.setdefault(ref.canonical, ref)
    ordered = list(unique.values())
    if not ordered:
        return []
    workers = max(1, min(parallel, len(ordered)))
    if workers == 1:
        return [_ensure_one(runner, supply, ref, timeout, retries, progress) for ref in ordered]
    # The Runner keeps no per-call state (each call is its own process; a dry run's
    # `planned.append` is atomic), so threads share it.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kenv-pull") as pool:
        futures = [pool.submit(_ensure_one, runner, supply, ref, timeout, retries, progress) for ref in ordered]
        return [future.result() for future in futures]
