"""What the platform is now, for a picture of it: the components bootstrap recorded
(`<data>/platform.json`), their URLs and whether each answers, and HAProxy's routes to the
environments with each environment's status. Read-only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kenv.errors import KenvError
from kenv.runtime.http import request_json
from kenv.workflows.context import WorkflowContext
from kenv.workflows.registrations import read_state
from kenv.workflows.routes import show_routes

PROBE_TIMEOUT = 2.0


def _answers(url: str) -> bool:
    """Any HTTP answer counts: a login page or a 401 still says the component runs."""
    try:
        request_json("GET", url, timeout=PROBE_TIMEOUT, verify=False)
    except KenvError:
        return False
    return True


def platform_status(ctx: WorkflowContext) -> dict[str, Any]:
    """`{"components": {name: {...recorded, "up"}}, "urls": {name: url}, "base_domain", "haproxy": {...},
    "environments": [{"name", "route_host", "address", "node_port", "status", "route"}]}`;
    `up` is None where kenv has no way to ask (a component with no URL, HAProxy aside)."""
    recorded: dict[str, dict[str, Any]] = read_state(ctx)["components"]
    urls = {name: str(entry["url"]) for name, entry in recorded.items() if entry.get("url")}
    with ThreadPoolExecutor(max_workers=max(len(urls), 1)) as pool:
        answering = dict(zip(urls, pool.map(_answers, urls.values()), strict=True))
    routes = show_routes(ctx)
    components = {
        name: {**entry, "up": routes.running if name == "haproxy" else answering.get(name)}
        for name, entry in sorted(recorded.items())
    }
    statuses = {env.name: env.status for env in ctx.inventory().environments()}
    environments = []
    for entry in routes.entries:
        address, _, port = (entry.backend or "").rpartition(":")
        environments.append(
            {
                "name": entry.environment,
                "route_host": entry.hosts[0],
                "address": address or None,
                "node_port": int(port) if port.isdigit() else None,
                "status": statuses.get(entry.environment),
                "route": entry.state,
                "reason": entry.reason,
            }
        )
    return {
        "components": components,
        "urls": urls,
        # Every environment answers on <name>.<base_domain> and its subdomains through HAProxy.
        "base_domain": ctx.settings.base_domain,
        "haproxy": {"runtime": routes.runtime, "running": routes.running, "config_current": not routes.changed},
        "environments": environments,
    }
