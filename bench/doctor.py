"""`kenv doctor --snapshot` on generated snapshots: 1,000, 10,000 and 50,000 pods with five events
each (issue 9 §4: 10,000 pods and 50,000 events judged in ≤ 3 s with ≤ 500 MB peak memory).

Each size is written once by bench/doctor_corpus.py (a busy cluster's mix: about one pod in ten
broken in a way the rules know, with real messages and log tails), then judged in a fresh Python
process per run, which reports its own times (reading and loading the file; building the indexes,
running every rule and linking the findings) and its peak resident memory (`resource.getrusage`,
ru_maxrss).

Usage: .venv/bin/python bench/doctor.py [--runs 3] [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def child(path: str) -> None:
    """One judged run, in this fresh process: its times and peak memory as one JSON line."""
    started = time.perf_counter()
    from kenv.doctor.engine import analyse
    from kenv.doctor.snapshot import read_snapshot_file

    snapshot = read_snapshot_file(Path(path))
    loaded = time.perf_counter()
    report = analyse(snapshot)
    done = time.perf_counter()
    json.dumps(report.to_dict())
    rendered = time.perf_counter()
    print(
        json.dumps(
            {
                "load": loaded - started,
                "analyse": done - loaded,
                "json": rendered - done,
                "total": rendered - started,
                "findings": len(report.findings),
                "roots": sum(1 for f in report.findings if f.caused_by is None),
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from _common import machine
    from doctor_corpus import write_corpus

    print(f"# kenv doctor --snapshot, {args.runs} runs per size, medians; {machine()}")
    print(
        f"{'pods':>7} {'events':>7} {'MB file':>8} {'load s':>7} {'rules s':>8} {'total s':>8} "
        f"{'peak MB':>8} {'findings':>9}"
    )
    previous = None
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            path = write_corpus(Path(scratch) / f"snapshot-{size}.json", pods=size)
            events = len(json.loads(path.read_text())["objects"]["events"])
            results = []
            for _ in range(args.runs):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
                )
                results.append(json.loads(out.stdout))
            med = {key: statistics.median(r[key] for r in results) for key in ("load", "analyse", "total", "maxrss_mb")}
            growth = f"  x{med['total'] / previous:.1f}" if previous else ""
            previous = med["total"]
            print(
                f"{size:>7} {events:>7} {path.stat().st_size / 1e6:>8.1f} {med['load']:>7.2f} {med['analyse']:>8.2f} "
                f"{med['total']:>8.2f} {med['maxrss_mb']:>8.0f} {results[0]['findings']:>9}{growth}"
            )


if __name__ == "__main__":
    main()
