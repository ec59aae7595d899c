"""The operations log: who did what to which environment, when, and how it ended."""

from __future__ import annotations

import getpass
import logging
import os
import socket
from datetime import datetime
from typing import Any

from kenv.inventory.records import Store, as_utc, utcnow

log = logging.getLogger("kenv.inventory")

OPERATION_KEYS = ("id", "environment", "operation", "status", "actor", "detail", "error", "started_at", "finished_at")


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


class OperationsLog(Store):
    def record_operation(
        self,
        environment: str | None,
        operation: str,
        status: str,
        *,
        started_at: datetime,
        detail: str | None = None,
        error: str | None = None,
    ) -> None:
        self.db.execute(
            """INSERT INTO operations (environment, operation, status, actor, detail, error, started_at,
                finished_at) VALUES (:environment, :operation, :status, :actor, :detail, :error, :started_at,
                :finished_at)""",
            {
                "environment": environment,
                "operation": operation,
                "status": status,
                "actor": actor(),
                "detail": detail,
                "error": error,
                "started_at": self._timestamp(started_at),
                "finished_at": self._timestamp(utcnow()) if status != "running" else None,
            },
        )

    def log_operation(
        self,
        environment: str | None,
        operation: str,
        status: str,
        *,
        started_at: datetime,
        detail: str | None = None,
        error: str | None = None,
    ) -> None:
        """Best effort, in a transaction of its own: the operation's outcome matters more than its
        log entry, so a log that cannot be written is a warning, not a second failure."""
        try:
            with self.db.write():
                self.record_operation(environment, operation, status, started_at=started_at, detail=detail, error=error)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.warning("could not record the %s of %s in the history: %s", operation, environment, exc)

    def operations(
        self, environment: str | None = None, limit: int | None = 50, *, oldest_first: bool = False
    ) -> list[dict[str, Any]]:
        """The operations log, newest first by default; limit=None for all of it (backups)."""
        sql = f"SELECT {', '.join(OPERATION_KEYS)} FROM operations"
        params: dict[str, Any] = {}
        if environment:
            sql += " WHERE environment = :environment"
            params["environment"] = environment
        sql += " ORDER BY id" + ("" if oldest_first else " DESC")
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        result = []
        for row in self.db.query(sql, params):
            item = dict(zip(OPERATION_KEYS, row, strict=True))
            for key in ("started_at", "finished_at"):
                if item[key] is not None:
                    item[key] = as_utc(item[key]).isoformat()
            result.append(item)
        return result
