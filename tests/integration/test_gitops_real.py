"""The GitOps repository with real git: bare remotes, kenv processes pushing at once, archives,
a remote that is down. Every kenv here is a real `python -m kenv` process."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import KENV
from tests.netutil import free_port

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30, check=True)
    return result.stdout


def kenv(home: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "KENV_HOME": str(home)}
    if url is not None:
        environ["KENV_GITOPS_URL"] = url
    return subprocess.run([*KENV, *args], capture_output=True, text=True, env=environ, timeout=180, check=False)


@pytest.fixture
def remote(tmp_path: Path, isolated: Path) -> Path:
    """An empty bare repository, as a team would create on its git server."""
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True, timeout=30)
    return path


def test_eight_processes_at_once_lose_no_commit(tmp_path: Path, remote: Path) -> None:
    """Four processes share one data directory (the lock serialises them), four have their own
    (their pushes race for real); each registers its own environment and syncs only it."""
    url = f"file://{remote}"
    shared = tmp_path / "shared-home"
    homes = [shared] * 4 + [tmp_path / f"home-{i}" for i in range(4, 8)]
    names = [f"env{i}" for i in range(8)]
    for home, name in zip(homes, names, strict=True):
        registered = kenv(home, "register", name, "--provider", "k3d")
        assert registered.returncode == 0, registered.stderr

    def sync(index: int) -> subprocess.CompletedProcess[str]:
        return kenv(homes[index], "gitops", "sync", names[index], url=url)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sync, range(8)))
    for result in results:
        assert result.returncode == 0, result.stderr
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert sorted(subjects) == sorted(f"environments: add {name}" for name in names)
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    for name in names:
        assert f"environments/{name}/kustomization.yaml" in tree
    assert "README.md" in tree
    # The history is a line: every push was a fast-forward of the one before.
    assert git(remote, "rev-list", "--merges", "--count", "main").strip() == "0"
    assert len(git(remote, "rev-list", "main").split()) == 8


def test_a_push_that_loses_the_race_is_replayed_on_the_new_head(tmp_path: Path, remote: Path, isolated: Path) -> None:
    """Deterministic race: the work clone's pre-push hook makes another clone push first, once;
    kenv's push is then refused as non-fast-forward, and kenv fetches, re-applies and pushes."""
    url = f"file://{remote}"
    assert kenv(isolated, "register", "dev", "--provider", "k3d").returncode == 0
    assert kenv(isolated, "gitops", "sync", url=url).returncode == 0
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", url, str(other)], check=True, timeout=30)
    marker = tmp_path / "raced"
    hook = isolated / "data" / "gitops" / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f"[ -e {marker} ] && exit 0\n"
        f"touch {marker}\n"
        f"cd {other} && echo hi > elsewhere.txt && git add elsewhere.txt"
        " && git -c user.name=other -c user.email=o@example commit -q -m 'someone else'"
        " && git push -q origin HEAD:main\n"
    )
    hook.chmod(0o755)
    assert kenv(isolated, "register", "qa", "--provider", "k3d").returncode == 0
    done = kenv(isolated, "gitops", "sync", url=url)
    assert done.returncode == 0, done.stderr
    assert "moved on while pushing; retrying (1/" in done.stderr
    assert git(remote, "log", "--format=%s", "main").splitlines() == [
        "environments: add qa",
        "someone else",
        "environments: add dev",
    ]
    assert git(remote, "show", "main:elsewhere.txt") == "hi\n"


