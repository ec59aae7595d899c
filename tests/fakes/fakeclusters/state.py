"""Shared, lock-protected state of all fake clusters.

Everything lives in ``$KENV_FAKE_STATE/state.json``.  Every read-modify-write
happens inside :meth:`StateStore.transaction`, which holds an exclusive
``fcntl.flock`` on ``state.lock`` for the (short) duration of the update and
replaces ``state.json`` atomically (write to a temp file + ``os.replace``),
so concurrent fake processes never see a half-written file and never lose
each other's updates.  Sleeps requested by failure injection are always done
*outside* the lock so parallel creates overlap like the real tools do.

Layout (see README.md for the full description)::

    {
      "version": 1,
      "clusters": {"k3d/dev": {...}, "kind/dev": {...}, "minikube/p1": {...}},
      "networks": {"k3d-dev": {...}, "kind": {...}, "p1": {...}}
    }
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator

STATE_VERSION = 1


def _empty() -> dict:
    return {"version": STATE_VERSION, "clusters": {}, "networks": {}}


class StateStore:
    """Access to ``state.json`` in the fake state directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, "state.json")
        self.lock_path = os.path.join(directory, "state.lock")

    def _load(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return _empty()
        data.setdefault("clusters", {})
        data.setdefault("networks", {})
        return data

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read(self) -> dict:
        """A consistent snapshot of the state (shared lock)."""
        with self._locked(fcntl.LOCK_SH):
            return self._load()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict]:
        """Yield the state for modification; it is saved when the block exits
        without an exception (an exception discards all changes)."""
        with self._locked(fcntl.LOCK_EX):
            data = self._load()
            yield data
            tmp = f"{self.path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, self.path)


def append_jsonl(path: str, record: dict) -> None:
    """Append one JSON line under an exclusive lock (concurrent writers)."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
