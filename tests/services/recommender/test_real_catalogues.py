"""Real interaction data: MovieLens and generic item files in any encoding load, train and serve
non-empty lists; a bundle that would serve empty lists, or a hybrid below the popularity
baselines, is refused (hand-written fixtures; real PostgreSQL, MLflow and FastAPI)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.core.database import Database
from services.core.errors import InputError
from services.recommender.algorithms import fit_events_model
from services.recommender.catalogue import Catalogue
from services.recommender.evaluation import Metrics
from services.recommender.gates import baseline_failure, users_without_lists
from services.recommender.items import load_items
from services.recommender.loader import load_interactions
from services.serving.events_runtime import smoke_test
from tests.services.recommender.conftest import EventsHome

FIXTURES = Path(__file__).with_name("fixtures")
ML100K, LATEST, GENERIC = FIXTURES / "ml-100k", FIXTURES / "ml-latest", FIXTURES / "generic"
LAYOUTS = {
    "ml-100k": (ML100K / "u.data", ML100K / "u.item"),
    "ml-latest": (LATEST / "ratings.csv", LATEST / "movies.csv"),
    "generic": (GENERIC / "interactions.csv", GENERIC / "items.csv"),
}


def test_movielens_100k_items_are_latin1_and_detected() -> None:
    items, used = load_items(ML100K / "u.item")
    assert used in ("cp1252", "latin-1")  # not UTF-8: u.item is latin-1
    by_id = {i.item_id: i for i in items}
    assert len(by_id) == 8
    assert by_id["4"].title == "Café Lumière (1996)"
    assert by_id["1"].tags == "Animation, Children's, Comedy"
    assert by_id["7"].tags is None  # only the "unknown" genre flag
    assert all(i.starts_at is None and i.city is None for i in items)  # films are undated
    latin, _ = load_items(ML100K / "u.item", encoding="latin-1")
    assert [i.title for i in latin] == [i.title for i in items]


def test_movielens_latest_and_generic_items_are_utf8() -> None:
    movies, used = load_items(LATEST / "movies.csv")
    assert used == "utf-8"
    by_id = {i.item_id: i for i in movies}
    assert by_id["20"].title == "Eye, Golden (1995)"  # quoted comma
    assert by_id["60"].title == "東京 Story (1953)"
    assert by_id["70"].tags is None  # "(no genres listed)"
    assert by_id["10"].tags == "Adventure, Animation, Children"
    generic, _ = load_items(GENERIC / "items.csv")
    by_id = {i.item_id: i for i in generic}
    assert by_id["gig-1"].city == "Cork"
    assert by_id["gig-1"].tags == "jazz, live"
    assert by_id["gig-1"].starts_at == datetime(2099, 6, 1, 20, tzinfo=UTC)
    assert by_id["gig-1"].text == "Saxophone quartet, late set"
    assert by_id["book-3"].tags == "nature, science"
    assert by_id["book-1"].starts_at is None and by_id["book-1"].city is None


def test_a_wrong_or_unknown_encoding_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InputError, match=r"u\.item line 4: not valid utf-8 text.*--encoding"):
        load_items(ML100K / "u.item", encoding="utf-8")
    with pytest.raises(InputError, match="--encoding: unknown encoding 'klingon'"):
        load_items(ML100K / "u.item", encoding="klingon")
    # UTF-16 with a byte-order mark (a spreadsheet's "Unicode text") is detected too.
    utf16 = tmp_path / "ratings16.csv"
    utf16.write_bytes(
        codecs.BOM_UTF16_LE + (LATEST / "ratings.csv").read_text().encode("utf-16-le")
    )
    assert len(load_interactions(utf16)) == len(load_interactions(LATEST / "ratings.csv"))


def test_windows_exports_decode_as_cp1252_and_bad_ids_are_refused(tmp_path) -> None:
    path = tmp_path / "items.csv"
    # 0x93/0x94 are curly quotes in cp1252 and invalid in UTF-8 (and control codes in latin-1).
    path.write_bytes(b"id,title\n1,\x93Quoted\x94 Title\n")
    items, used = load_items(path)
    assert used == "cp1252" and items[0].title == "\u201cQuoted\u201d Title"
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("user,item,rating,timestamp\nu\x001,10,4,1\n" + "u2," + "x" * 129 + ",4,1\n")
    with pytest.raises(InputError) as caught:
        load_interactions(ratings)
    assert "line 2, column 'user'" in str(caught.value)
    assert "line 3, column 'item'" in str(caught.value)


def test_bad_item_rows_are_named_by_line_and_column(tmp_path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "id,title,tags,time\n"
        "a,First,x,\n"
        "a,Again,x,\n"  # duplicate id
        "b,,x,\n"  # empty title
        "c,Third,x,next tuesday\n"  # bad time
        "d\x00,Fourth,x,\n"  # NUL: PostgreSQL text cannot hold it
    )
    with pytest.raises(InputError) as caught:
        load_items(path)
    message = str(caught.value)
    assert "line 3, column 'id': duplicate of line 2" in message
    assert "line 4, column 'title': empty" in message
    assert "line 5, column 'time'" in message
    assert "line 6, column 'id': contains control characters" in message
    assert "next tuesday" not in message  # cell values are never echoed
    with pytest.raises(InputError, match=r"lacks column\(s\): title"):
        (tmp_path / "h.csv").write_text("id,name_of_thing\n1,x\n")
        load_items(tmp_path / "h.csv")


def test_cli_rejects_a_wrongly_encoded_file_without_a_traceback(
    tmp_path, database_url, monkeypatch
) -> None:
    from services.cli import app

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    data, items = LAYOUTS["ml-100k"]
    args = ["events", "load", str(data), "--items", str(items), "--no-embed"]
    result = CliRunner().invoke(app, [*args, "--encoding", "utf-8"])
    assert result.exit_code == 2
    assert "u.item line 4: not valid utf-8 text" in result.output
    assert "Traceback" not in result.output
    with psycopg.connect(database_url) as conn:  # nothing half-written
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM event_interactions").fetchone()[0] == 0


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_load_train_and_serve_non_empty_lists_to_every_known_user(
    layout, tmp_path, database_url, monkeypatch, encoder
) -> None:
    """`beacon events load DATA --items ITEMS`, train, serve: every user with history gets a
    non-empty list, with the item's metadata attached."""
    from services.cli import app
    from services.mlops.registry import CHAMPION, alias_version, promote
    from services.recommender.training import train_events
    from services.serving.app import create_app
    from services.serving.settings import ServingSettings

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    data, items = LAYOUTS[layout]
    args = ["events", "load", str(data), "--items", str(items), "--no-embed"]
    loaded = CliRunner().invoke(app, args)
    assert loaded.exit_code == 0, loaded.output
    again = CliRunner().invoke(app, args)
    assert "stored 0 new or changed items" in again.output
    assert "stored 0 new interactions" in again.output

    home = EventsHome(tmp_path / "home")
    settings = home.settings()
    with Database(database_url, min_size=1, max_size=4) as db:
        outcome = train_events(settings, db, say=lambda _: None)
        # A handful of test users decides nothing: serve this version whatever its gate said.
        if alias_version(settings.events_model_name, CHAMPION, settings) is None:
            promote(settings.events_model_name, settings, str(outcome.version))
        serving = ServingSettings(home=home.home, mlflow_tracking_uri=settings.mlflow_tracking_uri)
        with TestClient(
            create_app(serving, database=db, encoder=encoder, recommender=settings)
        ) as client:
            users = sorted(set(load_interactions(data)["user_id"]))
            titles = {i.item_id: i.title for i in load_items(items)[0]}
            for user in users:
                response = client.post("/v1/recommendations", json={"user_id": user})
                assert response.status_code == 200, response.text
                body = response.json()
                assert not body["cold_start"]
                assert body["items"], (layout, user)
                for item in body["items"]:
                    assert item["title"] == titles[item["event_id"]]
    if layout == "generic":  # the past gig is never recommended; the future one may be
        assert "gig-3" not in {i["event_id"] for i in body["items"]}


