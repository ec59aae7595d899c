"""The platform's GitOps repository: one work clone per kenv data directory, pushed to the
configured `gitops_url` or, when none is configured, to a local bare repository
`<data>/gitops.git` that a read-only `git daemon` serves to the devops cluster.

Every change goes through `commit_changes`, which holds a per-machine lock (the platform lock
`gitops`, a flock on `<data>/locks/platform/gitops.lock`: the kernel drops it when kenv dies),
brings the work clone exactly to the remote's head, applies the changes, commits and pushes.
Another machine (or another kenv data directory) that pushed first makes the push fail as
non-fast-forward: kenv fetches again, re-applies the same changes on the new head and retries, a
bounded number of times with a growing, jittered pause. A failure leaves the work clone at the
remote's head, clean: nothing half-committed, and the next run starts from what the remote holds.

The work clone is `<data>/gitops` (where `kenv postgres deploy --via gitops` has always written);
a work clone made by an older kenv with no remote is adopted: its history becomes the bare
repository's.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kenv.errors import ExternalCommandError, KenvError, NotFound, OperationFailed
from kenv.inventory.model import Environment
from kenv.platform.gitops import layout
from kenv.runtime.git import IDENTITY, Git, push_conflict
from kenv.workflows import gitops_daemon
from kenv.workflows.context import WorkflowContext
from kenv.workflows.gitops_daemon import DAEMON_PORT, daemon_pid_file, daemon_running, stop_serving

PUSH_ATTEMPTS = 12
RETRY_PAUSE_SECONDS = 0.05  # the first pause; doubled per attempt, capped, with jitter
RETRY_PAUSE_CAP_SECONDS = 2.0
LOCK_WAIT_SECONDS = 120.0
DEVOPS = "devops"

# The daemon's functions are re-exported: bootstrap and teardown reach every GitOps step here.
__all__ = [
    "DAEMON_PORT",
    "GitopsRepo",
    "GitopsStatus",
    "SyncResult",
    "add_environment",
    "archive_environment",
    "bare_dir",
    "commit_changes",
    "configured",
    "daemon_pid_file",
    "daemon_running",
    "gitops_repository",
    "repository_url_for_cluster",
    "serve_repository",
    "status",
    "stop_serving",
    "sync_environments",
    "work_dir",
]

Changes = Mapping[str, bytes | None]


@dataclass(frozen=True)
class GitopsRepo:
    url: str  # what the work clone pushes to
    work_dir: Path
    local: bool  # True: the local bare repository kenv made (no gitops_url)
    bare: Path | None  # the local bare repository, when local

    def __str__(self) -> str:
        return self.url


def work_dir(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "gitops"


def bare_dir(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "gitops.git"


def configured(ctx: WorkflowContext) -> bool:
    """Whether GitOps is part of the platform: a configured remote, or the local bare repository
    a bootstrap made. Create and delete register environments only then."""
    return bool(ctx.settings.gitops_url) or (bare_dir(ctx) / "HEAD").is_file()


def _describe(ctx: WorkflowContext) -> GitopsRepo:
    url = ctx.settings.gitops_url
    if url:
        return GitopsRepo(url=url, work_dir=work_dir(ctx), local=False, bare=None)
    bare = bare_dir(ctx)
    return GitopsRepo(url=str(bare), work_dir=work_dir(ctx), local=True, bare=bare)


def _lock(ctx: WorkflowContext) -> contextlib.AbstractContextManager[None]:
    """One kenv process at a time changes the work clone of this data directory; a push that
    retries against other machines may hold it a while, hence the longer wait."""
    hint = f"the GitOps work clone {work_dir(ctx)} stayed busy for {LOCK_WAIT_SECONDS:.0f}s: wait, then retry"
    return ctx.platform_lock("gitops", wait_seconds=LOCK_WAIT_SECONDS, hint=hint)


def _ensure(ctx: WorkflowContext) -> GitopsRepo:
    """The work clone exists and pushes to the right remote (the caller holds the lock, or runs
    a dry run, where the commands are only planned)."""
    repo = _describe(ctx)
    git = Git(ctx.runner, repo.work_dir)
    if repo.local and repo.bare is not None and not (repo.bare / "HEAD").is_file():
        if git.is_repository() and git.remote_url() is None:
            ctx.progress.note("gitops", f"adopting {repo.work_dir} into a bare repository {repo.bare}")
            git.clone_bare_to(repo.bare)
            git.run("remote", "add", "origin", str(repo.bare))
            return repo
        ctx.progress.note("gitops", f"creating the local GitOps repository {repo.bare}")
        if not ctx.dry_run:
            repo.bare.parent.mkdir(parents=True, exist_ok=True)
        Git(ctx.runner, repo.bare).init_bare(layout.BRANCH)
    if not git.is_repository():
        if repo.work_dir.exists() and any(repo.work_dir.iterdir()):
            raise KenvError(
                f"{repo.work_dir} exists and is not a git work clone",
                hint=f"move it away; kenv clones {repo.url} there",
            )
        ctx.progress.note("gitops", f"cloning {repo.url} into {repo.work_dir}")
        try:
            git.clone(repo.url)
        except ExternalCommandError as exc:
            raise OperationFailed(
                f"cannot clone the GitOps repository {repo.url}: {exc.stderr_tail or exc.message}",
                hint="check gitops_url and that git reaches it (ssh keys or a credential helper)",
            ) from exc
        return repo
    origin = git.remote_url()
    if origin is None:
        raise KenvError(
            f"the GitOps work clone {repo.work_dir} has no remote, and gitops_url is {repo.url}",
            hint=f"move {repo.work_dir} away (kenv clones {repo.url} there), or push its history there first",
        )
    if origin != repo.url:
        raise KenvError(
            f"the GitOps work clone {repo.work_dir} pushes to {origin}, not to {repo.url}",
            hint=f"move {repo.work_dir} away to switch repositories (kenv clones {repo.url} there)",
        )
    return repo


def _refresh(ctx: WorkflowContext, repo: GitopsRepo) -> str | None:
    """Fetch, then the work clone exactly at the remote's head; returns that head (None: the
    remote has no commit yet)."""
    git = Git(ctx.runner, repo.work_dir)
    fetched = git.fetch()
    if not fetched.ok:
        raise OperationFailed(
            f"the GitOps repository {repo.url} does not answer: {_tail(fetched.stderr)}",
            hint="check that it is reachable (network, ssh keys or credential helper) and run the command again",
        )
    head = git.rev(f"origin/{layout.BRANCH}")
    git.reset_to(head, layout.BRANCH)
    return head


def _tail(text: str) -> str:
    from kenv.runtime.process import stderr_tail

    return stderr_tail(text) or "no output"


def gitops_repository(ctx: WorkflowContext) -> GitopsRepo:
    """The repository, made or cloned when missing, the work clone at the remote's head."""
    if ctx.dry_run:
        return _ensure(ctx) if not work_dir(ctx).exists() else _describe(ctx)
    with _lock(ctx):
        repo = _ensure(ctx)
        _clear_stale_git_locks(repo.work_dir)
        _refresh(ctx, repo)
        return repo


