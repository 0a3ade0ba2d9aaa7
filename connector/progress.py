"""A progress bar on stderr for long passes, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TerminalProgress:
    """`label [#######.......]  412/2751  3s`, redrawn in place at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.label, self.total, self.done = "", 0, 0
        self._started = self._drawn = 0.0

    @classmethod
    def for_terminal(cls, stream: TextIO | None = None) -> TerminalProgress | None:
        """A progress bar if `stream` (default stderr) is a terminal; None for logs and pipes."""
        stream = stream or sys.stderr
        return cls(stream) if stream.isatty() else None

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, done: int) -> None:
        self.done = min(self.total, self.done + done)
        self._draw(force=self.done == self.total)

    def finish(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        filled = int(self.WIDTH * self.done / self.total) if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {now - self._started:.0f}s\x1b[K")
        self.stream.flush()
