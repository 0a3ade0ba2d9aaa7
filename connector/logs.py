"""Log output: readable lines by default, JSON lines with `--log-format json`."""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

_fields: ContextVar[dict[str, object]] = ContextVar("log_fields", default={})  # noqa: B039 - never mutated


@contextmanager
def fields(**values: object) -> Iterator[None]:
    """Every log record made inside carries these fields (JSON lines show them; text lines do not).

    A pass runs inside `fields(store=..., run=...)`, so that a retry logged by the HTTP policy or
    a warning from a purchase-order file says which store and run it belongs to. Each asyncio task
    has its own copy: stores passed side by side by the daemon do not mix their fields.
    """
    token = _fields.set({**_fields.get(), **values})
    try:
        yield
    finally:
        _fields.reset(token)


class WithFields(logging.Filter):
    """Adds the fields of the enclosing `fields(...)` to each record (an `extra=` of the call wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields.get().items():
            if key not in vars(record):
                setattr(record, key, value)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


_SHOWN_AS_ESCAPES = frozenset({"Cc", "Zl", "Zp"})
_BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escape_controls(text: str, *, keep: str = "") -> str:
    """`text` with control characters, line separators and bidi overrides as escapes (`\\n`, `\\x1b`)."""
    out = []
    for char in text:
        if char in keep or (unicodedata.category(char) not in _SHOWN_AS_ESCAPES and char not in _BIDI_OVERRIDES):
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


class OneLine(logging.Formatter):
    """Readable lines; control characters in the message (a SKU with a newline or a terminal
    escape code, from store data) are shown as escapes, so one record is one line of the log."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


def configure(level: str = "WARNING", fmt: str = "text") -> None:
    """Send the connector's logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(WithFields())
    if fmt == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(OneLine("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request, and APScheduler every job it runs, at INFO: noise beside the
    # connector's own line per pass, unless asked for with DEBUG. Their warnings still show.
    for chatty in ("httpx", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
