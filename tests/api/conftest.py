"""A fleet of fakes and a `kenv serve` on it, per test (a restart test kills its own server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server_support import Server
from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


@pytest.fixture
def server(fleet: Fleet) -> Iterator[Server]:
    running = Server(fleet).start()
    yield running
    running.stop()
