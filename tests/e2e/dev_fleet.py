"""The fleet the doctor and PostgreSQL end-to-end tests start from: the provider fakes holding one
k3d environment `dev`, made with `--subnet none` (no Docker network for the fakes to allocate).

A test module takes it as `fleet = dev_fleet.fleet` (a plain import would shadow the parameter name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    world.ok("create", "dev", "--subnet", "none")
    yield world
    world.kill_fakes()
