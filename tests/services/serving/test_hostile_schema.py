"""Hostile-input tier: schemathesis fuzzes the real app (from_asgi) with every check enabled.

The jobs, readmission and operations endpoints run over the session's real corpus database
(embedded PostgreSQL + pgvector), the real encoder and a real registered readmission champion
(the events endpoints have their own run beside the events fixtures). A fixed seed and a
per-operation example budget keep the run deterministic and short.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from services.serving.app import create_app

pytestmark = pytest.mark.hostile

#: Generated cases per operation; the coverage phase adds its boundary cases on top.
EXAMPLES = 15


@pytest.fixture(scope="module")
def api_schema(champion_store, corpus_db, encoder):
    """The OpenAPI document of an app with a champion model and the corpus database."""
    from schemathesis.python import asgi

    # The prediction log stays on: fuzzed records must never poison it.
    serving = champion_store.serving(prediction_log=True)
    app = create_app(serving, database=corpus_db, encoder=encoder)
    yield schemathesis.openapi.from_asgi("/openapi.json", app).exclude(tag="events")
    asgi.shutdown_lifespans()  # closes the app's pollers and writer before the pool goes


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@seed(16)
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_every_operation_holds_its_contract(case) -> None:
    case.call_and_validate()
