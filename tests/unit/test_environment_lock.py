"""The per-environment lock stays exclusive when delete removes the lock file under a waiter."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kenv.errors import Busy
from kenv.settings import load_settings
from kenv.workflows.context import WorkflowContext


def test_a_waiter_on_a_removed_lock_file_does_not_share_the_lock_with_a_newcomer() -> None:
    ctx = WorkflowContext(load_settings())
    inside: list[str] = []
    overlap: list[tuple[str, ...]] = []
    first_holds = threading.Event()
    release_first = threading.Event()
    newcomer_holds = threading.Event()
    release_newcomer = threading.Event()

    def enter(who: str) -> None:
        inside.append(who)
        if len(inside) > 1:
            overlap.append(tuple(inside))

    def first() -> None:
        with ctx.environment_lock("dev"):
            enter("first")
            first_holds.set()
            release_first.wait(5)
            # what delete does: remove the file while holding its lock
            (ctx.settings.data_dir / "locks" / "dev.lock").unlink()
            inside.remove("first")

    def waiter() -> None:
        with ctx.environment_lock("dev"):
            enter("waiter")
            time.sleep(0.3)
            inside.remove("waiter")

    def newcomer() -> None:
        with ctx.environment_lock("dev"):
            enter("newcomer")
            newcomer_holds.set()
            release_newcomer.wait(5)
            inside.remove("newcomer")

    threads = [threading.Thread(target=first), threading.Thread(target=waiter)]
    threads[0].start()
    assert first_holds.wait(5)
    threads[1].start()
    time.sleep(0.3)  # the waiter now waits on the old file
    release_first.set()
    threads[0].join(5)
    late = threading.Thread(target=newcomer)
    late.start()
    newcomer_holds.wait(1)
    time.sleep(0.5)
    release_newcomer.set()
    for thread in (threads[1], late):
        thread.join(10)
    assert overlap == [], f"two holders at once: {overlap}"


def test_an_environment_named_like_a_platform_component_does_not_hold_its_lock() -> None:
    """Creating an environment called `gitops` holds its own lock while the create commits to
    the GitOps repository under the platform's `gitops` lock: two different files."""
    ctx = WorkflowContext(load_settings())
    with ctx.environment_lock("gitops"), ctx.platform_lock("gitops", wait_seconds=0.2):
        pass
    with ctx.environment_lock("platform-haproxy"), ctx.platform_lock("haproxy", wait_seconds=0.2):
        pass


def test_a_platform_lock_that_stays_held_is_busy_with_the_callers_hint() -> None:
    ctx = WorkflowContext(load_settings())
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with ctx.platform_lock("gitops"):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(Busy) as caught, ctx.platform_lock("gitops", wait_seconds=0.2, hint="the clone is busy"):
            pass
        assert caught.value.hint == "the clone is busy"
        assert str(caught.value).startswith(f"the platform's gitops is busy: pid {os.getpid()}")
    finally:
        release.set()
        thread.join(5)
