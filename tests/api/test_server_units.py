"""In-process checks of the pieces a server run cannot show: the token comparison's primitive,
the job store's restart rule, the error classes' statuses."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from kenv.errors import Busy, Conflict, ExternalCommandError, InvalidInput, KenvError, NotFound
from kenv.server import auth, events
from kenv.server import jobs as jobs_module
from kenv.server.errors import Refused, error_body, failure_body
from kenv.server.jobs import JobOutcome, JobProgress, JobStore
from kenv.workflows.engine import StepOutcome


def test_the_token_is_compared_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    source = auth.TokenSource(tmp_path)
    token = source.current()
    assert source.matches(f"Bearer {token}")
    assert not source.matches(f"Bearer {token[:-1]}x")
    assert not source.matches("Bearer ")
    assert not source.matches(None)
    wanted = token.encode()
    assert calls == [(wanted, wanted), (f"{token[:-1]}x".encode(), wanted), (b"", wanted)]


def test_a_rotated_token_replaces_the_old_one_in_a_running_source(tmp_path: Path) -> None:
    source = auth.TokenSource(tmp_path)
    old = source.current()
    new = auth.rotate_token(tmp_path)
    assert source.current() == new != old
    assert (tmp_path / "serve" / "token").stat().st_mode & 0o777 == 0o600


def _work(release: threading.Event):
    def run(progress: JobProgress) -> JobOutcome:
        progress.step_started("dev", 1, 2, "record")
        progress.step_finished("dev", 1, 2, StepOutcome("record", "done", 0.01, "recorded"))
        release.wait(10)
        return JobOutcome(result={"ok": True})

    return run


def test_a_directory_or_garbage_where_the_token_belongs_is_one_clear_error(tmp_path: Path) -> None:
    path = auth.token_path(tmp_path)
    path.mkdir(parents=True)
    with pytest.raises(InvalidInput, match=r"cannot read the API token .*: is a directory"):
        auth.load_or_create_token(tmp_path)
    path.rmdir()
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InvalidInput, match="cannot read the API token") as caught:
        auth.load_or_create_token(tmp_path)
    assert caught.value.hint is not None and f"remove {path}" in caught.value.hint


def test_a_job_left_running_is_interrupted_by_the_next_start(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    release = threading.Event()
    job = store.submit("create", "dev", _work(release))
    while len(store.events_after(job.id, 0)) < 3:
        threading.Event().wait(0.01)
    # A second store on the same files is what a restarted server sees (this one never finished).
    restarted = JobStore(tmp_path)
    again = restarted.get(job.id)
    assert again is not None and again.state == "interrupted"
    assert again.steps == [{"name": "record", "result": "done", "seconds": 0.01, "detail": "recorded"}]
    events = restarted.events_after(job.id, 0)
    assert [e["event"] for e in events] == ["state", "step-started", "step-finished", "state"]
    assert events[-1]["data"]["state"] == "interrupted" and events[-1]["data"]["seq"] == 4
    lines = (tmp_path / "serve" / "jobs" / f"{job.id}.events.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["data"]["state"] == "interrupted"
    with pytest.raises(Busy, match=f"job {job.id} \\(create\\) is working on it"):
        store.submit("delete", "dev", _work(release))
    release.set()
    store.wait(job.id, 10)
    finished = store.get(job.id)
    assert finished is not None and finished.state == "succeeded" and finished.result == {"ok": True}


def test_a_job_that_raises_fails_with_the_error_body(tmp_path: Path) -> None:
    store = JobStore(tmp_path)

    def work(progress: JobProgress) -> JobOutcome:
        raise NotFound("environment 'x' is not in the inventory", hint="see `kenv list`")

    job = store.submit("start", "x", work)
    store.wait(job.id, 10)
    ended = store.get(job.id)
    assert ended is not None and ended.state == "failed"
    assert ended.error == {
        "message": "environment 'x' is not in the inventory",
        "hint": "see `kenv list`",
        "exit_code": 2,
        "status": 404,
    }
    assert store.get("../../etc/passwd") is None


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("bad"), 400),
        (NotFound("gone"), 404),
        (Conflict("held"), 409),
        (Busy("busy"), 409),
        (Refused("no"), 403),
        (ExternalCommandError("k3d failed", argv=["k3d"], returncode=1, stderr_tail=""), 502),
        (KenvError("failed"), 500),
    ],
)
def test_each_error_class_has_its_status(error: KenvError, status: int) -> None:
    assert error_body(error)["status"] == status
    assert error_body(error)["exit_code"] == error.exit_code


def test_a_failed_workflow_is_classed_by_its_step_error() -> None:
    assert failure_body("x", 2, InvalidInput)["status"] == 400
    assert failure_body("x", 1, ExternalCommandError)["status"] == 502
    assert failure_body("x", 1, Busy)["status"] == 409
    assert failure_body("x", 1, RuntimeError)["status"] == 500


def test_a_quiet_stream_sends_keep_alives_and_wakes_at_once_for_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "KEEP_ALIVE_SECONDS", 0.2)
    store = JobStore(tmp_path)
    release = threading.Event()
    job = store.submit("create", "dev", _work(release))

    async def read() -> list[tuple[str, float]]:
        seen: list[tuple[str, float]] = []
        loop = asyncio.get_running_loop()
        async for chunk in events.stream(store, job.id, 3):  # the first three events were seen already
            seen.append((chunk, loop.time()))
            if chunk.startswith(":") and len([c for c, _ in seen if c.startswith(":")]) == 2:
                loop.call_later(0.05, release.set)  # the job ends while the stream waits
        return seen

    while len(store.events_after(job.id, 0)) < 3:
        threading.Event().wait(0.01)
    seen = asyncio.run(read())
    texts = [chunk for chunk, _ in seen]
    assert texts[:2] == [": keep-alive\n\n", ": keep-alive\n\n"]
    assert texts[-1].startswith("id: 4\nevent: state\ndata: ") and '"state": "succeeded"' in texts[-1]
    # The end arrived well before the next keep-alive would have: the worker thread woke the stream.
    assert seen[-1][1] - seen[1][1] < 0.15


def test_only_the_newest_finished_jobs_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_module, "KEEP_FINISHED", 2)
    store = JobStore(tmp_path)
    ids = []
    for name in ("a", "b", "c"):
        job = store.submit("verify", name, lambda progress: JobOutcome(result=[]))
        store.wait(job.id, 10)
        ids.append(job.id)
    again = JobStore(tmp_path)
    assert [j.id for j in again.jobs(10)] == [ids[2], ids[1]]
    assert sorted(p.name for p in (tmp_path / "serve" / "jobs").iterdir()) == sorted(
        f"{i}{suffix}" for i in ids[1:] for suffix in (".json", ".events.jsonl")
    )


def test_a_second_server_on_the_same_data_is_refused(tmp_path: Path) -> None:
    from kenv.server.state import claim_data_dir

    first = claim_data_dir(tmp_path)
    try:
        with pytest.raises(KenvError, match=rf"another kenv serve \(pid {os.getpid()}\) already serves"):
            claim_data_dir(tmp_path)
    finally:
        first.close()
    claim_data_dir(tmp_path).close()  # free again once the first one is gone
