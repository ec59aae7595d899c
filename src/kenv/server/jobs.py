"""Long operations as jobs: a record on disk (<data>/serve/jobs/<id>.json, atomic writes) and its
events (<id>.events.jsonl, one per line), run in a worker thread of the server with a progress
sink that records every step. A browser reload finds both again; a server that stops (or is
killed) leaves unfinished jobs that the next start marks `interrupted` (the workflow resumes when
it is run again, as on the CLI).

Listeners (the event streams) are called after every event, from the worker thread, so a stream
wakes at once instead of polling.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kenv.errors import Busy, KenvError
from kenv.inventory.files import write_file
from kenv.server.errors import error_body
from kenv.workflows.engine import StepOutcome

log = logging.getLogger("kenv.server")

KINDS = ("create", "delete", "start", "stop", "verify", "images-sync")
STATES = ("queued", "running", "succeeded", "failed", "interrupted")
TERMINAL = frozenset({"succeeded", "failed", "interrupted"})
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
# Finished jobs kept on disk (the newest); older records and their events go at the next start.
KEEP_FINISHED = 1000


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    id: str
    kind: str
    environment: str
    created_at: str
    state: str = "queued"
    started_at: str | None = None
    finished_at: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {key: data[key] for key in JOB_KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**{key: data[key] for key in JOB_KEYS if key in data})


JOB_KEYS = (
    "id",
    "kind",
    "environment",
    "state",
    "created_at",
    "started_at",
    "finished_at",
    "steps",
    "result",
    "error",
)


@dataclass(frozen=True)
class JobOutcome:
    """How a job's work ended: the workflow's `-o json` document, and the error when it failed."""

    result: Any = None
    error: dict[str, Any] | None = None


class JobProgress:
    """The workflow engine's Progress sink for one job: each call becomes an event."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id

    def step_started(self, environment: str, index: int, total: int, step: str) -> None:
        self.store.append_event(
            self.job_id, "step-started", {"environment": environment, "index": index, "total": total, "step": step}
        )

    def step_finished(self, environment: str, index: int, total: int, outcome: StepOutcome) -> None:
        step = {
            "name": outcome.name,
            "result": outcome.result,
            "seconds": round(outcome.seconds, 3),
            "detail": outcome.detail,
        }
        self.store.step_finished(self.job_id, step)
        self.store.append_event(
            self.job_id,
            "step-finished",
            {
                "environment": environment,
                "index": index,
                "total": total,
                "step": outcome.name,
                "result": outcome.result,
                "seconds": step["seconds"],
                "detail": outcome.detail,
            },
        )

    def note(self, environment: str, text: str) -> None:
        self.store.append_event(self.job_id, "note", {"environment": environment, "text": text})


Work = Callable[[JobProgress], JobOutcome]
Listener = Callable[[], None]


class JobStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "serve" / "jobs"
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._listeners: dict[str, set[Listener]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._closed = False
        self._load()

    # -- reading -------------------------------------------------------------
    def jobs(self, limit: int) -> list[Job]:
        with self._lock:
            ordered = sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
            return [Job.from_dict(j.to_dict()) for j in ordered[:limit]]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id) if _JOB_ID.match(job_id) else None
            return Job.from_dict(job.to_dict()) if job else None

    def events_after(self, job_id: str, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._events_of(job_id) if e["data"]["seq"] > seq]

    def is_finished(self, job_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            return job is None or job.state in TERMINAL

    # -- running -------------------------------------------------------------
    def submit(self, kind: str, environment: str, work: Work) -> Job:
        """Start `work` in a thread of its own; one job per environment at a time (409 otherwise:
        the second would only wait for the first one's lock)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, environment=environment, created_at=now())
        with self._lock:
            if self._closed:
                raise KenvError("the server is stopping", hint="start it again, then retry")
            active = next(
                (j for j in self._jobs.values() if j.environment == environment and j.state not in TERMINAL), None
            )
            if active is not None:
                raise Busy(
                    f"environment {environment!r} is busy: job {active.id} ({active.kind}) is working on it",
                    hint=f"follow it at /api/v1/jobs/{active.id}, then retry",
                )
            self._jobs[job.id] = job
            self._events[job.id] = []
            self._save(job)
            # A daemon: a server that stops does not wait for a cluster to finish; the job is interrupted.
            thread = threading.Thread(target=self._run, args=(job.id, work), name=f"kenv-job-{job.id[:8]}", daemon=True)
            self._threads[job.id] = thread
        thread.start()
        return Job.from_dict(job.to_dict())

    def _run(self, job_id: str, work: Work) -> None:
        self._set_state(job_id, "running")
        try:
            outcome = work(JobProgress(self, job_id))
        except KenvError as exc:
            outcome = JobOutcome(error=error_body(exc))
        except Exception as exc:  # a crash is recorded as the job's failure, never lost in a thread
            log.exception("job %s crashed", job_id)
            message = f"unexpected {type(exc).__name__}: {exc}"
            outcome = JobOutcome(error={"message": message, "hint": None, "exit_code": 1, "status": 500})
        with self._lock:
            self._threads.pop(job_id, None)
            if self._closed:
                return  # the server stopped meanwhile: the job is recorded as interrupted
            job = self._jobs[job_id]
            job.result, job.error = outcome.result, outcome.error
            self._set_state(job_id, "failed" if outcome.error else "succeeded")

    def wait(self, job_id: str, timeout: float) -> None:
        """For a clean shutdown and tests: until the job's thread ends (or the timeout)."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        """A stopping server: what still runs is recorded as interrupted, and nothing after that."""
        with self._lock:
            self.interrupt_unfinished()
            self._closed = True

    def step_finished(self, job_id: str, step: dict[str, Any]) -> None:
        with self._lock:
            if self._closed:
                return
            job = self._jobs[job_id]
            job.steps.append(step)
            self._save(job)

    def _set_state(self, job_id: str, state: str) -> None:
        with self._lock:
            if self._closed:
                return
            job = self._jobs[job_id]
            job.state = state
            if state == "running":
                job.started_at = now()
            elif state in TERMINAL:
                job.finished_at = now()
            self._save(job)
            self.append_event(job_id, "state", {"state": state, "job": job.to_dict()})

    def interrupt_unfinished(self) -> list[str]:
        """Jobs left queued or running by a server that stopped: `interrupted`, with a state event."""
        interrupted = []
        with self._lock:
            for job in self._jobs.values():
                if job.state not in TERMINAL:
                    job.error = {
                        "message": f"the server stopped while this {job.kind} of {job.environment} ran",
                        "hint": "run it again: it resumes where it stopped",
                        "exit_code": 1,
                        "status": 500,
                    }
                    self._set_state(job.id, "interrupted")
                    interrupted.append(job.id)
        return interrupted

    # -- events --------------------------------------------------------------
    def append_event(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        with self._lock:
            if self._closed:
                return
            events = self._events_of(job_id)
            record = {"event": event, "data": {"seq": len(events) + 1, "time": now(), **data}}
            events.append(record)
            with (self.root / f"{job_id}.events.jsonl").open("a") as handle:
                handle.write(json.dumps(record, default=str) + "\n")
            listeners = list(self._listeners.get(job_id, ()))
        for listener in listeners:
            listener()

    def subscribe(self, job_id: str, listener: Listener) -> None:
        with self._lock:
            self._listeners.setdefault(job_id, set()).add(listener)

    def unsubscribe(self, job_id: str, listener: Listener) -> None:
        with self._lock:
            self._listeners.get(job_id, set()).discard(listener)

    # -- disk ----------------------------------------------------------------
    def _events_of(self, job_id: str) -> list[dict[str, Any]]:
        events = self._events.get(job_id)
        if events is None:
            events = []
            path = self.root / f"{job_id}.events.jsonl"
            if path.exists():
                for line in path.read_text().splitlines():
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        log.warning("skipped a damaged line of %s", path)  # a kill mid-write cuts the last line
            self._events[job_id] = events
        return events

    def _save(self, job: Job) -> None:
        write_file(self.root / f"{job.id}.json", json.dumps(job.to_dict(), default=str), force=True, mode=0o600)

    def _load(self) -> None:
        for path in self.root.glob("*.json"):
            if not _JOB_ID.match(path.stem):
                continue
            try:
                job = Job.from_dict(json.loads(path.read_text()))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipped job record %s: %s", path, exc)
                continue
            self._jobs[job.id] = job
        self.interrupt_unfinished()
        finished = sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
        for job in finished[KEEP_FINISHED:]:
            del self._jobs[job.id]
            for path in (self.root / f"{job.id}.json", self.root / f"{job.id}.events.jsonl"):
                path.unlink(missing_ok=True)
