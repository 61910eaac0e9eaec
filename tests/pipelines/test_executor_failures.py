"""The local executor seam: a failed gate fails its task at once, and people are told."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines_support import dag_test


def test_a_failed_gate_is_not_retried_and_notifies(tmp_path: Path) -> None:
    # A stand-in `beacon` whose every command is a gate saying no (exit 1): the seam's
    # handling of exit codes is under test here, not the jobs.
    fake = tmp_path / "beacon"
    fake.write_text('#!/bin/sh\necho "[FAIL] stand-in gate: $*"\nexit 1\n')
    fake.chmod(0o755)
    summary, output = dag_test(
        "nightly_embedding_refresh", tmp_path, "2026-11-21T02:00:00",
        AIRFLOW__BEACON__CLI=str(fake),
    )  # fmt: skip
    assert summary["state"] == "failed"
    assert summary["tasks"] == {
        "refresh": "failed",
        "check": "upstream_failed",
        "report": "upstream_failed",
    }
    assert "[FAIL] stand-in gate: embed refresh --source" in output
    assert output.count("$ " + str(fake)) == 1  # one attempt: a verdict is not retried
    events = [
        json.loads(line.split("pipeline event ", 1)[1])
        for line in output.splitlines()
        if "pipeline event " in line
    ]
    # One failure event, for the task that failed. (Its message carries the exception on real
    # workers; Airflow 3.0.6's dag.test() does not put the exception in the callback context.)
    assert [(e["dag_id"], e["task_id"], e["state"]) for e in events] == [
        ("nightly_embedding_refresh", "refresh", "failed")
    ]


def test_a_sharded_task_runs_every_shard_and_fails_on_one_verdict(tmp_path: Path) -> None:
    # A stand-in `beacon` whose shard 1 of 3 fails a gate; the other shards succeed.
    fake = tmp_path / "beacon"
    fake.write_text(
        '#!/bin/sh\necho "stand-in: $*"\n'
        'case "$*" in *--shard=1/3*) echo "[FAIL] shard 1"; exit 1;; esac\nexit 0\n'
    )
    fake.chmod(0o755)
    summary, output = dag_test(
        "nightly_embedding_refresh", tmp_path, "2026-11-21T02:00:00",
        AIRFLOW__BEACON__CLI=str(fake), AIRFLOW__BEACON__REFRESH_INSTANCE_COUNT="3",
    )  # fmt: skip
    assert summary["tasks"]["refresh"] == "failed"
    for index in range(3):  # every shard ran once, its output tagged with its shard
        assert output.count(f"--shard={index}/3") >= 2, output[-3000:]
        assert f"[{index}/3] stand-in: embed refresh --source" in output
    assert output.count("$ " + str(fake)) == 3  # one attempt of three shards: not retried
    assert "[1/3] [FAIL] shard 1" in output
