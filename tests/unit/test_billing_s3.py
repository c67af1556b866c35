"""S3's share of the meter: requests counted in memory and flushed, storage sampled on change and
integrated as a step function; priced at the shipped S3 Standard rates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sagelocal.billing.prices import PriceTable
from sagelocal.billing.report import GB, build_report
from sagelocal.billing.s3meter import RequestCounter, request_kind, sample_storage
from sagelocal.store.models.billing import BillingS3Requests, BillingS3Storage
from tests.unit.s3_support import S3, new_s3


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


def test_request_tiers() -> None:
    assert [
        request_kind(op) for op in ("PutObject", "CopyObject", "ListObjectsV2", "CreateMultipartUpload")
    ] == ["put"] * 4
    assert [request_kind(op) for op in ("GetObject", "HeadObject", "HeadBucket", "GetBucketTagging")] == [
        "get"
    ] * 4
    assert request_kind("DeleteObject") is None and request_kind("AbortMultipartUpload") is None


def test_requests_are_counted_per_bucket_and_kind_and_priced(s3: S3) -> None:
    s3.bucket("bkt")  # in ap-northeast-1
    s3.put("a", b"x" * 10)
    s3.put("b", b"y" * 20)
    for _ in range(3):
        s3.get("a")
    s3("HeadObject", Bucket="bkt", Key="b")
    s3("DeleteObject", Bucket="bkt", Key="b")  # free
    db = s3.provider.db
    with db.read() as session:  # nothing written on the request path
        assert session.scalars(select(BillingS3Requests)).all() == []
    with db.write() as session:
        assert s3.provider.request_counter.flush(session) == 3 + 4
    with db.write() as session:
        s3.put("c", b"z")
        s3.provider.request_counter.flush(session)
    with db.read() as session:
        counts = {(r.bucket, r.region, r.kind): r.count for r in session.scalars(select(BillingS3Requests))}
        rep = build_report(session, PriceTable.load(), by="type")
    assert counts == {("bkt", "ap-northeast-1", "put"): 4, ("bkt", "ap-northeast-1", "get"): 4}
    lines = {line["family"]: line for line in rep["lines"]}
    assert lines["s3_requests_put"]["quantity"] == 4
    assert lines["s3_requests_put"]["usd"] == pytest.approx(4 / 1000 * 0.0047)
    assert lines["s3_requests_get"]["usd"] == pytest.approx(4 / 1000 * 0.00037)
    assert lines["s3_requests_get"]["price"]["basis"] == "primary"


def test_storage_is_a_step_function_of_samples(s3: S3) -> None:
    db = s3.provider.db
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    s3.bucket("bkt")
    s3.put("a", b"x" * 1000)
    with db.write() as session:
        assert sample_storage(session, base) == 1
    with db.write() as session:
        assert sample_storage(session, base + timedelta(hours=5)) == 0  # unchanged: no row
    s3.put("b", b"y" * 3000)
    with db.write() as session:
        sample_storage(session, base + timedelta(hours=10))
    s3("DeleteObject", Bucket="bkt", Key="a")
    s3("DeleteObject", Bucket="bkt", Key="b")
    s3("DeleteBucket", Bucket="bkt")
    with db.write() as session:
        sample_storage(session, base + timedelta(hours=20))  # the bucket is gone: 0 from here
        samples = [(r.bytes, r.sampled_at) for r in session.scalars(select(BillingS3Storage))]
    assert [b for b, _ in samples] == [1000, 4000, 0]
    with db.read() as session:
        rep = build_report(session, PriceTable.load(), by="resource", until=base + timedelta(hours=30))
    storage = next(line for line in rep["lines"] if line["family"] == "s3_storage")
    gb_months = (1000 * 10 + 4000 * 10) / GB / 730
    assert storage["resource"] == "bucket/bkt"
    assert storage["quantity"] == pytest.approx(gb_months)
    assert storage["usd"] == pytest.approx(gb_months * 0.025)


def test_requests_naming_no_possible_bucket_are_not_counted() -> None:
    """S3 refuses a 64-character bucket name before any bucket is involved: nobody is billed, and the
    name (longer than the ledger's column, which PostgreSQL enforces) must never reach the ledger."""
    counter = RequestCounter()
    now = datetime(2026, 11, 28, tzinfo=UTC)
    counter.count("123456789012", "ap-northeast-1", "a" * 64, "PutObject", now)
    counter.count("123456789012", "ap-northeast-1", "ab", "GetObject", now)
    counter.count("123456789012", "ap-northeast-1", "a" * 63, "PutObject", now)
    assert dict(counter.take()) == {("123456789012", "ap-northeast-1", "a" * 63, "2026-11-28", "put"): 1}
