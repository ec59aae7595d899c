"""`kenv routes show|sync` on the provider fakes: what is routed, what is skipped and why, the
dry-run diff, and bad input. HAProxy itself runs in tests/integration/test_haproxy_real.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Fleet:
    world = Fleet(isolated, tmp_path)
    world.env.update(KENV_HAPROXY_RUNTIME="binary", KENV_HAPROXY_HTTP_PORT="28080", KENV_HAPROXY_HTTPS_PORT="28443")
    return world


def test_show_routes_each_environment_to_its_node_on_its_own_network(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "k3d", "--node-port", "30100")
    fleet.ok("create", "qa", "--provider", "kind")
    fleet.ok("create", "devops", "--provider", "k3d", "--role", "management")
    fleet.ok("register", "later", "--provider", "k3d")
    shown = json.loads(fleet.ok("routes", "show", "-o", "json"))
    assert set(shown) == {"runtime", "config", "running", "changed", "reloaded", "dry_run", "routes", "management"}
    routes = {r["environment"]: r for r in shown["routes"]}
    assert "devops" not in routes  # never a dynamic route for the management environment
    assert routes["dev"]["backend"].endswith(":30100") and routes["dev"]["reason"] == "address on network k3d-dev"
    assert routes["dev"]["hosts"] == ["dev.localtest.me", "*.dev.localtest.me"]
    assert routes["qa"]["backend"].endswith(":30080") and routes["qa"]["state"] == "routed"
    assert routes["later"] == {
        "environment": "later",
        "hosts": ["later.localtest.me", "*.later.localtest.me"],
        "backend": None,
        "https_backend": None,
        "state": "skipped",
        "reason": "no k3d cluster later runs",
    }
    assert routes["dev"]["https_backend"].endswith(":30101")  # the ingress's HTTPS NodePort: node_port + 1
    assert shown["running"] is False and shown["changed"] is True
    table = fleet.ok("routes", "show")
    assert "skipped: no k3d cluster later runs" in table and "is out of date: run `kenv routes sync`" in table


def test_a_stopped_environment_is_skipped_with_the_reason(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "kind")
    fleet.ok("stop", "dev")
    (route,) = json.loads(fleet.ok("routes", "show", "-o", "json"))["routes"]
    assert route["state"] == "skipped" and route["reason"] == "its first server node is not running"


def test_sync_dry_run_prints_the_diff_exits_3_and_writes_nothing(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "k3d")
    result = fleet.run("routes", "sync", "--dry-run")
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("--- live\n+++ rendered\n")
    assert "+    use_backend be_env_dev if { var(txn.host) -m str dev.localtest.me }" in result.stdout
    assert "+    bind 127.0.0.1:28080" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "kenv: error: routes sync --dry-run: the configuration would change; run it without --dry-run"
    )
    assert not (fleet.home / "data" / "haproxy" / "haproxy.cfg").exists()
    as_json = json.loads(fleet.run("routes", "sync", "--dry-run", "-o", "json").stdout)
    assert as_json["dry_run"] is True and as_json["changed"] is True and as_json["diff"].startswith("--- live")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "KENV_HAPROXY_RUNTIME",
            "podman",
            "KENV_HAPROXY_RUNTIME: 'podman' is not an HAProxy runtime; use docker or binary",
        ),
        ("KENV_HAPROXY_BIND", "localhost", "KENV_HAPROXY_BIND: 'localhost' is not an IPv4 address"),
        ("KENV_HAPROXY_HTTP_PORT", "0", "KENV_HAPROXY_HTTP_PORT: '0' is not a port"),
        ("KENV_HAPROXY_IMAGE", "HAProxy latest", "KENV_HAPROXY_IMAGE: 'HAProxy latest' is not an image reference"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(fleet: Fleet, variable: str, value: str, message: str) -> None:
    result = fleet.run("routes", "show", **{variable: value})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_unknown_option_exits_2_and_help_has_examples(fleet: Fleet) -> None:
    assert fleet.run("routes", "sync", "--prune-all").returncode == 2
    assert "kenv routes sync --dry-run" in fleet.ok("routes", "--help")
    assert "--no-prune" in fleet.ok("routes", "sync", "--help")
