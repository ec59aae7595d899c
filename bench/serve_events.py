"""How long a job's step events take to reach the dashboard in a real browser (issue 12 §3).

`kenv serve` runs with the fake cluster tools on PATH (tests/fakes; the k3d create made slow with
KENV_FAKE_DELAY so that steps are apart, as real ones are); headless Chromium (Debian's chromium
and chromedriver, through Selenium) logs in and creates environments through the page's form.
For every `step-finished` event the page keeps the wall-clock time its bytes arrived
(`performance.timeOrigin + performance.now()`, sub-millisecond) beside the event's `time`, the
server's clock when the step ended; both clocks are this machine's. Printed: median, p95 and max
of the difference over every step of every create; target ≤ 200 ms.

Usage: .venv/bin/python bench/serve_events.py [--runs 10] [--delay 0.3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, user_environment

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TARGET_MS = 200.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def world(tmp: Path, delay: float) -> dict[str, str]:
    state = tmp / "fake-state"
    state.mkdir()
    return {
        **user_environment(),
        "PATH": os.pathsep.join(
            [str(REPO / "tests" / "fakes" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "KENV_HOME": str(tmp / "home"),
        "KENV_FAKE_STATE": str(state),
        "KUBECONFIG": str(tmp / "user-kubeconfig"),
        "KENV_FAKE_DELAY": f"k3d:cluster-create={delay}",
    }


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "kenv", "serve", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kenv serve exited {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
            return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"kenv serve did not answer: {log.read_text()}")


def browser(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait(condition: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit("timed out")


# Every finished step row of one job card: what the page received when, and the server's time.
READ_STEPS = """
const card = document.querySelector(`[data-testid="job"][data-environment="${arguments[0]}"]`);
if (!card || card.dataset.state !== "succeeded") return null;
return [...card.querySelectorAll('[data-testid="job-step"]')].map((li) => ({
  step: li.dataset.step, state: li.dataset.state,
  received: Number(li.dataset.receivedMs), server: li.dataset.serverTime,
}));
"""


def measure(runs: int, delay: float) -> tuple[list[float], int]:
    from selenium.webdriver.common.by import By

    delays: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = world(tmp, delay)
        port = free_port()
        server = start_server(env, port, tmp / "serve.log")
        token = subprocess.run(
            [sys.executable, "-m", "kenv", "serve", "token"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        driver = browser(str(tmp / "profile"))
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            wait(lambda: driver.find_elements(By.ID, "token"))
            driver.find_element(By.ID, "token").send_keys(token)
            driver.find_element(By.CSS_SELECTOR, '[data-testid="login-button"]').click()
            wait(lambda: driver.find_element(By.ID, "app").is_displayed())
            for i in range(runs + 1):  # the first create warms the server's imports; not counted
                name = f"ev{i:02d}"
                driver.find_element(By.CSS_SELECTOR, '[data-testid="show-create"]').click()
                field = driver.find_element(By.CSS_SELECTOR, '[data-testid="create-name"]')
                field.clear()
                field.send_keys(name)
                driver.find_element(By.CSS_SELECTOR, '[data-testid="create-submit"]').click()
                steps = wait(lambda: driver.execute_script(READ_STEPS, name))  # noqa: B023
                if i == 0:
                    continue
                for step in steps:
                    server_ms = datetime.fromisoformat(step["server"]).timestamp() * 1000
                    delays.append(step["received"] - server_ms)
        finally:
            driver.quit()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
            shutil.rmtree(tmp / "profile", ignore_errors=True)
    return delays, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="creates measured (each has 5 steps)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the fake k3d create takes")
    args = parser.parse_args()
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        # Not a failure of kenv: `make bench` goes on with the other benchmarks.
        print(f"serve_events: {', '.join(missing)} missing (Debian chromium, chromium-driver): nothing measured")
        return
    delays, runs = measure(args.runs, args.delay)
    delays.sort()
    p95 = delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))]
    print(f"# {machine()}")
    print(f"step-finished events, server step end → bytes in the page: {len(delays)} events over {runs} creates")
    print(
        json.dumps(
            {
                "median_ms": round(statistics.median(delays), 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(delays[-1], 1),
                "min_ms": round(delays[0], 1),
                "target_ms": TARGET_MS,
                "within_target": delays[-1] <= TARGET_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
