"""The scripted runner the provider tests stand on: it must be as strict as the real Runner is
faithful, or the provider tests prove nothing."""

from __future__ import annotations

import pytest

from kenv.errors import ExternalCommandError
from kenv.runtime.process import ENGINE_DOWN_HINT, Runner
from tests.unit.scripted_runner import ScriptedRunner

DOCKER_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"


def test_scripted_runner_is_a_runner_and_answers_in_order() -> None:
    runner = ScriptedRunner()
    runner.expect(["k3d", "version"], stdout="k3d version v5.8.3\nk3s version v1.31.5-k3s1 (default)\n")
    runner.expect(["kind", "version"], stdout="kind v0.27.0 go1.23.6 linux/amd64\n")
    assert isinstance(runner, Runner)
    assert runner.run(["k3d", "version"], timeout=5).stdout.startswith("k3d version v5.8.3")
    assert runner.run(["kind", "version"], timeout=5).stdout.startswith("kind v0.27.0")
    runner.assert_done()


def test_scripted_runner_fails_the_test_on_an_unexpected_argv() -> None:
    runner = ScriptedRunner().expect(["k3d", "cluster", "delete", "dev"])
    with pytest.raises(pytest.fail.Exception, match="unexpected call: k3d cluster delete other"):
        runner.run(["k3d", "cluster", "delete", "other"], timeout=5)


def test_scripted_runner_fails_on_calls_out_of_order() -> None:
    runner = ScriptedRunner().expect(["docker", "stop", "a"]).expect(["docker", "stop", "b"])
    with pytest.raises(pytest.fail.Exception, match="next expected: docker stop a"):
        runner.run(["docker", "stop", "b"], timeout=5)


def _like_product_code(runner: ScriptedRunner) -> list[Exception]:
    swallowed: list[Exception] = []
    try:
        runner.run(["rm", "-rf", "/"], timeout=5)
    except Exception as exc:  # what product code might do
        swallowed.append(exc)
    return swallowed


def test_scripted_runner_failure_is_not_swallowed_by_except_exception() -> None:
    # Product code catches Exception / ExternalCommandError in places: an unexpected call must
    # still end the test.
    with pytest.raises(pytest.fail.Exception):
        _like_product_code(ScriptedRunner())


def test_scripted_runner_matches_prefixes_and_repeats_anytime_answers() -> None:
    runner = ScriptedRunner()
    runner.answer(["minikube", "profile", "list", "-o", "json"], stdout='{"invalid":[],"valid":[]}')
    runner.expect(["docker", "start"], prefix=True, stdout="a\nb\n")
    for _ in range(3):
        assert runner.run(["minikube", "profile", "list", "-o", "json"], timeout=5).stdout.startswith("{")
    assert runner.run(["docker", "start", "a", "b"], timeout=5).stdout == "a\nb\n"
    # A prefix is a prefix of the argv list, not of a string.
    runner.expect(["docker", "sto"], prefix=True)
    with pytest.raises(pytest.fail.Exception):
        runner.run(["docker", "stop", "a"], timeout=5)


def test_scripted_runner_records_every_call_with_its_extra_env() -> None:
    runner = ScriptedRunner().answer(["k3d"], prefix=True)
    runner.run(["k3d", "cluster", "stop", "dev"], timeout=300, extra_env={"KUBECONFIG": "/d/kubeconfig/dev.yaml"})
    runner.run(["k3d", "cluster", "list", "-o", "json"], timeout=30, mutating=False, check=False)
    first, second = runner.calls
    assert first.extra_env == {"KUBECONFIG": "/d/kubeconfig/dev.yaml"}
    assert first.mutating and first.check and first.timeout == 300 and first.executed
    assert second.extra_env is None and not second.mutating and not second.check
    assert runner.argvs == [("k3d", "cluster", "stop", "dev"), ("k3d", "cluster", "list", "-o", "json")]


def test_scripted_runner_plans_mutating_calls_in_a_dry_run_like_the_real_runner() -> None:
    runner = ScriptedRunner(dry_run=True).answer(["docker", "ps"], prefix=True, stdout="")
    planned = runner.run(["kind", "delete", "cluster", "--name", "dev"], timeout=300)
    read = runner.run(["docker", "ps", "-a"], timeout=15, mutating=False)
    assert planned.executed is False and planned.ok
    assert read.executed is True
    assert runner.planned == [("kind", "delete", "cluster", "--name", "dev")]
    assert [c.executed for c in runner.calls] == [False, True]
    # A dry run never answers a mutating call from the script, so it never consumes one either.
    runner.expect(["kind", "delete", "cluster", "--name", "dev"])
    runner.run(["kind", "delete", "cluster", "--name", "dev"], timeout=300)
    with pytest.raises(pytest.fail.Exception, match="never made"):
        runner.assert_done()


def test_scripted_runner_check_raises_the_real_failure_with_the_engine_hint() -> None:
    runner = ScriptedRunner().expect(["docker", "stop", "dev-control-plane"], returncode=1, stderr=DOCKER_DOWN)
    with pytest.raises(ExternalCommandError) as caught:
        runner.run(["docker", "stop", "dev-control-plane"], timeout=120)
    assert caught.value.returncode == 1
    assert caught.value.argv == ["docker", "stop", "dev-control-plane"]
    assert "Cannot connect to the Docker daemon" in caught.value.stderr_tail
    assert caught.value.hint == ENGINE_DOWN_HINT


def test_scripted_runner_check_false_returns_the_failed_result() -> None:
    runner = ScriptedRunner().expect(["kind", "get", "clusters"], returncode=1, stderr="ERROR: failed to list clusters")
    result = runner.run(["kind", "get", "clusters"], timeout=30, check=False)
    assert result.returncode == 1 and not result.ok


def test_scripted_runner_simulates_a_timeout_like_the_real_runner() -> None:
    runner = ScriptedRunner().expect(["k3d", "cluster", "create"], prefix=True, timed_out=True)
    with pytest.raises(ExternalCommandError, match="timed out after 420s") as caught:
        runner.run(["k3d", "cluster", "create", "dev"], timeout=420)
    assert caught.value.returncode is None


def test_scripted_runner_insists_on_a_timeout() -> None:
    runner = ScriptedRunner().answer(["k3d"], prefix=True)
    with pytest.raises(pytest.fail.Exception, match="timeout"):
        runner.run(["k3d", "version"], timeout=0)


def test_scripted_runner_assert_done_names_what_was_never_called() -> None:
    runner = ScriptedRunner().expect(["minikube", "delete", "-p", "dev"])
    with pytest.raises(pytest.fail.Exception, match="minikube delete -p dev"):
        runner.assert_done()
