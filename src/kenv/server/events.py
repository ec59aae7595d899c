"""A job's events as server-sent events: first every stored event after the one the client last
saw (`Last-Event-ID`, or `?after=N`), then each new one as the worker thread records it (the
store calls a listener that wakes this stream's event loop at once: no polling), a `: keep-alive`
comment every 15 s, and the end of the stream after the terminal `state` event."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from kenv.server.jobs import TERMINAL, JobStore

KEEP_ALIVE_SECONDS = 15.0


def format_event(record: dict[str, Any]) -> str:
    data = record["data"]
    return f"id: {data['seq']}\nevent: {record['event']}\ndata: {json.dumps(data, default=str)}\n\n"


def is_terminal(record: dict[str, Any]) -> bool:
    return record["event"] == "state" and record["data"].get("state") in TERMINAL


async def stream(store: JobStore, job_id: str, after: int) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def listener() -> None:
        # Called from the job's worker thread; a closed loop (the client left) has nothing to wake.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    store.subscribe(job_id, listener)
    try:
        seen = after
        while True:
            wake.clear()
            for record in store.events_after(job_id, seen):
                yield format_event(record)
                seen = record["data"]["seq"]
                if is_terminal(record):
                    return
            if store.is_finished(job_id) and not store.events_after(job_id, seen):
                return  # the client has seen the end already
            try:
                await asyncio.wait_for(wake.wait(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        store.unsubscribe(job_id, listener)
