"""`GET /api/v1/environments` over 1,000 environments (SQLite), from a real `kenv serve` process,
on one keep-alive connection: median and p95 of 200 requests (target: median ≤ 50 ms on the
2-core machine). Beside it, in the same run: the same records through `kenv list -o json`
in-process (the click command, stdout captured), and as a command (a fresh process each time).

Usage: .venv/bin/python bench/serve.py [--requests 200] [--environments 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_RANGES, machine, median_ms, populate, time_command, user_environment
from kenv.inventory.repository import open_inventory

TARGET_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def serve_samples(kenv: str, env: dict[str, str], requests: int, count: int) -> list[float]:
    port = free_port()
    server = subprocess.Popen([kenv, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the banner: listening
        token = subprocess.run([kenv, "serve", "token"], env=env, capture_output=True, text=True, check=True).stdout
        headers = {"Authorization": f"Bearer {token.strip()}"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples = []
        for n in range(requests + 10):  # the first ten warm the connections and caches, unmeasured
            started = time.perf_counter()
            connection.request("GET", "/api/v1/environments", headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            assert response.status == 200, body[:200]
            if n >= 10:
                samples.append(elapsed)
        assert len(json.loads(body)["environments"]) == count
        connection.close()
        return samples
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def in_process_list(env: dict[str, str], runs: int) -> list[float]:
    """`kenv list -o json` as its command runs it, minus the interpreter start and imports."""
    from kenv.cli.main import cli

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    samples = []
    try:
        for _ in range(runs + 3):
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                cli.main(args=["list", "-o", "json"], prog_name="kenv", standalone_mode=False)
            samples.append(time.perf_counter() - started)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return samples[3:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--environments", type=int, default=1000)
    args = parser.parse_args()
    kenv = str(Path(sys.executable).with_name("kenv"))
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite:///{Path(home) / 'bench.db'}"
        with open_inventory(url) as inventory:
            populate(inventory, args.environments)
        env = {**user_environment(), "KENV_HOME": home, "KENV_DB_URL": url, **BENCH_RANGES}
        api = serve_samples(kenv, env, args.requests, args.environments)
        local = in_process_list({"KENV_HOME": home, "KENV_DB_URL": url, **BENCH_RANGES}, 50)
        time_command([kenv, "list", "-o", "json"], env)  # bytecode caches written once, unmeasured
        process = [time_command([kenv, "list", "-o", "json"], env) for _ in range(11)]

    print(f"machine: {machine()}; {args.environments} environments (SQLite)")
    print(f"{'measure':<58} {'median ms':>10} {'p95 ms':>8}")
    rows = {
        f"GET /api/v1/environments, keep-alive, x{args.requests}": api,
        "kenv list -o json, in-process (click command), x50": local,
        "kenv list -o json, a process each, x11": process,
    }
    for name, samples in rows.items():
        print(f"{name:<58} {median_ms(samples):>10.1f} {p95_ms(samples):>8.1f}")
    verdict = "within" if median_ms(api) <= TARGET_MS else "OVER"
    print(f"API median {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
