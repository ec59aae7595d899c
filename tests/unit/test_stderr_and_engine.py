"""What kenv makes of a failed tool's output: one readable line (stderr_tail), whether it says the
Docker engine is down (engine_down), and the error that carries both (failure).

Engine-down texts are the docker CLI's (moby client `errors.go` connectionFailed, `request.go`),
read in docker/cli v28.2.2 (vendor/github.com/docker/docker/client) and v29.0.0
(vendor/github.com/moby/moby/client), and as k3d v5.8.3, kind v0.27.0 and minikube v1.38.1 wrap them.
"""

from __future__ import annotations

import pytest

from kenv.runtime.process import (
    ENGINE_DOWN_HINT,
    STDERR_TAIL_CHARS,
    CommandResult,
    engine_down,
    failure,
    stderr_tail,
)

REFUSED = "The connection to the server 127.0.0.1:16443 was refused - did you specify the right host or port?"
KLOG = (
    'E1201 13:03:08.123456   4242 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group '
    'list: Get \\"https://127.0.0.1:16443/api?timeout=32s\\": dial tcp 127.0.0.1:16443: connect: connection refused"'
)
DOCKER_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


# -- stderr_tail -----------------------------------------------------------------------------------


def test_stderr_tail_drops_client_go_klog_lines() -> None:
    # kubectl prints five klog lines, then its own verdict that says the same.
    text = "\n".join([KLOG.replace("08.123456", f"0{i}.123456") for i in range(5)] + [REFUSED]) + "\n"
    assert stderr_tail(text) == REFUSED


def test_stderr_tail_keeps_klog_lines_when_there_is_nothing_else() -> None:
    # minikube profile list with the engine down: only a klog line, which is the message then.
    line = 'E1201 13:03:08.123456   4242 status.go:459] error getting statuses: state: unknown state "dev"'
    assert stderr_tail(line + "\n") == 'error getting statuses: state: unknown state "dev"'


def test_stderr_tail_drops_repeats_keeping_the_last_order() -> None:
    text = f"{REFUSED}\n{REFUSED}\nerror: timed out waiting for the condition\n{REFUSED}\n{REFUSED}\n"
    assert stderr_tail(text) == f"error: timed out waiting for the condition | {REFUSED}"


def test_stderr_tail_removes_colour_and_blank_lines_and_keeps_the_last_lines() -> None:
    text = "\x1b[31mERRO\x1b[0m[0000] one\n\n  two  \nthree\nfour\nfive\nsix\n"
    assert stderr_tail(text) == "two | three | four | five | six"
    assert stderr_tail(text, lines=2) == "five | six"
    assert stderr_tail("") == ""
    assert stderr_tail("\n  \n") == ""


def test_stderr_tail_caps_its_length_keeping_the_end() -> None:
    long_line = "x" * 1000 + " the end"
    tail = stderr_tail(long_line)
    assert len(tail) == STDERR_TAIL_CHARS
    assert tail.startswith("...") and tail.endswith("the end")
    # The repeated-kubectl-error case of the issue: a 2 KB line becomes one short one.
    assert len(stderr_tail("\n".join([KLOG] * 20 + [REFUSED] * 4))) <= STDERR_TAIL_CHARS


# -- engine_down -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # docker CLI <= v28, and v29 when the socket exists but nobody listens (connection refused).
        DOCKER_DOWN,
        # ... with DOCKER_HOST pointing elsewhere.
        "Cannot connect to the Docker daemon at tcp://10.0.0.5:2375. Is the docker daemon running?",
        # docker CLI <= v28, other connection errors.
        'error during connect: Get "http://docker.example:2375/v1.50/version": dial tcp: lookup docker.example: '
        "no such host",
        # k3d v5.8.3 cluster list.
        "FATA[0000] runtime failed to list nodes: docker failed to get containers with labels 'map[app:k3d]': "
        f"failed to list containers: {DOCKER_DOWN}",
        # kind v0.27.0 get clusters (the docker output after "Command Output:").
        'ERROR: failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster --format '
        '\'{{.Label "io.x-k8s.kind.cluster"}}\'" failed with error: exit status 1\n'
        f"Command Output: {DOCKER_DOWN}",
        # minikube v1.38.1 start.
        '💣  Exiting due to PROVIDER_DOCKER_NOT_RUNNING: "docker version --format '
        '{{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: ' + DOCKER_DOWN,
    ],
)
def test_engine_down_recognises_the_docker_cli_texts(text: str) -> None:
    assert engine_down(text)


def test_engine_down_recognises_the_docker_cli_v29_missing_socket_text() -> None:
    # vendor/github.com/moby/moby/client/request.go (docker/cli v29.0.0): os.ErrNotExist.
    assert engine_down(
        "failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct and if "
        "the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Error response from daemon: network k3d-dev not found",
        "Error response from daemon: No such container: dev-control-plane",
        'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "dev"',
        "❌  Exiting due to GUEST_START: failed to start node: ... Bind for 127.0.0.1:18080 failed: port is already "
        "allocated.",
        # A socket kenv may not use is not an engine that is down: starting it would not help.
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
        'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/version": dial unix /var/run/docker.sock: connect: '
        "permission denied",
        "permission denied while trying to connect to the docker API at unix:///var/run/docker.sock",
    ],
)
def test_engine_down_is_not_claimed_for_other_failures(text: str) -> None:
    assert not engine_down(text)


# -- failure ---------------------------------------------------------------------------------------


def test_failure_adds_the_engine_hint_when_the_engine_is_down() -> None:
    result = CommandResult(("docker", "stop", "dev-control-plane"), 1, "", DOCKER_DOWN + "\n", 0.1)
    error = failure(result)
    assert error.hint == ENGINE_DOWN_HINT
    assert error.returncode == 1
    assert error.argv == ["docker", "stop", "dev-control-plane"]
    assert error.stderr_tail == DOCKER_DOWN
    assert "exit code 1" in error.one_line() and "systemctl start docker" in error.one_line()


def test_failure_finds_the_engine_text_on_stdout_too_engine_hint() -> None:
    # `docker network inspect` with no engine prints `[]` on stdout; kind puts docker's output after
    # "Command Output:" on stderr; minikube prints some verdicts on stdout.
    result = CommandResult(("minikube", "ssh", "-p", "dev"), 80, f"stderr:\n{DOCKER_DOWN}\n", "", 0.1)
    error = failure(result)
    assert error.hint == ENGINE_DOWN_HINT
    assert DOCKER_DOWN in error.stderr_tail


def test_failure_without_the_engine_down_has_no_engine_hint_and_a_clean_stderr_tail() -> None:
    text = "\n".join([KLOG] * 5 + [REFUSED]) + "\n"
    result = CommandResult(("kubectl", "get", "nodes"), 1, "", text, 0.1)
    error = failure(result)
    assert error.hint is None
    assert error.stderr_tail == REFUSED
    assert "memcache.go" not in error.one_line()


def test_failure_with_no_output_says_so_not_engine() -> None:
    error = failure(CommandResult(("k3d", "cluster", "stop", "dev"), 1, "", "", 0.1))
    assert "no output" in error.one_line() and error.hint is None