def _tiny_model():
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2"],
            "event_id": ["A", "B", "A", "C"],
            "weight": [1.0, 3.0, 1.0, 5.0],
        }
    )
    return fit_events_model(frame, factors=2, iterations=2)


def _catalogue(starts: dict[str, datetime | None]) -> Catalogue:
    ids = list(starts)
    return Catalogue(
        ids=np.array(ids, dtype=object),
        cities=np.array([None] * len(ids), dtype=object),
        starts_ns=np.array([int(s.timestamp() * 1e9) if s else 0 for s in starts.values()]),
        dated=np.array([s is not None for s in starts.values()]),
        details={i: {"title": i} for i in ids},
    )


def test_a_bundle_that_would_serve_an_empty_list_fails_its_smoke_test() -> None:
    model = _tiny_model()
    past, future = datetime(2001, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)
    # u1 has seen A and B, the only upcoming events: u1's list would be empty.
    only_seen = _catalogue({"A": future, "B": future, "C": past})
    assert [model.user_ids[u] for u in users_without_lists(model, np.array([0, 1]))] == ["u1"]
    with pytest.raises(ValueError, match="1 of 2 users with history would get an empty list"):
        smoke_test(model, only_seen)
    # An undated item (a film) is always recommendable, and so is an item the model knows
    # that the catalogue does not (a ratings file loaded without its item metadata).
    smoke_test(model, _catalogue({"A": future, "B": future, "C": None}))
    smoke_test(model, _catalogue({"A": future, "B": future}))


