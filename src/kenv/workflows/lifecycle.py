"""start, stop and kubeconfig for one environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.providers.base import write_private as write_private_file
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step, WorkflowResult, execute


def _power(ctx: WorkflowContext, name: str, action: str) -> WorkflowResult:
    inventory = ctx.inventory()
    env = inventory.get(name)
    if not facts_for(env.provider).managed:
        raise InvalidInput(f"{name!r} is an external cluster", hint=f"{action} it with the tool that runs it")
    ctx.ensure_tools(env.provider)
    provider = ctx.provider(env.provider)
    target_status = "running" if action == "start" else "stopped"

    def done() -> bool:
        state = provider.state(env)
        if state is None:
            raise InvalidInput(f"{name!r} has no {env.provider} cluster", hint=f"create it with `kenv create {name}`")
        if action == "start":
            return state.complete(env.servers, env.agents)
        return not any(node.running for node in state.nodes)

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
    """The environment's own kubeconfig (refreshed from the provider); with merge, its entries
    also replace or join those of the same names in the user's default kubeconfig, whose current
    context and other entries stay as they are (a backup is kept)."""
    env = ctx.inventory().get(name)
    provider = ctx.provider(env.provider)
    path = ctx.kubeconfig_path(name)
    state = provider.state(env)
    if state is not None and not state.running and facts_for(env.provider).managed:
        kept = f"; the one written at its last start is {path}" if path.exists() else ""
        raise KenvError(
            f"{name!r} is stopped, so its kubeconfig cannot be refreshed{kept}",
            hint=f"start it with `kenv start {name}`",
        )
    if state is not None:
        provider.write_kubeconfig(env, path)
    if not path.exists() and not ctx.dry_run:
        raise KenvError(f"{name!r} has no kubeconfig yet", hint=f"create it with `kenv create {name}`")
    result = {"environment": name, "kubeconfig": str(path), "context": provider.context_name(env)}
    if not merge:
        return result
    target = default_kubeconfig()
    if not ctx.dry_run:
        merged = merge_kubeconfig(_load_kubeconfig(target), _load_kubeconfig(path), provider.context_name(env))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".kenv-backup"))
        write_private_file(target, _dump_kubeconfig(merged))
    result["merged_into"] = str(target)
    return result


def _load_kubeconfig(path: Path) -> dict[str, Any]:
    import yaml

    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"{path} is not a kubeconfig kenv can read ({type(exc).__name__})", hint="fix or move that file, then retry"
        ) from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{path} is a directory, not a kubeconfig file", hint="set KUBECONFIG to a file") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} is not a kubeconfig (not a mapping)", hint="fix or move that file, then retry")
    return data


def _dump_kubeconfig(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def merge_kubeconfig(user: dict[str, Any], environment: dict[str, Any], context: str) -> dict[str, Any]:
    """The user's kubeconfig with the environment's context, and the cluster and user it names,
    replacing entries of the same names (a recreated cluster has new certificates: the old ones
    must go) or added; everything else of the user's, current-context included, kept as it was
    (a new file gets none)."""
    merged = dict(user) if user else {"apiVersion": "v1", "kind": "Config", "preferences": {}}
    contexts = {c.get("name"): c for c in environment.get("contexts") or [] if isinstance(c, dict)}
    entry = contexts.get(context)
    if entry is None:
        raise KenvError(f"the environment's kubeconfig has no context {context!r}", hint="run `kenv kubeconfig` again")
    wanted = {
        "contexts": context,
        "clusters": (entry.get("context") or {}).get("cluster"),
        "users": (entry.get("context") or {}).get("user"),
    }
    for section, entry_name in wanted.items():
        source = next((i for i in environment.get(section) or [] if i.get("name") == entry_name), None)
        if source is None:
            continue
        kept = [i for i in merged.get(section) or [] if not (isinstance(i, dict) and i.get("name") == entry_name)]
        merged[section] = [*kept, source]
    # Not even in a new file: which context is current stays the user's choice (`kubectl config
    # use-context`), so merging never switches where the user's kubectl commands go.
    return merged
