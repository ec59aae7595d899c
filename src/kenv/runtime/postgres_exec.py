"""Running PostgreSQL's own programs: on this machine from a bin directory, or inside the
platform's pod through `kubectl exec`. One command line per call, through the Runner.

PostgreSQL's server programs (postgres, pg_ctl, initdb) refuse to run as root; when kenv runs
as root, a local target names the unprivileged user they run as (`run_as`) and those programs
are started through `runuser -u USER --`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kenv.errors import ExternalCommandError, InvalidInput
from kenv.runtime.process import CommandResult, Runner, failure, not_installed

# Programs that are part of a PostgreSQL installation: taken from the target's bin directory.
PG_TOOLS = frozenset(
    {
        "psql",
        "pg_basebackup",
        "pg_dump",
        "pg_dumpall",
        "pg_restore",
        "pg_ctl",
        "pg_verifybackup",
        "pg_controldata",
        "pg_archivecleanup",
        "pg_isready",
        "pg_upgrade",
        "pg_waldump",
        "initdb",
        "pgbench",
        "postgres",
        "createdb",
    }
)
# Server-side programs PostgreSQL will not run as root.
ROOTLESS_TOOLS = frozenset({"pg_ctl", "initdb", "postgres", "pg_upgrade", "pg_controldata"})
# Commands that only read: they run even in a dry run.
READ_ONLY_TOOLS = frozenset({"psql", "pg_controldata", "pg_isready", "pg_verifybackup", "cat", "df", "ls", "test"})


@dataclass(frozen=True)
class Target:
    """Where PostgreSQL commands run.

    kind "local": `url` is a libpq URL (postgresql://user[:password]@host:port/db) and `bin_dir`
    where the pg_* programs are; `run_as` the user server programs run as when kenv is root.
    kind "pod": `env`, `namespace`, `pod`, `container` and the environment's `kubeconfig`; psql
    reaches the server through the socket inside the pod."""

    kind: str
    url: str | None = None
    bin_dir: Path | None = None
    env: str | None = None
    namespace: str | None = None
    pod: str | None = None
    container: str | None = None
    kubeconfig: Path | None = None
    run_as: str | None = None

    def describe(self) -> str:
        if self.kind == "pod":
            return f"pod {self.namespace}/{self.pod} of environment {self.env}"
        return f"the server at {redact_url(self.url or '')}"


def redact_url(url: str) -> str:
    """A libpq URL without its password (for messages and output)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def without_password(value: str) -> str:
    """A libpq URL without its password; anything else unchanged."""
    if not value.startswith(("postgresql://", "postgres://")):
        return value
    parts = urlsplit(value)
    if parts.password is None:
        return value
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@", 1)).geturl()


def find_bin_dir(runner: Runner) -> Path:
    """The bin directory of the PostgreSQL that `pg_config` on PATH belongs to."""
    if shutil.which("pg_config") is None:
        raise InvalidInput(
            "no PostgreSQL programs found: pg_config is not on PATH",
            hint="give --bin-dir DIR (the directory holding psql and pg_basebackup) or put pg_config on PATH",
        )
    out = runner.run(["pg_config", "--bindir"], timeout=10, mutating=False).stdout.strip()
    return Path(out)


def _server_error(result: CommandResult, target: Target) -> ExternalCommandError:
    """A libpq failure turned into one line saying what is wrong with the server or the login."""
    text = result.stderr
    where = target.describe()

    def error(message: str, hint: str) -> ExternalCommandError:
        return ExternalCommandError(
            message, argv=list(result.argv), returncode=result.returncode, stderr_tail=text.strip()[-300:], hint=hint
        )

    if "password authentication failed" in text or "no password supplied" in text:
        return error(
            f"PostgreSQL refused the login to {where}: the password is wrong",
            "check the user and password in the URL (or PGPASSWORD)",
        )
    refused = "Connection refused" in text or "No such file or directory" in text
    if refused and ("connection to server" in text or "could not connect" in text):
        return error(
            f"PostgreSQL is not running at {where}: the connection was refused",
            "start the server (or check the host and port) and run the command again",
        )
    if re.search(r'database "[^"]+" does not exist', text):
        return error(f"{where}: {text.strip().splitlines()[-1]}", "name an existing database in the URL")
    return failure(result)


class Executor:
    """What every PostgreSQL operation runs through; LocalExecutor and PodExecutor say where.

    executor = executor_for_target(Target(kind="local", url=URL, bin_dir=BIN), runner)
    executor.query("SELECT count(*) AS n FROM t")   # [{"n": "3"}]
    executor.run("pg_basebackup", [...])
    """

    target: Target
    runner: Runner

    def argv(self, tool: str, args: Sequence[str]) -> list[str]:
        """The command line `run` would start (kubectl exec ... for a pod, runuser for a server
        program when kenv is root)."""
        raise NotImplementedError

    def extra_env(self) -> Mapping[str, str] | None:
        """Environment for the target's commands (PGPASSWORD from a local URL, C messages)."""
        return None

    def run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float = 300,
        check: bool = True,
        mutating: bool | None = None,
    ) -> CommandResult:
        """Run `tool args` at the target (pg_* programs from the target's installation); a failing
        call raises with the server's reason. Read-only tools (psql, pg_verifybackup, ...) run in
        a dry run too; others are recorded."""
        argv = self.argv(tool, args)
        if mutating is None:
            mutating = tool not in READ_ONLY_TOOLS
        result = self.runner.run(
            argv,
            timeout=timeout,
            check=False,
            mutating=mutating,
            input_text=stdin.decode() if stdin is not None else None,
            extra_env=self.extra_env(),
        )
        if check and not result.ok:
            raise _server_error(result, self.target)
        return result

    def psql_args(self, database: str | None) -> list[str]:
        """psql's connection arguments for the target (a URL, or the pod's socket)."""
        raise NotImplementedError

    def query(self, sql: str, *, database: str | None = None, timeout: float = 60) -> list[dict[str, str | None]]:
        """Rows of one read-only statement as dicts of text (None for SQL NULL). The SQL is sent
        on stdin, never built from values; psql's CSV output keeps NULL apart from ''
        through a marker that no value holds."""
        null = "\x01NULL\x01"
        args = [*self.psql_args(database), "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-P", f"null={null}"]
        result = self.run("psql", args, stdin=sql.encode(), timeout=timeout, mutating=False)
        reader = csv.reader(io.StringIO(result.stdout))
        rows = list(reader)
        if not rows:
            return []
        header, body = rows[0], rows[1:]
        return [{k: (None if v == null else v) for k, v in zip(header, row, strict=False)} for row in body]

    def execute(self, sql: str, *, database: str | None = None, timeout: float = 60) -> CommandResult:
        """Run statements that change something (recorded, not run, in a dry run)."""
        args = [*self.psql_args(database), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        return self.run("psql", args, stdin=sql.encode(), timeout=timeout, mutating=True)

    def version(self) -> tuple[int, int]:
        """(major, minor) of the server, e.g. (16, 4)."""
        rows = self.query("SELECT current_setting('server_version_num') AS v")
        number = int(rows[0]["v"] or "0")
        return number // 10000, number % 10000


class LocalExecutor(Executor):
    """pg_* programs from `target.bin_dir`, other programs from PATH, on this machine."""

    def __init__(self, target: Target, runner: Runner) -> None:
        self.target = target
        self.runner = runner

    def tool_path(self, tool: str) -> str:
        if tool in PG_TOOLS and self.target.bin_dir is not None:
            return str(self.target.bin_dir / tool)
        return tool

    def argv(self, tool: str, args: Sequence[str]) -> list[str]:
        # A password never goes on a command line (other users read /proc/*/cmdline): the URL
        # loses it and PGPASSWORD carries it (extra_env).
        argv = [self.tool_path(tool), *(without_password(a) for a in args)]
        if tool in ROOTLESS_TOOLS and os.geteuid() == 0:
            if not self.target.run_as:
                raise InvalidInput(
                    f"PostgreSQL's {tool} refuses to run as root",
                    hint="give --run-as USER (an unprivileged user that owns the data directory)",
                )
            return ["runuser", "-u", self.target.run_as, "--", *argv]
        return argv

    def extra_env(self) -> Mapping[str, str] | None:
        # Messages in English whatever the locale: errors are recognised by their text.
        env = {"LC_MESSAGES": "C", "LANG": "C.UTF-8", "PGCONNECT_TIMEOUT": "10"}
        password = urlsplit(self.target.url or "").password
        if password is not None:
            env["PGPASSWORD"] = unquote(password)
        return env

    def psql_args(self, database: str | None) -> list[str]:
        url = self.target.url or ""
        if database:
            url = urlsplit(url)._replace(path=f"/{database}").geturl()
        return ["-d", url]


class PodExecutor(Executor):
    """Programs inside the PostgreSQL container: `kubectl exec -n NS POD -c C -- TOOL ARGS`."""

    def __init__(self, target: Target, runner: Runner) -> None:
        self.target = target
        self.runner = runner

    def argv(self, tool: str, args: Sequence[str]) -> list[str]:
        base = ["kubectl"]
        if self.target.kubeconfig is not None:
            base += ["--kubeconfig", str(self.target.kubeconfig)]
        base += ["exec", "-i", "-n", self.target.namespace or "default", self.target.pod or ""]
        if self.target.container:
            base += ["-c", self.target.container]
        return [*base, "--", tool, *args]

    def psql_args(self, database: str | None) -> list[str]:
        # The image's postgres user over the pod's Unix socket (pg_hba's `local` line).
        return ["-U", "postgres", "-d", database or "postgres"]


def executor_for_target(target: Target, runner: Runner) -> Executor:
    if target.kind == "local":
        if not target.url:
            raise InvalidInput("a local target needs a URL", hint="give --local postgresql://USER@HOST:PORT/DB")
        return LocalExecutor(target, runner)
    if target.kind == "pod":
        return PodExecutor(target, runner)
    raise InvalidInput(f"unknown target kind {target.kind!r}", hint="use 'local' or 'pod'")


def interactive(argv: Sequence[str], runner: Runner, *, extra_env: Mapping[str, str] | None = None) -> int:
    """Run a program attached to this terminal (psql for people) and return its exit code; in a
    dry run the command is recorded instead."""
    args = tuple(str(a) for a in argv)
    if runner.dry_run:
        runner.planned.append(args)
        return 0
    environment = dict(os.environ if runner.env is None else runner.env)
    environment.update(extra_env or {})
    try:
        return subprocess.call(args, env=environment)  # noqa: S603 - argv list, never a shell
    except FileNotFoundError as exc:
        raise not_installed(args) from exc
