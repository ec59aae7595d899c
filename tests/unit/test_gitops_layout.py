"""The GitOps repository's layout (pure), the gitops_url setting, and which push failures are races."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml

from kenv.errors import InvalidInput
from kenv.platform.gitops import layout
from kenv.runtime.git import push_conflict
from kenv.settings import load_settings

WHEN = datetime(2026, 12, 1, 16, 45, 7, tzinfo=UTC)


def test_environment_files_carry_the_labels_the_applicationset_selects_on() -> None:
    files = layout.environment_files("dev", "k3d", "business")
    assert sorted(files) == ["environments/dev/README.md", "environments/dev/kustomization.yaml"]
    document = yaml.safe_load(files["environments/dev/kustomization.yaml"])
    assert document["kind"] == "Kustomization" and document["resources"] == []
    (labels,) = document["labels"]
    assert labels["pairs"] == {
        "kenv.io/env": "dev",
        "kenv.io/provider": "k3d",
        "kenv.io/type": "business",
    }
    assert labels["includeSelectors"] is False  # selectors of what people add are theirs


@pytest.mark.parametrize("name", ["on", "null", "1", "yes"])
def test_label_values_stay_strings_whatever_the_name(name: str) -> None:
    files = layout.environment_files(name, "kind", "business")
    document = yaml.safe_load(files[f"environments/{name}/kustomization.yaml"])
    assert document["labels"][0]["pairs"]["kenv.io/env"] == name


def test_the_type_label_is_the_one_argocd_selects_business_clusters_by() -> None:
    from kenv.platform.argocd.objects import cluster_labels

    for role in ("business", "management"):
        files = layout.environment_files("x", "kind", role)
        pairs = yaml.safe_load(files["environments/x/kustomization.yaml"])["labels"][0]["pairs"]
        cluster = cluster_labels("x", "kind", role)
        assert {key: cluster[key] for key in pairs} == pairs


def test_environment_files_are_deterministic() -> None:
    assert layout.environment_files("qa", "kind", "business") == layout.environment_files("qa", "kind", "business")


def test_archive_dir_is_utc_and_never_reuses_a_name() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=5)))
    assert layout.archive_dir("qa", local) == "archive/qa-20261201T164507Z"
    taken = ["archive/qa-20261201T164507Z", "archive/qa-20261201T164507Z-2"]
    assert layout.archive_dir("qa", WHEN, taken) == "archive/qa-20261201T164507Z-3"


def test_archive_changes_move_every_file_and_delete_the_old_paths() -> None:
    files = {
        "environments/qa/README.md": b"r",
        "environments/qa/apps/deploy.yaml": b"d",
    }
    changes = layout.archive_changes(files, "qa", "archive/qa-20261201T164507Z")
    assert changes == {
        "archive/qa-20261201T164507Z/README.md": b"r",
        "archive/qa-20261201T164507Z/apps/deploy.yaml": b"d",
        "environments/qa/README.md": None,
        "environments/qa/apps/deploy.yaml": None,
    }


def test_archive_changes_leave_a_prefix_sibling_alone() -> None:
    files = {"environments/qa/README.md": b"r", "environments/qa2/README.md": b"x"}
    changes = layout.archive_changes(files, "qa", "archive/qa-1")
    assert "environments/qa2/README.md" not in changes


def test_read_tree_and_archived_names() -> None:
    tree = layout.read_tree(
        [
            "README.md",
            "environments/dev/README.md",
            "environments/dev/kustomization.yaml",
            "archive/qa-20261201T164507Z/README.md",
            "archive/qa-20261201T164507Z-2/README.md",
            "archive/my-env-20261130T000000Z/README.md",
            "postgres/statefulset.yaml",
        ]
    )
    assert tree.environments == ("dev",)
    assert tree.archived_names() == ("my-env", "qa")


def test_sync_plan_adds_the_missing_and_archives_the_gone() -> None:
    plan = layout.sync_plan(present=["dev", "old"], inventory=["dev", "qa"])
    assert (plan.add, plan.archive) == (("qa",), ("old",))
    assert layout.sync_message(plan.add, plan.archive) == "environments: add qa; archive old"
    assert layout.sync_message([], []) == "environments: sync with the inventory"


@pytest.mark.parametrize(
    "stderr",
    [
        "! [rejected]        HEAD -> main (fetch first)",
        "! [rejected]        HEAD -> main (non-fast-forward)",
        "!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 1 but expected 2)",
        "error: failed to update ref 'refs/heads/main'",
    ],
)
def test_races_are_retried(stderr: str) -> None:
    assert push_conflict(stderr)


@pytest.mark.parametrize(
    "stderr",
    [
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)",
        "fatal: '/srv/gone.git' does not appear to be a git repository",
        "fatal: Authentication failed for 'https://git.example/platform.git/'",
    ],
)
def test_refusals_are_not_races(stderr: str) -> None:
    assert not push_conflict(stderr)


@pytest.mark.parametrize(
    "url",
    ["file:///srv/gitops.git", "ssh://git@git.example/platform.git", "git@git.example:platform.git", "/srv/g.git"],
)
def test_gitops_url_accepts_what_git_clones(url: str) -> None:
    assert load_settings(env={"KENV_HOME": "/tmp/h", "KENV_GITOPS_URL": url}).gitops_url == url


def test_gitops_url_defaults_to_the_local_repository() -> None:
    assert load_settings(env={"KENV_HOME": "/tmp/h"}).gitops_url is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://me:s3cret@git.example/p.git", "carries a password"),
        ("ftp://git.example/p.git", "is not a git URL"),
        ("platform", "is not a git URL"),
        ("file:///a b", "contains whitespace"),
    ],
)
def test_gitops_url_refuses(url: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment) as caught:
        load_settings(env={"KENV_HOME": "/tmp/h", "KENV_GITOPS_URL": url})
    assert "s3cret" not in str(caught.value)