def test_sync_adds_archives_and_never_deletes(remote: Path, isolated: Path) -> None:
    url = f"file://{remote}"
    for name in ("dev", "qa"):
        assert kenv(isolated, "register", name, "--provider", "kind").returncode == 0
    first = kenv(isolated, "gitops", "sync", url=url)
    assert first.returncode == 0, first.stderr
    assert "added: dev, qa" in first.stdout
    again = kenv(isolated, "gitops", "sync", url=url)
    assert again.returncode == 0 and "nothing to commit" in again.stdout
    assert len(git(remote, "rev-list", "main").split()) == 1  # adding what is there commits nothing

    original = git(remote, "show", "main:environments/qa/kustomization.yaml")
    assert 'kenv.io/env: "qa"' in original and 'kenv.io/provider: "kind"' in original
    assert kenv(isolated, "unregister", "qa").returncode == 0
    planned = kenv(isolated, "gitops", "sync", "--dry-run", url=url)
    assert planned.returncode == 3, planned.stderr
    assert "archive qa" in planned.stdout and "push -q --porcelain origin HEAD:refs/heads/main" in planned.stdout
    assert len(git(remote, "rev-list", "main").split()) == 1
    done = kenv(isolated, "gitops", "sync", url=url)
    assert done.returncode == 0, done.stderr
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert not [p for p in tree if p.startswith("environments/qa/")]
    (archived,) = {p.split("/")[1] for p in tree if p.startswith("archive/")}
    assert archived.startswith("qa-") and archived.endswith("Z")
    assert git(remote, "show", f"main:archive/{archived}/kustomization.yaml") == original

    shown = kenv(isolated, "gitops", "show", "-o", "json", url=url)
    assert shown.returncode == 0, shown.stderr
    import json

    data = json.loads(shown.stdout)
    assert data["url"] == url and data["environments"] == ["dev"] and data["archived"] == [archived]
    assert data["last_commit"] == git(remote, "rev-parse", "main").strip()


def test_local_bare_repository_when_no_url_is_configured(isolated: Path) -> None:
    assert kenv(isolated, "register", "dev", "--provider", "k3d").returncode == 0
    done = kenv(isolated, "gitops", "sync")
    assert done.returncode == 0, done.stderr
    bare = isolated / "data" / "gitops.git"
    assert git(bare, "rev-parse", "--is-bare-repository").strip() == "true"
    assert "environments/dev/README.md" in git(bare, "ls-tree", "-r", "--name-only", "main").split()
    assert git(bare, "log", "-1", "--format=%an <%ae>", "main").strip() == "kenv <kenv@localhost>"


def test_a_remote_that_is_down_fails_cleanly(tmp_path: Path, remote: Path, isolated: Path) -> None:
    url = f"file://{remote}"
    assert kenv(isolated, "register", "dev", "--provider", "k3d").returncode == 0
    assert kenv(isolated, "gitops", "sync", url=url).returncode == 0
    work = isolated / "data" / "gitops"
    before = git(work, "rev-parse", "HEAD").strip()
    assert kenv(isolated, "register", "qa", "--provider", "k3d").returncode == 0
    remote.rename(tmp_path / "moved.git")  # the server is gone

    failed = kenv(isolated, "gitops", "sync", url=url)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (line,) = [text for text in failed.stderr.splitlines() if text.startswith("kenv: error:")]
    assert f"the GitOps repository {url} does not answer" in line
    assert "Traceback" not in failed.stderr
    assert git(work, "status", "--porcelain") == ""
    assert git(work, "rev-parse", "HEAD").strip() == before

    (tmp_path / "moved.git").rename(remote)
    resumed = kenv(isolated, "gitops", "sync", url=url)
    assert resumed.returncode == 0, resumed.stderr
    assert "added: qa" in resumed.stdout


def test_a_push_the_remote_refuses_fails_cleanly(remote: Path, isolated: Path) -> None:
    """A hook that declines: not a race, so no retry; the local commit is dropped."""
    url = f"file://{remote}"
    assert kenv(isolated, "register", "dev", "--provider", "k3d").returncode == 0
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    failed = kenv(isolated, "gitops", "sync", url=url)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (line,) = [text for text in failed.stderr.splitlines() if text.startswith("kenv: error:")]
    assert "pushing to the GitOps repository" in line and "pre-receive hook declined" in line
    assert "retrying" not in failed.stderr
    work = isolated / "data" / "gitops"
    assert git(work, "status", "--porcelain") == ""
    assert subprocess.run(["git", "-C", str(work), "rev-parse", "--verify", "-q", "HEAD"], check=False).returncode
    assert git(remote, "for-each-ref") == ""


def test_a_password_in_gitops_url_is_refused(isolated: Path) -> None:
    refused = kenv(isolated, "gitops", "show", url="https://me:hunter2@git.example/platform.git")
    assert refused.returncode == 2
    assert "hunter2" not in refused.stderr and "carries a password" in refused.stderr


