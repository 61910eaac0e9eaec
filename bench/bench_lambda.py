"""Lambda path benchmark: warm p50/p95 of a by-id /v1/recommend_jobs through the real handler.

Drives `lambdas.api.handler.handler` with API Gateway REST events in-process (no network),
against its own embedded PostgreSQL in a temporary folder holding a small generated corpus,
embedded with the packaged encoder. For comparison it also times the same app wrapped the old
way, `Mangum(app, lifespan="auto")`, which runs the app's startup and shutdown on every
invocation. `python -m bench.bench_lambda --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from bench.temp_home import temporary_home

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Beacon/bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class Context:
    """The LambdaContext attributes Powertools reads."""

    function_name = "beacon-bench"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:beacon-bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def event(resume_id: str) -> dict:
    """A REST proxy event for POST /v1/recommend_jobs by resume id."""
    path = "/v1/recommend_jobs"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "POST",
        "headers": {"Host": "bench.local", "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": "bench",
            "stage": "api",
            "resourcePath": "/{proxy+}",
            "httpMethod": "POST",
            "path": f"/api{path}",
            "identity": {"sourceIp": "203.0.113.1"},
        },
        "body": json.dumps({"resume_id": resume_id, "top_k": 10}),
        "isBase64Encoded": False,
    }


def prepare(home: Path, postings: int, resumes: int) -> None:
    """Generate, load and embed the corpus in the home's embedded server."""
    from services.core.database import Database
    from services.embeddings.encoder import get_encoder
    from services.embeddings.refresh import refresh_embeddings
    from services.embeddings.settings import EmbeddingSettings
    from services.jobs import embedding as _jobs_documents  # noqa: F401  (registers the kinds)
    from services.jobs.store import upsert_postings, upsert_resumes
    from services.jobs.synthetic import generate_corpus

    settings = EmbeddingSettings(home=home)
    corpus = generate_corpus(n_postings=postings, n_resumes=resumes, seed=7)
    with Database.from_settings(settings) as db:
        with db.connection() as conn:
            upsert_postings(conn, corpus.postings)
            upsert_resumes(conn, corpus.resumes)
        refresh_embeddings(db, get_encoder(settings), settings)


def timed(call, events: list[dict]) -> list[float]:
    """Milliseconds per call; every response must be a 200."""
    out = []
    for item in events:
        started = time.perf_counter()
        response = call(item, Context())
        out.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    return out


def summary(ms: list[float]) -> dict[str, float]:
    """p50/p95 in milliseconds."""
    ordered = sorted(ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def main() -> None:
    """Prepare, then time the handler (warm) and the per-call-lifespan wrapping."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1000)
    parser.add_argument("--resumes", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300, help="warm handler calls")
    parser.add_argument(
        "--old-requests", type=int, default=30, help="calls with the lifespan run per call"
    )
    args = parser.parse_args()
    with temporary_home("beacon-bench-lambda-") as home:
        os.environ.update(
            {"BEACON_HOME": str(home), "BEACON_LOG_LEVEL": "WARNING", "BEACON_ENV": "test"}
        )
        prepare(home, args.postings, args.resumes)
        from mangum import Mangum

        from lambdas.api import handler as api
        from services.serving.app import create_app

        rng = random.Random(3)
        ids = [f"res-{rng.randint(1, args.resumes):06d}" for _ in range(args.requests)]
        started = time.perf_counter()
        api.handler(event(ids[0]), Context())
        cold_ms = (time.perf_counter() - started) * 1000
        timed(api.handler, [event(i) for i in ids[:20]])  # warm-up
        warm = summary(timed(api.handler, [event(i) for i in ids]))
        api.reset()
        old = Mangum(create_app(), lifespan="auto")
        per_call = summary(timed(old, [event(i) for i in ids[: args.old_requests]]))
    figures = {
        "corpus": {"postings": args.postings, "resumes": args.resumes},
        "first_call_ms (app start: pool, migrations, encoder, registry)": round(cold_ms, 1),
        "warm_handler_by_id_recommend_jobs": warm,
        "old_lifespan_per_call_by_id_recommend_jobs": per_call,
        "speedup_p50": round(per_call["p50_ms"] / warm["p50_ms"], 1),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
