"""Reads that answer at once: an environment's images (list, check), its doctor report, the
routes, the platform, the history. Each body is the CLI command's `-o json` document, made by
the same workflow call and serialised as the CLI serialises it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from kenv.images.components import ALL, COMPONENTS
from kenv.server.models import Document, ImagesBody
from kenv.server.state import ServerState

router = APIRouter()


def _state(request: Request) -> ServerState:
    state = request.app.state.kenv
    assert isinstance(state, ServerState)
    return state


def cli_json(data: Any) -> Response:
    """The document as `-o json` writes it (`default=str`: datetimes as the CLI shows them)."""
    return Response(json.dumps(data, default=str), media_type="application/json")


@router.get("/environments/{name}/images", response_model=Document, tags=["images"])
def images_list(
    request: Request, name: str, component: str = Query("all", json_schema_extra={"enum": [ALL, *COMPONENTS]})
) -> Response:
    """`kenv images list NAME -o json`: every image the environment needs, and which nodes hold it."""
    from kenv.workflows.images_list import list_images

    return cli_json(list_images(_state(request).reads, name, component=component).to_json())


@router.post("/environments/{name}/images/check", response_model=Document, tags=["images"])
def images_check(request: Request, name: str, body: ImagesBody) -> Response:
    """`kenv images check NAME REF... --component C... -o json` (missing images are in the document,
    not an error)."""
    from kenv.images.components import check_component
    from kenv.images.reference import parse_reference
    from kenv.workflows.images import check_images

    refs = [parse_reference(r) for r in body.images]
    components = tuple(check_component(c) for c in body.components)
    return cli_json(check_images(_state(request).reads, name, refs, components=components).to_json())


@router.get("/environments/{name}/doctor", response_model=Document, tags=["doctor"])
def doctor(request: Request, name: str) -> Response:
    """`kenv doctor NAME -o json`: the findings as cause trees (schema kenv.doctor/v1)."""
    from kenv.workflows.doctor import diagnose_environment

    return cli_json(diagnose_environment(_state(request).reads, name).to_dict())


@router.get("/routes", response_model=Document, tags=["platform"])
def routes(request: Request) -> Response:
    """`kenv routes show -o json`."""
    from kenv.workflows.routes import show_routes

    return cli_json(show_routes(_state(request).reads).to_dict())


@router.get("/platform", response_model=Document, tags=["platform"])
def platform(request: Request) -> Response:
    """The components bootstrap made, their URLs and whether they answer, and HAProxy's routes to
    the environments."""
    from kenv.workflows.platform_status import platform_status

    return cli_json(platform_status(_state(request).reads))


@router.get("/history", response_model=list[dict[str, Any]], tags=["history"])
def history(
    request: Request,
    environment: str | None = Query(None),
    limit: int = Query(50, ge=1, le=10000),
) -> Response:
    """`kenv history [NAME] --limit N -o json`: newest first."""
    return cli_json(_state(request).reads.inventory().operations(environment or None, limit))
