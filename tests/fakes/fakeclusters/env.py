"""Per-invocation environment of a fake: state dir, call log, injections.

Environment variables (all read by every fake):

``KENV_FAKE_STATE``      directory holding state.json / calls.jsonl (required)
``KENV_FAKE_FAIL``       ``tool:op[:cluster]`` comma list -> that call fails
``KENV_FAKE_HANG``       ``tool:op[:cluster]`` comma list -> that call never returns
``KENV_FAKE_DELAY``      ``tool:op[:cluster]=seconds`` comma list -> sleep first
``KENV_FAKE_UNHEALTHY``  ``cluster:what[=node]`` comma list, what is
                         node-notready | coredns-crashloop | dns
"""

from __future__ import annotations

import os
import sys
import time

from .state import StateStore, append_jsonl


class FakeExit(Exception):
    """Stop the fake with the given exit code (output already written)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Rule:
    """One ``tool:op[:cluster]`` selector (``*`` matches anything)."""

    __slots__ = ("cluster", "op", "tool", "value")

    def __init__(self, spec: str, value: str = "") -> None:
        parts = spec.split(":", 2)
        if len(parts) < 2:
            raise ValueError(f"expected tool:op[:cluster], got {spec!r}")
        self.tool, self.op = parts[0], parts[1]
        self.cluster = parts[2] if len(parts) == 3 else ""
        self.value = value

    def matches(self, tool: str, op: str, clusters: list[str]) -> bool:
        if self.tool not in (tool, "*") or self.op not in (op, "*"):
            return False
        return not self.cluster or self.cluster == "*" or self.cluster in clusters


class FakeEnv:
    """Everything a fake invocation needs to know about its environment."""

    def __init__(self, tool: str, environ: dict[str, str]) -> None:
        self.tool = tool
        self.environ = environ
        state_dir = environ.get("KENV_FAKE_STATE", "")
        if not state_dir:
            sys.stderr.write(
                f"fake {tool}: KENV_FAKE_STATE is not set; it must name the directory that holds "
                "the fake clusters' shared state (see tests/fakes/README.md)\n"
            )
            raise FakeExit(1)
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.store = StateStore(self.state_dir)
        try:
            self.fail_rules = [Rule(s) for s in _split(environ.get("KENV_FAKE_FAIL", ""))]
            self.hang_rules = [Rule(s) for s in _split(environ.get("KENV_FAKE_HANG", ""))]
            self.delay_rules = []
            for item in _split(environ.get("KENV_FAKE_DELAY", "")):
                spec, _, secs = item.rpartition("=")
                float(secs)
                self.delay_rules.append(Rule(spec, secs))
        except ValueError as exc:
            sys.stderr.write(f"fake {tool}: bad KENV_FAKE_FAIL/HANG/DELAY value: {exc}\n")
            raise FakeExit(1) from None
        self.unhealthy: list[tuple[str, str, str]] = []
        for item in _split(environ.get("KENV_FAKE_UNHEALTHY", "")):
            cluster, _, what = item.partition(":")
            what, _, node = what.partition("=")
            self.unhealthy.append((cluster, what, node))

    # -- call log -----------------------------------------------------------
    def record_call(self, argv: list[str]) -> None:
        append_jsonl(
            os.path.join(self.state_dir, "calls.jsonl"),
            {
                "tool": self.tool,
                "argv": [self.tool, *argv],
                "cwd": os.getcwd(),
                "time": time.time(),
                "pid": os.getpid(),
                "kubeconfig_env": self.environ.get("KUBECONFIG"),
            },
        )

    # -- injection ----------------------------------------------------------
    def should_fail(self, op: str, clusters: list[str] | tuple[str, ...] = ()) -> bool:
        return any(r.matches(self.tool, op, list(clusters)) for r in self.fail_rules)

    def maybe_hang(self, op: str, clusters: list[str] | tuple[str, ...] = ()) -> None:
        """Block forever (until killed) when KENV_FAKE_HANG selects this call."""
        if any(r.matches(self.tool, op, list(clusters)) for r in self.hang_rules):
            sys.stdout.flush()
            sys.stderr.flush()
            while True:  # interrupted only by a signal (SIGTERM/SIGKILL/SIGINT)
                time.sleep(3600)

    def maybe_delay(self, op: str, clusters: list[str] | tuple[str, ...] = ()) -> None:
        for rule in self.delay_rules:
            if rule.matches(self.tool, op, list(clusters)):
                time.sleep(float(rule.value))
                return

    def inject(self, op: str, clusters: list[str] | tuple[str, ...] = ()) -> bool:
        """Hang/delay as configured; return True if the call must fail."""
        self.maybe_hang(op, clusters)
        self.maybe_delay(op, clusters)
        return self.should_fail(op, clusters)

    def unhealthy_for(self, cluster_names: list[str]) -> dict[str, str]:
        """``{what: node}`` of injected health problems for a cluster."""
        return {what: node for (cluster, what, node) in self.unhealthy if cluster in cluster_names or cluster == "*"}

    # -- paths --------------------------------------------------------------
    def home(self) -> str:
        return self.environ.get("HOME") or os.path.expanduser("~")

    def kubeconfig_env_paths(self) -> list[str]:
        """$KUBECONFIG split like client-go (empty entries and dups dropped)."""
        seen: list[str] = []
        for p in self.environ.get("KUBECONFIG", "").split(os.pathsep):
            if p and p not in seen:
                seen.append(p)
        return seen

    def default_kubeconfig(self) -> str:
        return os.path.join(self.home(), ".kube", "config")