def _write(root: Path, changes: Changes) -> None:
    for path, content in changes.items():
        target = root / path
        if content is None:
            target.unlink(missing_ok=True)
            parent = target.parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def _validate(changes: Changes) -> None:
    for path in changes:
        parts = Path(path).parts
        if not parts or Path(path).is_absolute() or ".." in parts or parts[0] == ".git":
            raise KenvError(f"{path!r} is not a path inside the GitOps repository")


def _commit_computed(
    ctx: WorkflowContext, compute: Callable[[Path], Changes], message: str | Callable[[], str]
) -> str | None:
    """Under the lock: refresh, compute the changes from the fresh work tree, commit, push;
    retried on push conflicts. Returns the commit pushed, None when nothing changed."""
    if ctx.dry_run:
        return _plan(ctx, compute, message)
    with _lock(ctx):
        repo = _ensure(ctx)
        _clear_stale_git_locks(repo.work_dir)
        git = Git(ctx.runner, repo.work_dir)
        try:
            for attempt in range(1, PUSH_ATTEMPTS + 1):
                head = _refresh(ctx, repo)
                changes = dict(compute(repo.work_dir))
                if head is None and changes and "README.md" not in changes:
                    changes["README.md"] = layout.ROOT_README  # the repository's first commit says what it is
                _validate(changes)
                _write(repo.work_dir, changes)
                git.add_paths(["."])  # the work tree was clean: everything changed is ours
                if not changes or not git.has_staged_changes("."):
                    return None
                commit = git.commit(message if isinstance(message, str) else message())
                pushed = git.push(layout.BRANCH)
                if pushed.ok:
                    return commit
                if not push_conflict(pushed.stderr + pushed.stdout):
                    raise OperationFailed(
                        f"pushing to the GitOps repository {repo.url} failed: {_tail(pushed.stderr + pushed.stdout)}",
                        hint="check that it is reachable and accepts pushes to "
                        f"{layout.BRANCH}, then run the command again",
                    )
                pause = min(RETRY_PAUSE_SECONDS * 2 ** (attempt - 1), RETRY_PAUSE_CAP_SECONDS)
                ctx.progress.note("gitops", f"{repo.url} moved on while pushing; retrying ({attempt}/{PUSH_ATTEMPTS})")
                time.sleep(pause * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
            raise OperationFailed(
                f"pushing to the GitOps repository {repo.url} lost the race {PUSH_ATTEMPTS} times in a row",
                hint="others push to it constantly; run the command again",
            )
        except BaseException:
            _discard(ctx, repo)
            raise


def _clear_stale_git_locks(work: Path) -> None:
    """git's own lock files left by a kenv killed mid-commit (`index.lock`, a ref's `.lock`): with
    our lock held no other process can be using them, and git would refuse every later command."""
    git_dir = work / ".git"
    for stale in (git_dir / "index.lock", git_dir / "HEAD.lock", git_dir / "refs" / "heads" / f"{layout.BRANCH}.lock"):
        stale.unlink(missing_ok=True)


def _discard(ctx: WorkflowContext, repo: GitopsRepo) -> None:
    """Back to the last known remote head: no local commit or change survives a failure."""
    git = Git(ctx.runner, repo.work_dir)
    with contextlib.suppress(KenvError):
        git.reset_to(git.rev(f"origin/{layout.BRANCH}"), layout.BRANCH)


def _plan(ctx: WorkflowContext, compute: Callable[[Path], Changes], message: str | Callable[[], str]) -> str | None:
    """A dry run: the commands a commit would run, recorded; nothing is written."""
    repo = _ensure(ctx)
    git = Git(ctx.runner, repo.work_dir)
    changes = dict(compute(repo.work_dir)) if git.is_repository() else dict(compute(Path(os.devnull)))
    _validate(changes)
    if not changes:
        return None
    git.add_paths(sorted(changes))
    git.run(*IDENTITY, "commit", "-q", "-m", message if isinstance(message, str) else message())
    git.push(layout.BRANCH)
    return None


def commit_changes(ctx: WorkflowContext, changes: Changes, message: str) -> str | None:
    """Apply `changes` (path from the repository root -> bytes; None deletes) as one commit pushed
    to the remote; returns the commit, or None when nothing changed (no empty commit)."""
    fixed = dict(changes)
    return _commit_computed(ctx, lambda _root: fixed, message)


def _files_under(root: Path, directory: str) -> dict[str, bytes]:
    base = root / directory
    if not base.is_dir():
        return {}
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(base.rglob("*")) if path.is_file()}


