"""Storage behaves the same on local folders and S3 (S3 through moto)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from services.core.storage import Storage, join, parse_uri


def test_parse_uri_variants() -> None:
    assert parse_uri("s3://bucket/a/b.json").key == "a/b.json"
    assert parse_uri("/tmp/x").scheme == "file"
    assert str(parse_uri("file:///tmp/x").path) == "/tmp/x"
    with pytest.raises(ValueError, match="unsupported storage scheme"):
        parse_uri("gs://bucket/x")
    with pytest.raises(ValueError, match="without a bucket"):
        parse_uri("s3:///x")
    assert join("s3://b/p/", "/reports", "x.json") == "s3://b/p/reports/x.json"


def _roundtrip(storage: Storage, root: str) -> None:
    storage.write_bytes(join(root, "a", "one.txt"), b"1")
    storage.write_bytes(join(root, "a", "two.txt"), b"22")
    storage.write_bytes(join(root, "b.txt"), b"333")
    assert storage.read_bytes(join(root, "a", "two.txt")) == b"22"
    assert storage.exists(join(root, "b.txt"))
    assert not storage.exists(join(root, "missing.txt"))
    listed = storage.list(join(root, "a"))
    assert [u.rsplit("/", 1)[-1] for u in listed] == ["one.txt", "two.txt"]
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(join(root, "missing.txt"))


def test_local_storage(tmp_path) -> None:
    _roundtrip(Storage(), str(tmp_path / "store"))
    assert not list((tmp_path / "store").rglob(".*.tmp")), "atomic writes leave no temp files"


def test_s3_storage(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="beacon-data")
        storage = Storage(region="us-east-1")
        _roundtrip(storage, "s3://beacon-data/prefix")
        target = storage.download("s3://beacon-data/prefix/b.txt", tmp_path / "dl" / "b.txt")
        assert target.read_bytes() == b"333"
