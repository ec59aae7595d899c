"""`kenv up` (what `make run` runs) bootstraps the platform before it creates the configured
environments; --no-platform leaves the platform alone; bad component names change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import needs_docker
from tests.e2e.test_bootstrap import CORE, Platform, docker_network_exists, helper_image

__all__ = ["helper_image"]  # the module-scoped fixture, shared


@pytest.fixture
def platform(isolated: Path, tmp_path: Path) -> Iterator[Platform]:
    world = Platform(isolated, tmp_path)
    yield world
    world.cleanup()


@needs_docker
def test_up_bootstraps_first_then_creates_the_configured_environments(platform: Platform, helper_image: str) -> None:
    # Two creates at once (up's default --parallel 2): each syncs HAProxy's routes, one at a time.
    args = ("up", "--skip-preflight", "--parallel", "2", "--platform-only", CORE, "-o", "json")
    out = platform.run(*args, KENV_ENVIRONMENTS="dev,qa", timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [(s["name"], s["result"]) for s in report["platform"]["steps"]] == [
        ("network", "done"),
        ("haproxy", "done"),
        ("devops", "done"),
        ("storage", "done"),
    ]
    assert [c["environment"] for c in report["created"]] == ["dev", "qa"]
    assert docker_network_exists(platform.network)
    assert platform.components() == ["devops", "haproxy", "network", "storage"]
    assert platform.env_record("devops")["role"] == "management"  # type: ignore[index]
    # Created after the platform: HAProxy routes them (the registration ran).
    config = (platform.home / "data" / "haproxy" / "haproxy.cfg").read_text()
    assert ".dev.localtest.me" in config and ".qa.localtest.me" in config, config

    again = json.loads(platform.ok(*args, KENV_ENVIRONMENTS="dev,qa"))
    assert {s["result"] for s in again["platform"]["steps"]} == {"skipped"}
    assert again["created"] == [] and again["unchanged"] == ["dev", "qa"]


@needs_docker
def test_up_dry_run_plans_the_platform_too_and_changes_nothing(platform: Platform) -> None:
    out = platform.run("up", "--skip-preflight", "--platform-only", CORE, "--dry-run", "-o", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [s["result"] for s in report["platform"]["steps"]] == ["planned"] * 4
    assert f"docker network create --label io.kenv.platform={platform.network}" in " ".join(
        report["platform"]["steps"][0]["commands"]
    )
    assert not docker_network_exists(platform.network)
    assert platform.components() == [] and platform.environments() == []


def test_up_no_platform_creates_the_environments_alone(platform: Platform) -> None:
    out = platform.run("up", "--skip-preflight", "--no-platform", "-o", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert "platform" not in report and [c["environment"] for c in report["created"]] == ["dev"]
    assert platform.components() == [] and not docker_network_exists(platform.network)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--platform-only", "network,nosuch"], "unknown platform component(s): nosuch"),
        (["--no-platform", "--platform-skip", "portainer"], "--platform-only/--platform-skip choose what to bootstrap"),
    ],
)
def test_up_refuses_bad_component_choices_before_any_change(platform: Platform, args: list[str], fragment: str) -> None:
    result = platform.run("up", "--skip-preflight", *args)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""  # refused before the inventory summary and the host check
    assert platform.components() == [] and platform.environments() == []


@needs_docker
def test_a_failed_bootstrap_under_make_run_says_how_to_skip_the_platform(platform: Platform) -> None:
    """The fake k3d refuses to make devops: the step names the failure and the way round it in
    the terms of `make run`, and no environment is created after it."""
    result = platform.run(
        "up",
        "--skip-preflight",
        "--platform-only",
        "devops",
        KENV_RUN_BY="make run",
        KENV_FAKE_FAIL="k3d:cluster-create",
    )
    assert result.returncode == 1, result.stderr
    assert "bootstrap failed:" in result.stderr and "`make run ARGS=--no-platform`" in result.stderr, result.stderr
    assert platform.env_record("dev") is None
