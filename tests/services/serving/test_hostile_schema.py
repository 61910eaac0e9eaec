"""Hostile-input tier: schemathesis fuzzes the real app in process with every check enabled.

The jobs, readmission and operations endpoints run over the session's real corpus database
(embedded PostgreSQL + pgvector), the real encoder and a real registered readmission champion
(the events endpoints have their own run beside the events fixtures). A fixed seed and a
per-operation example budget keep the run deterministic and short.

The OpenAPI document is read from an app that is never started (building the document needs no
database), and each case is sent to the started app with `app=`: schemathesis's lazy
`from_fixture` loader fails under pytest 9.
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from services.serving.app import create_app
from services.serving.settings import ServingSettings

pytestmark = pytest.mark.hostile

#: Generated cases per operation; the coverage phase adds its boundary cases on top.
EXAMPLES = 15
#: A small max_top_k keeps each /v1/job_qa case cheap (its cost per request is issue #17's).
MAX_TOP_K = 20
#: Seconds a case may take on a loaded two-core machine before it counts as hung.
READ_TIMEOUT = 60


def document() -> dict:
    """The API's OpenAPI document, with the default settings the fuzzed app also uses."""
    return create_app(ServingSettings(home=tempfile.gettempdir(), max_top_k=MAX_TOP_K)).openapi()


# The events operations run beside the events fixtures (tests/services/recommender).
# The deprecated unversioned aliases run the same endpoints as their /v1 successors.
schema = (
    schemathesis.openapi.from_dict(document())
    .exclude(path_regex=r"^/v1/(recommendations|feedback|experiments|model/retrain)")
    .exclude(deprecated=True)
)


@pytest.fixture(scope="module")
def fuzzed_app(champion_store, corpus_db, encoder):
    """The app under test: a champion model, the corpus database, the prediction log on."""
    from schemathesis.python import asgi

    # The prediction log stays on: fuzzed records must never poison it.
    app = create_app(
        champion_store.serving(prediction_log=True, max_top_k=MAX_TOP_K),
        database=corpus_db,
        encoder=encoder,
    )
    yield app
    asgi.shutdown_lifespans()  # closes the app's pollers and writer before the pool goes


@schema.parametrize()
@seed(16)
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_every_operation_holds_its_contract(case, fuzzed_app) -> None:
    case.call_and_validate(app=fuzzed_app, timeout=READ_TIMEOUT)
