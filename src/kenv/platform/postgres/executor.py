"""One executor for every PostgreSQL operation: the same commands run inside the platform's pod
(`kubectl exec`) or against a server on this machine, so tests exercise the real programs. The
executors themselves live in kenv.runtime.postgres_exec (only the runtime starts processes); this
module is the name the PostgreSQL operations import them by.

    executor = executor_for(Target(kind="local", url=URL, bin_dir=BIN), runner)
    executor.query("SELECT count(*) AS n FROM t")   # [{"n": "3"}]
    executor.run("pg_basebackup", [...])
"""

from __future__ import annotations

from kenv.runtime.postgres_exec import Executor, Target, redact_url
from kenv.runtime.postgres_exec import executor_for_target as executor_for

__all__ = ["Executor", "Target", "executor_for", "redact_url"]
