"""Two programs joined by a pipe, `first | second`, without a shell: a dump streamed from one
place into another (`kubectl exec old -- pg_dumpall | kubectl exec -i new -- psql`) never lands
on this machine's disk, whatever its size. In a dry run both command lines are recorded."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence

from kenv.errors import ExternalCommandError
from kenv.runtime.process import CommandResult, Runner, not_installed


def pipe(
    runner: Runner,
    first: Sequence[str],
    second: Sequence[str],
    *,
    timeout: float,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[CommandResult, CommandResult]:
    """Run `first | second`; both results (stdout of `first` is consumed by `second`, so it is
    empty in its result). Stderr of each goes to a temporary file, not a pipe: a chatty program
    could otherwise fill a pipe nobody reads and stall both."""
    a, b = tuple(str(x) for x in first), tuple(str(x) for x in second)
    if runner.dry_run:
        runner.planned.append(a)
        runner.planned.append(b)
        return CommandResult(a, 0, "", "", 0.0, executed=False), CommandResult(b, 0, "", "", 0.0, executed=False)
    environment = dict(os.environ if runner.env is None else runner.env)
    environment.update(extra_env or {})
    started = time.monotonic()
    with tempfile.TemporaryFile() as err_a, tempfile.TemporaryFile() as err_b:
        try:
            producer = subprocess.Popen(a, stdout=subprocess.PIPE, stderr=err_a, env=environment)  # noqa: S603
        except FileNotFoundError as exc:
            raise not_installed(a) from exc
        try:
            consumer = subprocess.Popen(  # noqa: S603 - argv lists, never a shell
                b, stdin=producer.stdout, stdout=subprocess.PIPE, stderr=err_b, env=environment
            )
        except FileNotFoundError as exc:
            producer.kill()
            producer.wait()
            raise not_installed(b) from exc
        assert producer.stdout is not None
        producer.stdout.close()  # the consumer holds the read end: the producer sees SIGPIPE if it exits
        try:
            out_b, _ = consumer.communicate(timeout=timeout)
            producer.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired as exc:
            for process in (producer, consumer):
                process.kill()
                process.wait()
            raise ExternalCommandError(
                f"`{a[0]} ... | {b[0]} ...` did not finish within {timeout:g}s",
                argv=list(a),
                returncode=None,
                stderr_tail="",
            ) from exc
        seconds = time.monotonic() - started
        err_a.seek(0)
        err_b.seek(0)
        text_a = err_a.read().decode(errors="replace")
        text_b = err_b.read().decode(errors="replace")
    return (
        CommandResult(a, producer.returncode, "", text_a, seconds),
        CommandResult(b, consumer.returncode, out_b.decode(errors="replace"), text_b, seconds),
    )
