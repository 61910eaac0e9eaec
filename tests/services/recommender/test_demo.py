"""The events part of `beacon demo`: data, embeddings and a champion on the first run only."""

from __future__ import annotations

from services.mlops.registry import CHAMPION, alias_version
from services.recommender.demo import prepare_events_demo


def test_demo_prepares_events_once(db, events_home, encoder) -> None:
    settings = events_home.settings(events_users=600, events_count=60, events_seed=5)
    said: list[str] = []
    prepare_events_demo(settings, db, encoder, said.append)
    # 600 users: fewer leave too few test users for the hybrid to clear recency popularity.
    assert any("generating 600 users and 60 events" in line for line in said)
    assert any("hybrid" in line and "NDCG@10" in line for line in said)
    champion = alias_version(settings.events_model_name, CHAMPION, settings)
    assert champion is not None and str(champion.version) == "1"
    with db.connection() as conn:
        embedded = conn.execute("SELECT count(embedding) FROM events").fetchone()[0]
    assert embedded == 60

    again: list[str] = []
    prepare_events_demo(settings, db, encoder, again.append)
    assert any("reusing stored data" in line for line in again)
    assert any("a champion recommender is registered" in line for line in again)
    assert str(alias_version(settings.events_model_name, CHAMPION, settings).version) == "1"
