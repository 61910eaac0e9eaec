"""Sharded refresh: N shards (one killed and rerun) end in the state of one run; locks per shard."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from services.core.errors import InputError, JobAlreadyRunning
from services.core.heartbeat import EMBED_REFRESH, last_success
from services.core.machine import usable_cores
from services.core.shards import (
    BUCKETS,
    WHOLE,
    Shard,
    parse_shard,
    processing_shard,
    shard_condition,
    shard_lock,
    shard_of,
)
from services.core.storage import Storage
from services.embeddings.local_shards import local_shards, parse_workers
from services.embeddings.refresh import LOCK_NAME
from services.jobs.synthetic import generate_corpus
from tests.services.embeddings.test_refresh import (
    _assert_equals_one_run,
    _beacon,
    _cli_env,
    _load_into,
)


def test_parse_shard_reads_i_of_n_and_names_the_option_on_bad_input(tmp_path: Path) -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    assert parse_shard(" 0/1 ").whole
    for bad, says in (
        ("4/4", "index must be in 0..3"),
        ("1/0", "count must be between 1"),
        ("x/2", "I/N"),
        ("3", "I/N"),
        ("-1/2", "I/N"),
        (f"0/{BUCKETS + 1}", f"between 1 and {BUCKETS}"),
    ):
        with pytest.raises(InputError, match=says) as err:
            parse_shard(bad, "--worker")
        assert "--worker" in str(err.value)
    with pytest.raises(InputError, match=r"--shard auto: .* not found"):
        parse_shard("auto", config=tmp_path / "missing.json")


def test_auto_reads_the_processing_resource_config(tmp_path: Path) -> None:
    config = tmp_path / "resourceconfig.json"
    hosts = ["algo-1", "algo-2", "algo-3", "algo-10"]
    config.write_text(json.dumps({"current_host": "algo-2", "hosts": hosts}))
    # Sorted as strings: every instance computes the same order, whatever it is.
    assert processing_shard(config) == Shard(sorted(hosts).index("algo-2"), 4)
    config.write_text(json.dumps({"current_host": "algo-9", "hosts": hosts}))
    with pytest.raises(InputError, match="algo-9"):
        processing_shard(config)
    config.write_text("{}")
    with pytest.raises(InputError, match="current_host/hosts"):
        processing_shard(config)


def test_sql_partition_is_the_python_one_and_covers_every_id_once(database_url) -> None:
    ids = [f"job-{i}" for i in range(300)] + ["", "é", "x" * 300]
    with psycopg.connect(database_url) as conn:
        for count in (1, 2, 3, 7):
            owners: dict[str, int] = {}
            for index in range(count):
                query = psycopg.sql.SQL("SELECT id FROM unnest(%s::text[]) AS t(id) WHERE {}")
                rows = conn.execute(
                    query.format(shard_condition("id", Shard(index, count))), (ids,)
                ).fetchall()
                for (doc_id,) in rows:
                    assert doc_id not in owners, f"{doc_id} in two shards of {count}"
                    owners[doc_id] = index
            assert owners == {i: shard_of(i, count) for i in ids}
    # Spread: no shard of 3 gets fewer than a fifth of 300 ids.
    sizes = [sum(1 for i in ids if shard_of(i, 3) == s) for s in range(3)]
    assert min(sizes) > 60, sizes


def test_locks_let_disjoint_shards_run_and_refuse_overlaps(database_url) -> None:
    with shard_lock(database_url, LOCK_NAME, Shard(0, 2)):
        with shard_lock(database_url, LOCK_NAME, Shard(1, 2)):
            pass  # the other half runs alongside
        for overlapping in (Shard(0, 2), Shard(0, 3), Shard(2, 3), Shard(0, 1)):
            with (
                pytest.raises(JobAlreadyRunning, match="in progress"),
                shard_lock(database_url, LOCK_NAME, overlapping),
            ):
                pass
    with (
        shard_lock(database_url, LOCK_NAME, Shard(0, 1)),
        pytest.raises(JobAlreadyRunning),
        shard_lock(database_url, LOCK_NAME, Shard(1, 2)),
    ):
        pass
    # Everything was released: the whole run takes the lock again.
    with shard_lock(database_url, LOCK_NAME, Shard(0, 1)):
        pass


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--shard", "3/2"], "--shard"),
        (["--workers", "2", "--shard", "0/200"], "--workers"),
        (["--workers", "0"], "--workers"),
    ],
    ids=["shard-out-of-range", "workers-past-the-bucket-count", "no-workers"],
)
def test_bad_shard_option_is_one_line_exit_2(
    database_url, tmp_path: Path, args: list[str], named: str
) -> None:
    done = subprocess.run(
        _beacon("embed", "refresh", *args),
        env=_cli_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert named in done.stderr and "Traceback" not in done.stderr


def test_workers_are_auto_or_a_count_and_bad_values_name_the_option() -> None:
    assert parse_workers("auto") == min(usable_cores(), 64) >= 1
    assert parse_workers(" 3 ") == 3
    for bad in ("0", "65", "-1", "two", ""):
        with pytest.raises(InputError, match="--workers must be auto or a whole number"):
            parse_workers(bad)


def test_local_shards_of_every_machine_form_one_layout() -> None:
    """N machines x W local workers: N*W disjoint shards that cover every bucket once."""
    assert local_shards(WHOLE, 1) == [WHOLE]
    assert local_shards(Shard(1, 2), 2) == [Shard(2, 4), Shard(3, 4)]
    for machines, workers in ((1, 2), (3, 2), (4, 3)):
        parts = [
            s for index in range(machines) for s in local_shards(Shard(index, machines), workers)
        ]
        assert len({(s.index, s.count) for s in parts}) == machines * workers
        owned = sorted(b for s in parts for b in s.buckets)
        assert owned == list(range(BUCKETS)), (machines, workers)
    with pytest.raises(InputError, match="--workers 2"):
        local_shards(Shard(0, 200), 2)


def test_workers_run_one_refresh_as_local_shards_that_equal_one_run(
    database_url, second_database_url, tmp_path: Path, encoder, embedding_settings
) -> None:
    _load_into(
        generate_corpus(n_postings=24, n_resumes=4, seed=35), database_url, second_database_url
    )
    done = subprocess.run(
        _beacon("embed", "refresh", "--workers", "2"),
        env=_cli_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout[done.stdout.index("{") :])
    assert stats["workers"] == 2
    assert [s["shard"] for s in stats["shards"]] == ["0/2", "1/2"]
    assert stats["embedded"] == 28 and all(s["embedded"] > 0 for s in stats["shards"])
    _assert_equals_one_run(database_url, second_database_url, encoder, embedding_settings)


def _refresh_marked(home: Path) -> float | None:
    # The CLI's BEACON_HOME is `home`, and storage defaults to its storage/ folder.
    return last_success(str(home.resolve() / "storage"), EMBED_REFRESH, Storage())


def _embedded_in(url: str, ids: set[str]) -> int:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT job_id FROM job_postings WHERE embedding IS NOT NULL")
        return sum(1 for (doc_id,) in rows if doc_id in ids)


def test_three_concurrent_shards_one_killed_and_rerun_equal_one_run(
    database_url, second_database_url, tmp_path: Path, encoder, embedding_settings
) -> None:
    corpus = generate_corpus(n_postings=45, n_resumes=6, seed=33)
    _load_into(corpus, database_url, second_database_url)
    victim = {p.job_id for p in corpus.postings if shard_of(p.job_id, 3) == 1}
    assert len(victim) >= 8, "shard 1 needs a few batches for the kill to land mid-run"

    env = _cli_env(database_url, tmp_path) | {"BEACON_REFRESH_BATCH_DOCS": "2"}
    procs = [
        subprocess.Popen(
            _beacon("embed", "refresh", "--shard", f"{i}/3"),
            env=env,
            stdout=subprocess.PIPE if i != 1 else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i in range(3)
    ]
    try:
        deadline = time.monotonic() + 240
        done = 0
        while time.monotonic() < deadline and procs[1].poll() is None:
            done = _embedded_in(database_url, victim)
            if done >= 2:
                break
            time.sleep(0.05)
        assert 0 < done < len(victim), f"kill must land mid-run ({done}/{len(victim)})"
        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait(timeout=30)
        outputs = {i: procs[i].communicate(timeout=300)[0] for i in (0, 2)}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert [procs[i].returncode for i in (0, 2)] == [0, 0], outputs
    assert _embedded_in(database_url, victim) < len(victim), "the killed shard left work"
    # Shards 0 and 2 finished, but the refresh did not: it must not be marked fresh yet.
    assert _refresh_marked(tmp_path) is None

    rerun = subprocess.run(
        _beacon("embed", "refresh", "--shard", "1/3"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    outputs[1] = rerun.stdout
    stats = {i: json.loads(out[out.index("{") :]) for i, out in outputs.items()}
    # Each shard counted only its own share, and the shares add up to the whole corpus.
    assert sum(s["kinds"]["postings"]["total"] for s in stats.values()) == 45
    assert sum(s["kinds"]["resumes"]["total"] for s in stats.values()) == 6
    assert stats[1]["shard"] == "1/3" and 0 < stats[1]["embedded"] < len(victim) + 6
    assert _refresh_marked(tmp_path) is not None, "the shard that finished the refresh marks it"

    _assert_equals_one_run(database_url, second_database_url, encoder, embedding_settings)
