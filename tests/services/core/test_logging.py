"""Process logging follows `sys.stderr` when something swaps it after setup."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from services.core.logging import configure_logging
from services.core.settings import CoreSettings


def test_records_go_to_the_current_stderr_not_a_closed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    try:
        configure_logging(CoreSettings(log_format="text"))
        first.close()  # as pytest closes a finished test's capture
        later = io.StringIO()
        monkeypatch.setattr(sys, "stderr", later)
        logging.getLogger("beacon.test").warning("after the swap", extra={"field": 1})
        assert "after the swap field=1" in later.getvalue()
    finally:
        root.handlers[:], root.level = handlers, level
