"""Optuna studies live in PostgreSQL: an interrupted search resumes where it stopped."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from services.training.families import FAMILIES
from services.training.hpo import (
    completed_trials,
    optuna_storage,
    search,
    sqlalchemy_url,
    study_name,
)


def test_sqlalchemy_url_keeps_the_unix_socket() -> None:
    assert (
        sqlalchemy_url("postgresql://postgres:@/beacon?host=/tmp/pg")
        == "postgresql+psycopg://postgres:@/beacon?host=/tmp/pg"
    )
    assert sqlalchemy_url("postgres://u:p@db:5432/b?sslmode=require").startswith(
        "postgresql+psycopg://u:p@db:5432/b"
    )
    with pytest.raises(ValueError):
        sqlalchemy_url("mysql://x")


class Interrupted(Exception):
    """Stands in for a crash (or a killed container) in the middle of a search."""


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + rng.normal(size=400) > 1.0).astype(int)
    return x[:300], y[:300], x[300:], y[300:]


def test_interrupted_study_resumes_where_it_stopped(database_url: str, data) -> None:
    storage = optuna_storage(database_url)
    name = study_name("readmission", "run-x", "logreg")
    ran: list[int] = []

    def crash_after_two(number, params, metrics) -> None:
        if len(ran) == 2:
            raise Interrupted
        ran.append(number)

    with pytest.raises(Interrupted):
        search(FAMILIES["logreg"], data, storage=storage, name=name, n_trials=4, seed=1,
               threads=1, log_trial=crash_after_two)  # fmt: skip
    assert ran == [0, 1]

    # A new process: a fresh storage object on the same database, same run id.
    resumed: list[int] = []
    study = search(
        FAMILIES["logreg"], data, storage=optuna_storage(database_url), name=name, n_trials=4,
        seed=1, threads=1, log_trial=lambda number, params, metrics: resumed.append(number),
    )  # fmt: skip
    assert len(resumed) == 2  # only the remainder ran
    assert completed_trials(study) == 4
    assert study.best_value > 0.7

    # Asking again for 4 runs nothing; asking for 5 runs one more.
    again: list[int] = []
    search(FAMILIES["logreg"], data, storage=storage, name=name, n_trials=4, seed=1, threads=1,
           log_trial=lambda n, p, m: again.append(n))  # fmt: skip
    assert again == []
    search(FAMILIES["logreg"], data, storage=storage, name=name, n_trials=5, seed=1, threads=1,
           log_trial=lambda n, p, m: again.append(n))  # fmt: skip
    assert len(again) == 1

    with psycopg.connect(database_url) as conn:
        schemas = conn.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables "
            "WHERE table_name = 'trials'"
        ).fetchall()
    assert schemas == [("optuna",)]  # Optuna's tables stay in their own schema