def add_environment(ctx: WorkflowContext, env: Environment) -> None:
    """`environments/<name>/` with its README and kustomization; a directory already there is left
    as it is (people may have added manifests): nothing is committed."""

    def compute(root: Path) -> Changes:
        if (root / layout.environment_dir(env.name)).is_dir():
            return {}
        return layout.environment_files(env.name, env.provider, env.role)

    _commit_computed(ctx, compute, f"environments: add {env.name} ({env.provider}, {env.role})")


def archive_environment(ctx: WorkflowContext, name: str) -> None:
    """`environments/<name>/` moved to `archive/<name>-<UTC timestamp>/`, never deleted; nothing
    to do when there is no such directory."""
    now = datetime.now(UTC)

    def compute(root: Path) -> Changes:
        files = _files_under(root, layout.environment_dir(name))
        if not files:
            return {}
        archive = root / layout.ARCHIVE
        taken = [f"{layout.ARCHIVE}/{p.name}" for p in archive.iterdir()] if archive.is_dir() else []
        return layout.archive_changes(files, name, layout.archive_dir(name, now, taken))

    _commit_computed(ctx, compute, f"environments: archive {name}")


# --- serving the local repository to the devops cluster ---------------------------------------


def repository_url_for_cluster(ctx: WorkflowContext) -> str:
    """The URL ArgoCD in the devops cluster clones: the configured remote as it is, or the local
    bare repository through `git daemon` (read-only) on the devops network's gateway, which is the
    host as the cluster's pods see it."""
    if ctx.settings.gitops_url:
        return ctx.settings.gitops_url
    if ctx.dry_run and ctx.inventory().find(DEVOPS) is None:  # a bootstrap's plan: devops comes first
        return f"git://<{DEVOPS} gateway>:{DAEMON_PORT}/{bare_dir(ctx).name}"
    return serve_repository(ctx, _devops_gateway(ctx))


