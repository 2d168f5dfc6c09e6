"""Progress of a long report run on stderr.

On a terminal: one in-place bar (rounds done of the total, elapsed and estimated time left, the
round being run), with one permanent line per finished result printed above it. Not on a
terminal (CI logs, pipes): one plain line per finished result and no carriage returns.
"""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class ReportProgress:
    """Progress over ``total_rounds`` rounds of ``total_results`` results."""

    def __init__(self, total_rounds: int, total_results: int, stream: TextIO | None = None,
                 interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.total_rounds = max(total_rounds, 1)
        self.total_results = total_results
        self.done = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._message = ""

    def _width(self) -> int:
        return max(40, shutil.get_terminal_size(fallback=(100, 24)).columns - 1)

    def _draw(self, force: bool = False) -> None:
        if not self.interactive:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < 0.1:  # at most 10 redraws a second
            return
        self._last_draw = now
        fraction = min(self.done / self.total_rounds, 1.0)
        elapsed = now - self.started
        left = f" ~{elapsed * (1 - fraction) / fraction:.0f}s left" if fraction > 0.02 else ""
        cells = 24
        filled = int(cells * fraction)
        bar = "#" * filled + "-" * (cells - filled)
        text = f"[{bar}] {100 * fraction:3.0f}% {elapsed:.0f}s{left}  {self._message}"
        self.stream.write("\r\033[K" + text[: self._width()])
        self.stream.flush()

    def round(self, message: str) -> None:
        """A round finished; ``message`` names it (the checker's progress callback)."""
        self.done += 1
        self._message = message
        self._draw()

    def result(self, index: int, line: str, rounds: int = 0) -> None:
        """Result ``index`` (1-based) finished; ``line`` summarises it; ``rounds`` rounds are
        counted now (a parallel run reports no single rounds)."""
        self.done += rounds
        text = f"[{index}/{self.total_results}] {line}"
        if self.interactive:
            self.stream.write("\r\033[K" + text + "\n")
            self._draw(force=True)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def status(self, message: str) -> None:
        """A phase message (e.g. writing the report): in place on a terminal, else nothing."""
        self._message = message
        self._draw(force=True)

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K")
            self.stream.flush()
