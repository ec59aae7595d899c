"""JSON over HTTP for the platform's REST APIs (Portainer, ArgoCD): one call, one timeout.

An answer of any status is returned (the caller knows what 401 or 409 mean for its API); only
"no answer" raises: connection refused, timeout, TLS failure. Errors name the method and the URL
without its query string or credentials, never a header (tokens travel in headers) nor a body.
Proxies from kenv's environment are not used: the APIs kenv talks to are on this machine.
"""

from __future__ import annotations

import json as jsonlib
import logging
import secrets
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kenv.errors import KenvError

log = logging.getLogger("kenv.runtime.http")

DEFAULT_TIMEOUT = 10.0


class HttpUnavailable(KenvError):
    """Nothing answered at the URL (refused, timed out, TLS failed): exit 1."""

    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


def public_url(url: str) -> str:
    """The URL as it may appear in a message or a plan: no user info, no query, no fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip() or type(reason).__name__
    return "timed out" if isinstance(reason, TimeoutError) or "timed out" in text else text


def encode_multipart(fields: Mapping[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body of plain text fields, and its Content-Type header."""
    boundary = "kenv-" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def request_json(
    method: str,
    url: str,
    *,
    json: Any = None,
    form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool = True,
) -> tuple[int, Any]:
    """Send one request; return (status, decoded JSON body, or the text when it is not JSON,
    or None when empty). `json` sends a JSON body, `form` a multipart/form-data one."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise KenvError(f"not an http(s) URL: {public_url(url)!r}")
    all_headers = {"User-Agent": "kenv", "Accept": "application/json", **(headers or {})}
    data: bytes | None = None
    if json is not None:
        data = jsonlib.dumps(json).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        data, all_headers["Content-Type"] = encode_multipart(form)
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if not verify:  # a self-signed certificate the platform generated itself
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=data, method=method.upper(), headers=all_headers)  # noqa: S310 - scheme checked above
    shown = f"{method.upper()} {public_url(url)}"
    log.debug("http: %s (timeout %ss)", shown, timeout)
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        status, raw = int(exc.code), exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HttpUnavailable(f"{shown}: no answer ({_reason(exc)})", url=public_url(url)) from exc
    log.debug("http: %s -> %s", shown, status)
    if not raw:
        return status, None
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, jsonlib.loads(text)
    except ValueError:
        return status, text


def free_loopback_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now (the kernel's choice), to publish a
    platform container on. Another process may take it before the container does: the docker
    run then fails with "port is already allocated", and the next attempt picks again."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def probe(url: str, host_header: str, timeout: float = 5.0) -> tuple[int, str]:
    """One GET with a chosen Host header (a name routed by HAProxy, before any DNS knows it);
    (status, the first KiB of the body). Raises HttpUnavailable when nothing answers."""
    if urlsplit(url).scheme != "http":
        raise KenvError(f"not an http URL: {public_url(url)!r}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": "kenv", "Host": host_header})  # noqa: S310 - scheme checked above
    shown = f"GET {public_url(url)} (Host: {host_header})"
    log.debug("http: %s (timeout %ss)", shown, timeout)
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = int(response.status), response.read(1024)
    except urllib.error.HTTPError as exc:
        status, raw = int(exc.code), exc.read(1024)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HttpUnavailable(f"{shown}: no answer ({_reason(exc)})", url=public_url(url)) from exc
    log.debug("http: %s -> %s", shown, status)
    return status, raw.decode("utf-8", errors="replace")
