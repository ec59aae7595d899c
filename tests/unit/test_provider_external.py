"""external provider: an adopted cluster, read through kubectl without `--kubeconfig`.

kubectl merges every file a `KUBECONFIG=a:b` lists (client-go `tools/clientcmd/loader.go`), while
`--kubeconfig` takes one path (given `a:b` it fails to stat it): so kenv lets kubectl read
KUBECONFIG itself and never passes the variable's value as a flag.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.providers.base import CreateOptions
from kenv.providers.external import External
from tests.unit.scripted_runner import ScriptedRunner, environment

CONTEXTS = ["kubectl", "config", "get-contexts", "-o", "name"]
KUBECONFIG_TEXT = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi...
    server: https://10.0.0.10:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: admin@prod
  name: prod-admin
current-context: prod-admin
kind: Config
preferences: {}
users:
- name: admin@prod
  user:
    token: abc
"""


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
def external(runner: ScriptedRunner, tmp_path: Path) -> External:
    return External(runner, tmp_path)


def no_kubeconfig_flag(runner: ScriptedRunner) -> None:
    for call in runner.calls:
        assert not any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in call.argv), call.argv
        assert call.extra_env is None or "KUBECONFIG" not in call.extra_env, call.argv


def test_provider_external_context_from_label_or_name(external: External) -> None:
    assert external.context_name(environment("prod", "external", labels={"kenv.io/context": "prod-admin"})) == (
        "prod-admin"
    )
    assert external.context_name(environment("prod", "external")) == "prod"


def test_provider_external_state_reads_contexts_without_kubeconfig_flag(
    external: External, runner: ScriptedRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a.yaml'}:{tmp_path / 'b.yaml'}")
    runner.expect(CONTEXTS, stdout="kind-dev\nprod-admin\nminikube\n")
    env = environment("prod", "external", labels={"kenv.io/context": "prod-admin"})
    state = external.state(env)
    assert state is not None
    assert state.running and state.complete(1, 0) and state.complete(3, 5)  # adopted: never counted
    assert [(n.name, n.role) for n in state.nodes] == [("prod-admin", "server")]
    assert state.subnet is None and state.api_port is None and state.host_ports == {}
    assert not runner.calls[0].mutating
    no_kubeconfig_flag(runner)


def test_provider_external_missing_context_is_no_cluster(external: External, runner: ScriptedRunner) -> None:
    runner.expect(CONTEXTS, stdout="kind-dev\n")
    assert external.state(environment("prod", "external")) is None


def test_provider_external_unreadable_kubeconfig_is_no_cluster(external: External, runner: ScriptedRunner) -> None:
    runner.expect(
        CONTEXTS,
        returncode=1,
        stderr='error: error loading config file "/home/u/.kube/config": yaml: line 3: mapping values are not allowed'
        " in this context\n",
    )
    assert external.state(environment("prod", "external")) is None


def test_provider_external_adopting_copies_the_context(
    external: External, runner: ScriptedRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a.yaml'}:{tmp_path / 'b.yaml'}")
    runner.expect(CONTEXTS, stdout="prod-admin\n")
    runner.expect(
        ["kubectl", "config", "view", "--minify", "--flatten", "--raw", "--context", "prod-admin"],
        stdout=KUBECONFIG_TEXT,
    )
    target = tmp_path / "kubeconfig" / "prod.yaml"
    env = environment("prod", "external", labels={"kenv.io/context": "prod-admin"})
    external.create(env, CreateOptions(kubeconfig=target))
    runner.assert_done()
    assert target.read_text() == KUBECONFIG_TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    no_kubeconfig_flag(runner)


def test_provider_external_adopting_a_missing_context_names_where_it_looked(
    external: External, runner: ScriptedRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listed = f"{tmp_path / 'a.yaml'}:{tmp_path / 'b.yaml'}"
    monkeypatch.setenv("KUBECONFIG", listed)
    runner.expect(CONTEXTS, stdout="kind-dev\n")
    env = environment("prod", "external", labels={"kenv.io/context": "prod-admin"})
    with pytest.raises(InvalidInput, match="'prod-admin' not found") as caught:
        external.create(env, CreateOptions(kubeconfig=tmp_path / "kubeconfig" / "prod.yaml"))
    assert listed in caught.value.message
    assert "kenv.io/context" in (caught.value.hint or "")


def test_provider_external_in_a_dry_run_copies_nothing(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True).expect(CONTEXTS, stdout="prod\n")
    target = tmp_path / "kubeconfig" / "prod.yaml"
    External(runner, tmp_path).create(environment("prod", "external"), CreateOptions(kubeconfig=target))
    assert runner.planned == [("kubectl", "config", "view", "--minify", "--flatten", "--raw", "--context", "prod")]
    assert not target.exists()


def test_provider_external_never_changes_the_cluster(external: External, runner: ScriptedRunner) -> None:
    env = environment("prod", "external")
    external.delete(env)  # forgetting it is the whole job
    for action in (external.start, external.stop):
        with pytest.raises(InvalidInput, match="external cluster"):
            action(env)
    with pytest.raises(InvalidInput, match="external cluster"):
        external.import_images(env, ["app:1"])
    with pytest.raises(InvalidInput, match="external cluster"):
        external.exec_in_node(env, "node", ["true"])
    assert external.list_clusters() == [] and external.node_names(env) == []
    assert runner.calls == []
