"""Object storage addressed by URI: local paths (and file://) or s3://bucket/key."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class Location:
    """A parsed storage URI: scheme `file` (path) or `s3` (bucket, key)."""

    scheme: str
    bucket: str
    key: str

    @property
    def path(self) -> Path:
        """The local path of a `file` location."""
        return Path(self.key)


def parse_uri(uri: str) -> Location:
    """Split a URI; anything without a scheme is a local path."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"S3 URI without a bucket: {uri!r}")
        return Location("s3", parsed.netloc, parsed.path.lstrip("/"))
    if parsed.scheme in ("", "file"):
        return Location("file", "", parsed.path if parsed.scheme else uri)
    raise ValueError(
        f"unsupported storage scheme {parsed.scheme!r} in {uri!r} (use a path or s3://)"
    )


def join(base: str, *parts: str) -> str:
    """Join path segments onto a base URI with `/`."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


class Storage:
    """Read, write and list objects the same way on a laptop and in AWS."""

    def __init__(self, region: str | None = None) -> None:
        self._region = region
        self._client = None

    @property
    def s3(self):
        """The boto3 S3 client, created on first use (local runs never need boto3 credentials)."""
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", region_name=self._region)
        return self._client

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write an object; a local write is atomic (temp file then rename)."""
        loc = parse_uri(uri)
        if loc.scheme == "s3":
            self.s3.put_object(Bucket=loc.bucket, Key=loc.key, Body=data)
            return
        loc.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = loc.path.with_name(f".{loc.path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(loc.path)

    def read_bytes(self, uri: str) -> bytes:
        """Read a whole object; FileNotFoundError when it does not exist."""
        loc = parse_uri(uri)
        if loc.scheme == "s3":
            try:
                return self.s3.get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
            except self.s3.exceptions.NoSuchKey as exc:
                raise FileNotFoundError(uri) from exc
        return loc.path.read_bytes()

    def exists(self, uri: str) -> bool:
        """True when the object exists."""
        loc = parse_uri(uri)
        if loc.scheme == "s3":
            response = self.s3.list_objects_v2(Bucket=loc.bucket, Prefix=loc.key, MaxKeys=1)
            return any(o["Key"] == loc.key for o in response.get("Contents", []))
        return loc.path.exists()

    def list(self, prefix_uri: str) -> list[str]:
        """URIs of all objects under a prefix (recursively), sorted."""
        loc = parse_uri(prefix_uri)
        if loc.scheme == "s3":
            paginator = self.s3.get_paginator("list_objects_v2")
            keys = [
                obj["Key"]
                for page in paginator.paginate(Bucket=loc.bucket, Prefix=loc.key)
                for obj in page.get("Contents", [])
            ]
            return sorted(f"s3://{loc.bucket}/{key}" for key in keys)
        if loc.path.is_file():
            return [str(loc.path)]
        if not loc.path.exists():
            return []
        return sorted(str(p) for p in loc.path.rglob("*") if p.is_file())

    def download(self, uri: str, destination: Path) -> Path:
        """Copy an object to a local file (no-op copy for local paths) and return its path."""
        loc = parse_uri(uri)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if loc.scheme == "s3":
            self.s3.download_file(loc.bucket, loc.key, str(destination))
        else:
            shutil.copyfile(loc.path, destination)
        return destination
