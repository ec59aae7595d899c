"""Inputs that must be rendered before discovery: kustomize directories (`kubectl kustomize`)."""

from __future__ import annotations

from pathlib import Path

from kenv.errors import InvalidInput
from kenv.runtime.process import Runner

KUSTOMIZE_TIMEOUT = 120.0
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def render_kustomize(runner: Runner, directory: str) -> str:
    """The manifests `kubectl kustomize DIRECTORY` renders. kubectl is a real dependency here: a
    missing one fails with how to install it (the Runner's error), a failed build with its stderr."""
    path = Path(directory)
    if not path.is_dir() or not any((path / name).is_file() for name in KUSTOMIZATION_FILES):
        raise InvalidInput(
            f"{directory}: not a kustomize directory (no kustomization.yaml)",
            hint="give the directory that holds kustomization.yaml, or drop --kustomize",
        )
    result = runner.run(["kubectl", "kustomize", directory], timeout=KUSTOMIZE_TIMEOUT, mutating=False)
    return result.stdout
