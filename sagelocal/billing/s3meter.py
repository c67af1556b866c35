"""S3's share of the meter, kept off the request path.

Requests: `RequestCounter.count` is a dict increment under a lock (no I/O); the billing monitor
`flush`es the counts into `billing_s3_requests` every few seconds and at shutdown. A crash loses
at most the counts since the last flush. Resolution: one UTC day per bucket and kind.

Storage: `sample_storage` sums object sizes per bucket and writes a `billing_s3_storage` row when
a bucket's total changed since its last sample (a deleted bucket gets a 0). The report integrates
GB-time as a step function: each sample holds until the next. The monitor samples every
`SAGELOCAL_BILLING_SAMPLE_SECONDS` (default 600 s) and every report samples first, so a change is
counted from when it was next sampled (at most one period late); a crash loses nothing already
sampled. Parts of unfinished multipart uploads are not counted.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sagelocal.store.models.billing import BillingS3Requests, BillingS3Storage
from sagelocal.store.models.s3 import S3Bucket, S3Object

FREE_PREFIXES = ("Delete", "AbortMultipartUpload")
PUT_PREFIXES = ("Put", "Copy", "Post", "List", "Create", "Complete", "Upload", "Restore", "Select")


def request_kind(operation: str) -> str | None:
    """AWS's request tier of an S3 operation: "put" (PUT, COPY, POST, LIST), "get" (GET and all
    other requests), or None (DELETE and CANCEL requests are free)."""
    if operation.startswith(FREE_PREFIXES):
        return None
    if operation == "SelectObjectContent":
        return "get"
    return "put" if operation.startswith(PUT_PREFIXES) else "get"


RequestKey = tuple[str, str, str, str, str]  # account, region, bucket, day, kind


class RequestCounter:
    """S3 request counts accumulated in memory until the next flush."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[RequestKey] = Counter()

    def count(self, account_id: str, region: str, bucket: str, operation: str, when: datetime) -> None:
        kind = request_kind(operation)
        if kind is None or not 3 <= len(bucket) <= 63:
            return  # a name no bucket can have (S3 refused the request): nobody is billed for it
        key = (account_id, region, bucket, when.strftime("%Y-%m-%d"), kind)
        with self._lock:
            self._counts[key] += 1

    def take(self) -> Counter[RequestKey]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    def give_back(self, counts: Counter[RequestKey]) -> None:
        """Return counts a failed flush could not write (they go out with the next one)."""
        with self._lock:
            self._counts.update(counts)

    def flush(self, session: Session) -> int:
        """Add the pending counts to the ledger; a bucket's own account and region win over the
        caller's. Returns how many requests were written."""
        counts = self.take()
        if not counts:
            return 0
        try:
            buckets = {b for _, _, b, _, _ in counts}
            homes = {
                name: (account, region)
                for name, account, region in session.execute(
                    select(S3Bucket.name, S3Bucket.account_id, S3Bucket.region).where(
                        S3Bucket.name.in_(buckets)
                    )
                )
            }
            for (account, region, bucket, day, kind), n in counts.items():
                account, region = homes.get(bucket, (account, region))
                row = session.scalar(
                    select(BillingS3Requests).where(
                        BillingS3Requests.account_id == account,
                        BillingS3Requests.region == region,
                        BillingS3Requests.bucket == bucket,
                        BillingS3Requests.day == day,
                        BillingS3Requests.kind == kind,
                    )
                )
                if row is None:
                    session.add(
                        BillingS3Requests(
                            account_id=account, region=region, bucket=bucket, day=day, kind=kind, count=n
                        )
                    )
                    session.flush()
                else:
                    row.count += n
        except Exception:
            self.give_back(counts)
            raise
        return sum(counts.values())


def sample_storage(session: Session, now: datetime) -> int:
    """Write a storage sample for every bucket whose total size changed; returns how many."""
    sizes = {
        name: (account, region, int(total or 0))
        for name, account, region, total in session.execute(
            select(S3Bucket.name, S3Bucket.account_id, S3Bucket.region, func.sum(S3Object.size))
            .outerjoin(S3Object, S3Object.bucket == S3Bucket.name)
            .group_by(S3Bucket.name, S3Bucket.account_id, S3Bucket.region)
        )
    }
    latest = select(BillingS3Storage.bucket, func.max(BillingS3Storage.id).label("last_id")).group_by(
        BillingS3Storage.bucket
    )
    last = {
        row.bucket: row
        for row in session.scalars(
            select(BillingS3Storage).where(BillingS3Storage.id.in_(select(latest.subquery().c.last_id)))
        )
    }
    written = 0
    for bucket, (account, region, size) in sizes.items():
        prev = last.get(bucket)
        if prev is None and size == 0:
            continue
        if prev is None or prev.bytes != size or (prev.account_id, prev.region) != (account, region):
            session.add(
                BillingS3Storage(account_id=account, region=region, bucket=bucket, sampled_at=now, bytes=size)
            )
            written += 1
    for bucket, prev in last.items():
        if bucket not in sizes and prev.bytes != 0:  # deleted bucket
            session.add(
                BillingS3Storage(
                    account_id=prev.account_id, region=prev.region, bucket=bucket, sampled_at=now, bytes=0
                )
            )
            written += 1
    session.flush()
    return written


@functools.cache
def _operations() -> tuple[tuple[str, str], ...]:
    """(method name, operation name) of every S3 operation in botocore's model."""
    from botocore import xform_name
    from botocore.session import get_session

    return tuple((xform_name(op), op) for op in get_session().get_service_model("s3").operation_names)


def metered(provider: Any, counter: RequestCounter) -> None:
    """Count every S3 operation `provider` serves: each operation method is shadowed on the
    instance by one that counts the request (in memory) and calls it."""

    def wrap(method: Callable[..., Any], operation: str) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(ctx: Any, params: dict[str, Any]) -> Any:
            counter.count(ctx.account_id, ctx.region, params.get("Bucket") or "", operation, ctx.received_at)
            return method(ctx, params)

        return counted

    for name, operation in _operations():
        method = getattr(provider, name, None)
        if callable(method):
            setattr(provider, name, wrap(method, operation))
