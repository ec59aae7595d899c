"""The dashboard in headless Chromium against a real `kenv serve` (issue 12 §3): log in, create an
environment and watch its steps arrive, reload mid-job, delete, a doctor finding's cause tree,
the images sync button, the platform picture and history. Screenshots: tests/browser/artifacts/."""

from __future__ import annotations

import json
import signal
import urllib.error
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Selenium is a dev dependency; without it this module is skipped, saying so, not an import error.
pytest.importorskip("selenium", reason="needs selenium (pip install -e '.[dev]')")

from selenium.webdriver.common.by import By

from tests.browser.conftest import Server
from tests.browser.page import Dashboard, selector
from tests.e2e.kubeseed import seed_from_fixture
from tests.e2e.lifecycle_support import Fleet, needs_docker
from tests.local_images import import_file_image, remove_image
from tests.netutil import free_port

CREATE_STEPS = ["record", "cluster", "kubeconfig", "ready", "running"]

# Records, in the order the page shows them, each (step, state) a step row takes: the MutationObserver
# runs after every change the page makes, so a step seen running before it is seen finished proves
# the events arrived one by one rather than all at the end.
OBSERVE_STEPS = """
window.__seen = [];
new MutationObserver(() => {
  for (const li of document.querySelectorAll('[data-testid="job-step"]')) {
    const key = li.dataset.step + ':' + li.dataset.state;
    if (!window.__seen.includes(key)) window.__seen.push(key);
  }
}).observe(document.body, {subtree: true, childList: true, attributes: true});
"""


def logged_in(browser: Any, server: Server, artifacts: Path) -> Dashboard:
    page = Dashboard(browser, server.url, artifacts)
    page.open()
    page.login(server.token)
    page.wait(lambda: page.visible("environments-table"), what="the environments table")
    return page


