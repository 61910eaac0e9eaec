"""Generated events data is deterministic and consistent; interaction files are validated whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from services.core.errors import InputError
from services.recommender.data import ACTION_WEIGHTS, CITIES, generate_events_data
from services.recommender.loader import load_interactions

ANCHOR = datetime(2026, 5, 1, tzinfo=UTC)


def test_generator_is_deterministic_and_consistent() -> None:
    a = generate_events_data(300, 80, seed=9, anchor=ANCHOR)
    b = generate_events_data(300, 80, seed=9, anchor=ANCHOR)
    c = generate_events_data(300, 80, seed=10, anchor=ANCHOR)
    assert a.interactions.equals(b.interactions)
    assert a.events == b.events
    assert not a.interactions.equals(c.interactions)
    frame = a.interactions
    events = {e.event_id: e for e in a.events}
    # Interactions happen before the anchor and before the event itself.
    assert (frame["occurred_at"] <= ANCHOR).all()
    starts = frame["event_id"].map(lambda e: events[e].starts_at)
    assert (frame["occurred_at"] <= starts).all()
    assert set(frame["action"]) == set(ACTION_WEIGHTS)
    # The funnel holds: every purchase was saved, every save was viewed.
    pairs = frame.groupby(["user_id", "event_id"])["action"].agg(set)
    assert all("save" in s for s in pairs if "purchase" in s)
    assert all("view" in s for s in pairs)
    assert {e.city for e in a.events} <= set(CITIES)
    # Some events are upcoming (they are what the API recommends).
    assert any(e.starts_at > ANCHOR for e in a.events)


def test_users_mostly_interact_in_their_home_city() -> None:
    data = generate_events_data(400, 120, seed=4, anchor=ANCHOR)
    home = {u.user_id: u.home_city for u in data.users}
    city = {e.event_id: e.city for e in data.events}
    views = data.interactions[data.interactions["action"] == "view"]
    share = (views["user_id"].map(home) == views["event_id"].map(city)).mean()
    # A third of the views follow what is popular anywhere; the rest are mostly at home.
    assert share > 0.45  # a random city would give about 0.2


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loader_reads_action_csv_and_movielens_layouts(tmp_path) -> None:
    actions = _write(
        tmp_path,
        "interactions.csv",
        "user,item,action,timestamp\n"
        "u1,ev1,view,2026-04-01T10:00:00Z\nu1,ev1,purchase,1775212800\nu2,ev2,save,2026-04-02\n",
    )
    frame = load_interactions(actions)
    assert list(frame["action"]) == ["view", "save", "purchase"]  # sorted by time
    assert list(frame["weight"]) == [1.0, 3.0, 5.0]
    assert str(frame["occurred_at"].dt.tz) == "UTC"

    ratings_csv = _write(
        tmp_path,
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,4,1260759179\n",
    )
    frame = load_interactions(ratings_csv)
    assert list(frame["event_id"]) == ["31", "1029"]
    assert list(frame["weight"]) == [1.5, 3.0]  # rating - 1: a 4 counts like a save
    dat = load_interactions(
        _write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    )
    assert len(dat) == 2 and set(dat["action"]) == {"rating"}
    udata = load_interactions(
        _write(tmp_path, "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    )
    assert list(udata["user_id"]) == ["196", "186"]


def test_loader_names_line_and_column_of_every_bad_row(tmp_path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "user,item,rating,timestamp\n1,2,4,1260759144\n1,3,lots,1260759144\n,4,3,yesterday\n1,5,4\n",
    )
    with pytest.raises(InputError) as caught:
        load_interactions(path)
    message = str(caught.value)
    assert "line 3, column 'rating': not a number" in message
    assert "line 4, column 'user': empty" in message
    assert "line 4, column 'timestamp'" in message
    assert "line 5: expected 4 columns, found 3" in message
    assert "lots" not in message  # cell values are never echoed


def test_loader_rejects_a_header_without_the_needed_columns(tmp_path) -> None:
    with pytest.raises(InputError, match=r"line 1 \(header\) lacks column\(s\): timestamp"):
        load_interactions(_write(tmp_path, "h.csv", "user,item,action\nu1,e1,view\n"))
    with pytest.raises(InputError, match="action or rating"):
        load_interactions(_write(tmp_path, "h2.csv", "user,item,timestamp\nu1,e1,1\n"))


def test_cli_load_rejects_a_bad_file_and_writes_nothing(
    tmp_path, database_url, monkeypatch
) -> None:
    import psycopg

    from services.cli import app

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    good = _write(
        tmp_path, "good.csv", "user,item,action,timestamp\nu1,ev1,view,2026-04-01T10:00:00Z\n"
    )
    bad = _write(
        tmp_path,
        "bad.csv",
        "user,item,action,timestamp\nu2,ev1,view,2026-04-01T10:00:00Z\nu2,ev2,clicked,2026-04-01\n",
    )
    runner = CliRunner()
    rejected = runner.invoke(app, ["events", "load", str(bad)])
    assert rejected.exit_code == 2
    assert "line 3, column 'action'" in rejected.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM event_interactions").fetchone()[0] == 0
    accepted = runner.invoke(app, ["events", "load", str(good)])
    assert accepted.exit_code == 0, accepted.output
    again = runner.invoke(app, ["events", "load", str(good)])
    assert "stored 0 new interactions" in again.output  # idempotent rerun
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM event_interactions").fetchone()[0] == 1


def test_train_events_on_a_users_rating_file_prints_metrics(
    tmp_path, events_db, events_data, monkeypatch
) -> None:
    """`beacon train events --data` on a MovieLens-style file: metrics per algorithm, and the
    version is registered as challenger only (never served without a human promoting it)."""
    from services.cli import app

    frame = events_data.interactions
    ratings = frame.assign(
        rating=frame["action"].map({"view": 2.0, "save": 4.0, "purchase": 5.0}),
        timestamp=frame["occurred_at"].astype("int64") // 10**9,
    )
    path = tmp_path / "ratings.csv"
    ratings.rename(columns={"user_id": "userId", "event_id": "movieId"})[
        ["userId", "movieId", "rating", "timestamp"]
    ].to_csv(path, index=False)
    monkeypatch.setenv("DATABASE_URL", events_db.url)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = CliRunner().invoke(app, ["train", "events", "--data", str(path)])
    assert result.exit_code == 0, result.output
    table = {
        line.split()[0]: [float(x) for x in line.split()[1:]]
        for line in result.output.splitlines()
        if line.split() and line.split()[0] in ("popularity", "item_knn", "als", "hybrid")
    }
    assert set(table) == {"popularity", "item_knn", "als", "hybrid"}
    assert table["item_knn"][2] > table["popularity"][2]  # NDCG@10 column
    assert "not promoted: trained on an external file" in result.output


def test_events_commands_have_help_and_refuse_an_empty_database(
    tmp_path, database_url, monkeypatch
) -> None:
    from services.cli import app

    runner = CliRunner()
    for command in (["events", "generate"], ["events", "load"], ["train", "events"]):
        shown = runner.invoke(app, [*command, "--help"])
        assert shown.exit_code == 0 and "Usage" in shown.output
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    empty = runner.invoke(app, ["train", "events"])
    assert empty.exit_code == 2
    assert "no interactions stored: run `beacon events generate`" in empty.output
