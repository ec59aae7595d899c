"""Seeding the fake kubectl with a doctor fixture's objects."""

from __future__ import annotations

import json
from pathlib import Path

from tests.doctor_cases import DOCTOR_FIXTURES

SEEDED_PARTS = ("pods", "events", "pvcs", "storageclasses", "configmaps", "statefulsets")


def seed_from_fixture(state: Path, fixture: str, environment: str = "dev") -> None:
    """Write the objects of doctor fixture `fixture` as what the fake kubectl of `environment` serves."""
    document = json.loads((DOCTOR_FIXTURES / fixture).read_text())
    objects = [item for part in SEEDED_PARTS for item in document["objects"].get(part, [])]
    directory = state / "kubeseed"
    directory.mkdir(exist_ok=True)
    (directory / f"{environment}.json").write_text(json.dumps({"objects": objects, "logs": []}))
