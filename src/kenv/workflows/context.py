"""What a workflow needs: settings, its own inventory connection per thread, the Runner,
providers, progress, and a lock per environment so two kenv processes never work on one
environment at once."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kenv.catalogue import facts_for
from kenv.errors import Busy, ExternalCommandError, KenvError
from kenv.inventory.model import Environment
from kenv.inventory.repository import AllocationPolicy, Inventory, open_inventory
from kenv.providers.base import Provider
from kenv.providers.registry import provider_for
from kenv.runtime.process import Runner
from kenv.settings import Settings
from kenv.workflows.engine import Progress, SilentProgress, WorkflowResult

LOCK_WAIT_SECONDS = 30.0
ENGINE = "docker engine"
log = logging.getLogger("kenv.workflows")


@dataclass
class Outcome:
    """How an operation ended, for `kenv history`; `skip` when nothing changed (a refused input)."""

    ok: bool = True
    detail: str | None = None
    error: str | None = None
    skip: bool = False

    def of(self, result: WorkflowResult) -> None:
        self.ok, self.error = result.ok, result.error
        self.skip = self.skip or result.exit_code == 2
        done = [s.name for s in result.steps if s.result == "done"]
        self.detail = self.detail or ("steps: " + ", ".join(done) if done else "nothing to do")


@dataclass
class WorkflowContext:
    settings: Settings
    runner: Runner = field(default_factory=Runner)
    progress: Progress = field(default_factory=SilentProgress)
    dry_run: bool = False
    # False for commands that only read: a sqlite path that does not exist is not made.
    create_inventory: bool = True
    _local: threading.local = field(default_factory=threading.local)
    _opened: list[Inventory] = field(default_factory=list)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _tools_checked: set[str] = field(default_factory=set)
    _tools_lock: threading.Lock = field(default_factory=threading.Lock)
    _tool_problems: dict[str, ExternalCommandError | None] = field(default_factory=dict)
    # The version each tool check found (None: none understood), handed to the providers.
    _tool_versions: dict[str, str | None] = field(default_factory=dict)

    def inventory(self) -> Inventory:
        """One connection per thread: SQLite and psycopg connections are not shared across threads."""
        inventory = getattr(self._local, "inventory", None)
        if inventory is None:
            inventory = open_inventory(self.settings.db_url, create=self.create_inventory)
            self._local.inventory = inventory
            with self._guard:
                self._opened.append(inventory)
        assert isinstance(inventory, Inventory)
        return inventory

    def policy(self) -> AllocationPolicy:
        return AllocationPolicy.from_settings(self.settings)

    def provider(self, name: str) -> Provider:
        provider = provider_for(name, self.runner, self.settings.data_dir)
        # A provider that chooses by its tool's version (kind's node image) takes the one the tool
        # check found instead of asking the tool again.
        adopt = getattr(provider, "adopt_tool_version", None)
        if callable(adopt) and provider.tool in self._tool_versions:
            adopt(self._tool_versions[provider.tool])
        return provider

    def node_version(self, env: Environment) -> str | None:
        """What an environment's system images are looked up by (`images.system_lists`): its
        recorded k8s_version, else the node image a create picks by the installed tool's release
        (a provider with `default_image()`, kind; None there: the tool picks its own), else None
        (the provider's fixed default). The tool is asked at most once per process."""
        if env.k8s_version:
            return env.k8s_version
        return self.default_node_version(env.provider)

    def default_node_version(self, provider: str) -> str | None:
        """The node image a create with no k8s_version gets from `provider` (see node_version)."""
        default_image = getattr(self.provider(provider), "default_image", None)
        return default_image() if callable(default_image) else None

    def ensure_tools(self, provider: str) -> None:
        """The provider's tool and kubectl installed and in the tested range, and the Docker engine
        answering, before anything is recorded or changed; asked once per process (parallel
        creates share the answer).

        The engine is asked up front because the tools do not say it is down: with no engine,
        `k3d cluster delete` answers "nothing to delete" and exits 0, and `minikube delete` removes
        the profile and leaves its containers behind."""
        facts = facts_for(provider)
        checks = [t for t in (facts.tool, "kubectl") if t is not None]
        if facts.needs_docker_engine:
            checks.append(ENGINE)
        for check in checks:
            # One thread asks, the others (apply --parallel) wait for its answer instead of
            # starting the same tools again.
            with self._tools_lock:
                if check not in self._tools_checked:
                    self._tool_problems[check] = self._tool_problem(check)
                    self._tools_checked.add(check)
                problem = self._tool_problems[check]
            if problem is not None:
                raise problem

    def _tool_problem(self, tool: str) -> ExternalCommandError | None:
        from kenv.runtime.process import ENGINE_DOWN_HINT, INSTALL_HINTS
        from kenv.runtime.tools import detect_docker, detect_remembered

        if tool == ENGINE:
            engine = detect_docker(self.runner).engine
            if engine.reachable:
                return None
            return ExternalCommandError(
                f"no Docker engine answers ({engine.detail})",
                argv=["docker", "version"],
                returncode=None,
                stderr_tail=engine.detail,
                hint=ENGINE_DOWN_HINT,
            )
        found = detect_remembered(self.runner, tool, self.settings.data_dir / "cache" / "tools.json")
        self._tool_versions[tool] = found.version
        if not found.found:
            return ExternalCommandError(
                f"{tool} is not installed (not found on PATH)",
                argv=[tool],
                returncode=None,
                stderr_tail=found.detail,
                hint=INSTALL_HINTS.get(tool, f"install {tool}"),
            )
        if not found.supported and not self.settings.allow_untested_tools:
            return ExternalCommandError(
                f"{found.detail}: kenv was not tested with this {tool}",
                argv=[tool],
                returncode=None,
                stderr_tail="",
                hint=f"install a tested version ({INSTALL_HINTS.get(tool, tool)}), "
                "or set allow_untested_tools = true (KENV_ALLOW_UNTESTED_TOOLS=1) to try anyway",
            )
        return None

    @contextlib.contextmanager
    def recorded(self, operation: str, environment: str | None) -> Iterator[Outcome]:
        """Log the operation the block runs in the operations log (`kenv history`): who, when,
        what and how it ended, an exception included. Dry runs and refused input (exit 2) changed
        nothing and are not logged."""
        outcome = Outcome()
        started = datetime.now(UTC)
        try:
            yield outcome
        except KenvError as exc:
            if exc.exit_code != 2:
                self._log(operation, environment, started, Outcome(False, outcome.detail, exc.one_line()))
            raise
        except BaseException as exc:
            error = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
            self._log(operation, environment, started, Outcome(False, outcome.detail, error))
            raise
        if not outcome.skip:
            self._log(operation, environment, started, outcome)

    def _log(self, operation: str, environment: str | None, started: datetime, outcome: Outcome) -> None:
        if self.dry_run:
            return
        try:
            inventory = self.inventory()
        except KenvError as exc:
            log.warning("could not record the %s of %s in the history: %s", operation, environment, exc)
            return
        inventory.log_operation(
            environment,
            operation,
            "succeeded" if outcome.ok else "failed",
            started_at=started,
            detail=outcome.detail,
            error=outcome.error,
        )

    def kubeconfig_path(self, name: str) -> Path:
        return self.settings.kubeconfig_dir / f"{name}.yaml"

    def close(self) -> None:
        with self._guard:
            for inventory in self._opened:
                inventory.close()
            self._opened.clear()

    def environment_lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        """An exclusive flock on <data>/locks/<name>.lock; the kernel releases it if kenv dies."""
        return self._file_lock(f"{name}.lock", f"environment {name!r}")

    def platform_lock(
        self, component: str, *, wait_seconds: float = LOCK_WAIT_SECONDS, hint: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """The same lock for one shared platform file (the HAProxy configuration, the GitOps work
        clone), so that parallel creates change it one at a time: <data>/locks/platform/<component>.lock,
        a directory of its own because every DNS label names an environment's lock (an environment
        called `gitops` would otherwise hold the GitOps lock, and its own create wait for itself)."""
        return self._file_lock(
            f"platform/{component}.lock", f"the platform's {component}", wait_seconds=wait_seconds, hint=hint
        )

    def environment_holder(self, name: str) -> str | None:
        """Who holds NAME's lock right now ("pid N"), or None when it is free: asked without
        waiting and released at once, so a caller can refuse at once instead of queueing."""
        path = self.settings.data_dir / "locks" / f"{name}.lock"
        try:
            handle = path.open("r")
        except FileNotFoundError:
            return None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or "another kenv process"
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return None

    @contextlib.contextmanager
    def _file_lock(
        self, file_name: str, what: str, *, wait_seconds: float = LOCK_WAIT_SECONDS, hint: str | None = None
    ) -> Iterator[None]:
        """Delete removes an environment's lock file while it holds the lock, so a process that was
        waiting on the old file may get its lock on a file no longer in the directory, while a
        newcomer locks a fresh one: the lock counts only when the file locked is still the one at
        the path. `hint` replaces the plain "wait, then retry" of a lock that stayed busy."""
        lock_dir = self.settings.data_dir / "locks"
        path = lock_dir / file_name
        for directory in (lock_dir, path.parent):  # `mode` applies to the last directory mkdir makes only
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        deadline = time.monotonic() + wait_seconds
        while True:
            handle = path.open("a+")
            try:
                self._flock_until(handle, what, deadline, hint)
                if _same_file(handle, path):
                    break
            except BaseException:
                handle.close()
                raise
            handle.close()  # locked a file delete has just removed: lock the new one
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            handle.close()

    @staticmethod
    def _flock_until(handle: IO[str], what: str, deadline: float, hint: str | None) -> None:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another kenv process"
                    raise Busy(
                        f"{what} is busy: {holder} is working on it",
                        hint=hint or "wait for it to finish, then retry",
                    ) from None
                time.sleep(0.05)


def _same_file(handle: IO[str], path: Path) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
