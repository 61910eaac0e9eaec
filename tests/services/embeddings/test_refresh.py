"""The refresh embeds exactly what changed, survives a kill, and yields to a running twin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import psycopg
import pytest

from services.core.errors import JobAlreadyRunning
from services.core.locks import job_lock
from services.embeddings.encoder import get_encoder
from services.embeddings.refresh import LOCK_NAME, refresh_embeddings
from services.embeddings.settings import EmbeddingSettings
from services.jobs.store import upsert_postings, upsert_resumes
from services.jobs.synthetic import generate_corpus


@pytest.fixture(scope="module")
def small_corpus():
    return generate_corpus(n_postings=100, n_resumes=10, seed=3)


def _load(db, corpus) -> None:
    with db.connection() as conn:
        upsert_postings(conn, corpus.postings)
        upsert_resumes(conn, corpus.resumes)


def _snapshot(url: str) -> dict:
    """Everything the refresh owns, keyed for comparison between runs."""
    with psycopg.connect(url) as conn:
        docs = conn.execute(
            "SELECT job_id, embedded_hash, embedding_model, embedding::text FROM job_postings "
            "ORDER BY job_id"
        ).fetchall()
        resumes = conn.execute(
            "SELECT resume_id, embedded_hash, embedding::text FROM resumes ORDER BY resume_id"
        ).fetchall()
        chunks = conn.execute(
            "SELECT job_id, chunk_no, content, embedding::text FROM job_chunks "
            "ORDER BY job_id, chunk_no"
        ).fetchall()
    return {"docs": docs, "resumes": resumes, "chunks": chunks}


def _vectors(rows, column: int) -> np.ndarray:
    return np.array([np.fromstring(r[column].strip("[]"), sep=",") for r in rows])


def _assert_same_state(a: dict, b: dict) -> None:
    for key, vec_col in (("docs", 3), ("resumes", 2), ("chunks", 3)):
        assert [r[:vec_col] for r in a[key]] == [r[:vec_col] for r in b[key]], key
        # Batch composition changes padding, so float noise at 1e-6 is expected; no more.
        np.testing.assert_allclose(_vectors(a[key], vec_col), _vectors(b[key], vec_col), atol=1e-4)


def test_full_then_incremental_refresh(
    db, database_url, small_corpus, encoder, embedding_settings
) -> None:
    _load(db, small_corpus)
    first = refresh_embeddings(db, encoder, embedding_settings)
    assert first.kinds["postings"].embedded == 100 and first.kinds["resumes"].embedded == 10
    assert first.kinds["postings"].chunks >= 100
    before = _snapshot(database_url)

    # Nothing changed: nothing is embedded.
    again = refresh_embeddings(db, encoder, embedding_settings)
    assert again.embedded == 0 and again.kinds["postings"].unchanged == 100

    # Change 1 % of the postings: exactly those are re-embedded.
    changed = small_corpus.postings[:1]
    edited = [
        p.model_copy(update={"description": p.description + "\nNew: on-call rota."})
        for p in changed
    ]
    with db.connection() as conn:
        upsert_postings(conn, edited)
    incremental = refresh_embeddings(db, encoder, embedding_settings)
    assert incremental.kinds["postings"].embedded == 1
    assert incremental.kinds["resumes"].embedded == 0
    after = _snapshot(database_url)
    changed_ids = {p.job_id for p in changed}
    for old, new in zip(before["docs"], after["docs"], strict=True):
        if old[0] in changed_ids:
            assert old[1] != new[1] and old[3] != new[3], "changed posting must be re-embedded"
        else:
            assert old == new, "unchanged posting must be untouched"
    new_chunks = [c for c in after["chunks"] if c[0] in changed_ids]
    assert any("on-call rota" in c[2] for c in new_chunks)


def test_model_change_reembeds_everything(db, encoder, embedding_settings) -> None:
    corpus = generate_corpus(n_postings=15, n_resumes=3, seed=5)
    _load(db, corpus)
    refresh_embeddings(db, encoder, embedding_settings)
    # A different chunk size is a different embedding configuration: every vector is stale.
    other = EmbeddingSettings(chunk_words=60, refresh_batch_docs=16, embedding_batch_size=32)
    other_encoder = get_encoder(other)
    assert other_encoder.identity != encoder.identity
    stats = refresh_embeddings(db, other_encoder, other)
    assert stats.kinds["postings"].embedded == 15 and stats.kinds["resumes"].embedded == 3
    with db.connection() as conn:
        models = conn.execute("SELECT DISTINCT embedding_model FROM job_postings").fetchall()
    assert models == [(other_encoder.identity,)]


def test_deleted_documents_disappear_with_their_chunks(db, encoder, embedding_settings) -> None:
    corpus = generate_corpus(n_postings=20, n_resumes=3, seed=9)
    _load(db, corpus)
    refresh_embeddings(db, encoder, embedding_settings)
    with db.connection() as conn:
        upsert_postings(conn, corpus.postings[:15], replace=True)
    stats = refresh_embeddings(db, encoder, embedding_settings)
    assert stats.embedded == 0 and stats.kinds["postings"].total == 15
    with db.connection() as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM job_chunks c LEFT JOIN job_postings p USING (job_id) "
            "WHERE p.job_id IS NULL"
        ).fetchone()[0]
        remaining = conn.execute("SELECT count(DISTINCT job_id) FROM job_chunks").fetchone()[0]
    assert orphans == 0 and remaining == 15


def test_second_refresh_is_refused_while_one_runs(db, encoder, embedding_settings) -> None:
    with job_lock(db.url, LOCK_NAME), pytest.raises(JobAlreadyRunning, match="in progress"):
        refresh_embeddings(db, encoder, embedding_settings)
    # The lock is released afterwards: a refresh runs normally.
    refresh_embeddings(db, encoder, embedding_settings)


def _load_into(corpus, *urls: str) -> None:
    """The same corpus into each database (a run's and its clean twin's)."""
    for url in urls:
        with psycopg.connect(url) as conn:
            upsert_postings(conn, corpus.postings)
            upsert_resumes(conn, corpus.resumes)


def _assert_equals_one_run(url: str, twin_url: str, encoder, settings) -> None:
    """`url`, after an interrupted or sharded run, holds what one plain refresh of its twin does."""
    from services.core.database import Database

    with Database(twin_url) as twin:
        refresh_embeddings(twin, encoder, settings)
    _assert_same_state(_snapshot(url), _snapshot(twin_url))


def _cli_env(url: str, home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    env.update(
        DATABASE_URL=url,
        BEACON_HOME=str(home),
        BEACON_REFRESH_BATCH_DOCS="4",
        BEACON_EMBEDDING_BATCH_SIZE="32",
        BEACON_LOG_FORMAT="json",
        HF_HUB_OFFLINE="1",
    )
    return env


def _beacon(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def test_killed_refresh_reruns_to_the_clean_state(
    database_url, second_database_url, tmp_path, encoder, embedding_settings
) -> None:
    _load_into(
        generate_corpus(n_postings=60, n_resumes=6, seed=21), database_url, second_database_url
    )

    proc = subprocess.Popen(
        _beacon("embed", "refresh"),
        env=_cli_env(database_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with psycopg.connect(database_url) as conn:
                done = conn.execute("SELECT count(embedding) FROM job_postings").fetchone()[0]
            if done >= 8:
                break
            time.sleep(0.2)
        assert 0 < done < 60, f"kill must land mid-run (embedded {done})"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)

    rerun = subprocess.run(
        _beacon("embed", "refresh"),
        env=_cli_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert '"embedded"' in rerun.stdout and "[postings]" in rerun.stderr, "summary and progress"
    _assert_equals_one_run(database_url, second_database_url, encoder, embedding_settings)
