"""`kenv images check` of 100 images on a 3-node k3d environment (1 server, 2 agents), with the fake
cluster tools from tests/fakes on PATH (issue 8 §6).

kenv's own time = wall time of `kenv images check` (a cold process) minus the time spent inside the
tools it ran (summed from kenv's --debug log), as bench/lifecycle.py measures a create. Two cases:
every image present on every node (exit 0), and every image missing (exit 3, naming each).

Usage: .venv/bin/python bench/images_check.py [--runs 5] [--images 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine
from lifecycle import CHILD_TIME, REPO, Checkout


def check(env: dict[str, str], refs: list[str], expected: int) -> tuple[float, float, int]:
    """(wall, kenv's own, tool calls) of one `kenv --debug images check bench REF...`."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "kenv", "--debug", "images", "check", "bench", *refs],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != expected:
        raise SystemExit(f"images check exited {result.returncode}, not {expected}: {result.stderr[-800:]}")
    children = [float(m) for m in CHILD_TIME.findall(result.stderr)]
    return wall, wall - sum(children), len(children)


def give_every_node(state_dir: Path, refs: list[str]) -> int:
    """Put the images into every kube node of the fake cluster (what a sync would leave)."""
    path = state_dir / "state.json"
    state = json.loads(path.read_text())
    nodes = 0
    for cluster in state["clusters"].values():
        for node in cluster["nodes"]:
            if node.get("kube"):
                node["images"] = sorted({*node.get("images", []), *refs})
                nodes += 1
    path.write_text(json.dumps(state, indent=2))
    return nodes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()
    refs = [f"registry.example.com/team{i % 10}/app{i}:1.{i}.0" for i in range(args.images)]
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = Checkout("this", REPO).world(tmp)
        subprocess.run(
            [sys.executable, "-m", "kenv", "create", "bench", "--agents", "2", "--subnet", "none"],
            env=env,
            capture_output=True,
            check=True,
        )
        check(env, refs, 3)  # unmeasured: bytecode caches written
        figures = {"all missing": [check(env, refs, 3) for _ in range(args.runs)]}
        nodes = give_every_node(Path(env["KENV_FAKE_STATE"]), refs)
        figures["all present"] = [check(env, refs, 0) for _ in range(args.runs)]
        for label, samples in figures.items():
            wall = statistics.median(s[0] for s in samples) * 1000
            own = statistics.median(s[1] for s in samples) * 1000
            print(
                f"images check, {args.images} images x {nodes} nodes, {label} ({args.runs} runs): median wall "
                f"{wall:.0f} ms, of which kenv itself {own:.0f} ms ({samples[0][2]} tool calls; target <= 1000 ms)"
            )


if __name__ == "__main__":
    main()
