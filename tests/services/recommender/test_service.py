"""Serving a list without HTTP: content-based ranking happens in pgvector, cold start, logging."""

from __future__ import annotations

import numpy as np

from services.recommender.algorithms import fit_events_model
from services.recommender.catalogue import Catalogue
from services.recommender.service import Query, serve_list
from services.recommender.store import read_event_vectors, read_interactions


def _serve(conn, model, query, algorithm):
    return serve_list(
        conn,
        model,
        model_name="events-recommender",
        model_version="1",
        query=query,
        catalogue=Catalogue.load(conn),
        default_algorithm=algorithm,
        cache_ttl=0,
    )


def test_content_lists_are_ranked_by_cosine_to_the_mean_embedding(events_db) -> None:
    with events_db.connection() as conn:
        frame = read_interactions(conn)
        vectors = read_event_vectors(conn)
    model = fit_events_model(frame, vectors, extra_items=list(vectors))
    user = frame["user_id"].value_counts().index[0]
    with events_db.connection() as conn:
        served = _serve(conn, model, Query(user_id=user, top_k=5, city="Dublin"), "content")
        upcoming = {
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM events WHERE starts_at >= now() AND city = 'Dublin'"
            )
        }
    mine = set(frame.loc[frame["user_id"] == user, "event_id"])
    profile = np.mean([vectors[e] for e in mine if e in vectors], axis=0)
    profile /= np.linalg.norm(profile)
    # The same ranking computed here from the stored vectors: what pgvector must have done.
    expected = sorted(
        (e for e in upcoming - mine),
        key=lambda e: -float(vectors[e] @ profile / np.linalg.norm(vectors[e])),
    )[:5]
    assert [i["event_id"] for i in served.items] == expected
    scores = [i["score"] for i in served.items]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    assert served.algorithm == "content" and not served.cold_start


def test_a_new_user_with_no_history_falls_back_to_city_popularity(events_db) -> None:
    with events_db.connection() as conn:
        frame = read_interactions(conn)
        conn.execute("INSERT INTO event_users (user_id, home_city) VALUES ('newbie', 'Cork')")
    model = fit_events_model(frame)
    with events_db.connection() as conn:
        served = _serve(conn, model, Query(user_id="newbie", top_k=5), "content")
        logged = conn.execute(
            "SELECT algorithm, items FROM model_predictions WHERE prediction_id = %s",
            (served.recommendation_id,),
        ).fetchone()
    assert served.cold_start and served.items
    assert all(i["city"] == "Cork" for i in served.items)  # the stored home city
    popularity = [model.popularity[model.item_index[i["event_id"]]] for i in served.items]
    assert popularity == sorted(popularity, reverse=True)
    assert logged == ("content", [i["event_id"] for i in served.items])
