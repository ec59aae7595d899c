"""The FastAPI application: `/api/v1` (bearer token on every route but the health check), the
OpenAPI document at `/api/v1/openapi.json`, and the dashboard's static files at `/` and `/static`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kenv import __version__
from kenv.errors import InvalidInput, KenvError
from kenv.server.errors import error_body
from kenv.server.models import ErrorResponse, Health
from kenv.server.state import ServerState

STATIC = Path(__file__).resolve().parent / "static"
API = "/api/v1"

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "invalid input (the CLI would exit 2)",
        401: "missing or wrong bearer token",
        403: "refused on purpose (the management environment)",
        404: "no such environment or job",
        409: "a value is held, or another kenv process works on the environment",
        500: "the operation failed",
        502: "a tool kenv ran failed",
    }.items()
}


class Unauthorized(KenvError):
    pass


class RevalidatedFiles(StaticFiles):
    """The dashboard's modules carry no content hash (no build step): a browser must ask again
    after an upgrade of kenv instead of running an old `app.js` against a newer API."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def error_response(exc: KenvError, status: int | None = None) -> JSONResponse:
    body = error_body(exc, status)
    headers = {"WWW-Authenticate": "Bearer"} if body["status"] == 401 else None
    return JSONResponse({"error": body}, status_code=body["status"], headers=headers)


def create_app(state: ServerState) -> FastAPI:
    app = FastAPI(
        title="kenv",
        version=__version__,
        description="The same workflows and inventory as the kenv command line. Long operations return 202 "
        "with a job; its events stream as server-sent events.",
        openapi_url=f"{API}/openapi.json",
        # The interactive pages load their scripts from a CDN; kenv works offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.kenv = state
    bearer = HTTPBearer(auto_error=False, description="The token `kenv serve token` prints.")

    def require_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        if not state.tokens.matches(header):
            raise Unauthorized("missing or wrong bearer token", hint="send Authorization: Bearer $(kenv serve token)")

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return error_response(exc, 401)

    @app.exception_handler(KenvError)
    async def kenv_error(request: Request, exc: KenvError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # As the CLI's last resort says it: one line, exit 1 (the traceback goes to the server's log).
        error = KenvError(f"unexpected {type(exc).__name__}: {exc}", hint="see the kenv serve log and report it")
        return error_response(error, 500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(InvalidInput(_validation_line(exc)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        error = KenvError(f"{request.method} {request.url.path}: {message.lower()}")
        error.exit_code = 2 if exc.status_code < 500 else 1
        response = error_response(error, exc.status_code)
        response.headers.update(exc.headers or {})  # a 405's Allow, say
        return response

    @app.get(f"{API}/health", response_model=Health, tags=["health"])
    def health() -> dict[str, str]:
        """Whether the server answers (no token needed)."""
        return {"status": "ok", "version": __version__}

    from kenv.server.routes_environments import router as environments
    from kenv.server.routes_jobs import router as jobs
    from kenv.server.routes_read import router as reads

    for router in (environments, jobs, reads):
        app.include_router(router, prefix=API, dependencies=[Depends(require_token)], responses=ERRORS)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", RevalidatedFiles(directory=STATIC, check_dir=False), name="static")
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document without the 422 it declares for every route: invalid input is 400
        here, with the error body of every other error."""
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _validation_line(exc: RequestValidationError) -> str:
    """Pydantic's first complaint as one line: `body.servers: Input should be a valid integer`."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"
