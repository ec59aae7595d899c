"""Entry point shared by the tests/fakes/bin/* launchers."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

from .env import FakeEnv, FakeExit

_MODULES = {"k3d": "tool_k3d", "kind": "tool_kind", "minikube": "tool_minikube", "kubectl": "tool_kubectl"}


def main(tool: str, argv: list[str]) -> int:
    """Run fake ``tool`` with ``argv``; returns the process exit code."""
    try:
        env = FakeEnv(tool, dict(os.environ))
        env.record_call(argv)
        # import only the tool that runs: keeps start-up fast
        module = importlib.import_module(f".{_MODULES[tool]}", __package__)
        code = module.run(env, argv)
    except FakeExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 141
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    return code