def test_the_local_repository_is_served_read_only_and_stopped(isolated: Path) -> None:
    from kenv.errors import OperationFailed
    from kenv.settings import load_settings
    from kenv.workflows.context import WorkflowContext
    from kenv.workflows.gitops import commit_changes, daemon_running, serve_repository, stop_serving

    ctx = WorkflowContext(load_settings())
    commit = commit_changes(ctx, {"environments/dev/README.md": b"dev\n"}, "environments: add dev")
    assert commit is not None
    port = free_port()
    url = serve_repository(ctx, "127.0.0.1", port)
    try:
        assert url == f"git://127.0.0.1:{port}/gitops.git"
        assert daemon_running(ctx)
        listed = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True, timeout=30, check=True)
        assert f"{commit}\trefs/heads/main" in listed.stdout
        assert serve_repository(ctx, "127.0.0.1", port) == url  # running: nothing started
        clone = isolated / "reader"
        subprocess.run(["git", "clone", "-q", url, str(clone)], check=True, timeout=30)
        pushed = subprocess.run(
            ["git", "-C", str(clone), "push", "origin", "HEAD:refs/heads/other"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert pushed.returncode != 0 and "access denied" in pushed.stderr  # receive-pack is off (daemon.c)
    finally:
        stop_serving(ctx)
    deadline = time.monotonic() + 5
    while daemon_running(ctx) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not daemon_running(ctx)
    assert not (isolated / "data" / "gitops-daemon.pid").exists()

    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        with pytest.raises(OperationFailed, match=f"did not serve the GitOps repository on 127.0.0.1:{busy}"):
            serve_repository(ctx, "127.0.0.1", busy)
    assert not daemon_running(ctx)


def test_a_kenv_killed_mid_commit_leaves_nothing_that_blocks_the_next(remote: Path, isolated: Path) -> None:
    """What `kill -9` during `git commit` leaves: git's index.lock and a half-staged change."""
    url = f"file://{remote}"
    assert kenv(isolated, "register", "dev", "--provider", "k3d").returncode == 0
    assert kenv(isolated, "gitops", "sync", url=url).returncode == 0
    work = isolated / "data" / "gitops"
    (work / "environments" / "half").mkdir()
    (work / "environments" / "half" / "README.md").write_text("half-written\n")
    git(work, "add", "-A")
    (work / ".git" / "index.lock").write_text("")
    assert kenv(isolated, "register", "qa", "--provider", "k3d").returncode == 0
    resumed = kenv(isolated, "gitops", "sync", "qa", url=url)
    assert resumed.returncode == 0, resumed.stderr
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert "environments/qa/README.md" in tree and not [p for p in tree if "half" in p]
    assert git(work, "status", "--porcelain") == ""


def test_archiving_what_is_not_there_commits_nothing(remote: Path, isolated: Path) -> None:
    archived = kenv(isolated, "gitops", "sync", "ghost", url=f"file://{remote}")
    assert archived.returncode == 0, archived.stderr
    assert "nothing to commit" in archived.stdout
    assert git(remote, "for-each-ref") == ""  # not even the README commit


def test_add_and_archive_environment_as_create_and_delete_call_them(remote: Path, isolated: Path) -> None:
    from dataclasses import replace

    from kenv.settings import load_settings
    from kenv.workflows.context import WorkflowContext
    from kenv.workflows.gitops import add_environment, archive_environment, configured

    assert kenv(isolated, "register", "dev", "--provider", "kind").returncode == 0
    ctx = WorkflowContext(replace(load_settings(), gitops_url=f"file://{remote}"))
    assert configured(ctx)
    env = ctx.inventory().get("dev")
    add_environment(ctx, env)
    add_environment(ctx, env)  # again: nothing to commit
    assert git(remote, "log", "--format=%s", "main").splitlines() == ["environments: add dev (kind, business)"]
    # Someone put manifests next to the kustomization: adding again must not overwrite them.
    other = isolated / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True, timeout=30)
    (other / "environments" / "dev" / "app.yaml").write_text("kind: ConfigMap\n")
    git(other, "add", "-A")
    git(other, "-c", "user.name=me", "-c", "user.email=me@example", "commit", "-q", "-m", "dev: app")
    git(other, "push", "-q", "origin", "HEAD:main")
    add_environment(ctx, env)
    assert git(remote, "rev-list", "--count", "main").strip() == "2"

    archive_environment(ctx, "dev")
    archive_environment(ctx, "dev")  # gone already: nothing to commit
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert [p for p in tree if p.startswith("archive/dev-") and p.endswith("/app.yaml")]
    assert not [p for p in tree if p.startswith("environments/dev/")]
    assert git(remote, "rev-list", "--count", "main").strip() == "3"
    ctx.close()
