"""Migrations apply once, record their versions and are safe to rerun."""

from __future__ import annotations

import psycopg

from services.core.migrations import apply_migrations, discover, migrate


def test_migrations_are_recorded_and_idempotent(database_url: str) -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions) and versions, "migrations must exist and sort by name"
    # The fixture already migrated: a second and third run apply nothing.
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        assert apply_migrations(conn) == []
        recorded = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        ext = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
    assert recorded == versions
    assert ext is not None and tuple(int(x) for x in ext[0].split(".")[:2]) >= (0, 8)


def test_new_migration_file_is_applied_once(database_url: str, tmp_path) -> None:
    for migration in discover():
        (tmp_path / f"{migration.version}.sql").write_text(migration.sql)
    (tmp_path / "9999_extra.sql").write_text("CREATE TABLE extra_table (id int PRIMARY KEY);")
    with psycopg.connect(database_url) as conn:
        assert apply_migrations(conn, tmp_path) == ["9999_extra"]
        assert apply_migrations(conn, tmp_path) == []
        assert conn.execute("SELECT to_regclass('extra_table')").fetchone()[0] == "extra_table"


def test_failing_migration_leaves_nothing_behind(database_url: str, tmp_path) -> None:
    for migration in discover():
        (tmp_path / f"{migration.version}.sql").write_text(migration.sql)
    (tmp_path / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;"
    )
    with psycopg.connect(database_url) as conn:
        try:
            apply_migrations(conn, tmp_path)
        except psycopg.errors.UndefinedTable:
            pass
        else:
            raise AssertionError("a broken migration must raise")
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert "9999_broken" not in versions


def test_up_to_date_database_needs_no_create_rights(database_url: str) -> None:
    """In AWS the app role cannot create tables; starting against a migrated DB must still work."""
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS beacon_reader_test")
        conn.execute("CREATE ROLE beacon_reader_test LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA public TO beacon_reader_test")
        conn.execute("GRANT SELECT ON schema_migrations TO beacon_reader_test")
        dbname = conn.info.dbname
    url = database_url.replace("postgres:@", "beacon_reader_test:@")
    try:
        assert migrate(url) == []
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("REVOKE ALL ON schema_migrations FROM beacon_reader_test"))
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM beacon_reader_test"))
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM beacon_reader_test").format(
                    sql.Identifier(dbname)
                )
            )
            conn.execute("DROP ROLE beacon_reader_test")


def test_each_package_owns_its_migrations_and_versions_keep_their_names() -> None:
    from services.core.migrations import migration_files

    owners = {p.stem: p.parent.parent.name for p in migration_files()}
    # The versions recorded by databases migrated before the files moved out of core.
    assert owners == {
        "0001_extensions": "core",
        "0002_jobs": "jobs",
        "0003_prediction_log": "serving",
        "0004_events": "recommender",
        "0005_catalogue_items": "recommender",
        "0006_events_integrity": "recommender",
    }


def test_migrations_fingerprint_ignores_the_owner_and_follows_the_content(tmp_path) -> None:
    from infra.images import migrations_fingerprint, tree_fingerprint

    spread, flat = tmp_path / "services", tmp_path / "flat"
    flat.mkdir()
    for package, name in [("core", "0001_a.sql"), ("jobs", "0002_b.sql"), ("core", "0003_c.sql")]:
        (spread / package / "migrations").mkdir(parents=True, exist_ok=True)
        (spread / package / "migrations" / name).write_text(f"-- {name}")
        (flat / name).write_text(f"-- {name}")
    before = migrations_fingerprint(spread)
    # The value the bootstrap saw when every file sat in one folder: no needless re-run.
    assert before == tree_fingerprint(flat, "*.sql")
    (spread / "jobs" / "migrations" / "0002_b.sql").write_text("-- changed")
    assert migrations_fingerprint(spread) != before
