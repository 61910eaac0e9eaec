"""The shared encoder machinery: length-sorted batches, the vector cache, and fair slots."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from services.embeddings.encoder import EncodeTimings, batch_job_threads, get_encoder
from services.embeddings.slots import EncoderBusy, EncodeSlots


def test_batches_are_length_sorted_and_within_both_budgets(embedding_settings):
    fp32 = get_encoder(embedding_settings.model_copy(update={"embedding_quantization": "none"}))
    assert fp32.batch_size == embedding_settings.embedding_batch_size > 1
    lengths = [5, 200, 7, 180, 6, 30, 250, 8] * 6
    batches = fp32._batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= fp32.batch_size
        assert len(batch) * max(lengths[i] for i in batch) <= fp32.batch_tokens
    widths = [max(lengths[i] for i in b) for b in batches]
    assert widths == sorted(widths), "short texts are never padded to a long one"


def test_repeated_texts_hit_the_cache(encoder):
    text = f"cache probe {time.time_ns()}: staff nurse, paediatric ward, nights"
    first, second = EncodeTimings(), EncodeTimings()
    a = encoder.encode([text], timings=first)
    b = encoder.encode([text, text], timings=second)
    assert first.cached == 0 and first.tokens > 0
    assert second.cached == 2 and second.tokens == 0, "no model work for a cached text"
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(b[0], b[1])


def test_a_text_encodes_the_same_alone_or_among_others(encoder):
    """int8 runs one text per call: its vector never depends on what it was batched with
    (a resumed refresh reproduces a clean one; a pasted resume matches its stored vector)."""
    assert encoder.batch_size == 1
    text = "Backend engineer: Python, PostgreSQL and AWS, building APIs for a logistics team."
    encoder._cache.clear()
    alone = encoder.encode([text])[0]
    encoder._cache.clear()
    others = ["short", text, " ".join(["kubernetes operator reliability"] * 30)]
    together = encoder.encode(others)[1]
    np.testing.assert_array_equal(alone, together)


def test_side_by_side_encodes_give_the_same_vectors_and_timings(encoder, jobs_corpus):
    """A batch job's `parallel` encodes (one text per call on each core) change nothing."""
    texts = [f"{p.title}. {p.description}" for p in jobs_corpus.postings[:24]]
    runs = []
    for parallel in (1, 2, 3):
        encoder._cache.clear()
        timing = EncodeTimings()
        runs.append((encoder.encode(texts, timings=timing, parallel=parallel), timing))
    (serial, once), *others = runs
    for vectors, timing in others:
        np.testing.assert_array_equal(serial, vectors)
        assert (timing.texts, timing.tokens, timing.cached) == (once.texts, once.tokens, 0)
        assert timing.model_seconds > 0


def test_batch_jobs_run_int8_as_one_thread_encodes_side_by_side(embedding_settings):
    assert batch_job_threads(embedding_settings, 4) == (1, 4)
    for other in ({"embedding_quantization": "none"}, {"embedding_backend": "torch"}):
        assert batch_job_threads(embedding_settings.model_copy(update=other), 4) == (4, 1)


def wait_for_waiters(slots: EncodeSlots, count: int, timeout: float = 5.0) -> bool:
    """Poll until `count` batches wait for a slot (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while len(slots._waiting) != count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_the_cheapest_waiter_gets_the_next_slot():
    slots = EncodeSlots(1, timeout=5.0)
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with slots.slot(1000):
            holding.set()
            release.wait(5)

    def wait_for_slot(name: str, cost: int) -> None:
        with slots.slot(cost):
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    waiters = []
    for name, cost in (("long-1", 4096), ("long-2", 4096), ("short", 12)):
        waiters.append(threading.Thread(target=wait_for_slot, args=(name, cost)))
        waiters[-1].start()
        # Arrival order: each waiter is queued before the next one starts.
        assert wait_for_waiters(slots, len(waiters))
    release.set()
    for thread in (holder, *waiters):
        thread.join(5)
    assert order == ["short", "long-1", "long-2"]


def test_a_full_queue_times_out_with_encoder_busy():
    slots = EncodeSlots(1, timeout=0.1)
    with slots.slot(1), pytest.raises(EncoderBusy, match="busy"), slots.slot(1):
        pass
    with slots.slot(1):  # the timed-out waiter left no ghost behind: the slot is free again
        pass
