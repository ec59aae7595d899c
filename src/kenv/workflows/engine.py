"""Running a workflow: an ordered list of named, idempotent steps.

Each step first checks whether its effect is already there (then it is skipped), otherwise it
acts. Progress is reported to a Progress sink (the CLI draws it) and recorded through a callback
(the inventory's last completed step). On failure, what this run did is undone in reverse order
unless keep_on_failure, and the failure callback records the error. The result keeps the
error's exit code (refused input that changed nothing stays 2) and the step's traceback, so the
CLI exits and explains as if the error had reached it. In a dry run, steps run against a
recording Runner, or describe themselves, so the plan printed is the exact one.
"""

from __future__ import annotations

import logging
import shlex
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kenv.errors import ExternalCommandError, KenvError
from kenv.runtime.process import Runner

log = logging.getLogger("kenv.workflows")


@dataclass
class Step:
    name: str
    run: Callable[[], str | None]
    done: Callable[[], bool] | None = None
    undo: Callable[[], None] | None = None
    # In a dry run: describe instead of run (for steps whose action is not a command).
    plan: Callable[[], str] | None = None


@dataclass
class StepOutcome:
    name: str
    result: str  # done | skipped | failed | planned | rolled-back | not-run
    seconds: float = 0.0
    detail: str = ""
    commands: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "result": self.result,
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
            "commands": self.commands,
        }


@dataclass
class WorkflowResult:
    workflow: str
    environment: str
    dry_run: bool
    ok: bool = True
    steps: list[StepOutcome] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    rolled_back: list[str] = field(default_factory=list)
    # How the failure maps to an exit code (2 when a step refused invalid input, nothing changed;
    # 1 when an operation failed), and the failed step's traceback for `--debug`.
    exit_code: int = 0
    traceback: str | None = None
    # The failed step's error class: the API answers a tool failure (502) apart from other failures.
    cause: type[BaseException] | None = field(default=None, repr=False, compare=False)

    def fail(self, error: str, exit_code: int = 1, trace: str | None = None) -> None:
        self.ok, self.error, self.exit_code, self.traceback = False, error, exit_code, trace

    def failure_message(self) -> str:
        """The one line a failed run is reported with (the CLI's error, the API's job error)."""
        rolled = f"; rolled back: {', '.join(self.rolled_back)}" if self.rolled_back else ""
        return f"{self.workflow} {self.environment} failed: {self.error}{rolled}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "environment": self.environment,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "steps": [s.to_dict() for s in self.steps],
            "rolled_back": self.rolled_back,
            "exit_code": self.exit_code,
        }


class Progress(Protocol):
    def step_started(self, environment: str, index: int, total: int, step: str) -> None: ...

    def step_finished(self, environment: str, index: int, total: int, outcome: StepOutcome) -> None: ...

    def note(self, environment: str, text: str) -> None: ...


class SilentProgress:
    def step_started(self, environment: str, index: int, total: int, step: str) -> None:
        pass

    def step_finished(self, environment: str, index: int, total: int, outcome: StepOutcome) -> None:
        pass

    def note(self, environment: str, text: str) -> None:
        pass


def _is_done(step: Step) -> bool:
    """A tool that could not be asked means "not done": acting is the idempotent choice (and, in
    a dry run, the plan). Any other error from a check, such as a conflict it found, fails the step."""
    if step.done is None:
        return False
    try:
        return step.done()
    except ExternalCommandError as exc:
        log.debug("could not check whether %s is done: %s", step.name, exc)
        return False


def execute(
    workflow: str,
    environment: str,
    steps: list[Step],
    *,
    runner: Runner,
    progress: Progress,
    dry_run: bool = False,
    keep_on_failure: bool = False,
    on_step_done: Callable[[str], None] | None = None,
    on_failure: Callable[[str, str | None], None] | None = None,
) -> WorkflowResult:
    result = WorkflowResult(workflow, environment, dry_run)
    started = time.monotonic()
    ran: list[Step] = []
    last_done: str | None = None
    total = len(steps)
    for index, step in enumerate(steps, start=1):
        progress.step_started(environment, index, total, step.name)
        step_started = time.monotonic()
        planned_before = len(runner.planned)
        try:
            if _is_done(step):
                outcome = StepOutcome(step.name, "skipped", detail="already there")
            elif dry_run and step.plan is not None:
                outcome = StepOutcome(step.name, "planned", detail=step.plan())
            else:
                ran.append(step)
                detail = step.run() or ""
                outcome = StepOutcome(step.name, "planned" if dry_run else "done", detail=detail)
        except (Exception, KeyboardInterrupt) as exc:
            message = exc.one_line() if isinstance(exc, KenvError) else f"{type(exc).__name__}: {exc}"
            if isinstance(exc, KeyboardInterrupt):
                message = "interrupted"
            outcome = StepOutcome(step.name, "failed", time.monotonic() - step_started, message)
            result.steps.append(outcome)
            progress.step_finished(environment, index, total, outcome)
            result.fail(f"step {step.name!r} failed: {message}", _exit_code(exc, result.steps), traceback.format_exc())
            result.cause = type(exc)
            if not dry_run and not isinstance(exc, KeyboardInterrupt) and not keep_on_failure:
                result.rolled_back = _roll_back(ran, environment, progress)
            for rest in steps[index:]:
                result.steps.append(StepOutcome(rest.name, "not-run"))
            if on_failure is not None and not dry_run:
                on_failure(result.error or message, last_done)
            result.seconds = time.monotonic() - started
            if isinstance(exc, KeyboardInterrupt):
                raise
            return result
        outcome.seconds = time.monotonic() - step_started
        outcome.commands = [shlex.join(argv) for argv in runner.planned[planned_before:]]
        result.steps.append(outcome)
        progress.step_finished(environment, index, total, outcome)
        if outcome.result == "done":
            last_done = step.name
            if on_step_done is not None:
                on_step_done(step.name)
    result.seconds = time.monotonic() - started
    return result


def _exit_code(exc: BaseException, before: list[StepOutcome]) -> int:
    """The failure's own exit code, except that "invalid input, nothing changed" (2) is not true
    once an earlier step of this run changed something: then the operation failed (1)."""
    code = exc.exit_code if isinstance(exc, KenvError) else 1
    if code == 2 and any(o.result == "done" for o in before):
        return 1
    return code


def _roll_back(ran: list[Step], environment: str, progress: Progress) -> list[str]:
    """Undo, newest first, what this run did (including the failed step's partial effect)."""
    undone = []
    for step in reversed(ran):
        if step.undo is None:
            continue
        try:
            step.undo()
            undone.append(step.name)
            progress.note(environment, f"rolled back {step.name}")
        except (KenvError, OSError) as exc:
            message = exc.one_line() if isinstance(exc, KenvError) else str(exc)
            progress.note(environment, f"could not roll back {step.name}: {message}")
            log.warning("rollback of %s for %s failed: %s", step.name, environment, message)
    return undone
