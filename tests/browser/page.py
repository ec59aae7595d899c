"""The dashboard as a test drives it: by its labels, data-testid attributes and visible text."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

T = TypeVar("T")


def selector(name: str) -> str:
    return f'[data-testid="{name}"]'


class Dashboard:
    def __init__(self, driver: Any, url: str, artifacts: Path) -> None:
        self.driver = driver
        self.url = url
        self.artifacts = artifacts
        self.shots = 0

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait(lambda: self.visible("login") or self.visible("environments-table"))

    def wait(self, condition: Callable[[], T], timeout: float = 15, what: str = "") -> T:
        """Poll every 20 ms (the page updates as events arrive); a stale element is a retry."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = condition()
            except StaleElementReferenceException:
                value = None  # type: ignore[assignment]
            if value:
                return value
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise AssertionError(f"timed out waiting for {what or condition}")
            time.sleep(0.02)

    def find(self, name: str, within: Any = None) -> WebElement | None:
        found = (within or self.driver).find_elements(By.CSS_SELECTOR, selector(name))
        return found[0] if found else None

    def all(self, css: str, within: Any = None) -> list[WebElement]:
        return list((within or self.driver).find_elements(By.CSS_SELECTOR, css))

    def visible(self, name: str) -> bool:
        element = self.find(name)
        return bool(element and element.is_displayed())

    def click(self, name: str, within: Any = None) -> None:
        element = self.wait(lambda: self.find(name, within), what=name)
        element.click()

    def click_in_row(self, environment: str, name: str) -> None:
        """`name` is a data-testid, or `text=Label` for a button by its label. The row and its button
        are found afresh on every try: the table is redrawn as events arrive, so an element found a
        moment ago may be gone (stale) by the click."""

        def attempt() -> bool:
            row = self.row(environment)
            if row is not None and name.startswith("text="):
                found = row.find_elements(By.XPATH, f".//button[text()='{name[5:]}']")
                button = found[0] if found else None
            else:
                button = self.find(name, row) if row is not None else None
            if button is None:
                return False
            button.click()
            return True

        self.wait(attempt, what=f"{name} in the row of {environment}")

    def shot(self, label: str) -> Path:
        self.shots += 1
        path = self.artifacts / f"{self.shots:02d}-{label}.png"
        self.driver.save_screenshot(str(path))
        return path

    def login(self, token: str) -> None:
        field = self.wait(lambda: self.find("token-input"), what="the token field")
        field.clear()
        field.send_keys(token)
        self.click("login-button")

    def row(self, name: str) -> WebElement | None:
        found = self.all(f'{selector("environment-row")}[data-name="{name}"]')
        return found[0] if found else None

    def cells(self, name: str) -> list[str] | None:
        """The texts of an environment's row (a stale row raises, which `wait` retries)."""
        row = self.row(name)
        return [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] if row is not None else None

    def status(self, name: str) -> str | None:
        row = self.row(name)
        return row.get_attribute("data-status") if row else None

    def job(self, kind: str, environment: str) -> WebElement | None:
        found = self.all(f'{selector("job")}[data-kind="{kind}"][data-environment="{environment}"]')
        return found[0] if found else None

    def steps(self, card: WebElement) -> list[tuple[str, str]]:
        """(step, state) of each step row in page order; state is started or finished."""
        return [
            (str(li.get_attribute("data-step")), str(li.get_attribute("data-state")))
            for li in self.all(selector("job-step"), card)
        ]

    def fill_create(self, **fields: str) -> None:
        self.click("show-create")
        form = self.wait(lambda: self.find("create-form"), what="the create form")
        for name, value in fields.items():
            element = form.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)
