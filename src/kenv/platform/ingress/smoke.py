"""The smoke check through HAProxy (pure): which answer shows a request reached the
environment's ingress.

Any answer the ingress itself gives counts, a 404 from its default backend included: the route,
the node address and the node_port all worked. HAProxy's own answers do not: its 404 for a host
it does not route (the body names kenv, platform/haproxy/render.py) and the 502/503/504 it
returns when the backend server refuses, times out or is marked down.
"""

from __future__ import annotations

from kenv.platform.haproxy.render import NOT_FOUND_BODY

PROBE_LABEL = "probe"
HAPROXY_ERRORS = frozenset({502, 503, 504})
_OWN_404 = NOT_FOUND_BODY.split(";")[0]


def probe_host(env_name: str, base_domain: str) -> str:
    """A name under the environment's wildcard route, one no application is expected to use."""
    return f"{PROBE_LABEL}.{env_name}.{base_domain}"


def local_address(bind: str) -> str:
    """Where this machine reaches HAProxy's listener: a wildcard bind answers on loopback."""
    if bind in ("", "0.0.0.0", "*"):  # noqa: S104 - a bind address read, not one set
        return "127.0.0.1"
    if bind == "::":
        return "[::1]"
    return f"[{bind}]" if ":" in bind else bind


def reached_ingress(status: int, body: str) -> tuple[bool, str]:
    """(reached, why): whether the answer came from behind HAProxy."""
    if status in HAPROXY_ERRORS:
        return False, f"HAProxy answered {status}: the environment's node did not answer on its node_port"
    if status == 404 and body.startswith(_OWN_404):
        return False, "HAProxy answered its own 404: it has no route for the environment"
    return True, f"the ingress answered {status}"
