"""git on a local repository kenv keeps (the platform's GitOps repository), through the Runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kenv.runtime.process import Runner

TIMEOUT = 60.0
# Commits are kenv's, whoever runs it: the repository records what kenv rendered, and a machine
# without a git identity must not make the commit fail.
IDENTITY = ("-c", "user.name=kenv", "-c", "user.email=kenv@localhost")


@dataclass(frozen=True)
class Git:
    runner: Runner
    repo: Path

    def argv(self, *args: str) -> list[str]:
        return ["git", "-C", str(self.repo), *args]

    def run(self, *args: str, mutating: bool = True, check: bool = True) -> str:
        return self.runner.run(self.argv(*args), timeout=TIMEOUT, mutating=mutating, check=check).stdout

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
