"""kenv teardown: every business environment through the delete workflow (each removed from the
platform's components as a delete does), then with --all the platform itself: HAProxy,
Portainer, the devops environment, and the Docker networks and volumes bootstrap labelled.

Only what carries kenv's platform label goes: a network or volume with a similar name that kenv
did not make stays, whatever its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kenv.errors import KenvError
from kenv.inventory.model import MANAGEMENT_NAME
from kenv.runtime.process import parse_json
from kenv.workflows.bootstrap import COMPONENTS, PLATFORM_LABEL
from kenv.workflows.context import WorkflowContext
from kenv.workflows.delete import DeleteRequest, delete_environment
from kenv.workflows.engine import Step, WorkflowResult, execute
from kenv.workflows.registrations import NotAvailable, bootstrapped, call, forget, state_path

DOCKER_TIMEOUT = 60.0


@dataclass
class TeardownReport:
    environments: list[WorkflowResult] = field(default_factory=list)
    platform: WorkflowResult | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.environments) and (self.platform is None or self.platform.ok)

    @property
    def would_change(self) -> bool:
        results = [*self.environments, *([self.platform] if self.platform else [])]
        return any(s.result == "planned" for r in results for s in r.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "environments": [r.to_dict() for r in self.environments],
            "platform": self.platform.to_dict() if self.platform else None,
        }


def teardown(ctx: WorkflowContext, *, everything: bool) -> TeardownReport:
    report = TeardownReport()
    names = [e.name for e in ctx.inventory().environments() if e.role != "management"]
    for name in names:
        with ctx.recorded("delete", name) as outcome:
            result = delete_environment(ctx, DeleteRequest(name))
            outcome.of(result)
        report.environments.append(result)
    if everything and report.ok:
        report.platform = _platform(ctx)
    return report


def _labelled(ctx: WorkflowContext, kind: str) -> list[str]:
    """Names of the Docker networks or volumes carrying kenv's platform label."""
    label = f"{PLATFORM_LABEL}={ctx.settings.platform_network}"
    argv = ["docker", kind, "ls", "--filter", f"label={label}", "--format", "{{json .}}"]
    out = ctx.runner.run(argv, timeout=DOCKER_TIMEOUT, mutating=False).stdout
    return sorted(str(parse_json(argv, line).get("Name", "")) for line in out.splitlines() if line.strip())


def _component(ctx: WorkflowContext, component: str, function: str, what: str) -> Step:
    def run() -> str:
        try:
            call(component, function, ctx)
        except NotAvailable as exc:
            raise KenvError(exc.message, hint=f"remove {what} by hand; kenv cannot yet") from exc
        forget(ctx, component)
        return f"{what} removed"

    return Step(component, run, done=lambda: component not in bootstrapped(ctx), plan=lambda: f"would remove {what}")


def _platform(ctx: WorkflowContext) -> WorkflowResult:
    steps = [
        _component(ctx, "haproxy", "stop_haproxy", "HAProxy"),
        _component(ctx, "portainer", "remove_portainer", "Portainer"),
    ]

    def devops_gone() -> bool:
        return ctx.inventory().find(MANAGEMENT_NAME) is None

    def devops() -> str:
        with ctx.recorded("delete", MANAGEMENT_NAME) as outcome:
            result = delete_environment(ctx, DeleteRequest(MANAGEMENT_NAME))
            outcome.of(result)
        if not result.ok:
            raise KenvError(
                f"deleting {MANAGEMENT_NAME} failed: {result.error}", hint="run `kenv teardown --all` again"
            )
        for component in ("devops", "storage", "argocd", "postgres"):
            forget(ctx, component)
        return f"environment {MANAGEMENT_NAME} deleted (Argo CD and PostgreSQL with it)"

    steps.append(Step("devops", devops, done=devops_gone))

    def serving() -> bool:
        return "gitops" not in bootstrapped(ctx)

    def stop_serving() -> str:
        call("gitops", "stop_serving", ctx)
        forget(ctx, "gitops")
        return "the GitOps repository is no longer served (the repository itself is kept)"

    steps.append(Step("gitops", stop_serving, done=serving, plan=lambda: "would stop serving the GitOps repository"))

    def docker_leftovers() -> bool:
        return not _labelled(ctx, "network") and not _labelled(ctx, "volume")

    def remove_leftovers() -> str:
        networks, volumes = _labelled(ctx, "network"), _labelled(ctx, "volume")
        if networks:
            ctx.runner.run(["docker", "network", "rm", *networks], timeout=DOCKER_TIMEOUT)
        if volumes:
            ctx.runner.run(["docker", "volume", "rm", *volumes], timeout=DOCKER_TIMEOUT)
        for component in COMPONENTS:
            forget(ctx, component)
        return "removed " + ", ".join([*(f"network {n}" for n in networks), *(f"volume {v}" for v in volumes)])

    steps.append(Step("docker", remove_leftovers, done=docker_leftovers))
    result = execute(
        "teardown", "platform", steps, runner=ctx.runner, progress=ctx.progress, dry_run=ctx.dry_run,
        keep_on_failure=True,
    )  # fmt: skip
    if result.ok and not ctx.dry_run:
        state_path(ctx).unlink(missing_ok=True)
    return result
