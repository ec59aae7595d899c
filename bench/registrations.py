"""In-process registrations per second on SQLite and PostgreSQL (a real server from the pgserver
wheel, or KENV_TEST_PG_URL). Each registration is a full allocation transaction: lock, read what
is held, choose, insert, record the operation, commit.

Usage: .venv/bin/python bench/registrations.py [--count 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import POLICY, machine, spec
from kenv.inventory.repository import open_inventory


def rate(url: str, count: int, tag: str) -> float:
    with open_inventory(url) as inventory:
        started = time.perf_counter()
        for i in range(count):
            inventory.register(spec(i, prefix=tag), POLICY)
        return count / (time.perf_counter() - started)


def postgres_urls(rounds: int) -> tuple[list[str], object | None]:
    import psycopg

    server = None
    admin = os.environ.get("KENV_TEST_PG_URL")
    if not admin:
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="kenvbench"), cleanup_mode="stop")
        admin = server.get_uri()
    urls = []
    with psycopg.connect(admin, autocommit=True) as conn:
        for i in range(rounds):
            name = f"kenv_bench_{os.getpid()}_{i}"
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
            urls.append(urlunsplit(urlsplit(admin)._replace(path=f"/{name}")))
    return urls, server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="kenvbench")
    pg_urls, server = postgres_urls(args.rounds)
    results: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    try:
        for round_number in range(args.rounds):  # interleaved so both see the same machine state
            results["sqlite"].append(rate(f"sqlite:///{workdir}/r{round_number}.db", args.count, "s"))
            results["postgresql"].append(rate(pg_urls[round_number], args.count, "p"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
    print(f"machine: {machine()}; {args.count} registrations per round, {args.rounds} rounds, in-process")
    print(f"{'backend':<12} {'median reg/s':>13} {'min':>8} {'max':>8}")
    for backend, values in results.items():
        print(f"{backend:<12} {statistics.median(values):>13.0f} {min(values):>8.0f} {max(values):>8.0f}")
    ratio = statistics.median(results["sqlite"]) / statistics.median(results["postgresql"])
    print(f"sqlite / postgresql: {ratio:.2f}")


if __name__ == "__main__":
    main()
