"""Reads the small JSON results that `beacon` jobs leave in storage (a folder or S3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from beacon_pipelines import settings


def join(*parts: str) -> str:
    """Join storage URI segments with `/`."""
    return "/".join([parts[0].rstrip("/"), *(p.strip("/") for p in parts[1:])])


def read_json(uri: str) -> Any:
    """A JSON object from a local path or s3:// URI."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        import boto3

        s3 = boto3.client("s3", region_name=settings.option("region"))
        try:
            body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"]
        except s3.exceptions.NoSuchKey as exc:  # the same error as a missing local file
            raise FileNotFoundError(uri) from exc
        return json.loads(body.read())
    return json.loads(Path(parsed.path if parsed.scheme == "file" else uri).read_text())
