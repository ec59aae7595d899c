"""KenvError -> the API's JSON error: the CLI's one line, its hint, its exit code, and the HTTP
status of its class (400 invalid input, 404 not found, 409 conflict or busy, 403 refused, 502 a
tool failed, 500 any other failure)."""

from __future__ import annotations

from typing import Any

from kenv.errors import Busy, Conflict, ExternalCommandError, InvalidInput, KenvError, NotFound, OperationFailed
from kenv.inventory.database import CHECK_FAILED, ConstraintViolation


class Refused(InvalidInput):
    """Something the API does not do on purpose (delete the management environment)."""


def status_of(exc: KenvError) -> int:
    if isinstance(exc, Refused):
        return 403
    if isinstance(exc, NotFound):
        return 404
    # A value held by another record, or a lost race with another writer (its hint says retry).
    if isinstance(exc, Conflict | Busy) or (isinstance(exc, ConstraintViolation) and exc.kind != CHECK_FAILED):
        return 409
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, ExternalCommandError):
        return 502
    if isinstance(exc, OperationFailed) and exc.exit_code == 2:
        return 400
    return 500


def error_body(exc: KenvError, status: int | None = None) -> dict[str, Any]:
    """`{"message", "hint", "exit_code", "status"}`: what `kenv` would print after `kenv: error:`."""
    return {
        "message": " ".join(exc.message.split()),
        "hint": exc.hint,
        "exit_code": exc.exit_code,
        "status": status if status is not None else status_of(exc),
    }


def failure_body(message: str, exit_code: int, cause: type[BaseException] | None) -> dict[str, Any]:
    """A failed workflow's result as an error: the class of its failed step's error decides the status."""
    if exit_code == 2:
        status = 400
    elif cause is not None and issubclass(cause, ExternalCommandError):
        status = 502
    elif cause is not None and issubclass(cause, Busy):
        status = 409
    else:
        status = 500
    return {"message": " ".join(message.split()), "hint": None, "exit_code": exit_code or 1, "status": status}
