"""The connector's exceptions: one small hierarchy, each with a message a shop owner can act on.

Messages never contain secrets (keys, tokens, signatures, full URLs with credentials).
"""

from __future__ import annotations

from pathlib import Path


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """The configuration (file, environment) is invalid. Raised before any network call."""

    def __init__(self, problems: list[str] | str, *, path: Path | str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = str(path) if path is not None else None
        where = f"{self.path}: " if self.path else ""
        if len(self.problems) == 1:
            text = f"{where}{self.problems[0]}"
        else:
            text = f"{where}{len(self.problems)} problems\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class RemoteError(ConnectorError):
    """A store's API answered with an error or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(RemoteError):
    """Credentials refused (401/403). Never retried: fix the keys or their permissions."""


class TransientError(RemoteError):
    """A failure that may pass (timeout, connection reset, 429, 5xx). Retried by the HTTP policy."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class PlatformError(RemoteError):
    """The platform rejected a request (400, 404, 413, ...). Not retried."""


class FetchError(ConnectorError):
    """Data needed for a decision could not be read; nothing is pushed for the affected items."""


class StateError(ConnectorError):
    """The state file cannot be opened or migrated."""
