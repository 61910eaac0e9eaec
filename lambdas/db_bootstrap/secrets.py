"""Reads RDS-style JSON secrets (host, port, username, password, dbname) from Secrets Manager."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DbSecret:
    """Connection details of one database user."""

    host: str
    port: int
    username: str
    password: str
    dbname: str

    def conninfo(self, *, dbname: str | None = None, **options: Any) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect (password kept out of any URL or log)."""
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
    data = json.loads(text)
    missing = [k for k in ("host", "port", "username", "password") if not data.get(k)]
    dbname = data.get("dbname") or default_dbname
    if not dbname:
        missing.append("dbname")
    if missing:
        raise ValueError(f"database secret lacks {', '.join(missing)}")
    return DbSecret(
        host=data["host"],
        port=int(data["port"]),
        username=data["username"],
        password=data["password"],
        dbname=dbname,
    )


def read_secret(client: Any, secret_id: str, *, default_dbname: str | None = None) -> DbSecret:
    """Fetch and parse the current version of a secret."""
    value = client.get_secret_value(SecretId=secret_id)
    return parse_secret(value["SecretString"], default_dbname=default_dbname)
