"""The step engine on its own: steps are plain functions that note what they did."""

from __future__ import annotations

from typing import Any

import pytest

from kenv.errors import ExternalCommandError, InvalidInput, KenvError
from kenv.runtime.process import Runner
from kenv.workflows.engine import SilentProgress, Step, WorkflowResult, execute


class World:
    """What the steps did, in order; `have` is what is already there (for done-checks)."""

    def __init__(self, have: set[str] | None = None) -> None:
        self.log: list[str] = []
        self.have = set(have or ())

    def step(self, name: str, *, fail: BaseException | None = None, undo: bool = True, plan: bool = False) -> Step:
        def run() -> str:
            self.log.append(f"run {name}")
            if fail is not None:
                raise fail
            self.have.add(name)
            return f"made {name}"

        def undo_it() -> None:
            self.log.append(f"undo {name}")
            self.have.discard(name)

        return Step(
            name,
            run,
            done=lambda: name in self.have,
            undo=undo_it if undo else None,
            plan=(lambda: f"would make {name}") if plan else None,
        )


def run(steps: list[Step], **options: Any) -> WorkflowResult:
    runner = Runner(dry_run=bool(options.get("dry_run")))
    return execute("test", "env", steps, runner=runner, progress=SilentProgress(), **options)


def results(result: WorkflowResult) -> list[tuple[str, str]]:
    return [(s.name, s.result) for s in result.steps]


def test_every_step_runs_in_order_and_reports_progress_callbacks() -> None:
    world = World()
    done: list[str] = []
    result = run([world.step("a"), world.step("b")], on_step_done=done.append)
    assert result.ok and result.exit_code == 0 and result.error is None
    assert world.log == ["run a", "run b"] and done == ["a", "b"]
    assert results(result) == [("a", "done"), ("b", "done")]
    assert result.steps[0].detail == "made a"


def test_a_step_whose_effect_is_there_is_skipped() -> None:
    world = World(have={"a"})
    result = run([world.step("a"), world.step("b")])
    assert world.log == ["run b"]
    assert results(result) == [("a", "skipped"), ("b", "done")]


def test_a_done_check_that_cannot_ask_its_tool_means_not_done() -> None:
    world = World()

    def cannot_ask() -> bool:
        raise ExternalCommandError("k3d failed", argv=["k3d"], returncode=1, stderr_tail="")

    step = world.step("a")
    step.done = cannot_ask
    assert results(run([step])) == [("a", "done")]


def test_a_failure_undoes_what_this_run_did_newest_first() -> None:
    world = World(have={"a"})
    failed: list[tuple[str, str | None]] = []
    steps = [world.step("a"), world.step("b"), world.step("c"), world.step("d", fail=KenvError("boom"))]
    result = run([*steps, world.step("e")], on_failure=lambda error, last: failed.append((error, last)))
    assert not result.ok and result.exit_code == 1
    assert result.error == "step 'd' failed: boom"
    # a was there before this run: it is not undone; d's partial effect is.
    assert world.log == ["run b", "run c", "run d", "undo d", "undo c", "undo b"]
    assert result.rolled_back == ["d", "c", "b"]
    assert results(result) == [("a", "skipped"), ("b", "done"), ("c", "done"), ("d", "failed"), ("e", "not-run")]
    assert failed == [("step 'd' failed: boom", "c")]


def test_keep_on_failure_undoes_nothing() -> None:
    world = World()
    result = run([world.step("a"), world.step("b", fail=KenvError("boom"))], keep_on_failure=True)
    assert not result.ok and result.rolled_back == []
    assert world.log == ["run a", "run b"] and world.have == {"a"}


def test_a_rerun_resumes_where_the_failed_one_stopped() -> None:
    world = World()
    first = run([world.step("a"), world.step("b", fail=KenvError("boom"))], keep_on_failure=True)
    assert not first.ok
    world.log.clear()
    second = run([world.step("a"), world.step("b")])
    assert second.ok and world.log == ["run b"]
    assert results(second) == [("a", "skipped"), ("b", "done")]


def test_a_dry_run_plans_runs_commands_on_the_recording_runner_and_undoes_nothing() -> None:
    world = World(have={"a"})
    runner = Runner(dry_run=True)

    def command() -> str:
        runner.run(["k3d", "cluster", "create", "env"], timeout=1)
        return "cluster"

    steps = [world.step("a"), world.step("b", plan=True), Step("c", command), world.step("d", plan=True)]
    result = execute("test", "env", steps, runner=runner, progress=SilentProgress(), dry_run=True)
    assert result.ok and result.dry_run
    assert world.log == [], "a step with a plan describes itself instead of running"
    assert results(result) == [("a", "skipped"), ("b", "planned"), ("c", "planned"), ("d", "planned")]
    assert result.steps[1].detail == "would make b"
    assert result.steps[2].commands == ["k3d cluster create env"]


def test_a_failed_dry_run_neither_undoes_nor_records() -> None:
    world = World()
    called: list[str] = []
    result = run(
        [world.step("a"), world.step("b", fail=KenvError("boom"))],
        dry_run=True,
        on_failure=lambda *_: called.append("x"),
    )
    assert not result.ok and result.rolled_back == [] and called == []


def test_refused_input_keeps_its_exit_code_and_traceback() -> None:
    world = World()
    result = run([world.step("a", fail=InvalidInput("'env' has no k3d cluster"))])
    assert result.exit_code == 2, "invalid input, nothing changed"
    assert result.traceback is not None and "InvalidInput" in result.traceback and "in run" in result.traceback
    assert result.to_dict()["exit_code"] == 2


def test_refused_input_after_a_change_is_a_failed_operation() -> None:
    world = World()
    result = run([world.step("a"), world.step("b", fail=InvalidInput("bad"))], keep_on_failure=True)
    assert result.exit_code == 1, "something was changed before: not 'nothing changed'"


def test_an_unexpected_error_is_a_failed_step_with_its_type() -> None:
    world = World()
    result = run([world.step("a", fail=ValueError("oops"))])
    assert result.exit_code == 1 and result.error == "step 'a' failed: ValueError: oops"


def test_an_interrupt_is_raised_after_recording_without_undo() -> None:
    world = World()
    failed: list[str] = []
    steps = [world.step("a"), world.step("b", fail=KeyboardInterrupt())]
    with pytest.raises(KeyboardInterrupt):
        run(steps, on_failure=lambda error, last: failed.append(error))
    assert world.log == ["run a", "run b"], "an interrupt leaves the state for the rerun to resume"
    assert failed == ["step 'b' failed: interrupted"]
