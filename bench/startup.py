"""Start-up cost: cold `kenv --help` and `kenv list -o json` over 1,000 environments (SQLite),
each beside `python3 -c pass` and, where kubectl is installed, `kubectl --help` (the Go CLI our
users compare us with), measured interleaved in the same run. Prints medians and ratios.

Usage: .venv/bin/python bench/startup.py [--runs 21] [--environments 1000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_RANGES, machine, median_ms, populate, time_command, user_environment
from kenv.inventory.repository import open_inventory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--environments", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        db = Path(home) / "bench.db"
        url = f"sqlite:///{db}"
        with open_inventory(url) as inventory:
            populate(inventory, args.environments)
        env = {**user_environment(), "KENV_HOME": home, "KENV_DB_URL": url, **BENCH_RANGES}
        kenv = str(Path(sys.executable).with_name("kenv"))
        kubectl = shutil.which("kubectl")
        commands = {
            "python3 -c pass": [sys.executable, "-c", "pass"],
            "kenv --help": [kenv, "--help"],
            **({"kubectl --help": [kubectl, "--help"]} if kubectl else {}),
            f"kenv list -o json ({args.environments} envs)": [kenv, "list", "-o", "json"],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():  # warm the page cache and .pyc files once
            time_command(argv, env)
        for _ in range(args.runs):
            for name, argv in commands.items():
                samples[name].append(time_command(argv, env))

    baseline = median_ms(samples["python3 -c pass"])
    print(f"machine: {machine()}; {args.runs} runs each, interleaved")
    print(f"{'command':<40} {'median ms':>10} {'x python':>9}")
    for name, values in samples.items():
        print(f"{name:<40} {median_ms(values):>10.1f} {median_ms(values) / baseline:>9.1f}")


if __name__ == "__main__":
    main()
