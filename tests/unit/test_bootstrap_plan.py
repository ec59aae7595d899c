"""Choosing bootstrap's components, the platform state file, and which registration steps
create/delete get from it (none at all when there is no platform)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.settings import load_settings
from kenv.workflows.bootstrap import COMPONENTS, select, split_names
from kenv.workflows.context import WorkflowContext
from kenv.workflows.registrations import (
    bootstrapped,
    create_steps,
    delete_route_steps,
    delete_steps,
    forget,
    mark_done,
    state_path,
)


@pytest.fixture
def ctx(isolated: Path) -> WorkflowContext:
    return WorkflowContext(load_settings(env={"KENV_HOME": str(isolated)}))


def test_components_keep_their_order_whatever_the_order_asked() -> None:
    assert select() == COMPONENTS
    assert select(["postgres", "network"]) == ("network", "postgres")
    assert select(skip=["portainer", "inventory"]) == tuple(
        c for c in COMPONENTS if c not in ("portainer", "inventory")
    )
    assert select(["devops", "network"]) == ("network", "devops")
    assert split_names(" network, ,haproxy ") == ("network", "haproxy")
    assert split_names(None) == ()


@pytest.mark.parametrize(
    ("only", "skip", "fragment"),
    [
        (["nework"], [], "unknown platform component(s): nework"),
        ([], ["argo"], "unknown platform component(s): argo"),
        (["network"], ["network"], "both in --only and --skip"),
        ([], list(COMPONENTS), "no platform component left"),
    ],
)
def test_bad_selections_are_refused(only: list[str], skip: list[str], fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        select(only, skip)
    assert fragment in info.value.one_line()


def test_no_state_file_means_no_registration_step(ctx: WorkflowContext) -> None:
    assert not state_path(ctx).exists()
    assert bootstrapped(ctx) == set()
    assert create_steps(ctx, lambda: pytest.fail("not asked"), "dev") == []
    assert delete_steps(ctx, "dev") == [] and delete_route_steps(ctx, "dev") == []


def test_the_state_file_is_private_and_drives_the_steps(ctx: WorkflowContext) -> None:
    mark_done(ctx, "network", "Docker network kenv")
    mark_done(ctx, "haproxy", "running", url="http://x")
    assert stat.S_IMODE(state_path(ctx).stat().st_mode) == 0o600
    assert bootstrapped(ctx) == {"network", "haproxy"}
    assert [s.name for s in create_steps(ctx, lambda: pytest.fail("not asked"), "dev")] == [
        "ingress",
        "routes",
        "smoke",
    ]
    assert [s.name for s in delete_route_steps(ctx, "dev")] == ["routes"]
    # The management environment is the platform's own: never registered in it.
    assert create_steps(ctx, lambda: pytest.fail("not asked"), "devops") == []
    mark_done(ctx, "portainer")
    mark_done(ctx, "argocd")
    mark_done(ctx, "gitops")
    names = [s.name for s in create_steps(ctx, lambda: pytest.fail("not asked"), "dev")]
    assert names == ["ingress", "routes", "smoke", "portainer", "argocd", "gitops"]
    assert [s.name for s in delete_steps(ctx, "dev")] == ["gitops", "argocd", "portainer"]
    forget(ctx, "haproxy")
    assert "haproxy" not in bootstrapped(ctx) and delete_route_steps(ctx, "dev") == []


def test_a_dry_run_records_nothing(ctx: WorkflowContext) -> None:
    dry = WorkflowContext(ctx.settings, dry_run=True)
    mark_done(dry, "network")
    assert not state_path(ctx).exists()


def test_a_configured_gitops_remote_is_part_of_the_platform(isolated: Path) -> None:
    settings = load_settings(env={"KENV_HOME": str(isolated), "KENV_GITOPS_URL": "file:///tmp/x.git"})
    ctx = WorkflowContext(settings)
    assert [s.name for s in create_steps(ctx, lambda: pytest.fail("not asked"), "dev")] == ["gitops"]


def test_traefik_is_put_on_the_node_port_by_a_helm_chart_config() -> None:
    import yaml

    from kenv.platform.ingress.traefik import helm_chart_config

    doc = yaml.safe_load(helm_chart_config(30080))
    assert (doc["apiVersion"], doc["kind"]) == ("helm.cattle.io/v1", "HelmChartConfig")
    assert (doc["metadata"]["name"], doc["metadata"]["namespace"]) == ("traefik", "kube-system")
    values = yaml.safe_load(doc["spec"]["valuesContent"])
    assert values == {
        "service": {"type": "NodePort"},
        "ports": {"web": {"nodePort": 30080}, "websecure": {"nodePort": 30081}},
    }
    assert yaml.safe_load(yaml.safe_load(helm_chart_config(32767))["spec"]["valuesContent"])["ports"]["websecure"] == {
        "nodePort": 32766
    }
