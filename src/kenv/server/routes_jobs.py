"""/jobs: the jobs newest first, one job, and its events as server-sent events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from kenv.errors import InvalidInput, NotFound
from kenv.server.events import stream
from kenv.server.models import Job, JobList
from kenv.server.state import ServerState

router = APIRouter(tags=["jobs"])

# One server-sent event as its fields (`data` is one line of JSON; see the job events in the docs).
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"type": "string", "enum": ["step-started", "step-finished", "note", "state"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["id", "event", "data"],
}


def _state(request: Request) -> ServerState:
    state = request.app.state.kenv
    assert isinstance(state, ServerState)
    return state


def _no_such_job(job_id: str) -> NotFound:
    return NotFound(f"no job {job_id!r}", hint="GET /api/v1/jobs lists the jobs this server knows")


@router.get("/jobs", response_model=JobList)
def list_jobs(request: Request, limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
    """The jobs, newest first."""
    return {"jobs": [job.to_dict() for job in _state(request).jobs.jobs(limit)]}


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """A job: its state, the steps finished so far, and its result or error once it ended."""
    job = _state(request).jobs.get(job_id)
    if job is None:
        raise _no_such_job(job_id)
    return job.to_dict()


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": EVENT_SCHEMA}}, "description": "server-sent events"}},
)
def job_events(
    request: Request,
    job_id: str,
    after: int | None = Query(None, ge=0, description="Replay the events after this seq."),
    last_event_id: str | None = Header(None, alias="Last-Event-ID", pattern=r"^\s*[0-9]+\s*$"),
) -> StreamingResponse:
    """Server-sent events: step-started, step-finished, note, state. Stored ones after
    `Last-Event-ID` (or `after`) first, then each as it happens; the stream ends after the
    terminal `state` event."""
    state = _state(request)
    if state.jobs.get(job_id) is None:
        raise _no_such_job(job_id)
    seen = after or 0
    if last_event_id:
        if not last_event_id.strip().isdigit():
            raise InvalidInput(
                f"Last-Event-ID {last_event_id!r} is not an event number", hint="send the id: of an event"
            )
        seen = max(seen, int(last_event_id))
    return StreamingResponse(
        stream(state.jobs, job_id, seen),
        media_type="text/event-stream",
        # No proxy or browser may buffer or keep it: each event matters when it happens.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
