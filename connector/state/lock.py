"""One pass per store at a time, across processes: an OS lock on a file beside the state file.

`fcntl.flock` on `<state file>.<store>.lock`: the kernel releases it when the holder's file is
closed, including when the process is killed (SIGKILL, a crash, the machine's OOM killer), so
a lock is never left held by a process that is gone. The holder writes its pid, the moment it
took the lock and its command into the file, only so that a process that finds the store busy
can say who holds it; the lock itself is the flock, never the file's content.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from stockstatus.core.errors import ConnectorError

POLL_SECONDS = 0.2


class StoreBusy(ConnectorError):
    """Another process is running a pass over this store."""


def lock_path(state_path: Path, store: str) -> Path:
    """The lock file of `store` beside the state file (store names are file-name safe)."""
    return state_path.with_name(f"{state_path.name}.{store}.lock")


class StoreLock:
    """The lock on one store's passes; `acquire` waits up to `wait` seconds, then raises StoreBusy."""

    def __init__(self, path: Path, store: str, *, now: Callable[[], str]) -> None:
        self.path = path
        self.store = store
        self._now = now
        self._fd: int | None = None

    def _try(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3]))
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {self._now()} ({command})\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it (best effort: the lock is the flock, not this)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text or "another process"

    async def acquire(self, wait: float) -> None:
        deadline = time.monotonic() + max(wait, 0.0)
        while not self._try():
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"store {self.store}: a pass is already running ({self.holder()}; lock {self.path}); "
                    "this one did not start. Try again when it ends, or give --wait SECONDS"
                )
            await asyncio.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._fd is not None:
            # Closing drops the flock; the file stays (unlinking it would race with a waiter).
            os.close(self._fd)
            self._fd = None

    async def __aenter__(self) -> StoreLock:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
