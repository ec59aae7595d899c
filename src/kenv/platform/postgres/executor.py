"""One executor for every PostgreSQL operation: the same commands run inside the platform's pod
(`kubectl exec`) or against a server on this machine, so tests exercise the real programs.

    executor = executor_for(Target(kind="local", url=URL, bin_dir=BIN), runner)
    executor.query("SELECT count(*) AS n FROM t")   # [{"n": "3"}]
    executor.run("pg_basebackup", [...])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from kenv.runtime.postgres_exec import Target, executor_for_target, redact_url
from kenv.runtime.process import CommandResult, Runner

__all__ = ["Executor", "Target", "executor_for", "redact_url"]


class Executor(Protocol):
    target: Target
    runner: Runner

    def run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float = 300,
        check: bool = True,
        mutating: bool | None = None,
    ) -> CommandResult:
        """`tool args` at the target (pg_* programs from the target's installation). Read-only
        tools (psql, pg_verifybackup, ...) run in a dry run too; others are recorded."""
        ...

    def query(self, sql: str, *, database: str | None = None, timeout: float = 60) -> list[dict[str, str | None]]:
        """Rows of one read-only statement: column name to text, None for NULL."""
        ...

    def execute(self, sql: str, *, database: str | None = None, timeout: float = 60) -> CommandResult:
        """Statements that change something (recorded in a dry run)."""
        ...

    def version(self) -> tuple[int, int]:
        """(major, minor) of the server, e.g. (16, 4)."""
        ...

    def argv(self, tool: str, args: Sequence[str]) -> list[str]:
        """The command line `run` would start (kubectl exec ... for a pod, runuser for a server
        program when kenv is root)."""
        ...

    def extra_env(self) -> Mapping[str, str] | None:
        """Environment for the target's commands (PGPASSWORD from a local URL, C messages)."""
        ...

    def psql_args(self, database: str | None) -> list[str]:
        """psql's connection arguments for the target (a URL, or the pod's socket)."""
        ...


def executor_for(target: Target, runner: Runner) -> Executor:
    return executor_for_target(target, runner)
