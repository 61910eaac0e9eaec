"""The one place that turns a database secret into TLS-verified connection settings.

Both the app (services.core.database) and the bootstrap Lambda use it: RDS-style JSON secrets
(host, port, username, password, dbname), `sslmode=verify-full` against the RDS CA bundle, and
credentials that are re-read when the server refuses them, so a rotated password never needs
a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import psycopg

log = logging.getLogger(__name__)

VERIFY_FULL = "verify-full"
# Where the images put AWS's RDS global CA bundle (docker/*.Dockerfile fetch it at build time).
RDS_CA_BUNDLE = Path("/opt/beacon/rds-global-bundle.pem")
# invalid_password and invalid_authorization_specification: what a rotated password looks like.
AUTH_FAILURES = frozenset({"28P01", "28000"})


@dataclass(frozen=True)
class DbSecret:
    """Connection details of one database user (never logged: repr hides the password)."""

    host: str
    port: int
    username: str
    password: str
    dbname: str

    def __repr__(self) -> str:
        return f"DbSecret(host={self.host!r}, port={self.port}, username={self.username!r})"

    def conninfo(self, *, dbname: str | None = None, **options: Any) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect (the password stays out of any URL or log)."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.username,
            "password": self.password,
            "dbname": dbname or self.dbname,
            **options,
        }


def parse_secret(text: str, *, default_dbname: str | None = None) -> DbSecret:
    """Parse an RDS-style secret; a missing field is named in the error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("database secret is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("database secret must be a JSON object")
    missing = [k for k in ("host", "username", "password") if not data.get(k)]
    dbname = data.get("dbname") or default_dbname or "beacon"
    if missing:
        raise ValueError(f"database secret lacks {', '.join(missing)}")
    return DbSecret(
        host=data["host"],
        port=int(data.get("port") or 5432),
        username=data["username"],
        password=data["password"],
        dbname=dbname,
    )


def tls_options(ssl_root_cert: Path | str, *, sslmode: str = VERIFY_FULL) -> dict[str, str]:
    """libpq options that verify the server's certificate and host name against the bundle."""
    if sslmode == VERIFY_FULL and not Path(ssl_root_cert).is_file():
        raise FileNotFoundError(
            f"RDS CA bundle not found at {ssl_root_cert} (setting BEACON_DB_SSL_ROOT_CERT); "
            "the images fetch it at build time, see docs/infrastructure.md"
        )
    return {"sslmode": sslmode, "sslrootcert": str(ssl_root_cert)}


def connection_url(
    secret: DbSecret, ssl_root_cert: Path | str, *, sslmode: str = VERIFY_FULL
) -> str:
    """A postgresql:// URL with the TLS options, for tools that want one (migrations, MLflow)."""
    user = quote(secret.username, safe="")
    password = quote(secret.password, safe="")
    query = urlencode(tls_options(ssl_root_cert, sslmode=sslmode))
    return f"postgresql://{user}:{password}@{secret.host}:{secret.port}/{secret.dbname}?{query}"


class SecretSource(Protocol):
    """Where the current secret text comes from."""

    def read(self) -> str:
        """The secret's current value."""
        ...


@dataclass(frozen=True)
class SecretsManagerSource:
    """The AWSCURRENT version of a Secrets Manager secret."""

    secret_id: str
    region: str | None = None
    client: Any = None

    def read(self) -> str:
        """Fetch the current version (a new client each time is cheap next to a reconnect)."""
        client = self.client
        if client is None:
            import boto3

            client = boto3.client("secretsmanager", region_name=self.region)
        return client.get_secret_value(SecretId=self.secret_id)["SecretString"]


@dataclass(frozen=True)
class FileSource:
    """A secret mounted as a file (e.g. a Kubernetes or compose secret)."""

    path: Path

    def read(self) -> str:
        """The file's current content."""
        return self.path.read_text()


def is_auth_failure(error: BaseException) -> bool:
    """True when the server refused the credentials (not when it was unreachable)."""
    if getattr(error, "sqlstate", None) in AUTH_FAILURES:
        return True
    # libpq reports a refused password before any SQLSTATE reaches psycopg on some versions.
    text = str(error).lower()
    return "password authentication failed" in text or "authentication failed for user" in text


class RotatingCredentials:
    """The current credentials of one secret, re-read when the server refuses them.

    Secrets Manager's single-user rotation changes the password in place; a connection opened
    with the old one fails with SQLSTATE 28P01. Re-reading the secret then and retrying once
    makes every later connection (pool growth, failover) use the new password.
    """

    def __init__(
        self,
        source: SecretSource,
        *,
        ssl_root_cert: Path | str = RDS_CA_BUNDLE,
        sslmode: str = VERIFY_FULL,
        default_dbname: str | None = None,
    ) -> None:
        self._source = source
        self._tls = tls_options(ssl_root_cert, sslmode=sslmode)
        self._default_dbname = default_dbname
        self._lock = threading.Lock()
        self._secret = self._read()
        self.refreshes = 0

    def _read(self) -> DbSecret:
        return parse_secret(self._source.read(), default_dbname=self._default_dbname)

    @property
    def secret(self) -> DbSecret:
        """The credentials last read."""
        return self._secret

    def kwargs(self) -> dict[str, Any]:
        """psycopg.connect keyword arguments for the current credentials."""
        return self._secret.conninfo(**self._tls)

    def url(self) -> str:
        """The current credentials as a URL (for migrations and other URL-only tools)."""
        return connection_url(self._secret, self._tls["sslrootcert"], sslmode=self._tls["sslmode"])

    def refresh(self) -> bool:
        """Re-read the secret; True when the credentials changed."""
        with self._lock:
            fresh = self._read()
            changed = fresh != self._secret
            self._secret = fresh
            if changed:
                self.refreshes += 1
        log.warning(
            "database credentials re-read after an authentication failure",
            extra={
                "changed": changed,
            },
        )
        return changed

    def connect(self, connect: Callable[..., psycopg.Connection], **options: Any) -> Any:
        """Connect with the current credentials; on an auth failure re-read them and retry once."""
        try:
            return connect(**{**options, **self.kwargs()})
        except psycopg.OperationalError as error:
            if not is_auth_failure(error) or not self.refresh():
                raise
        return connect(**{**options, **self.kwargs()})

    def connection_class(
        self, base: type[psycopg.Connection[Any]] = psycopg.Connection
    ) -> type[psycopg.Connection[Any]]:
        """A connection class for psycopg_pool whose `connect` goes through `self.connect`."""
        credentials = self

        class RotatingConnection(base):  # type: ignore[valid-type,misc]
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:  # type: ignore[override]
                parent = super().connect
                return credentials.connect(lambda **kw: parent(conninfo, **kw), **kwargs)

        return RotatingConnection


def use_rotating_credentials(pool: Any, credentials: RotatingCredentials) -> None:
    """Make a not-yet-opened psycopg_pool pool connect through `credentials`.

    The pool's own keyword arguments (timeouts, options) are kept; host, user, password and
    TLS come from the credentials at each new connection.
    """
    static = dict(pool.kwargs or {})
    pool.conninfo = ""
    pool.kwargs = lambda: dict(static)
    pool.connection_class = credentials.connection_class(pool.connection_class)
