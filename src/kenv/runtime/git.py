"""git on the repositories kenv keeps (the platform's GitOps repository: a work clone and, when no
remote is configured, a local bare repository and the read-only `git daemon` serving it), through
the Runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kenv.runtime.process import CommandResult, Runner

TIMEOUT = 60.0
# Commits are kenv's, whoever runs it: the repository records what kenv rendered, and a machine
# without a git identity must not make the commit fail.
IDENTITY = ("-c", "user.name=kenv", "-c", "user.email=kenv@localhost")
# git never asks on a terminal: a remote that wants a password fails at once with git's own message
# instead of hanging until the timeout (credentials are the user's ssh keys or credential helper).
NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0"}
# What `git push` says when the remote moved on since our fetch (builtin/push.c, transport.c,
# refs/files-backend.c in git v2.39+): retried after a fetch; anything else is a failure, a hook's
# "[remote rejected] ... (pre-receive hook declined)" included.
PUSH_CONFLICT_MARKERS = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)


def push_conflict(stderr: str) -> bool:
    return any(marker in stderr for marker in PUSH_CONFLICT_MARKERS)


@dataclass(frozen=True)
class Git:
    runner: Runner
    repo: Path

    def argv(self, *args: str) -> list[str]:
        return ["git", "-C", str(self.repo), *args]

    def run(self, *args: str, mutating: bool = True, check: bool = True) -> str:
        return self.result(*args, mutating=mutating, check=check).stdout

    def result(self, *args: str, mutating: bool = True, check: bool = True) -> CommandResult:
        return self.runner.run(self.argv(*args), timeout=TIMEOUT, mutating=mutating, check=check, extra_env=NO_PROMPT)

    def is_repository(self) -> bool:
        return (self.repo / ".git").is_dir()

    def init(self) -> None:
        self.runner.run(["git", "init", "-q", "-b", "main", str(self.repo)], timeout=TIMEOUT, mutating=True)

    def add(self, path: str) -> None:
        self.run("add", "-A", "--", path)

    def has_staged_changes(self, path: str) -> bool:
        """`git diff --cached --quiet` exits 1 when the index differs from HEAD (or there is no HEAD
        yet and something is staged)."""
        result = self.runner.run(
            self.argv("diff", "--cached", "--quiet", "--", path), timeout=TIMEOUT, mutating=False, check=False
        )
        return result.returncode != 0

    def commit(self, message: str) -> str:
        """Commit what is staged; returns the new commit's id."""
        self.run(*IDENTITY, "commit", "-q", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.run("rev-parse", "HEAD", mutating=False).strip()

    # --- a work clone of a remote ----------------------------------------------------------------

    def init_bare(self, branch: str) -> None:
        """`self.repo` as a bare repository whose HEAD names `branch` (pushes go there)."""
        self.runner.run(["git", "init", "-q", "-b", branch, "--bare", str(self.repo)], timeout=TIMEOUT, mutating=True)

    def clone(self, url: str) -> None:
        """Clone `url` into `self.repo` (an empty remote gives an empty clone)."""
        self.runner.run(
            ["git", "clone", "-q", "--origin", "origin", url, str(self.repo)],
            timeout=TIMEOUT,
            mutating=True,
            extra_env=NO_PROMPT,
        )

    def clone_bare_to(self, target: Path) -> None:
        """A bare copy of this repository at `target` (adopting a work tree that had no remote)."""
        self.runner.run(["git", "clone", "-q", "--bare", str(self.repo), str(target)], timeout=TIMEOUT, mutating=True)

    def remote_url(self) -> str | None:
        found = self.result("config", "--get", "remote.origin.url", mutating=False, check=False)
        return found.stdout.strip() or None if found.ok else None

    def fetch(self) -> CommandResult:
        """Fetch origin; never raises (the caller names the remote that does not answer). Not a
        change to plan in a dry run: only the remote-tracking refs move."""
        return self.result("fetch", "-q", "--prune", "origin", mutating=False, check=False)

    def rev(self, ref: str) -> str | None:
        found = self.result("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", mutating=False, check=False)
        return found.stdout.strip() or None if found.ok else None

    def reset_to(self, ref: str | None, branch: str) -> None:
        """The work tree and index exactly at `ref` on `branch` (None: an unborn, empty `branch`),
        every local change and untracked file gone."""
        if ref is None:
            self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")
            self.run("update-ref", "-d", f"refs/heads/{branch}")  # a local commit the remote never took
            self.run("read-tree", "--empty")
        else:
            self.run("checkout", "-q", "-f", "-B", branch, ref)
        self.run("clean", "-q", "-f", "-d")

    def add_paths(self, paths: list[str]) -> None:
        self.run("add", "-A", "--", *paths)

    def push(self, branch: str) -> CommandResult:
        return self.result("push", "-q", "--porcelain", "origin", f"HEAD:refs/heads/{branch}", check=False)

    def ls_files(self) -> list[str]:
        return self.run("ls-files", "-z", mutating=False).split("\0")[:-1] if self.rev("HEAD") else []

    def last_commit(self) -> tuple[str, str, str] | None:
        """(id, subject, committer date ISO 8601) of HEAD, None when there is none."""
        if self.rev("HEAD") is None:
            return None
        text = self.run("log", "-1", "--format=%H%x00%s%x00%cI", mutating=False).strip()
        commit, subject, date = [*text.split("\0"), "", ""][:3]
        return commit, subject, date


def daemon_argv(base_path: Path, repository: Path, listen: str, port: int, pid_file: Path) -> list[str]:
    """`git daemon` serving one repository read-only (upload-pack only: receive-pack is off unless
    enabled, daemon.c v2.39), detached, its pid in `pid_file` (Documentation/git-daemon.txt)."""
    return [
        "git",
        "daemon",
        "--detach",
        "--reuseaddr",
        "--export-all",
        f"--base-path={base_path}",
        f"--listen={listen}",
        f"--port={port}",
        f"--pid-file={pid_file}",
        str(repository),
    ]
