"""start, stop and kubeconfig for one environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kenv.errors import InvalidInput, KenvError
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step, WorkflowResult, execute


def _power(ctx: WorkflowContext, name: str, action: str) -> WorkflowResult:
    inventory = ctx.inventory()
    env = inventory.get(name)
    provider = ctx.provider(env.provider)
    target_status = "running" if action == "start" else "stopped"

    def done() -> bool:
        state = provider.state(env)
        if state is None:
            raise InvalidInput(f"{name!r} has no {env.provider} cluster", hint=f"create it with `kenv create {name}`")
        return state.running == (action == "start")

    def act() -> str:
        if action == "start":
            provider.start(env)
        else:
            provider.stop(env)
        return f"{'started' if action == 'start' else 'stopped'} {env.provider} cluster {name}"

    def record() -> str:
        inventory.set_status(name, target_status, last_step=action)
        return target_status

    steps = [Step(action, act, done=done), Step("record", record, plan=lambda: f"would mark as {target_status}")]
    with ctx.environment_lock(name):
        return execute(
            action, name, steps, runner=ctx.runner, progress=ctx.progress, dry_run=ctx.dry_run, keep_on_failure=True
        )


def start_environment(ctx: WorkflowContext, name: str) -> WorkflowResult:
    return _power(ctx, name, "start")


def stop_environment(ctx: WorkflowContext, name: str) -> WorkflowResult:
    return _power(ctx, name, "stop")


def default_kubeconfig() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def kubeconfig(ctx: WorkflowContext, name: str, *, merge: bool) -> dict[str, str]:
    """The environment's own kubeconfig (refreshed from the provider); with merge, also merged
    into the user's default kubeconfig without changing its current context (a backup is kept)."""
    env = ctx.inventory().get(name)
    provider = ctx.provider(env.provider)
    path = ctx.kubeconfig_path(name)
    if provider.state(env) is not None:
        provider.write_kubeconfig(env, path)
    if not path.exists() and not ctx.dry_run:
        raise KenvError(f"{name!r} has no kubeconfig yet", hint=f"create it with `kenv create {name}`")
    result = {"environment": name, "kubeconfig": str(path), "context": provider.context_name(env)}
    if not merge:
        return result
    target = default_kubeconfig()
    argv = ["kubectl", "config", "view", "--flatten", "--raw"]
    sources = os.pathsep.join(str(p) for p in (target, path) if p.exists() or p == path)
    merged = ctx.runner.run(argv, timeout=30, mutating=False, extra_env={"KUBECONFIG": sources}).stdout
    if not ctx.dry_run:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".kenv-backup"))
        temp = target.with_name(f".{target.name}.kenv-tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(merged)
        os.replace(temp, target)
    result["merged_into"] = str(target)
    return result