def _devops_gateway(ctx: WorkflowContext) -> str:
    try:
        devops = ctx.inventory().get(DEVOPS)
    except NotFound as exc:
        raise KenvError(
            "the local GitOps repository is served to the devops environment, which does not exist",
            hint="run `kenv bootstrap` (it creates devops), or set gitops_url to a remote the cluster reaches",
        ) from exc
    if devops.subnet is None:
        raise KenvError(f"environment {DEVOPS!r} has no subnet: kenv cannot tell its gateway address")
    return str(next(devops.subnet.hosts()))  # Docker gives a bridge network's first address to the host


def serve_repository(ctx: WorkflowContext, address: str, port: int = DAEMON_PORT) -> str:
    """Serve `<data>/gitops.git` read-only on `address` (see gitops_daemon); returns its URL."""
    return gitops_daemon.serve(ctx, bare_dir(ctx), address, port)


# --- what `kenv gitops show` and `kenv gitops sync` report ------------------------------------


@dataclass
class GitopsStatus:
    url: str
    local_path: str
    bare_path: str | None
    last_commit: str | None
    last_subject: str | None
    last_date: str | None
    environments: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    served: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "local_path": self.local_path,
            "bare_path": self.bare_path,
            "last_commit": self.last_commit,
            "last_subject": self.last_subject,
            "last_date": self.last_date,
            "environments": self.environments,
            "archived": self.archived,
            "served": self.served,
        }


def status(ctx: WorkflowContext) -> GitopsStatus:
    """What the repository holds; read-only: nothing is made when there is no repository yet (the
    work clone is brought to the remote's head when there is one)."""
    repo = _describe(ctx)
    git = Git(ctx.runner, repo.work_dir)
    if git.is_repository() and not ctx.dry_run:
        repo = gitops_repository(ctx)
    last = git.last_commit() if git.is_repository() else None
    tree = layout.read_tree(git.ls_files() if git.is_repository() else [])
    return GitopsStatus(
        url=repo.url,
        local_path=str(repo.work_dir),
        bare_path=str(repo.bare) if repo.bare else None,
        last_commit=last[0] if last else None,
        last_subject=last[1] if last else None,
        last_date=last[2] if last else None,
        environments=list(tree.environments),
        archived=list(tree.archived),
        served=daemon_running(ctx),
    )


@dataclass
class SyncResult:
    added: list[str]
    archived: list[str]
    commit: str | None
    dry_run: bool = False
    planned: list[list[str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.archived)

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "archived": self.archived,
            "commit": self.commit,
            "dry_run": self.dry_run,
            "planned": self.planned,
        }


def sync_environments(ctx: WorkflowContext, names: Sequence[str] = ()) -> SyncResult:
    """Every environment in the inventory has its directory, and every directory whose environment
    is gone is archived, in one commit; with `names`, only those environments are looked at (a
    repository shared by several inventories: the others' directories are not this one's to
    archive)."""
    records = {env.name: env for env in ctx.inventory().environments()}
    now = datetime.now(UTC)
    seen: dict[str, list[str]] = {"added": [], "archived": []}

    def compute(root: Path) -> Changes:
        environments = root / layout.ENVIRONMENTS
        present = [p.name for p in environments.iterdir() if p.is_dir()] if environments.is_dir() else []
        wanted = list(records)
        if names:
            present = [name for name in present if name in names]
            wanted = [name for name in wanted if name in names]
        plan = layout.sync_plan(present, wanted)
        seen["added"], seen["archived"] = list(plan.add), list(plan.archive)
        changes: dict[str, bytes | None] = {}
        for name in plan.add:
            env = records[name]
            changes.update(layout.environment_files(name, env.provider, env.role))
        archive = root / layout.ARCHIVE
        taken = [f"{layout.ARCHIVE}/{p.name}" for p in archive.iterdir()] if archive.is_dir() else []
        for name in plan.archive:
            target = layout.archive_dir(name, now, taken)
            taken.append(target)
            changes.update(layout.archive_changes(_files_under(root, layout.environment_dir(name)), name, target))
        return changes

    commit = _commit_computed(ctx, compute, lambda: layout.sync_message(seen["added"], seen["archived"]))
    result = SyncResult(added=seen["added"], archived=seen["archived"], commit=commit, dry_run=ctx.dry_run)
    result.planned = [list(args) for args in ctx.runner.planned]
    return result
