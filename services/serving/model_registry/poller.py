"""Background thread that re-checks every slot's alias and hot-swaps moved versions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from services.serving.model_registry.slot import ModelSlot

log = logging.getLogger(__name__)


class ModelPoller:
    """Calls `refresh()` on each slot every `interval` seconds, off the request path.

    A registry that cannot be reached is logged and counted; the loaded versions keep serving.
    """

    def __init__(
        self,
        slots: Sequence[ModelSlot],
        interval: float,
        *,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.slots = list(slots)
        self.interval = interval
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh_all(self) -> dict[str, str]:
        """One pass over the slots: model name -> outcome (`error` when the registry failed)."""
        outcomes = {}
        for slot in self.slots:
            try:
                outcomes[slot.name] = slot.refresh()
                slot.last_error = None
            except Exception as exc:
                outcomes[slot.name] = "error"
                slot.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                log.warning(
                    "model registry check failed; keeping the served version",
                    extra={"model": slot.name, "error": slot.last_error},
                )
                if self.on_error is not None:
                    self.on_error(slot.name)
        return outcomes

    def start(self) -> None:
        """Start polling in a daemon thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh_all()

    def close(self) -> None:
        """Stop polling and wait for a refresh in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
