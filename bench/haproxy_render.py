"""HAProxy (issue 11 §4), measured side by side in one run.

1. Rendering the whole configuration for 1,000 environments (`platform.haproxy.render.render`)
   beside a bare string join of the same lines (no checks, no sorting): target <= 100 ms, median.
   `haproxy -c` of that file is timed too (it runs before every swap).
2. Requests lost across 20 graceful reloads under load: the host's haproxy in master-worker mode
   started and reloaded by `kenv.runtime.haproxy` exactly as `kenv routes sync` does (render,
   `haproxy -c`, rename, SIGUSR2, wait for the new worker), alternately adding and removing a
   route, while two threads send requests to a loopback backend (one on a keep-alive connection,
   one opening a connection per request). Target: 0 lost.

Usage: .venv/bin/python bench/haproxy_render.py [--runs 21] [--reloads 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine
from kenv.platform.haproxy.render import ConfigInput, Listen, Route, render
from kenv.runtime import haproxy as hx
from kenv.runtime.process import Runner


def routes(count: int) -> list[Route]:
    return [Route(f"env{i:04d}", f"10.{200 + i // 250}.{i % 250}.2", 30080) for i in range(count)]


def bare_join(items: list[Route], base: str) -> str:
    lines = ["frontend fe_http", "    bind 127.0.0.1:80"]
    lines += [
        f"    use_backend be_env_{r.environment} if {{ var(txn.host) -m end .{r.environment}.{base} }}" for r in items
    ]
    for r in items:
        lines += [f"backend be_env_{r.environment}", f"    server node {r.address}:{r.port}"]
    return "\n".join(lines)


def median_ms(work: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def load(port: int, stop: threading.Event, counts: dict[str, int], keep_alive: bool) -> None:
    conn: http.client.HTTPConnection | None = None
    while not stop.is_set():
        reused = conn is not None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/", headers={"Host": "app.dev.localtest.me"})
            response = conn.getresponse()
            ok = response.status == 200 and response.read() == b"ok"
            counts["ok" if ok else "lost"] += 1
            if not keep_alive or response.will_close:
                conn.close()
                conn = None
        except OSError:
            conn.close()
            conn = None
            # A reused keep-alive connection closed between requests is retried (RFC 9112 9.3.1).
            if not reused:
                counts["lost"] += 1
            else:
                counts["retried"] += 1


def reloads_under_load(reloads: int) -> dict[str, float]:
    backend_port = free_port()
    server = Quiet(("127.0.0.1", backend_port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="kenv-bench-haproxy-"))
    paths = hx.Paths(work)
    http_port = free_port()
    runner = Runner()

    def install(extra: bool) -> None:
        items = [Route("dev", "127.0.0.1", backend_port)] + (
            [Route("extra", "127.0.0.1", backend_port)] if extra else []
        )
        text = render(
            ConfigInput(
                "localtest.me",
                items,
                listen=Listen("127.0.0.1", http_port, free_port()),
                stats_socket=str(paths.stats_socket),
            )
        )
        new = work / ".haproxy.cfg.new"
        new.write_text(text)
        hx.check_config_binary(runner, new)
        os.replace(new, paths.config)

    install(False)
    hx.start_binary(runner, paths)
    stop = threading.Event()
    counts = {"ok": 0, "lost": 0, "retried": 0}
    threads = [threading.Thread(target=load, args=(http_port, stop, counts, ka)) for ka in (True, False)]
    for thread in threads:
        thread.start()
    reload_ms = []
    try:
        time.sleep(0.3)
        for i in range(reloads):
            started = time.perf_counter()
            install(i % 2 == 0)
            hx.reload_binary(paths)
            reload_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        hx.stop_binary(paths)
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return {**counts, "reload_ms": statistics.median(reload_ms)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--reloads", type=int, default=20)
    args = parser.parse_args()
    print(machine())
    items = routes(1000)
    config = ConfigInput("localtest.me", items, listen=Listen("127.0.0.1", 80, 443), stats_socket="/run/kenv.sock")
    kenv_ms = median_ms(lambda: render(config), args.runs)
    bare_ms = median_ms(lambda: bare_join(items, "localtest.me"), args.runs)
    print(f"render 1,000 environments: kenv {kenv_ms:.1f} ms, bare join {bare_ms:.1f} ms (x{kenv_ms / bare_ms:.1f})")
    if shutil.which("haproxy") is None:
        print("haproxy not installed: the check and reload measurements are skipped")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".cfg") as handle:
        handle.write(render(config))
        handle.flush()
        started = time.perf_counter()
        subprocess.run(["haproxy", "-c", "-q", "-f", handle.name], check=True)
        print(f"haproxy -c of that file: {(time.perf_counter() - started) * 1000:.0f} ms")
    result = reloads_under_load(args.reloads)
    print(
        f"{args.reloads} reloads under load: {int(result['ok'])} requests answered, {int(result['lost'])} lost, "
        f"{int(result['retried'])} keep-alive retries; reload (render + check + swap + new worker) "
        f"median {result['reload_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
