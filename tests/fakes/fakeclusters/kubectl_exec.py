"""``kubectl exec [-i] [-t] [-q] [-n NS] POD [-c C] -- CMD ARGS`` (kubectl v0.31.6
pkg/cmd/exec/exec.go: NewCmdExec's flags, Complete/Validate/Run; pkg/cmd/util/podcmd/podcmd.go
for the default container; pkg/cmd/util/helpers.go CheckErr for the exit code).

The real command opens a stream to the kubelet, which runs CMD in the container's namespaces.
The fake has no containers: a pod the kubeseed file gives an exec "backing" runs CMD on this
machine, for real, with that backing's environment and as its user (through runuser when the fake
runs as root), so programs "in the pod" reach whatever the test started (a real PostgreSQL):

    {"exec": {"infra/postgres-0": {"run_as": "postgres", "bin_dir": "/usr/lib/postgresql/15/bin",
                                   "env": {"PGHOST": "/tmp/s", "PGPORT": "5439"}}}}

A pod exists when the seed or `kubectl get` shows it, or when it is ordinal N of an applied
StatefulSet with more than N replicas (the fake's kubelet makes those at once); its containers
come from its spec, or the StatefulSet's template.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .common import err
from .env import FakeEnv
from .kubectl_print import NotEmulated


def command():
    from .cli import BOOL, DURATION, SLICE, Command, Flag

    return Command(
        "exec",
        flags=[
            Flag("pod-running-timeout", DURATION, default=60.0),  # cmdutil.AddPodRunningTimeoutFlag, 1m
            Flag("filename", SLICE, short="f"),
            Flag("container", short="c"),
            Flag("stdin", BOOL, short="i"),
            Flag("tty", BOOL, short="t"),
            Flag("quiet", BOOL, short="q"),
        ],
    )


def _containers(pod: dict) -> list[str]:
    return [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]


def _find_pod(env: FakeEnv, conn, cluster: dict, namespace: str, name: str) -> dict | None:
    from . import kubectl_apply
    from .tool_kubectl import _objects

    for pod in _objects(env, conn, "Pod"):
        meta = pod.get("metadata") or {}
        if (meta.get("namespace"), meta.get("name")) == (namespace, name):
            return pod
    base, _, ordinal = name.rpartition("-")
    if not ordinal.isdigit():
        return None
    for sts in kubectl_apply.applied_objects(cluster, "StatefulSet"):
        meta = sts.get("metadata") or {}
        spec = sts.get("spec") or {}
        if (meta.get("namespace"), meta.get("name")) == (namespace, base) and int(ordinal) < int(
            spec.get("replicas", 1)
        ):
            template = spec.get("template") or {}
            return {
                "metadata": {"namespace": namespace, "name": name},
                "spec": template.get("spec") or {},
                "status": {"phase": "Running"},
            }
    return None


def run(env: FakeEnv, p) -> int:
    from .tool_kubectl import _require_cluster, _seed

    dash = p.dash_args
    before = p.args if dash is None else p.args[: len(p.args) - len(dash)]
    if dash is None and len(p.args) > 1:
        # Complete: the pre-"--" form was removed
        err(
            "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\n"
            "See 'kubectl exec -h' for help and examples"
        )
        return 1
    if p["filename"]:
        raise NotEmulated("'kubectl exec -f' is not implemented by the test fake")
    if not before:
        err("error: pod, type/name or --filename must be specified")
        return 1
    if not dash:
        err("error: you must specify at least one command for the container")
        return 1
    name = before[0]
    if "/" in name:
        kind, _, name = name.partition("/")
        if kind not in ("pod", "pods", "po"):
            raise NotEmulated(f"'kubectl exec {kind}/NAME' is not implemented by the test fake: name a pod")
    conn, cluster = _require_cluster(env, p, "exec")
    namespace = conn.namespace
    pod = _find_pod(env, conn, cluster, namespace, name)
    if pod is None:
        # the builder's NotFound through CheckErr's StandardErrorMessage
        err(f'Error from server (NotFound): pods "{name}" not found')
        return 1
    phase = (pod.get("status") or {}).get("phase", "Running")
    if phase in ("Succeeded", "Failed"):
        err(f"error: cannot exec into a container in a completed pod; current phase is {phase}")
        return 1
    names = _containers(pod)
    container = str(p["container"] or "")
    if not container:
        if not names:
            err(f"error: pod {namespace}/{name} does not have any containers")
            return 1
        container = names[0]
        if len(names) > 1 and not p["quiet"]:
            err(f'Defaulted container "{container}" out of: {", ".join(names)}')
    elif container not in names:
        # the kubelet refuses the stream upgrade; kubectl prints the apiserver's wrapped error
        err(f'error: Internal error occurred: unable to upgrade connection: container not found ("{container}")')
        return 1
    backing = ((_seed(env, conn).get("exec") or {}).get(f"{namespace}/{name}")) or None
    if backing is None:
        raise NotEmulated(f"pod {namespace}/{name} has no exec backing in the fake's seed")
    return _run_backed(backing, list(dash), interactive=bool(p["stdin"]))


def _run_backed(backing: dict, argv: list[str], *, interactive: bool) -> int:
    environment = {
        "PATH": os.pathsep.join([d for d in (backing.get("bin_dir"), "/usr/local/bin", "/usr/bin", "/bin") if d]),
        "LANG": "C.UTF-8",
        "LC_MESSAGES": "C",
        **{str(k): str(v) for k, v in (backing.get("env") or {}).items()},
    }
    prefix: list[str] = []
    user = backing.get("run_as")
    if user and os.geteuid() == 0:
        prefix = ["runuser", "-u", str(user), "--"]
    # `env -i` so nothing of the test's environment leaks "into the pod", whoever runs it
    full = [*prefix, "env", "-i", *(f"{k}={v}" for k, v in environment.items()), *argv]
    sys.stdout.flush()
    try:
        done = subprocess.run(  # the test's own seed names the program
            full,
            stdin=None if interactive else subprocess.DEVNULL,
            cwd=backing.get("cwd") or "/",
            check=False,
        )
    except OSError as exc:
        err(f"error: fake kubectl exec could not start {full[0]}: {exc}")
        return 1
    code = done.returncode if done.returncode >= 0 else 128 - done.returncode  # a signal: 128+N as a shell
    if code != 0:
        # client-go tools/remotecommand v4 errorDecoder: CodeExitError "command terminated with
        # exit code N"; CheckErr prints it and exits with N
        err(f"command terminated with exit code {code}")
    return code
