"""Progress on stderr: on a terminal, the running step with a live elapsed-time counter; otherwise
plain lines, one per event, that logs and CI output can keep."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from kenv.workflows.engine import StepOutcome

# A skipped step's detail says why ("already there", or "already gone" when deleting): not repeated here.
MARKS = {"done": "ok", "skipped": "ok", "planned": "plan", "failed": "FAILED", "not-run": "-"}


class StepPrinter:
    def __init__(self, stream: TextIO | None = None, *, prefix_names: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.prefix_names = prefix_names
        self._lock = threading.Lock()
        self._current: tuple[str, str, float] | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _label(self, environment: str, index: int, total: int, step: str) -> str:
        who = f"{environment}: " if self.prefix_names or not self.live else ""
        return f"{who}[{index}/{total}] {step}"

    def step_started(self, environment: str, index: int, total: int, step: str) -> None:
        label = self._label(environment, index, total, step)
        with self._lock:
            if self.live and not self.prefix_names:
                self._current = (environment, label, time.monotonic())
                self._start_ticker()
            else:
                self.stream.write(f"{label} ...\n")
                self.stream.flush()

    def step_finished(self, environment: str, index: int, total: int, outcome: StepOutcome) -> None:
        label = self._label(environment, index, total, outcome.name)
        mark = MARKS.get(outcome.result, outcome.result)
        detail = f" — {outcome.detail}" if outcome.detail else ""
        with self._lock:
            self._current = None
            prefix = "\r\033[K" if self.live and not self.prefix_names else ""
            self.stream.write(f"{prefix}{label}: {mark} ({outcome.seconds:.1f}s){detail}\n")
            for command in outcome.commands:
                self.stream.write(f"    $ {command}\n")
            self.stream.flush()

    def note(self, environment: str, text: str) -> None:
        with self._lock:
            prefix = "\r\033[K" if self.live and self._current else ""
            self.stream.write(f"{prefix}{environment}: {text}\n")
            self.stream.flush()

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return
        self._ticker = threading.Thread(target=self._tick, name="kenv-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                if self._current is None:
                    continue
                _, label, started = self._current
                self.stream.write(f"\r\033[K{label} ... {time.monotonic() - started:.0f}s")
                self.stream.flush()

    def close(self) -> None:
        self._stop.set()
