"""Lifecycle overhead with the fake cluster tools from tests/fakes on PATH.

1. kenv's own time per `create`: wall time of `kenv create` (a cold process) minus the time
   spent inside the tools it ran (summed from kenv's --debug log), zero-latency fakes.
2. `apply --parallel 8` with fakes whose create takes 2 s, beside one create with the same delay.

With `--baseline DIR` (a checkout of an earlier kenv, e.g. `git worktree add /tmp/kenv-base REV`)
the same measurements run for both, interleaved run by run, and the script prints both and the
ratio this/baseline. Both run against this checkout's fakes, so only kenv's own code differs.

Usage: .venv/bin/python bench/lifecycle.py [--runs 5] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, user_environment

REPO = Path(__file__).resolve().parent.parent
CHILD_TIME = re.compile(r"exit -?\d+ after ([0-9.]+)s")


@dataclass(frozen=True)
class Checkout:
    label: str
    root: Path

    def world(self, tmp: str) -> dict[str, str]:
        state = Path(tmp) / "fake-state"
        state.mkdir(exist_ok=True)
        return {
            **user_environment(),
            # The fakes run on this interpreter (a version-manager shim would add ~100 ms per call).
            "PATH": os.pathsep.join(
                [str(REPO / "tests" / "fakes" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
            "PYTHONPATH": str(self.root / "src"),
            "KENV_HOME": str(Path(tmp) / "home"),
            "KENV_FAKE_STATE": str(state),
            "KUBECONFIG": str(Path(tmp) / "user-kubeconfig"),
        }


def kenv(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kenv", *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"kenv {' '.join(args)} failed: {result.stderr[-500:]}")
    return elapsed, result.stderr


def create_overhead(checkouts: list[Checkout], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    figures: dict[str, tuple[list[float], list[float]]] = {c.label: ([], []) for c in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        worlds = {}
        for checkout in checkouts:
            (Path(tmp) / checkout.label).mkdir()
            worlds[checkout.label] = checkout.world(str(Path(tmp) / checkout.label))
        for i in range(runs):
            for checkout in checkouts:
                elapsed, log = kenv(worlds[checkout.label], "--debug", "create", f"b{i}", "--subnet", "none")
                children = sum(float(m) for m in CHILD_TIME.findall(log))
                figures[checkout.label][0].append(elapsed)
                figures[checkout.label][1].append(elapsed - children)
    return figures


def parallel_apply(checkout: Checkout, delay: float) -> tuple[float, float]:
    slow = f"k3d:cluster-create={delay},kind:create-cluster={delay}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**checkout.world(tmp), "KENV_FAKE_DELAY": slow}
        single, _ = kenv(env, "create", "solo", "--subnet", "none")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**checkout.world(tmp), "KENV_FAKE_DELAY": slow}
        spec = Path(tmp) / "fleet.yaml"
        spec.write_text(
            "".join(
                f"- name: p{i}\n  provider: {'kind' if i % 2 else 'k3d'}\n" + ("" if i % 2 else "  subnet: none\n")
                for i in range(8)
            )
        )
        parallel, _ = kenv(env, "apply", "-f", str(spec), "--parallel", "8")
    return single, parallel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="at most 25 (a create with no subnet takes one of Docker's 30 default pools)",
    )
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier kenv to measure beside this one")
    args = parser.parse_args()
    checkouts = [Checkout("this", REPO)]
    if args.baseline:
        checkouts.insert(0, Checkout("baseline", args.baseline.resolve()))
    print(f"machine: {machine()}")
    figures = create_overhead(checkouts, args.runs)
    own = {}
    for checkout in checkouts:
        totals, mine = figures[checkout.label]
        own[checkout.label] = statistics.median(mine)
        print(
            f"[{checkout.label}] create with zero-latency fakes ({args.runs} runs): median wall "
            f"{statistics.median(totals) * 1000:.0f} ms, of which kenv itself {own[checkout.label] * 1000:.0f} ms "
            "(target <= 500 ms)"
        )
    ratios = {}
    for checkout in checkouts:
        single, parallel = parallel_apply(checkout, 2.0)
        ratios[checkout.label] = parallel / single
        print(
            f"[{checkout.label}] one create with 2 s fakes: {single:.2f} s; apply --parallel 8: {parallel:.2f} s; "
            f"ratio {parallel / single:.2f} (target <= 1.5)"
        )
    if args.baseline:
        print(
            f"this/baseline: kenv's own time per create {own['this'] / own['baseline']:.2f}, "
            f"apply --parallel 8 ratio {ratios['this'] / ratios['baseline']:.2f} (each <= 1.10)"
        )


if __name__ == "__main__":
    main()
