"""What the server's routes share: settings, the token, the job store, and a WorkflowContext for
reads (one inventory connection per worker thread, as the CLI's parallel apply has). One server
per data directory: a second one would mark the first one's running jobs interrupted."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kenv.errors import KenvError
from kenv.server.auth import TokenSource
from kenv.server.jobs import JobStore
from kenv.settings import Settings
from kenv.workflows.context import WorkflowContext


def claim_data_dir(data_dir: Path) -> IO[str]:
    """An exclusive flock on <data>/serve/server.lock, held while the server runs (the kernel drops
    it when the process dies, so a killed server does not block the next one)."""
    path = data_dir / "serve" / "server.lock"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise KenvError(
            f"another kenv serve ({holder}) already serves {data_dir}",
            hint="use that one, or stop it first (its jobs would look interrupted to a second server)",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


@dataclass
class ServerState:
    settings: Settings
    tokens: TokenSource
    jobs: JobStore
    claim: IO[str] | None = None
    reads: WorkflowContext = field(init=False)

    def __post_init__(self) -> None:
        self.reads = WorkflowContext(self.settings)

    @classmethod
    def open(cls, settings: Settings) -> ServerState:
        claim = claim_data_dir(settings.data_dir)
        try:
            return cls(settings, TokenSource(settings.data_dir), JobStore(settings.data_dir), claim)
        except BaseException:
            claim.close()
            raise

    def close(self) -> None:
        self.reads.close()
        if self.claim is not None:
            self.claim.close()
            self.claim = None