def test_login_refuses_a_wrong_token_then_shows_the_environments(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    server = serve()
    page = Dashboard(browser, server.url, artifacts)
    page.open()
    assert page.visible("login") and not page.visible("environments-table")
    assert "kenv serve token" in page.find("login").text  # type: ignore[union-attr]
    page.shot("login")

    page.login("not-the-token")
    error = page.wait(lambda: page.visible("login-error") and page.find("login-error"), what="the login error")
    assert "refused" in error.text and "kenv serve token" in error.text
    assert not page.visible("environments-table")
    page.shot("wrong-token")

    page.login(server.token)
    page.wait(lambda: page.row("dev"), what="the dev row")
    record = fleet.env_record("dev")
    assert record is not None
    assert page.status("dev") == "running"
    # Read in one go inside the wait: the table may be redrawn between finding the row and reading it.
    cells = page.wait(lambda: page.cells("dev"), what="the dev row's cells")
    assert cells[:4] == ["dev", "running", "k3d", "business"]
    assert f"http {record['http_port']}" in cells[4] and f"api {record['api_port']}" in cells[4]
    assert "Ingress" in cells[5]
    page.shot("environments")
    # Kept for this tab only, never in localStorage or a cookie.
    assert browser.execute_script("return sessionStorage.getItem('kenv.token')") == server.token
    assert browser.execute_script("return localStorage.length + document.cookie.length") == 0

    # A rotated token logs the tab out at its next request, saying why.
    fleet.ok("serve", "token", "--rotate")
    page.click("refresh")
    error = page.wait(lambda: page.visible("login-error") and page.find("login-error"), what="the logout")
    assert "kenv serve token --rotate" in error.text
    assert browser.execute_script("return sessionStorage.getItem('kenv.token')") is None
    page.shot("token-rotated")


def test_create_shows_each_step_as_it_happens_and_the_environment_running(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    server = serve(KENV_FAKE_DELAY="k3d:cluster-create:web=1.2")
    page = logged_in(browser, server, artifacts)
    browser.execute_script(OBSERVE_STEPS)
    # Bad input: the API's one line and hint, as the CLI words them, and nothing started.
    page.fill_create(name="Web_1")
    page.click("create-submit")
    error = page.wait(lambda: page.visible("create-error") and page.find("create-error"), what="the create error")
    assert "environment name 'Web_1' is not a DNS-1123 label" in error.text
    assert "use lowercase letters" in error.text
    assert page.job("create", "Web_1") is None and server.api("GET", "/jobs")["jobs"] == []
    page.shot("create-refused")
    page.click("create-cancel")
    page.fill_create(name="web", labels="team=shop")
    page.shot("create-form")
    page.click("create-submit")

    card = page.wait(lambda: page.job("create", "web"), what="the create job card")
    page.wait(lambda: ("cluster", "started") in page.steps(card), what="the cluster step running")
    assert page.steps(card)[0] == ("record", "finished")
    assert [step for step, _ in page.steps(card)] == ["record", "cluster"], "nothing after the running step yet"
    page.shot("cluster-step-running")

    page.wait(lambda: card.get_attribute("data-state") == "succeeded", what="the job to succeed")
    assert page.steps(card) == [(step, "finished") for step in CREATE_STEPS]
    job = server.api("GET", f"/jobs/{card.get_attribute('data-job-id')}")
    assert [step["name"] for step in job["steps"]] == CREATE_STEPS
    seen = browser.execute_script("return window.__seen")
    assert seen.index("cluster:started") < seen.index("cluster:finished")
    firsts = [next(i for i, key in enumerate(seen) if key.startswith(f"{step}:")) for step in CREATE_STEPS]
    assert firsts == sorted(firsts), f"steps arrived out of order: {seen}"

    page.wait(lambda: page.status("web") == "running", what="web running in the table")
    record = fleet.env_record("web")
    assert record is not None and record["labels"] == {"team": "shop"}
    page.shot("created")


def test_a_reload_mid_job_resumes_the_steps_where_they_were(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    server = serve(KENV_FAKE_DELAY="k3d:cluster-create:slow=3")
    page = logged_in(browser, server, artifacts)
    page.fill_create(name="slow")
    page.click("create-submit")
    card = page.wait(lambda: page.job("create", "slow"), what="the create job card")
    page.wait(lambda: ("cluster", "started") in page.steps(card), what="the cluster step running")
    page.shot("before-reload")

    reloaded_at = browser.execute_script("return Date.now()")
    browser.refresh()
    # Still logged in (the tab's sessionStorage), the card drawn again from what the tab had seen.
    card = page.wait(lambda: page.job("create", "slow"), what="the job card after the reload")
    assert page.steps(card)[:2] == [("record", "finished"), ("cluster", "started")]
    page.shot("after-reload")
    page.wait(lambda: card.get_attribute("data-state") == "succeeded", what="the job to succeed")
    assert page.steps(card) == [(step, "finished") for step in CREATE_STEPS], "each step once, in order"
    received = {
        li.get_attribute("data-step"): float(li.get_attribute("data-received-ms") or 0)
        for li in page.all(selector("job-step"), card)
    }
    # The stream resumed after the last event seen (Last-Event-ID): what was shown before the
    # reload was not sent again, what happened after it was.
    assert received["record"] < reloaded_at < received["cluster"]
    page.wait(lambda: page.status("slow") == "running", what="slow running in the table")
    page.shot("finished")


def test_a_server_restart_mid_job_shows_the_job_interrupted(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    """The page keeps following across the restart: the new server marks the job interrupted and
    the page, reconnecting after the last event it saw, shows it."""
    server = serve(KENV_FAKE_DELAY="k3d:cluster-create:cut=30")
    page = logged_in(browser, server, artifacts)
    page.fill_create(name="cut")
    page.click("create-submit")
    card = page.wait(lambda: page.job("create", "cut"), what="the create job card")
    page.wait(lambda: ("cluster", "started") in page.steps(card), what="the cluster step running")
    server.process.send_signal(signal.SIGKILL)  # as a crash or a reboot would
    server.process.wait(timeout=10)
    fleet.kill_fakes()
    server = serve(port=server.port)
    page.wait(lambda: card.get_attribute("data-state") == "interrupted", timeout=20, what="the job interrupted")
    assert page.steps(card) == [("record", "finished"), ("cluster", "unfinished")]
    assert "did not finish" in card.text
    job = server.api("GET", f"/jobs/{card.get_attribute('data-job-id')}")
    shown = card.find_element(By.CSS_SELECTOR, selector("job-error")).text
    assert shown == job["error"]["message"] and shown, "the API's one line, as it words it"
    page.shot("interrupted")


def test_delete_asks_first_then_shows_its_steps(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    fleet.ok("create", "gone", "--subnet", "none")
    fleet.ok("create", "devops", "--role", "management", "--subnet", "none")
    server = serve()
    page = logged_in(browser, server, artifacts)
    management = page.wait(lambda: page.row("devops"), what="the devops row")
    button = page.find("delete-environment", management)
    assert button is not None and not button.is_enabled(), "the management environment is not deleted from here"
    assert "kenv teardown --all" in str(button.get_attribute("title"))
    page.wait(lambda: page.row("gone"), what="the gone row")
    page.click_in_row("gone", "text=Stop")
    stop = page.wait(lambda: page.job("stop", "gone"), what="the stop job card")
    page.wait(lambda: stop.get_attribute("data-state") == "succeeded", what="the stop to succeed")
    page.wait(lambda: page.status("gone") == "stopped", what="gone stopped in the table")

    page.click_in_row("gone", "delete-environment")
    dialog = page.wait(lambda: page.visible("delete-dialog") and page.find("delete-dialog"), what="the dialog")
    assert "Delete gone?" in dialog.text
    page.shot("confirm-delete")
    page.click("delete-cancel")
    page.wait(lambda: not page.visible("delete-dialog"), what="the dialog to close")
    assert page.job("delete", "gone") is None, "cancel deletes nothing"

    page.click_in_row("gone", "delete-environment")
    page.wait(lambda: page.visible("delete-dialog"), what="the dialog")
    page.click("delete-confirm")
    card = page.wait(lambda: page.job("delete", "gone"), what="the delete job card")
    page.wait(lambda: card.get_attribute("data-state") == "succeeded", what="the delete to succeed")
    assert [step for step, _ in page.steps(card)][-1] == "record"
    page.wait(lambda: page.row("gone") is None, what="the row to go")
    assert "gone" not in fleet.clusters()["k3d"]
    page.shot("deleted")


def test_a_doctor_finding_opens_onto_its_cause_tree(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    seed_from_fixture(fleet.state, "k3d-pvc-pending-helper-image.json")
    server = serve()
    page = logged_in(browser, server, artifacts)
    page.click_in_row("dev", "open-environment")
    page.click("load-doctor")
    root_finding = '[data-testid="finding"][data-rule="image.registry-unreachable"]'
    root = page.wait(lambda: page.all(root_finding), what="the doctor's findings")[0]
    summary = page.find("doctor-summary")
    assert summary is not None and "root cause" in summary.text
    claim = root.find_element(By.CSS_SELECTOR, '[data-testid="finding"][data-rule="storage.pvc-pending-provisioner"]')
    assert not claim.is_displayed(), "symptoms stay folded under their cause"
    page.shot("doctor-findings")

    root.find_element(By.TAG_NAME, "summary").click()
    page.wait(claim.is_displayed, what="the symptom under its cause")
    assert "PersistentVolumeClaim/paas/data-postgresql-0" in claim.text
    commands = root.find_element(By.CSS_SELECTOR, selector("fix-commands")).text
    assert "$ kenv images sync dev rancher/mirrored-library-busybox:1.36.1" in commands
    claim.find_element(By.TAG_NAME, "summary").click()
    page.wait(lambda: "stays Pending" in claim.text, what="the claim's finding opened")
    page.shot("cause-tree")


@pytest.fixture
def host_image() -> Iterator[str]:
    """An image on the host's real engine (no registry is reachable from the tests)."""
    ref = import_file_image(f"kenv-test-{uuid.uuid4().hex[:8]}/web:1.0", "kenv browser test image\n")
    yield ref
    remove_image(ref)


def seed_pod(state: Path, environment: str, image: str) -> None:
    """A pod of `environment` that runs `image`, which no node holds yet."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "uid": str(uuid.uuid4())},
        "spec": {"nodeName": f"k3d-{environment}-server-0", "containers": [{"name": "web", "image": image}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"name": "web", "ready": False, "restartCount": 0, "image": image, "imageID": "",
                 "state": {"waiting": {"reason": "ErrImagePull"}}}
            ],
        },
    }  # fmt: skip
    directory = state / "kubeseed"
    directory.mkdir(exist_ok=True)
    (directory / f"{environment}.json").write_text(json.dumps({"objects": [pod], "logs": []}))


@needs_docker
def test_a_missing_image_is_synced_from_its_row(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path, host_image: str
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    seed_pod(fleet.state, "dev", host_image)
    server = serve()
    page = logged_in(browser, server, artifacts)
    page.click_in_row("dev", "open-environment")
    page.click("load-images")
    selector = f'[data-testid="missing-image"][data-ref="docker.io/{host_image}"]'
    row = page.wait(lambda: page.all(selector), what="the missing image row")[0]
    assert "k3d-dev-server-0" in row.text
    page.shot("missing-images")
    page.click("sync-image", row)
    card = page.wait(lambda: page.job("images-sync", "dev"), what="the sync job card")
    page.wait(lambda: card.get_attribute("data-state") in ("succeeded", "failed"), what="the sync to end")
    assert card.get_attribute("data-state") == "succeeded", card.text
    # The list is read again once the sync has ended: the image is on every node now.
    page.wait(lambda: page.find("images-summary") and not page.all(selector), what="the row to go")
    page.shot("synced")


def test_platform_picture_and_history(
    browser: Any, fleet: Fleet, serve: Callable[..., Server], artifacts: Path
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("create", "qa", "--subnet", "none")
    fleet.ok("stop", "qa")
    # What bootstrap records (after the creates: with it they would register there): a Portainer
    # nobody answers for, and an Argo CD URL that must never become a link.
    portainer = f"https://127.0.0.1:{free_port()}/"
    (fleet.home / "data" / "platform.json").write_text(
        json.dumps(
            {
                "version": 1,
                "components": {
                    "portainer": {"at": "2026-12-01T10:00:00+00:00", "detail": "Portainer", "url": portainer},
                    "argocd": {"at": "2026-12-01T10:00:00+00:00", "detail": "Argo CD", "url": "javascript:alert(1)"},
                },
            }
        )
    )
    server = serve()
    page = logged_in(browser, server, artifacts)
    links = page.wait(lambda: page.row("dev") and "Portainer" in page.row("dev").text and page.row("dev"))
    hrefs = {a.text: a.get_attribute("href") for a in links.find_elements(By.CSS_SELECTOR, "td.links a")}
    assert hrefs == {"Ingress": "http://dev.localtest.me/", "Portainer": portainer}

    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="platform-view"]').click()
    page.wait(lambda: page.visible("platform-picture"), what="the platform picture")
    health = {
        g.get_attribute("data-name"): g.get_attribute("data-health")
        for g in page.all('[data-testid="platform-environment"]')
    }
    assert health == {"dev": "healthy", "qa": "stopped"}
    components = page.find("platform-components")
    assert components is not None
    states = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
              for row in components.find_elements(By.CSS_SELECTOR, "tbody tr")}  # fmt: skip
    assert states == {"argocd": "down", "portainer": "down"}
    assert not browser.find_elements(By.CSS_SELECTOR, 'a[href^="javascript"]')
    page.shot("platform")

    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="history-view"]').click()
    rows = page.wait(lambda: page.all(selector("history-row")), what="history rows")
    texts = [row.text for row in rows]
    assert any("qa" in text and "stop" in text and "succeeded" in text for text in texts), texts
    assert any("dev" in text and "create" in text for text in texts), texts
    page.shot("history")

    # A refused read: the API's one line in the banner, word for word.
    rows_field = browser.find_element(By.CSS_SELECTOR, '#history-form input[name="limit"]')
    rows_field.clear()
    rows_field.send_keys("0")
    rows_field.submit()
    banner = page.wait(lambda: page.visible("error-banner") and page.find("error-banner"), what="the error banner")
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.api("GET", "/history?limit=0")
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"]["message"] == page.find("error-message").text  # type: ignore[union-attr]
    assert banner.is_displayed()
    page.shot("refused-read")
