"""Shared CLI plumbing: settings-driven logging, clean error exits, progress lines."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from services.core.errors import BeaconError
from services.core.logging import configure_logging
from services.core.settings import CoreSettings

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("beacon.cli")


def cli_job(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Beacon's user-facing errors into one clear line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BeaconError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None
        except FileNotFoundError as exc:
            typer.secho(f"error: file not found: {exc.filename or exc}", fg="red", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def setup(settings: CoreSettings) -> None:
    """Configure logging for a CLI process."""
    configure_logging(settings)


class ProgressPrinter:
    """Prints `[kind] done/total (pct) rate ETA` lines to stderr, at most once a second."""

    def __init__(self, unit: str = "docs", stream=None) -> None:
        self.unit = unit
        self.stream = stream or sys.stderr
        self._started: dict[str, float] = {}
        self._last = 0.0

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.perf_counter()
        start = self._started.setdefault(label, now)
        if done == 0:
            print(f"[{label}] {total} to embed", file=self.stream, flush=True)
            return
        if done < total and now - self._last < 1.0:
            return
        self._last = now
        elapsed = max(now - start, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        pct = 100.0 * done / total if total else 100.0
        print(
            f"[{label}] {done}/{total} {self.unit} ({pct:.0f}%) {rate:.1f} {self.unit}/s "
            f"ETA {eta:.0f}s",
            file=self.stream,
            flush=True,
        )
