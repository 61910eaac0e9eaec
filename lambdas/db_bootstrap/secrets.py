"""Reads RDS-style JSON secrets from Secrets Manager with the app's shared parser."""

from __future__ import annotations

from typing import Any

from services.core.db_credentials import DbSecret, parse_secret

__all__ = ["DbSecret", "parse_secret", "read_secret"]


def read_secret(client: Any, secret_id: str, *, default_dbname: str | None = None) -> DbSecret:
    """Fetch and parse the current version of a secret."""
    value = client.get_secret_value(SecretId=secret_id)
    return parse_secret(value["SecretString"], default_dbname=default_dbname)
