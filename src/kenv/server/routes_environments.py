"""/environments: list and get (the `kenv list`/`kenv get` JSON), and the long operations (create,
delete, start, stop, verify, images sync) as jobs. Input is refused (400/404/409) before a job
exists, by the same checks the CLI makes first."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from kenv.errors import Busy
from kenv.inventory.model import MANAGEMENT_NAME
from kenv.server.errors import Refused
from kenv.server.jobs import Job
from kenv.server.models import CreateBody, Environment, EnvironmentList, ImagesBody, PortChoice
from kenv.server.models import Job as JobModel
from kenv.server.operations import images_sync_job, recorded_workflow, verify_job
from kenv.server.state import ServerState

router = APIRouter(tags=["environments"])
# Starts when asked; a default of the CLI's `--timeout 300s`.
CREATE_TIMEOUT = 300.0


def _state(request: Request) -> ServerState:
    state = request.app.state.kenv
    assert isinstance(state, ServerState)
    return state


def accepted(job: Job) -> JSONResponse:
    """202 with the job, and where to follow it."""
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


def _not_busy(state: ServerState, name: str) -> None:
    """Another kenv process (or job) working on NAME: 409 now, instead of a job that waits for the
    lock and fails after 30 s."""
    holder = state.reads.environment_holder(name)
    if holder is not None:
        raise Busy(f"environment {name!r} is busy: {holder} is working on it", hint="wait for it to finish, then retry")


@router.get("/environments", response_model=EnvironmentList)
def list_environments(request: Request, provider: str | None = Query(None)) -> Response:
    """Every environment, with exactly the keys of `kenv list -o json` items (`?provider=`: as
    `kenv list --provider`)."""
    if provider is not None:
        from kenv.inventory.validation import validate_provider

        validate_provider(provider)
    envs = _state(request).reads.inventory().environments(provider=provider, labels={})
    # Serialised here, not through the response model: 1,000 records stay well under the budget.
    body = json.dumps({"environments": [env.to_dict() for env in envs]}, default=str)
    return Response(body, media_type="application/json")


@router.get("/environments/{name}", response_model=Environment)
def get_environment(request: Request, name: str) -> dict[str, Any]:
    """One environment, as `kenv get NAME -o json` prints it."""
    return _state(request).reads.inventory().get(name).to_dict()


def _port(choice: PortChoice) -> str | None:
    return None if choice is None else str(choice)


@router.post("/environments", status_code=202, response_model=JobModel)
def create(request: Request, body: CreateBody) -> JSONResponse:
    """`kenv create`: the same choices, allocation and steps; 202 with the job."""
    from kenv.inventory.spec_choices import create_spec
    from kenv.inventory.validation import check_spec, validate_name
    from kenv.providers.base import NodeResources
    from kenv.workflows.create import CreateRequest, create_environment

    state = _state(request)
    settings = state.settings
    validate_name(body.name, role=body.role)
    record = state.reads.inventory().find(body.name)
    spec, explicit = create_spec(
        settings,
        body.name,
        recorded_provider=record.provider if record else None,
        provider=body.provider,
        role=body.role,
        subnet=body.subnet,
        ports={p: _port(getattr(body, f"{p}_port")) for p in ("http", "https", "pf", "api")},
        node_port=body.node_port,
        servers=body.servers,
        agents=body.agents,
        k8s_version=body.k8s_version,
        labels=tuple(f"{k}={v}" for k, v in body.labels.items()),
        allow_privileged_port=False,
    )
    if record is None:
        check_spec(spec)  # as the workflow does first: refused now, with its message, not in a job
    create_request = CreateRequest(
        spec=spec,
        explicit=explicit,
        timeout=CREATE_TIMEOUT,
        resources=NodeResources(cpus=settings.node_cpus, memory=settings.node_memory),
        images=_sync_request(body.images, body.components),
    )
    _not_busy(state, body.name)
    work = recorded_workflow(
        settings, "create", body.name, lambda ctx: create_environment(ctx, create_request), dry_run=body.dry_run
    )
    return accepted(state.jobs.submit("create", body.name, work))


def _sync_request(refs: list[str], components: list[str]) -> Any:
    """`--images-from`/`--component` of create, as a sync request; bad ones refused now (400)."""
    if not refs and not components:
        return None
    from kenv.images.components import check_component
    from kenv.images.reference import parse_reference
    from kenv.workflows.images import SyncRequest

    chosen = tuple(check_component(c) for c in components)
    origin = " ".join([*refs, *(f"--component {c}" for c in chosen)])
    return SyncRequest(tuple(parse_reference(r) for r in refs), chosen, origin=origin)


@router.delete("/environments/{name}", status_code=202, response_model=JobModel)
def delete(
    request: Request,
    name: str,
    keep_record: bool = Query(False),
    dry_run: bool = Query(False),
) -> JSONResponse:
    """`kenv delete NAME [--keep-record]`; the management environment is refused (403): the
    platform stands on it, and `kenv teardown --all` is the way to remove it."""
    from kenv.inventory.validation import validate_name
    from kenv.workflows.delete import DeleteRequest, delete_environment

    state = _state(request)
    record = state.reads.inventory().find(name)
    if name == MANAGEMENT_NAME or (record is not None and record.role == "management"):
        raise Refused(
            f"the management environment {name!r} cannot be deleted through the API",
            hint="the platform runs on it; use `kenv teardown --all` on the host",
        )
    if record is None:
        validate_name(name)
    _not_busy(state, name)
    delete_request = DeleteRequest(name, keep_record=keep_record)
    work = recorded_workflow(
        state.settings, "delete", name, lambda ctx: delete_environment(ctx, delete_request), dry_run=dry_run
    )
    return accepted(state.jobs.submit("delete", name, work))


def _power(request: Request, name: str, kind: str, dry_run: bool) -> JSONResponse:
    from kenv.workflows.lifecycle import start_environment, stop_environment

    state = _state(request)
    state.reads.inventory().get(name)  # an unknown name: 404 now
    _not_busy(state, name)
    action = start_environment if kind == "start" else stop_environment
    work = recorded_workflow(state.settings, kind, name, lambda ctx: action(ctx, name), dry_run=dry_run)
    return accepted(state.jobs.submit(kind, name, work))


@router.post("/environments/{name}/start", status_code=202, response_model=JobModel)
def start(request: Request, name: str, dry_run: bool = Query(False)) -> JSONResponse:
    """`kenv start NAME`."""
    return _power(request, name, "start", dry_run)


@router.post("/environments/{name}/stop", status_code=202, response_model=JobModel)
def stop(request: Request, name: str, dry_run: bool = Query(False)) -> JSONResponse:
    """`kenv stop NAME`."""
    return _power(request, name, "stop", dry_run)


@router.post("/environments/{name}/verify", status_code=202, response_model=JobModel)
def verify(request: Request, name: str) -> JSONResponse:
    """`kenv verify NAME`: API, nodes, kube-system, DNS; the result is its `-o json` list."""
    state = _state(request)
    state.reads.inventory().get(name)
    return accepted(state.jobs.submit("verify", name, verify_job(state.settings, name)))


@router.post("/environments/{name}/images/sync", status_code=202, response_model=JobModel)
def images_sync(request: Request, name: str, body: ImagesBody) -> JSONResponse:
    """`kenv images sync NAME REF... --component C...`; the result is its `-o json` document."""
    state = _state(request)
    state.reads.inventory().get(name)
    work = images_sync_job(state.settings, name, body.images, body.components, dry_run=body.dry_run)
    _not_busy(state, name)
    return accepted(state.jobs.submit("images-sync", name, work))
