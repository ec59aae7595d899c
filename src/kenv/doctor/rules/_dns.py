"""DNS signatures shared by the CoreDNS rule, the app DNS rule, the generic crash-loop rule and the CoreDNS fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kenv.doctor.index import Index, dicts, dig, labels, meta, seq, text
from kenv.doctor.rules._common import Container, log_text, matching_lines

BIND_DENIED = re.compile(r"listen (?:tcp|udp) [^ ]*:53: bind: permission denied")
APP_DNS_FAILURE = re.compile(
    r"lookup [^ ]+(?: on [^ ]+)?: (?:no such host|i/o timeout|server misbehaving|read udp [^ ]+->[^ ]+: "
    r".*connection refused"
    r"|.*connection refused)"
    r"|Temporary failure in name resolution|EAI_AGAIN|hostname resolving error"
)


def bind_denied_lines(index: Index, container: Container) -> list[str]:
    """The last line where CoreDNS says it may not bind :53 (its log, or the last exit message)."""
    body = log_text(index, container) + "\n" + text(container.last_terminated.get("message"))
    return matching_lines(body, BIND_DENIED, 1)


def is_coredns(pod: Mapping[str, Any]) -> bool:
    namespace, _, _ = meta(pod)
    return namespace == "kube-system" and labels(pod).get("k8s-app") == "kube-dns"


def kube_dns_ready(index: Index) -> bool | None:
    """Whether Endpoints kube-system/kube-dns has a ready address; None when not in the snapshot."""
    if not index.has("endpoints"):
        return None
    endpoints = index.get("Endpoints", "kube-system", "kube-dns")
    if endpoints is None:
        return None
    return any(dicts(subset.get("addresses")) for subset in dicts(endpoints.get("subsets")))


def not_ready_addresses(index: Index) -> int:
    endpoints = index.get("Endpoints", "kube-system", "kube-dns") or {}
    return sum(len(dicts(subset.get("notReadyAddresses"))) for subset in dicts(dig(endpoints, "subsets")))


def capabilities(container_spec: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    caps = dig(container_spec, "securityContext", "capabilities")
    drop = [c for c in seq(dig(caps, "drop")) if isinstance(c, str)]
    add = [c for c in seq(dig(caps, "add")) if isinstance(c, str)]
    return drop, add
