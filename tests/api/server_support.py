"""A real `kenv serve` process on a loopback port, with the provider fakes on PATH, and a small
client for its API (httpx, keep-alive) that parses its server-sent events."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import KENV
from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port

START_TIMEOUT = 20.0


@dataclass
class Event:
    id: int
    event: str
    data: dict[str, Any]
    received: float  # time.time() when the client read it


def parse_sse(lines: Iterator[str]) -> Iterator[Event | str]:
    """Events as the SSE grammar frames them (a blank line ends one); comments come out as text."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if fields:
                yield Event(int(fields["id"]), fields["event"], json.loads(fields["data"]), time.time())
            fields = {}
        elif line.startswith(":"):
            yield line
        else:
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value


class Server:
    """`kenv serve` for one fleet; `start()` again after `kill()` is a restart on the same data."""

    def __init__(self, fleet: Fleet, **extra: str) -> None:
        self.fleet = fleet
        self.extra = extra
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.banner = ""

    def start(self, **extra: str) -> Server:
        env = {**self.fleet.env, **self.extra, **extra}
        self.proc = subprocess.Popen(
            [*KENV, "serve", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline().strip()
        assert self.banner.startswith("kenv serve: http://"), (self.banner, self._stderr())
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.05)
        raise AssertionError(f"kenv serve did not answer: {self._stderr()}")

    def _stderr(self) -> str:
        if self.proc is None or self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def token(self) -> str:
        return self.fleet.ok("serve", "token").strip()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        return httpx.Client(base_url=f"{self.base}/api/v1", headers=headers, timeout=30)

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=15)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill(signal.SIGTERM)


def events(client: httpx.Client, job_id: str, *, after: int | None = None, timeout: float = 60) -> list[Event]:
    """Every event of a job until the stream ends (after the terminal state)."""
    params = {"after": after} if after is not None else {}
    found: list[Event] = []
    with client.stream("GET", f"/jobs/{job_id}/events", params=params, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        found.extend(e for e in parse_sse(response.iter_lines()) if isinstance(e, Event))
    return found


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed", "interrupted"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end: {job}")

