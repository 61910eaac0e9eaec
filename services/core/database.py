"""Database access: choose the server (URL, Secrets Manager or embedded) and pool connections."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool, PoolTimeout

from services.core.db_credentials import (
    RotatingCredentials,
    SecretsManagerSource,
    connection_url,
    parse_secret,
    use_rotating_credentials,
)
from services.core.errors import DatabaseUnavailable
from services.core.migrations import migrate
from services.core.settings import CoreSettings

log = logging.getLogger(__name__)


def resolve_database_url(settings: CoreSettings) -> str:
    """The URL to connect to: explicit URL, then the AWS secret, then the embedded server."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.db_secret_arn:
        return url_from_secret(
            settings.db_secret_arn, settings.aws_region, ssl_root_cert=settings.db_ssl_root_cert
        )
    from services.core.embedded import start_embedded

    return start_embedded(settings.pgdata)


def url_from_secret(
    secret_arn: str, region: str | None = None, *, ssl_root_cert: Any = None
) -> str:
    """A `verify-full` URL from an RDS-style JSON secret (host, port, username, password)."""
    source = SecretsManagerSource(secret_arn, region)
    secret = parse_secret(source.read())
    return connection_url(secret, ssl_root_cert or CoreSettings().db_ssl_root_cert)


def rotating_credentials(settings: CoreSettings) -> RotatingCredentials | None:
    """Credentials re-read on authentication failure, when the server comes from a secret."""
    if settings.database_url is not None or not settings.db_secret_arn:
        return None
    return RotatingCredentials(
        SecretsManagerSource(settings.db_secret_arn, settings.aws_region),
        ssl_root_cert=settings.db_ssl_root_cert,
    )


def _configure(conn: psycopg.Connection) -> None:
    # The vector type exists only after the first migration; before that, skip registration.
    with suppress(psycopg.ProgrammingError):
        register_vector(conn)
    conn.commit()


def session_kwargs(connect_timeout: float, statement_timeout: float = 0.0) -> dict[str, Any]:
    """libpq keyword arguments of every pooled connection: connect and statement timeouts.

    A statement timeout is set per session (the `options` startup parameter) rather than per
    role, so a stalled database costs a request at most that long instead of hanging it.
    """
    kwargs: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout))}
    if statement_timeout > 0:
        kwargs["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return kwargs


class Database:
    """A pooled PostgreSQL database with the pgvector adapter registered on every connection."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 5.0,
        credentials: RotatingCredentials | None = None,
        statement_timeout: float = 0.0,
        pool_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            # How long a caller waits for a free connection (all busy, or the server down).
            timeout=pool_timeout if pool_timeout is not None else timeout,
            configure=_configure,
            check=ConnectionPool.check_connection,
            kwargs=session_kwargs(timeout, statement_timeout),
            open=False,
            name="beacon",
        )
        if credentials is not None:
            # New connections read the secret again when a rotated password is refused.
            use_rotating_credentials(self.pool, credentials)
        # wait=False: a process may start while the database is down and recover later.
        self.pool.open(wait=False)

    @classmethod
    def from_settings(cls, settings: CoreSettings, *, run_migrations: bool = True) -> Database:
        """Open a pool on the configured (or embedded) server, migrating it first."""
        credentials = rotating_credentials(settings)
        url = credentials.url() if credentials else resolve_database_url(settings)
        if run_migrations:
            # Before the pool opens, so every pooled connection sees the vector type.
            migrate(url)
        return cls(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_connect_timeout,
            credentials=credentials,
            statement_timeout=settings.db_statement_timeout,
            pool_timeout=settings.db_pool_timeout,
        )

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (waiting at most `timeout` s for one, default the pool's);
        commits on success, rolls back on error."""
        try:
            with self.pool.connection(timeout=timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable("database unavailable: no connection within timeout") from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from exc

    def ping(self, timeout: float | None = None) -> bool:
        """True when a query round-trips (within about `timeout` seconds when given)."""
        try:
            with self.connection(timeout=timeout) as conn:
                if timeout is not None:
                    conn.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                conn.execute("SELECT 1")
            return True
        except DatabaseUnavailable:
            return False

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
