"""Self-tests for the fake kubectl's pods (run / get / delete), its kubeconfig
loading (--kubeconfig is one path; $KUBECONFIG is a list) and the PyYAML-based
YAML of the fakes.  The fakes run as real subprocesses, as in test_fakes.py.

Texts are kubectl v0.31.6's (kubernetes/kubectl pkg/cmd/run/run.go,
pkg/cmd/delete/delete.go, pkg/cmd/util/helpers.go; cli-runtime
pkg/resource/builder.go; client-go tools/clientcmd/loader.go, config.go).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from tests.fakes_selftest.conftest import BIN, Runner

FAKES = Path(__file__).resolve().parents[1] / "fakes"

DNS_NAME = "kenv-dns-0a1b2c3d"
# what kenv's verify runs (plan: "kubectl" section), minus --kubeconfig/--context
VERIFY_RUN = [
    "--request-timeout=10s",
    "run",
    DNS_NAME,
    "--image",
    "busybox:1.36",
    "--restart=Never",
    "--rm",
    "-i",
    "--quiet",
    "--command",
    "--",
    "nslookup",
    "kubernetes.default.svc.cluster.local",
]
VERIFY_DELETE = ["--request-timeout=10s", "delete", "pod", DNS_NAME, "--ignore-not-found", "--wait=false"]


@pytest.fixture
def cluster(run: Runner) -> str:
    assert run("k3d", "cluster", "create", "dns").returncode == 0
    return "k3d-dns"


def pod_names(run: Runner, *args: str) -> list[str]:
    listed = json.loads(run("kubectl", "get", "pods", *args, "-o", "json").stdout)
    return [p["metadata"]["name"] for p in listed["items"]]


def stored_pods(env: dict[str, str]) -> list[dict]:
    state = json.loads((Path(env["KENV_FAKE_STATE"]) / "state.json").read_text())
    return [p for c in state["clusters"].values() for p in c.get("pods") or []]


# ---------------------------------------------------------------------------- run --rm


def test_verify_dns_check_leaves_nothing(run: Runner, cluster: str) -> None:
    ran = run("kubectl", "--context", cluster, *VERIFY_RUN)
    assert ran.returncode == 0, ran.stderr
    # --quiet: run.go sets DeleteOptions.Quiet, so the --rm deletion prints nothing
    assert ran.stdout == (
        "Server:\t\t10.43.0.10\nAddress:\t10.43.0.10:53\n\n\n"
        "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.43.0.1\n\n"
    )
    assert ran.stderr == ""
    assert pod_names(run) == []
    cleanup = run("kubectl", "--context", cluster, *VERIFY_DELETE)
    assert (cleanup.returncode, cleanup.stdout, cleanup.stderr) == (0, "", "")


def test_rm_without_quiet_reports_the_deletion_after_the_output(run: Runner, cluster: str) -> None:
    ran = run("kubectl", "run", "once", "--image", "busybox:1.36", "--restart=Never", "--rm", "-i", "--", "echo", "hi")
    assert (ran.returncode, ran.stdout) == (0, 'hi\npod "once" deleted\n')
    failed = run(
        "kubectl", "run", "bad", "--image", "busybox:1.36", "--restart=Never", "--rm", "-i", "--command", "--", "false"
    )
    # the deferred delete runs before CheckErr prints the CodeExitError; exit code = the container's
    assert (failed.returncode, failed.stdout, failed.stderr) == (
        1,
        'pod "bad" deleted\n',
        "pod default/bad terminated (Error)\n",
    )
    assert pod_names(run) == []


def test_run_without_rm_keeps_the_pod(run: Runner, cluster: str) -> None:
    done = run("kubectl", "run", "done", "--image", "busybox:1.36", "--restart=Never", "-i", "--command", "--", "true")
    assert (done.returncode, done.stdout) == (0, "")
    failed = run("kubectl", "run", "failed", "--image", "busybox:1.36", "--restart=Never", "-i", "--", "false")
    assert failed.returncode == 1
    server = run("kubectl", "run", "web", "--image", "nginx")
    assert (server.returncode, server.stdout) == (0, "pod/web created\n")
    table = run("kubectl", "get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row.split()[:3] for row in table[1:]] == [
        ["done", "0/1", "Completed"],
        ["failed", "0/1", "Error"],
        ["web", "1/1", "Running"],
    ]
    web = json.loads(run("kubectl", "get", "pod", "web", "-o", "json").stdout)
    assert web["metadata"]["labels"] == {"run": "web"}
    assert web["spec"]["containers"][0] == {
        "image": "nginx",
        "imagePullPolicy": "Always",  # untagged image: the API server defaults to Always
        "name": "web",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    # pods live in their namespace (default here) and show up with -A next to the system pods
    assert "web" in pod_names(run, "-A")
    assert "web" not in pod_names(run, "-n", "kube-system")


def test_run_in_another_namespace_and_missing_namespace(run: Runner, cluster: str) -> None:
    ran = run(
        "kubectl", "-n", "kube-public", "run", "there", "--image", "busybox:1.36", "--restart=Never", "--", "true"
    )
    assert (ran.returncode, ran.stdout) == (0, "pod/there created\n")
    assert pod_names(run, "-n", "kube-public") == ["there"]
    assert pod_names(run) == []
    missing = run("kubectl", "-n", "nope", "run", "x", "--image", "busybox:1.36")
    assert (missing.returncode, missing.stderr) == (1, 'Error from server (NotFound): namespaces "nope" not found\n')


def test_run_of_an_existing_name_fails_like_the_api_server(run: Runner, cluster: str) -> None:
    assert run("kubectl", "run", "twice", "--image", "nginx:1.27").returncode == 0
    again = run("kubectl", "run", "twice", "--image", "nginx:1.27", "--restart=Never", "--rm", "-i", "--", "true")
    assert (again.returncode, again.stdout, again.stderr) == (
        1,
        "",
        'Error from server (AlreadyExists): pods "twice" already exists\n',
    )


# ---------------------------------------------------------------------------- interrupted runs


def test_kubectl_killed_mid_run_leaves_the_pod_and_blocks_the_next_run(
    run: Runner, cluster: str, fake_env: dict[str, str]
) -> None:
    env = dict(fake_env, KENV_FAKE_HANG="kubectl:run")
    proc = subprocess.Popen(
        [str(BIN / "kubectl"), "--context", cluster, *VERIFY_RUN],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not stored_pods(fake_env) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # kenv's timeout kill
        proc.wait(timeout=10)
    table = run("kubectl", "get", "pods").stdout.splitlines()
    assert table[1].split()[:3] == [DNS_NAME, "0/1", "ContainerCreating"]  # the image pull never finished
    again = run("kubectl", "--context", cluster, *VERIFY_RUN)
    assert (again.returncode, again.stderr) == (
        1,
        f'Error from server (AlreadyExists): pods "{DNS_NAME}" already exists\n',
    )
    cleanup = run("kubectl", "--context", cluster, *VERIFY_DELETE)
    assert (cleanup.returncode, cleanup.stdout, cleanup.stderr) == (0, f'pod "{DNS_NAME}" deleted\n', "")
    assert run("kubectl", "--context", cluster, *VERIFY_RUN).returncode == 0


def test_sigterm_mid_run_also_leaves_the_pod(run: Runner, cluster: str, fake_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [str(BIN / "kubectl"), *VERIFY_RUN],
        env=dict(fake_env, KENV_FAKE_DELAY="kubectl:run=30"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not stored_pods(fake_env) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert pod_names(run) == [DNS_NAME]


def test_pull_slower_than_pod_running_timeout(run: Runner, cluster: str) -> None:
    slow = {"KENV_FAKE_DELAY": "kubectl:run=1.5"}
    args = ["run", "slow", "--image", "busybox:1.36", "--restart=Never", "-i", "--pod-running-timeout=0.2s"]
    kept = run("kubectl", *args, "--", "true", extra=slow)
    assert (kept.returncode, kept.stdout, kept.stderr) == (1, "", "error: timed out waiting for the condition\n")
    assert pod_names(run) == ["slow"]  # without --rm the pending pod stays
    removed = run("kubectl", *[a if a != "slow" else "slow2" for a in args], "--rm", "--", "true", extra=slow)
    assert (removed.returncode, removed.stdout) == (1, 'pod "slow2" deleted\n')
    assert pod_names(run) == ["slow"]


def test_injected_failure_creates_no_pod(run: Runner, cluster: str) -> None:
    failed = run("kubectl", *VERIFY_RUN, extra={"KENV_FAKE_FAIL": "kubectl:run"})
    assert failed.returncode == 1
    assert "(ServiceUnavailable)" in failed.stderr
    assert pod_names(run) == []


# ---------------------------------------------------------------------------- delete


@pytest.mark.parametrize(
    "spelling",
    [
        ["pod", "p"],
        ["pods", "p"],
        ["po", "p"],
        ["pod/p"],
        ["pods/p"],
        ["pod", "p", "--wait"],
        ["pod", "p", "--wait=false"],
        ["pod", "p", "--now"],
        ["pod", "p", "--grace-period", "30"],
        ["pod", "p", "--grace-period=0"],  # turned into 1 without --force: still "deleted"
        ["pod", "p", "--ignore-not-found=false"],
    ],
)
def test_delete_pod_spellings(run: Runner, cluster: str, spelling: list[str]) -> None:
    assert run("kubectl", "run", "p", "--image", "nginx:1.27").returncode == 0
    deleted = run("kubectl", "delete", *spelling)
    assert (deleted.returncode, deleted.stdout, deleted.stderr) == (0, 'pod "p" deleted\n', "")
    assert pod_names(run) == []


def test_delete_outputs_and_namespaces(run: Runner, cluster: str) -> None:
    for name in ("a", "b"):
        assert run("kubectl", "-n", "kube-public", "run", name, "--image", "nginx:1.27").returncode == 0
    named = run("kubectl", "delete", "pod", "a", "-n", "kube-public", "-o", "name")
    assert (named.returncode, named.stdout) == (0, "pod/a\n")
    wrong_ns = run("kubectl", "delete", "pod", "b")
    assert (wrong_ns.returncode, wrong_ns.stdout, wrong_ns.stderr) == (
        1,
        "",
        'Error from server (NotFound): pods "b" not found\n',
    )
    forced = run("kubectl", "--namespace=kube-public", "delete", "pod", "b", "--force")
    assert forced.returncode == 0
    assert forced.stdout == 'pod "b" force deleted\n'
    assert forced.stderr.startswith("Warning: Immediate deletion does not wait for confirmation")


def test_delete_missing_pods(run: Runner, cluster: str) -> None:
    assert run("kubectl", "run", "here", "--image", "nginx:1.27").returncode == 0
    missing = run("kubectl", "delete", "pod", "gone")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        'Error from server (NotFound): pods "gone" not found\n',
    )
    for flag in ("--ignore-not-found", "--ignore-not-found=true"):
        ignored = run("kubectl", "delete", "pod", "gone", flag, "--wait=false")
        assert (ignored.returncode, ignored.stdout, ignored.stderr) == (0, "", "")
    # ContinueOnError: the existing one is deleted, each missing one is reported on its own line
    mixed = run("kubectl", "delete", "pods", "gone", "here", "also-gone")
    assert mixed.returncode == 1
    assert mixed.stdout == 'pod "here" deleted\n'
    assert mixed.stderr == (
        'Error from server (NotFound): pods "gone" not found\n'
        'Error from server (NotFound): pods "also-gone" not found\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "error: You must provide one or more resources by argument or filename.\n"
            "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
            "   '<resource> <name>'\n   '<resource>'\n",
        ),
        (["pod"], "error: resource(s) were provided, but no name was specified\n"),
        (
            ["pod/a", "b"],
            "error: there is no need to specify a resource type as a separate argument when passing arguments in "
            "resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource "
            "resource/<resource_name>'\n",
        ),
        (["pod/a/b"], "error: arguments in resource/name form may not have more than one slash\n"),
        (["pod/"], "error: arguments in resource/name form must have a single resource and name\n"),
        (["pod", "a", "--now", "--grace-period=5"], "error: --now and --grace-period cannot be specified together\n"),
        (
            ["pod", "a", "--force", "--grace-period=5"],
            "error: --force and --grace-period greater than 0 cannot be specified together\n",
        ),
        (["pod", "a", "-o", "json"], "error: unexpected -o output mode: json. We only support '-o name'\n"),
        (["widgets", "a"], 'error: the server doesn\'t have a resource type "widgets"\n'),
    ],
)
def test_delete_errors(run: Runner, cluster: str, args: list[str], message: str) -> None:
    failed = run("kubectl", "delete", *args)
    assert (failed.returncode, failed.stderr) == (1, message)


@pytest.mark.parametrize("args", [["nodes", "x"], ["pods", "--all"], ["pods", "-l", "run=x"], ["-f", "x.yaml"]])
def test_delete_not_emulated(run: Runner, cluster: str, args: list[str]) -> None:
    failed = run("kubectl", "delete", *args)
    assert failed.returncode == 2
    assert "is not implemented by the test fake" in failed.stderr


def test_delete_needs_the_server(run: Runner, cluster: str) -> None:
    assert run("k3d", "cluster", "stop", "dns").returncode == 0
    refused = run("kubectl", "delete", "pod", DNS_NAME, "--ignore-not-found", "--wait=false")
    assert refused.returncode == 1
    assert refused.stderr.endswith("was refused - did you specify the right host or port?\n")


# ---------------------------------------------------------------------------- run's own errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x"], 'error: required flag(s) "image" not set\n'),
        (["--image", "busybox"], "error: NAME is required for run\nSee 'kubectl run -h' for help and examples\n"),
        (["x", "--image", "Busy Box"], 'error: Invalid image name "Busy Box": invalid reference format\n'),
        (
            ["x", "--image", "busybox", "-t"],
            "error: -i/--stdin is required for containers with -t/--tty=true\n"
            "See 'kubectl run -h' for help and examples\n",
        ),
        (
            ["x", "--image", "busybox", "--rm"],
            "error: --rm should only be used for attached containers\nSee 'kubectl run -h' for help and examples\n",
        ),
        (
            ["x", "--image", "busybox", "--restart=Sometimes"],
            "error: invalid restart policy: Sometimes\nSee 'kubectl run -h' for help and examples\n",
        ),
    ],
)
def test_run_errors(run: Runner, cluster: str, args: list[str], message: str) -> None:
    failed = run("kubectl", "run", *args)
    assert (failed.returncode, failed.stderr) == (1, message)
    assert pod_names(run) == []


# ---------------------------------------------------------------------------- kubeconfig loading


def test_kubeconfig_flag_is_one_path_not_a_list(run: Runner, cluster: str, fake_env: dict[str, str]) -> None:
    own = os.path.join(fake_env["HOME"], ".kube", "config")
    listed = f"{own}{os.pathsep}{own}"
    get = run("kubectl", "--kubeconfig", listed, "get", "nodes")
    # client-go loader.go: os.Stat(ExplicitPath) -> IsNotExist -> the *PathError itself
    assert (get.returncode, get.stdout, get.stderr) == (1, "", f"error: stat {listed}: no such file or directory\n")
    ran = run("kubectl", "--kubeconfig", listed, *VERIFY_RUN)
    assert ran.stderr == f"error: stat {listed}: no such file or directory\n"
    # `kubectl config` uses PathOptions.GetStartingConfig: a missing explicit file is an empty Config
    names = run("kubectl", "config", "get-contexts", "-o", "name", "--kubeconfig", listed)
    assert (names.returncode, names.stdout, names.stderr) == (0, "", "")
    current = run("kubectl", "config", "current-context", "--kubeconfig", listed)
    assert (current.returncode, current.stderr) == (1, "error: current-context is not set\n")
    # view.go: --kubeconfig without --merge reads that one file (LoadFromFile)
    view = run(
        "kubectl", "config", "view", "--minify", "--flatten", "--raw", "--context", cluster, "--kubeconfig", listed
    )
    assert (view.returncode, view.stderr) == (1, f"error: open {listed}: no such file or directory\n")
    empty = run("kubectl", "config", "view", "--merge", "--kubeconfig", listed)
    assert empty.stdout == (
        'apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: ""\n'
        "kind: Config\npreferences: {}\nusers: null\n"
    )


def test_kubeconfig_env_list_merges_first_definition_wins(run: Runner, tmp_path: Path) -> None:
    assert run("k3d", "cluster", "create", "one").returncode == 0
    assert run("k3d", "cluster", "create", "two").returncode == 0
    full = yaml.safe_load((tmp_path / "home" / ".kube" / "config").read_text())
    one = next(c for c in full["clusters"] if c["name"] == "k3d-one")
    two = next(c for c in full["clusters"] if c["name"] == "k3d-two")

    def config(server_entry: dict, current: str) -> str:
        doc = dict(full, current_context=None)
        doc.pop("current_context")
        doc["clusters"] = [{"name": "k3d-one", "cluster": server_entry["cluster"]}]
        doc["current-context"] = current
        return yaml.safe_dump(doc)

    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(config(one, "k3d-one"))  # "k3d-one" cluster entry -> one's server
    second.write_text(config(two, "k3d-two"))  # the same name -> two's server: loses
    env_list = {"KUBECONFIG": f"{first}{os.pathsep}{tmp_path / 'missing.yaml'}{os.pathsep}{second}"}
    assert run("kubectl", "config", "current-context", extra=env_list).stdout == "k3d-one\n"
    merged = yaml.safe_load(run("kubectl", "config", "view", "--raw", extra=env_list).stdout)
    assert [c["cluster"]["server"] for c in merged["clusters"]] == [one["cluster"]["server"]]
    nodes = run("kubectl", "--context", "k3d-one", "get", "nodes", "-o", "name", extra=env_list)
    assert nodes.stdout == "node/k3d-one-server-0\n"


def test_rewritten_kubeconfig_is_read_again(run: Runner, tmp_path: Path) -> None:
    """Parsed kubeconfigs are memoised by content, never by name or time."""
    path = tmp_path / "kc.yaml"
    for name in ("ctx-a", "ctx-b", "ctx-a"):
        path.write_text(
            f"apiVersion: v1\nkind: Config\ncontexts:\n- name: {name}\n  context: {{cluster: c, user: u}}\n"
            f"current-context: {name}\n"
        )
        assert run("kubectl", "--kubeconfig", str(path), "config", "current-context").stdout == f"{name}\n"
    path.write_text("apiVersion: v1\nkind: Config\ncontexts: [\n")
    broken = run("kubectl", "--kubeconfig", str(path), "config", "current-context")
    assert broken.returncode == 1
    assert broken.stderr.startswith(f'error: error loading config file "{path}": yaml: ')
    directory = tmp_path / "dir"
    directory.mkdir()
    as_dir = run("kubectl", "--kubeconfig", str(directory), "get", "nodes")
    assert (as_dir.returncode, as_dir.stderr) == (
        1,
        f'error: error loading config file "{directory}": read {directory}: is a directory\n',
    )


# ---------------------------------------------------------------------------- output formats


def test_template_formats_are_not_emulated(run: Runner, cluster: str) -> None:
    for fmt in ("jsonpath={.items[*].metadata.name}", "go-template={{.kind}}", "custom-columns=N:.metadata.name"):
        proc = run("kubectl", "get", "pods", "-A", "-o", fmt)
        assert proc.returncode == 2, fmt
        assert f'fake kubectl: output format "{fmt}" is not implemented by the test fake' in proc.stderr
        assert "allowed formats" not in proc.stderr  # not kubectl's own error: kubectl knows these formats
    view = run("kubectl", "config", "view", "-o", "jsonpath={.contexts}")
    assert view.returncode == 2
    wait = run("kubectl", "wait", "--for=jsonpath={.status.phase}=Running", "pods", "--all", "-A")
    assert wait.returncode == 2
    bogus = run("kubectl", "get", "pods", "-o", "bogus")
    assert (bogus.returncode, bogus.stderr) == (
        1,
        'error: unable to match a printer suitable for the output format "bogus", allowed formats are: '
        "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
        "jsonpath-file,name,template,templatefile,wide,yaml\n",
    )


def test_yaml_output_is_sigs_k8s_yaml_shaped(run: Runner, cluster: str) -> None:
    """kubectl -o yaml = json.Marshal then go-yaml v2: sorted keys, un-indented sequences,
    timestamps and other non-strings quoted, long plain scalars folded at 80 columns."""
    text = run("kubectl", "get", "nodes", "-o", "yaml", extra={"KENV_FAKE_UNHEALTHY": "dns:node-notready"}).stdout
    lines = text.splitlines()
    assert lines[:3] == ["apiVersion: v1", "items:", "- apiVersion: v1"]
    assert any(line.startswith('    creationTimestamp: "') and line.endswith('Z"') for line in lines)
    assert '      node.alpha.kubernetes.io/ttl: "0"' in lines
    assert (
        "      message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady" in lines
    )
    assert "        message:Network plugin returns error: cni plugin not initialized'" in lines
    assert "    podCIDRs:" in lines and "    - 10.42.0.0/24" in lines
    assert text.endswith('  resourceVersion: ""\n')
    doc = yaml.safe_load(text)
    assert doc["items"][0]["kind"] == "Node"


def test_yamlio_follows_go_yaml_v2() -> None:
    sys.path.insert(0, str(FAKES))
    try:
        from fakeclusters import yamlio  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FAKES))
    doc = {
        "b10": 1,
        "b9": [],
        "A": {},
        "_x": None,
        "s": ["", "true", "y", "0755", "1e3", "2024-01-02", "1:20", "- x", "plain", "a: b", "multi\nline"],
        "f": [1.5, 2.0, 1234567.5, 0.00001],
    }
    assert yamlio.dump(doc) == (
        "_x: null\nA: {}\n"
        'b9: []\nb10: 1\nf:\n- 1.5\n- 2\n- 1.2345675e+06\n- 1e-05\ns:\n- ""\n- "true"\n- "y"\n- "0755"\n'
        '- "1e3"\n- "2024-01-02"\n- "1:20"\n- \'- x\'\n- plain\n- \'a: b\'\n- |-\n  multi\n  line\n'
    )
    assert yamlio.load("when: 2024-01-02T10:00:00Z\nn: 1\n") == {"when": "2024-01-02T10:00:00Z", "n": 1}


def test_kind_config_decoded_like_go_yaml_v3(run: Runner) -> None:
    """kind v0.27.0 encoding/load.go with go-yaml v3.0.1 (decode.go): line numbers from PyYAML's marks."""
    head = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"
    cases = {
        head + "nodes:\n- role: worker\n  role: control-plane\n": (
            'unable to decode config: yaml: unmarshal errors:\n  line 5: mapping key "role" already defined at line 4'
        ),
        head + 'networking:\n  apiServerPort: "6443"\n  disableDefaultCNI: maybe\nnodes: x\n': (
            "unable to decode config: yaml: unmarshal errors:\n"
            "  line 4: cannot unmarshal !!str `6443` into int32\n"
            "  line 5: cannot unmarshal !!str `maybe` into bool\n"
            "  line 6: cannot unmarshal !!str `x` into []v1alpha4.Node"
        ),
        head + "featureGates:\n  SomeGate: definitely-not\n": (
            "unable to decode config: yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `definit...` into bool"
        ),
        "kind: Clusterr\napiVersion: kind.x-k8s.io/v1alpha4\n": (
            "unknown kind Clusterr for apiVersion: kind.x-k8s.io/v1alpha4"
        ),
        "kind: Cluster\napiVersion: kind.sigs.k8s.io/v1alpha3\n": "unknown apiVersion: kind.sigs.k8s.io/v1alpha3",
        "- a\n": (
            "could not determine kind / apiVersion for config: yaml: unmarshal errors:\n"
            "  line 1: cannot unmarshal !!seq into encoding.typeMeta"
        ),
        head + "  bad: : x\n": (
            "could not determine kind / apiVersion for config: "
            "yaml: line 3: mapping values are not allowed in this context"
        ),
    }
    for config, message in cases.items():
        proc = run("kind", "create", "cluster", "--name", "x", "--config", "-", stdin=config)
        assert proc.returncode == 1, config
        assert proc.stderr.strip().endswith(f"ERROR: failed to create cluster: {message}"), (config, proc.stderr)
    # YAML 1.1 words are plain strings to go-yaml v3 (name) but still booleans for a typed bool
    ok = head + "name: yes\nnetworking:\n  disableDefaultCNI: on\nnodes:\n- role: control-plane\n- role: worker\n"
    created = run("kind", "create", "cluster", "--config", "-", stdin=ok)
    assert created.returncode == 0, created.stderr
    assert run("kind", "get", "clusters").stdout == "yes\n"
