"""A Runner that answers from a script instead of running tools, for unit tests of the providers.

The providers reach the outside world only through `Runner.run`, so a test gives the runner the
exact commands it expects (whole argv lists, or prefixes) with the answers the real tool gives
(exit code, stdout, stderr in the tool's real format) and then checks what the provider made of
them. Nothing inside kenv is patched: the argv builders, the parsers and the error paths all run.

- `expect(...)`: the next call, in order, consumed once;
- `answer(...)`: a call that may come at any time, any number of times (read-only queries);
- any other call fails the test at once, naming the call and what was expected;
- every call is recorded (`calls`) with its extra_env, timeout, mutating and check flags;
- like the real Runner: in a dry run a mutating call is only planned (`planned`), never answered
  from the script; `check=True` and a non-zero exit raise `kenv.runtime.process.failure(result)`.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network
from typing import Any

import pytest

from kenv.errors import ExternalCommandError
from kenv.inventory.model import Environment
from kenv.runtime.process import CommandResult, Runner, failure, stderr_tail


@dataclass(frozen=True)
class Reply:
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    # The tool outlives its timeout: raise what the real Runner raises after killing it.
    timed_out: bool = False


@dataclass(frozen=True)
class Expectation:
    argv: tuple[str, ...]
    reply: Reply
    prefix: bool = False

    def matches(self, args: tuple[str, ...]) -> bool:
        if self.prefix:
            return args[: len(self.argv)] == self.argv
        return args == self.argv

    def __str__(self) -> str:
        return shlex.join(self.argv) + (" ..." if self.prefix else "")


@dataclass(frozen=True)
class Call:
    argv: tuple[str, ...]
    extra_env: dict[str, str] | None
    timeout: float
    mutating: bool
    check: bool
    input_text: str | None
    executed: bool


class ScriptedRunner(Runner):
    def __init__(self, *, dry_run: bool = False) -> None:
        super().__init__(dry_run=dry_run)
        self._ordered: deque[Expectation] = deque()
        self._anytime: list[Expectation] = []
        self.calls: list[Call] = []

    # -- the script ---------------------------------------------------------------------------

    def expect(
        self,
        argv: Sequence[str],
        *,
        returncode: int = 0,
        stdout: str = "",
        stderr: str = "",
        prefix: bool = False,
        timed_out: bool = False,
    ) -> ScriptedRunner:
        """The next call (in order, once): exactly `argv`, or starting with it when `prefix`."""
        reply = Reply(returncode, stdout, stderr, timed_out)
        self._ordered.append(Expectation(tuple(str(a) for a in argv), reply, prefix))
        return self

    def answer(
        self,
        argv: Sequence[str],
        *,
        returncode: int = 0,
        stdout: str = "",
        stderr: str = "",
        prefix: bool = False,
    ) -> ScriptedRunner:
        """A call that may come at any point and any number of times (a read-only query)."""
        self._anytime.append(Expectation(tuple(str(a) for a in argv), Reply(returncode, stdout, stderr), prefix))
        return self

    def assert_done(self) -> None:
        """Every ordered expectation was called."""
        if self._ordered:
            pytest.fail("expected calls never made:\n  " + "\n  ".join(map(str, self._ordered)))

    # -- what happened --------------------------------------------------------------------------

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        return [call.argv for call in self.calls]

    def calls_to(self, tool: str) -> list[Call]:
        return [call for call in self.calls if call.argv and call.argv[0] == tool]

    # -- the Runner interface -------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        check: bool = True,
        mutating: bool = True,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        args = tuple(str(a) for a in argv)
        if not timeout > 0:
            pytest.fail(f"`{shlex.join(args)}` was run without a positive timeout ({timeout!r})")
        planned_only = self.dry_run and mutating
        self.calls.append(
            Call(
                args,
                dict(extra_env) if extra_env is not None else None,
                timeout,
                mutating,
                check,
                input_text,
                executed=not planned_only,
            )
        )
        if planned_only:
            self.planned.append(args)
            return CommandResult(args, 0, "", "", 0.0, executed=False)
        reply = self._take(args)
        if reply.timed_out:
            raise ExternalCommandError(
                f"`{shlex.join(args)}` timed out after {timeout:g}s",
                argv=list(args),
                returncode=None,
                stderr_tail=stderr_tail(reply.stderr),
                hint="raise the timeout or check why the tool hangs",
            )
        result = CommandResult(args, reply.returncode, reply.stdout, reply.stderr, 0.0)
        if check and not result.ok:
            raise failure(result)
        return result

    def _take(self, args: tuple[str, ...]) -> Reply:
        if self._ordered and self._ordered[0].matches(args):
            return self._ordered.popleft().reply
        for expectation in self._anytime:
            if expectation.matches(args):
                return expectation.reply
        upcoming = str(self._ordered[0]) if self._ordered else "nothing more"
        anytime = ", ".join(map(str, self._anytime)) or "none"
        pytest.fail(f"unexpected call: {shlex.join(args)}\n  next expected: {upcoming}\n  allowed any time: {anytime}")


CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def environment(
    name: str = "dev",
    provider: str = "k3d",
    *,
    subnet: str | None = None,
    ports: Mapping[str, int] | None = None,
    servers: int = 1,
    agents: int = 0,
    k8s_version: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Environment:
    """An inventory record as the providers receive it."""
    return Environment(
        name=name,
        provider=provider,
        role="business",
        subnet=IPv4Network(subnet) if subnet else None,
        ports=dict(ports or {}),
        node_port=30080,
        servers=servers,
        agents=agents,
        k8s_version=k8s_version,
        labels=dict(labels or {}),
        register_portainer=True,
        haproxy_route=True,
        desired_state="present",
        status="running",
        last_error=None,
        last_step=None,
        created_at=CREATED,
        updated_at=CREATED,
    )


def record(**changes: Any) -> Environment:
    """A running k3d record with every port and a subnet, as workflows read it; `changes`
    replace any field."""
    env = environment(subnet="10.200.0.0/24", ports={"api": 16400, "http": 18000, "https": 18500, "pf": 19000})
    return dataclasses.replace(env, last_step="ready", **changes)
