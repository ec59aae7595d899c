"""Headless Chromium against a real `kenv serve` on loopback, with the provider fakes on PATH.

Chromium and chromedriver are Debian's (`.ci/install-system-packages` installs them); without
them, or without Selenium, every test here skips and says which is missing. One browser serves
the whole module; each test gets its own server, KENV_HOME and fake clusters (and so its own
origin: a fresh port means a fresh sessionStorage)."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KENV
from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install -e '.[dev]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"needs {path} (Debian package {package}; .ci/install-system-packages installs it)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kenv-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces for the sandbox
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Server:
    """One `kenv serve` process and the fleet it manages."""

    def __init__(self, fleet: Fleet, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.fleet = fleet
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        self.token = fleet.ok("serve", "token").strip()

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http://127.0.0.1 above
            return json.loads(response.read() or b"null")

    def wait_job(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.api("GET", f"/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed", "interrupted"):
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still running after {timeout}s")


def start_server(fleet: Fleet, tmp_path: Path, port: int = 0, **extra_env: str) -> Server:
    port = port or free_port()
    log = tmp_path / "serve.log"
    with log.open("a") as sink:
        process = subprocess.Popen(
            [*KENV, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**fleet.env, **extra_env},
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kenv serve exited {process.returncode}: {log.read_text()}")
        health = f"http://127.0.0.1:{port}/api/v1/health"
        with contextlib.suppress(OSError, urllib.error.URLError), urllib.request.urlopen(health, timeout=1) as answer:
            if answer.status == 200:
                return Server(fleet, process, port, log)
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"kenv serve did not answer on port {port}: {log.read_text()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
    server.fleet.kill_fakes()


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Fleet:
    return Fleet(isolated, tmp_path)


@pytest.fixture
def serve(fleet: Fleet, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """serve(port=0, **env) starts `kenv serve` (env: e.g. KENV_FAKE_DELAY for slow steps; port: a
    restart on the same origin); every server is stopped after the test."""
    started: list[Server] = []

    def start(port: int = 0, **extra_env: str) -> Server:
        server = start_server(fleet, tmp_path, port, **extra_env)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)


@pytest.fixture(autouse=True)
def no_script_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test passes only if the page threw nothing: an exception in a module is a bug even when
    what the test looks at came out right. (Refused requests the test makes on purpose are logged
    by Chromium as failed resources; those are not script errors.)"""
    yield
    if "browser" not in request.fixturenames:
        return
    driver = request.getfixturevalue("browser")
    errors = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    assert errors == [], errors


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go (kept after the run; .gitignore leaves them out)."""
    directory = ARTIFACTS / request.node.name.replace("/", "_")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """A failed browser test leaves a screenshot of where it stopped."""
    if call.when != "call" or call.excinfo is None:
        return
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None  # type: ignore[attr-defined]
    if driver is None:
        return
    directory = ARTIFACTS / item.name.replace("/", "_")
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        driver.save_screenshot(str(directory / "failed.png"))

