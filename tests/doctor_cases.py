"""The doctor rules' cases (tests/fixtures/doctor/rules/cases.py: a failing and a passing snapshot
per rule), loaded by path because the fixtures are data, not a package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

DOCTOR_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "doctor"


def load_rule_cases(module_name: str) -> Any:
    """A fresh module of the cases under `module_name` (each test module its own copy)."""
    spec = importlib.util.spec_from_file_location(module_name, DOCTOR_FIXTURES / "rules" / "cases.py")
    assert spec is not None and spec.loader is not None
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    return cases
