"""Task arguments as both executors pass them to `beacon` (local subprocess, AWS Processing)."""

from __future__ import annotations

from collections.abc import Sequence


def present(arguments: Sequence[object]) -> list[str]:
    """Rendered arguments without the empty ones (optional flags whose param is unset)."""
    return [str(a) for a in arguments if str(a) != ""]
