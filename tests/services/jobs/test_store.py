"""Upserts insert, update only what changed, keep embeddings, and write all or nothing."""

from __future__ import annotations

import psycopg
import pytest

from services.core.errors import InputError
from services.jobs.documents import content_hash, posting_text, resume_text
from services.jobs.store import UpsertStats, count_documents, upsert_postings, upsert_resumes
from services.jobs.synthetic import Corpus, generate_corpus

EMBED_SQL = (
    "UPDATE {table} SET embedding = array_fill(0.25::real, ARRAY[384])::vector,"
    " embedding_model = 'test-model', embedded_hash = content_hash,"
    " embedded_at = now() - interval '1 day' WHERE {id} = ANY(%s)"
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(n_postings=200, n_resumes=40, seed=13)


@pytest.fixture
def loaded(db, corpus: Corpus):
    with db.connection() as conn:
        assert upsert_postings(conn, corpus.postings) == UpsertStats(inserted=200)
        assert upsert_resumes(conn, corpus.resumes) == UpsertStats(inserted=40)
    return db


def _rows(conn: psycopg.Connection, table: str, id_column: str) -> dict[str, tuple]:
    cur = conn.execute(
        f"SELECT {id_column}, content_hash, updated_at, embedding IS NOT NULL, embedding_model,"
        f" embedded_hash, embedded_at FROM {table}"
    )
    return {row[0]: row[1:] for row in cur}


def test_insert_counts_and_hashes(loaded, corpus: Corpus) -> None:
    with loaded.connection() as conn:
        assert count_documents(conn) == {"postings": 200, "resumes": 40, "chunks": 0}
        hashes = dict(conn.execute("SELECT job_id, content_hash FROM job_postings"))
        resume_hashes = dict(conn.execute("SELECT resume_id, content_hash FROM resumes"))
        stored = conn.execute(
            "SELECT title, skills, salary_min, posted_at, embedding FROM job_postings"
            " WHERE job_id = %s",
            (corpus.postings[0].job_id,),
        ).fetchone()
    assert all(hashes[p.job_id] == content_hash(posting_text(p)) for p in corpus.postings)
    assert all(resume_hashes[r.resume_id] == content_hash(resume_text(r)) for r in corpus.resumes)
    first = corpus.postings[0]
    assert stored == (first.title, first.skills, first.salary_min, first.posted_at, None)


def test_identical_upsert_touches_nothing(loaded, corpus: Corpus) -> None:
    with loaded.connection() as conn:
        before = _rows(conn, "job_postings", "job_id"), _rows(conn, "resumes", "resume_id")
    with loaded.connection() as conn:
        assert upsert_postings(conn, corpus.postings) == UpsertStats(unchanged=200)
        assert upsert_resumes(conn, corpus.resumes) == UpsertStats(unchanged=40)
        after = _rows(conn, "job_postings", "job_id"), _rows(conn, "resumes", "resume_id")
    assert after == before  # updated_at included


def test_changed_description_updates_exactly_one(loaded, corpus: Corpus) -> None:
    target = corpus.postings[17]
    edited = target.model_copy(update={"description": target.description + " Visa sponsorship."})
    with loaded.connection() as conn:
        before = _rows(conn, "job_postings", "job_id")
    postings = [edited if p.job_id == target.job_id else p for p in corpus.postings]
    with loaded.connection() as conn:
        stats = upsert_postings(conn, postings)
        after = _rows(conn, "job_postings", "job_id")
        description = conn.execute(
            "SELECT description FROM job_postings WHERE job_id = %s", (target.job_id,)
        ).fetchone()[0]
    assert stats == UpsertStats(updated=1, unchanged=199)
    assert description == edited.description
    assert after[target.job_id][0] == content_hash(posting_text(edited)) != before[target.job_id][0]
    assert after[target.job_id][1] > before[target.job_id][1]
    assert {k: v for k, v in after.items() if k != target.job_id} == {
        k: v for k, v in before.items() if k != target.job_id
    }


def test_change_outside_the_text_is_an_update_with_the_same_hash(loaded, corpus: Corpus) -> None:
    posting = corpus.postings[3]
    resume = corpus.resumes[3]
    new_salary = (posting.salary_max or 50_000) + 5_000
    with loaded.connection() as conn:
        before = _rows(conn, "job_postings", "job_id")[posting.job_id]
        stats = upsert_postings(conn, [posting.model_copy(update={"salary_max": new_salary})])
        resume_stats = upsert_resumes(conn, [resume.model_copy(update={"name": "A. N. Other"})])
        after = _rows(conn, "job_postings", "job_id")[posting.job_id]
        salary = conn.execute(
            "SELECT salary_max FROM job_postings WHERE job_id = %s", (posting.job_id,)
        ).fetchone()[0]
    assert stats == UpsertStats(updated=1) and resume_stats == UpsertStats(updated=1)
    assert salary == new_salary
    assert after[0] == before[0], "salary is not embedded text: the hash must not change"
    assert after[1] > before[1]


def test_embedding_columns_survive_upserts(loaded, corpus: Corpus) -> None:
    kept, changed = corpus.postings[0], corpus.postings[1]
    resume = corpus.resumes[0]
    with loaded.connection() as conn:
        conn.execute(
            EMBED_SQL.format(table="job_postings", id="job_id"), ([kept.job_id, changed.job_id],)
        )
        conn.execute(EMBED_SQL.format(table="resumes", id="resume_id"), ([resume.resume_id],))
    with loaded.connection() as conn:
        before = _rows(conn, "job_postings", "job_id")
        before_resume = _rows(conn, "resumes", "resume_id")[resume.resume_id]
    edited = changed.model_copy(update={"title": changed.title + " (m/f/d)"})
    edited_resume = resume.model_copy(update={"summary": resume.summary + " Fluent in French."})
    with loaded.connection() as conn:
        assert upsert_postings(conn, [kept, edited]) == UpsertStats(updated=1, unchanged=1)
        assert upsert_resumes(conn, [edited_resume]) == UpsertStats(updated=1)
        after = _rows(conn, "job_postings", "job_id")
        after_resume = _rows(conn, "resumes", "resume_id")[resume.resume_id]
    # Unchanged row: untouched entirely, and still marked as embedded from its current text.
    assert after[kept.job_id] == before[kept.job_id]
    assert after[kept.job_id][0] == after[kept.job_id][4]
    # Changed row: embedding columns as they were, so the refresh sees hash != embedded_hash.
    assert after[changed.job_id][2:] == before[changed.job_id][2:]
    assert after[changed.job_id][2] is True
    assert after[changed.job_id][0] != after[changed.job_id][4] == before[changed.job_id][0]
    assert after_resume[2:] == before_resume[2:]
    assert after_resume[0] != after_resume[4]


def test_replace_deletes_absent_ids_and_cascades_chunks(loaded, corpus: Corpus) -> None:
    keep, drop = corpus.postings[:150], corpus.postings[150:]
    with loaded.connection() as conn:
        for job_id in (keep[0].job_id, drop[0].job_id, drop[1].job_id):
            for chunk_no in range(3):
                conn.execute(
                    "INSERT INTO job_chunks (job_id, chunk_no, content, embedding)"
                    " VALUES (%s, %s, 'passage', array_fill(0.1::real, ARRAY[384])::vector)",
                    (job_id, chunk_no),
                )
    with loaded.connection() as conn:
        stats = upsert_postings(conn, keep, replace=True)
        resume_stats = upsert_resumes(conn, corpus.resumes[:30], replace=True)
        ids = {r[0] for r in conn.execute("SELECT job_id FROM job_postings")}
        chunk_owners = {r[0] for r in conn.execute("SELECT job_id FROM job_chunks")}
        counts = count_documents(conn)
    assert stats == UpsertStats(unchanged=150, deleted=50)
    assert resume_stats == UpsertStats(unchanged=30, deleted=10)
    assert ids == {p.job_id for p in keep}
    assert chunk_owners == {keep[0].job_id}
    assert counts == {"postings": 150, "resumes": 30, "chunks": 3}


def test_replace_mixes_inserts_updates_and_deletes(db, corpus: Corpus) -> None:
    with db.connection() as conn:
        upsert_postings(conn, corpus.postings[:100])
        edited = [
            p.model_copy(update={"description": p.description + " Apply by Friday."})
            for p in corpus.postings[:10]
        ]
        stats = upsert_postings(conn, edited + corpus.postings[20:120], replace=True)
    assert stats == UpsertStats(inserted=20, updated=10, unchanged=80, deleted=10)


def test_failed_write_leaves_everything_as_it_was(loaded, corpus: Corpus) -> None:
    with loaded.connection() as conn:
        before = _rows(conn, "job_postings", "job_id")
    # Valid for the model, rejected by PostgreSQL (integer overflow) after the COPY started.
    bad = corpus.postings[5].model_copy(update={"salary_min": 10, "salary_max": 2**40})
    edited = corpus.postings[0].model_copy(update={"description": "Rewritten."})
    with loaded.connection() as conn:
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            upsert_postings(conn, [edited, *corpus.postings[1:5], bad], replace=True)
        conn.rollback()
        assert _rows(conn, "job_postings", "job_id") == before


def test_duplicate_ids_are_rejected_before_writing(db, corpus: Corpus) -> None:
    with db.connection() as conn:
        with pytest.raises(InputError, match="job_id appears more than once"):
            upsert_postings(conn, [corpus.postings[0], corpus.postings[1], corpus.postings[0]])
        assert count_documents(conn)["postings"] == 0


def test_several_upserts_in_one_outer_transaction(db, corpus: Corpus) -> None:
    with db.connection() as conn, conn.transaction():
        assert upsert_postings(conn, corpus.postings[:50]).inserted == 50
        assert upsert_postings(conn, corpus.postings[:60]) == UpsertStats(inserted=10, unchanged=50)
        assert upsert_resumes(conn, corpus.resumes).inserted == 40
    with db.connection() as conn:
        assert count_documents(conn) == {"postings": 60, "resumes": 40, "chunks": 0}


def test_empty_input(db, corpus: Corpus) -> None:
    with db.connection() as conn:
        assert upsert_postings(conn, []) == UpsertStats()
        upsert_resumes(conn, corpus.resumes[:5])
        assert upsert_resumes(conn, [], replace=True) == UpsertStats(deleted=5)


def test_awkward_characters_round_trip(db, corpus: Corpus) -> None:
    # COPY has its own escaping rules; these values would break a naive text dump.
    odd = 'Tab\there, "quotes", back\\slash, {braces}, \\N, émoji 🚀\nnew line'
    posting = corpus.postings[0].model_copy(
        update={"description": odd, "skills": ['c"q', "{x}", "back\\slash", "null", "ünï"]}
    )
    with db.connection() as conn:
        upsert_postings(conn, [posting])
        stored = conn.execute("SELECT description, skills FROM job_postings").fetchone()
        assert stored == (odd, posting.skills)
        assert upsert_postings(conn, [posting]) == UpsertStats(unchanged=1)
