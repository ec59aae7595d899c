"""HTTP requests through HAProxy for the tests that run it (the host's binary, the docker runtime)."""

from __future__ import annotations

import contextlib
import http.client
import threading


def get(port: int, host: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _close(conn: http.client.HTTPConnection | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()


class Load:
    """Requests in a loop, one thread on a keep-alive connection and one opening a connection
    per request; a request that gets no response, or a wrong one, is a failure. A reused
    keep-alive connection the server closed between two requests is retried once on a new
    connection, as HTTP clients do for idempotent requests (RFC 9112 section 9.3.1); that new
    connection failing counts."""

    def __init__(self, port: int, host: str, expected: str) -> None:
        self.port, self.host, self.expected = port, host, expected
        self.stop = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._keep_alive), threading.Thread(target=self._fresh)]
        for thread in self.threads:
            thread.start()

    def _check(self, status: int, body: str) -> None:
        if status == 200 and body.startswith(self.expected):
            self.ok += 1
        else:
            self.failures.append(f"{status} {body[:60]}")

    def _fresh(self) -> None:
        while not self.stop.is_set():
            try:
                self._check(*get(self.port, self.host))
            except OSError as exc:
                self.failures.append(f"new connection: {exc!r}")

    def _keep_alive(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            reused = conn is not None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            assert conn is not None
            try:
                conn.request("GET", "/", headers={"Host": self.host})
                response = conn.getresponse()
                self._check(response.status, response.read().decode())
                if response.will_close:
                    conn.close()
                    conn = None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                _close(conn)
                conn = None
                if not reused:
                    self.failures.append(f"keep-alive, new connection: {exc!r}")
            except OSError as exc:
                self.failures.append(f"keep-alive: {exc!r}")
                _close(conn)
                conn = None

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)
