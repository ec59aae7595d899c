"""Does a registry mirror or a proxy answer? One short check each, never through a proxy.

A mirror answers when `GET <url>/v2/` gets 200 or 401 (the distribution API's version check:
401 is a registry asking for a token, which is an answer). A proxy answers when a TCP connection
to it opens. Both go direct: the nodes reach mirrors direct (their hosts are in NO_PROXY), and a
proxy reached through another proxy proves nothing. Results are one-line reasons, or None.
"""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

PROBE_TIMEOUT = 3.0
ANSWERS = (200, 401)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip() or type(reason).__name__
    return "timed out" if isinstance(reason, TimeoutError) or "timed out" in text else text


def probe_mirror(url: str, *, timeout: float = PROBE_TIMEOUT, verify_tls: bool = True) -> str | None:
    """None when the mirror answers the registry API; otherwise why not, in a few words."""
    target = url.rstrip("/") + "/v2/"
    context = ssl.create_default_context()
    if not verify_tls:  # a registry the user listed in insecure_registries
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    # An empty ProxyHandler: HTTP(S)_PROXY of kenv's own environment are not used.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(target, method="GET", headers={"User-Agent": "kenv"})  # noqa: S310 - http(s) only, checked by settings
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"no answer from {target}: {_reason(exc)}"
    if status in ANSWERS:
        return None
    return f"{target} answered HTTP {status}, not a registry API (200 or 401)"


def _host_port(url: str) -> tuple[str, int]:
    scheme, _, rest = url.partition("://")
    hostport = rest.split("/", 1)[0]
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    else:
        host, port = hostport, ""
    return host, int(port) if port else _DEFAULT_PORTS.get(scheme.lower(), 80)


def probe_proxy(url: str, *, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when a TCP connection to the proxy opens."""
    host, port = _host_port(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"no answer at {host}:{port}: {_reason(exc)}"


def probe_all(
    mirrors: Iterable[tuple[str, bool]], proxies: Iterable[str], *, timeout: float = PROBE_TIMEOUT
) -> dict[tuple[str, str], str | None]:
    """Every mirror (url, verify_tls) and proxy at once: the wait is one timeout, not their sum.
    Keyed by ("mirror"|"proxy", url): one URL may be both, and each is asked its own way."""
    jobs = {("mirror", url): verify for url, verify in mirrors} | {("proxy", url): True for url in proxies}
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        futures = {
            (role, url): pool.submit(probe_mirror, url, timeout=timeout, verify_tls=verify)
            if role == "mirror"
            else pool.submit(probe_proxy, url, timeout=timeout)
            for (role, url), verify in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}