def test_undated_and_unstored_items_are_candidates_but_never_pass_a_city_filter() -> None:
    model = _tiny_model()  # items A, B, C
    future = datetime(2099, 1, 1, tzinfo=UTC)
    catalogue = _catalogue({"A": future, "B": None})  # C is known to the model only
    catalogue.cities[0] = "Cork"

    def ids(**filters) -> list[str]:
        args = {"city": None, "date_from": None, "date_to": None, "dismissed": set()} | filters
        return sorted(model.item_ids[catalogue.candidates(model, **args)].tolist())

    assert ids() == ["A", "B", "C"]
    # An undated item passes date filters; a dated one only inside them.
    assert ids(date_to=datetime(2098, 1, 1, tzinfo=UTC)) == ["B", "C"]
    assert ids(city="Cork") == ["A"]  # neither the undated B nor the unstored C has a city
    assert ids(dismissed={"C", "B"}) == ["A"]


def test_the_promotion_gate_refuses_a_served_model_below_either_popularity_baseline() -> None:
    def metrics(ndcg: float) -> Metrics:
        return Metrics(precision=0.1, recall=0.1, ndcg=ndcg, coverage=0.5, users=100)

    table = {"popularity": metrics(0.10), "recent_popularity": metrics(0.16)}
    below = baseline_failure(table | {"hybrid": metrics(0.15)}, "hybrid")
    assert below is not None and "below recent_popularity 0.1600" in below
    all_time = {"popularity": metrics(0.20), "recent_popularity": metrics(0.16)}
    assert "below popularity 0.2000" in baseline_failure(
        all_time | {"hybrid": metrics(0.18)}, "hybrid"
    )
    assert baseline_failure(table | {"hybrid": metrics(0.16)}, "hybrid") is None


def test_training_never_serves_a_hybrid_below_popularity(
    events_db, events_home, monkeypatch
) -> None:
    """A blend that is ALS alone scores below recency-weighted popularity on the generated
    data: the gate refuses it, and the hybrid the version serves is the better baseline."""
    from services.mlops.registry import CHAMPION, alias_version, mlflow_tracking_uri
    from services.recommender import training
    from services.recommender.artifacts import load_events_model
    from services.recommender.tuning import Tuned

    monkeypatch.setattr(training, "tune", lambda *a, **k: Tuned(1.0, 25.0, {"als": 1.0}))
    settings = events_home.settings()
    outcome = training.train_events(settings, events_db, say=lambda _: None)
    baselines = {b: outcome.metrics[b].ndcg for b in ("popularity", "recent_popularity")}
    best = max(baselines, key=baselines.get)
    refused = outcome.flat_metrics["test_ndcg_at_10_refused_blend"]
    assert refused < baselines[best]  # ALS alone really is below the baseline
    assert outcome.metrics["hybrid"].ndcg == pytest.approx(baselines[best])
    assert f"tuned blend refused (hybrid NDCG@10 {refused:.4f} is below {best}" in outcome.gate
    champion = alias_version(settings.events_model_name, CHAMPION, settings)
    assert outcome.promoted and str(champion.version) == outcome.version
    served = load_events_model(
        mlflow_tracking_uri(settings), settings.events_model_name, outcome.version
    )
    assert served.hybrid_weights == {best: 1.0}


def test_training_refuses_a_served_algorithm_below_popularity(events_db, events_home) -> None:
    """No fallback for a non-hybrid default: ALS below recency popularity is not promoted."""
    from services.mlops.registry import CHAMPION, alias_version
    from services.recommender.training import train_events

    settings = events_home.settings(rec_default_algorithm="als")
    outcome = train_events(settings, events_db, say=lambda _: None)
    assert outcome.metrics["als"].ndcg < outcome.metrics["recent_popularity"].ndcg
    assert not outcome.promoted
    assert outcome.gate.startswith("failed: als NDCG@10")
    assert alias_version(settings.events_model_name, CHAMPION, settings) is None
