"""The one error tree of kenv.

    KenvError                    exit 1: an operation failed
    ├── InvalidInput             exit 2: bad name, port, CIDR, file or URL; nothing was changed
    │   ├── NotFound             the named environment is not in the inventory
    │   └── Conflict             a value is already held (by the environment named in the message)
    ├── Busy                     exit 1: another kenv process holds the environment's lock
    ├── DatabaseUnavailable      exit 1: the inventory database cannot be reached
    ├── ExternalCommandError     exit 1: a tool kenv ran failed (argv, exit code, stderr tail)
    ├── OperationFailed          a workflow reported failure: the exit code its failed step chose
    │                            (2 for refused input, else 1) and that step's traceback
    └── ProblemsFound            exit 3: a check found problems (drift, conflicts)

Every message is one line that says what is wrong and how to fix it. External errors are
wrapped where they enter kenv, with the cause chained, so `--debug` can show the origin.
"""

from __future__ import annotations


class KenvError(Exception):
    """Root of every error kenv raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message}; {self.hint}"
        return " ".join(text.split())


class InvalidInput(KenvError):
    exit_code = 2


class NotFound(InvalidInput):
    pass


class Conflict(InvalidInput):
    pass


class Busy(KenvError):
    """Another kenv process works on the same environment (its lock stayed held too long)."""


class DatabaseUnavailable(KenvError):
    exit_code = 1


class ExternalCommandError(KenvError):
    def __init__(
        self,
        message: str,
        *,
        argv: list[str],
        returncode: int | None,
        stderr_tail: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.argv = argv
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class ProblemsFound(KenvError):
    exit_code = 3


class OperationFailed(KenvError):
    """A workflow returned a failed result (its steps catch their errors so that it can roll back
    and record the failure); the CLI raises this to exit as the failed step's error would have."""

    def __init__(self, message: str, *, exit_code: int = 1, trace: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.trace = trace
