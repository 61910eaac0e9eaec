"""The refresh's progress line: documents, rate, ETA, and where the time goes."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from services.embeddings.refresh import RefreshStats


class RefreshProgress:
    """Prints `[kind] done/total docs (pct) rate, texts/s, ETA; time: model 88% ...` to stderr.

    At most one line a second per kind, plus the first and last; the shares say whether the
    model (the hardware limit) or the rest of the refresh is the bottleneck.
    """

    def __init__(self, stream: TextIO | None = None, every_seconds: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every_seconds
        self._started: dict[str, tuple[float, int]] = {}
        self._last = 0.0

    def __call__(self, kind: str, done: int, total: int, stats: RefreshStats) -> None:
        """Report progress of one document kind."""
        now = time.perf_counter()
        if done == 0:
            self._started[kind] = (now, stats.encoded_texts)
            print(f"[{kind}] {total} to embed", file=self.stream, flush=True)
            return
        if done < total and now - self._last < self.every:
            return
        self._last = now
        start, texts_before = self._started.get(kind, (now, 0))
        elapsed = max(now - start, 1e-9)
        rate = done / elapsed
        texts = (stats.encoded_texts - texts_before) / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        pct = 100.0 * done / total if total else 100.0
        shares = sorted(stats.time_shares().items(), key=lambda item: -item[1])
        where = " ".join(f"{name} {share:.0%}" for name, share in shares if share >= 0.005)
        print(
            f"[{kind}] {done}/{total} docs ({pct:.0f}%) {rate:.1f} docs/s, {texts:.0f} texts/s, "
            f"ETA {eta:.0f}s; time: {where}",
            file=self.stream,
            flush=True,
        )
