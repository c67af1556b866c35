"""The cost report: what the metered usage would have cost on AWS between two times.

`build_report` reads the ledger (`billing_usage`, `billing_s3_requests`, `billing_s3_storage`),
prices every piece with a `PriceTable` and groups the lines by resource, by type (region, family,
instance type) or by UTC day. A piece with no published figure is reported with its quantity as
"not priced (no published figure found)" and left out of the total. Its JSON form is what
`GET /_sagelocal/cost` and `sagelocal cost --json` answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sagelocal.billing.free_tier import FreeTier, month_start
from sagelocal.billing.prices import HOURS_PER_MONTH, NOT_PRICED, STORAGE_FAMILIES, Price, PriceTable
from sagelocal.store.models.billing import BillingS3Requests, BillingS3Storage, BillingUsage

GB = 1024**3  # AWS bills storage in binary gigabytes
GROUPINGS = ("resource", "type", "day")
NOT_METERED = [
    "ML storage volumes of training jobs, endpoint instances and transform jobs",
    "serverless endpoint variants",
    "S3 storage of unfinished multipart uploads; S3 storage tiers beyond the first 50 TB",
    "data transfer",
]


@dataclass
class Piece:
    """Some usage of one resource in one family, ready to price (quantity in the line's unit)."""

    region: str
    family: str
    instance_type: str | None
    resource: str
    resource_type: str
    quantity: float
    free: float = 0.0
    day: str = ""
    open: bool = False  # its ledger row still accrues
    size: float | None = None  # the ledger row's instances or GB
    started: datetime | None = None


def unit_of(family: str) -> str:
    if family in STORAGE_FAMILIES:
        return "GB-months"
    return "requests" if family.startswith("s3_requests") else "instance-hours"


def _days(start: datetime, end: datetime, split: bool) -> Iterator[tuple[str, datetime, datetime]]:
    """`[start, end)` cut at UTC midnights when `split`."""
    while start < end:
        midnight = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
        stop = min(end, midnight) if split else end
        yield start.strftime("%Y-%m-%d"), start, stop
        start = stop


def _usage_pieces(
    rows: list[BillingUsage], since: datetime, until: datetime, split: bool, free: FreeTier | None
) -> Iterator[Piece]:
    for row in rows:
        end = min(row.ended_at or until, until)
        label = f"{row.resource_type}/{row.resource_name}" + (f" [{row.variant}]" if row.variant else "")
        for day, a, b in _days(max(row.started_at, since), end, split):
            hours = (b - a).total_seconds() / 3600
            if row.family in STORAGE_FAMILIES:
                qty, gratis = row.quantity * hours / HOURS_PER_MONTH, 0.0
            else:
                qty = row.quantity * hours
                gratis = free.free_hours(row, (a, b)) if free else 0.0
            yield Piece(
                row.region,
                row.family,
                row.instance_type,
                label,
                row.resource_type,
                qty,
                gratis,
                day,
                open=row.ended_at is None,
                size=row.quantity,
                started=row.started_at,
            )


def _request_pieces(
    session: Session, since: datetime, until: datetime, filters: list[Any]
) -> Iterator[Piece]:
    query = select(BillingS3Requests).where(
        BillingS3Requests.day >= since.strftime("%Y-%m-%d"),
        BillingS3Requests.day <= until.strftime("%Y-%m-%d"),
    )
    for row in session.scalars(query.where(*[f(BillingS3Requests) for f in filters])):
        family = f"s3_requests_{row.kind}"
        yield Piece(row.region, family, None, f"bucket/{row.bucket}", "bucket", float(row.count), day=row.day)


def _storage_pieces(
    session: Session, since: datetime, until: datetime, split: bool, filters: list[Any]
) -> Iterator[Piece]:
    query = select(BillingS3Storage).order_by(BillingS3Storage.sampled_at, BillingS3Storage.id)
    series: dict[tuple[str, str, str], list[BillingS3Storage]] = defaultdict(list)
    for row in session.scalars(query.where(*[f(BillingS3Storage) for f in filters])):
        series[(row.account_id, row.region, row.bucket)].append(row)
    for (_, region, bucket), samples in series.items():
        for sample, following in zip(samples, [*samples[1:], None], strict=True):
            end = min(following.sampled_at if following else until, until)
            for day, a, b in _days(max(sample.sampled_at, since), end, split):
                gb_months = sample.bytes / GB * (b - a).total_seconds() / 3600 / HOURS_PER_MONTH
                if gb_months > 0:
                    yield Piece(region, "s3_storage", None, f"bucket/{bucket}", "bucket", gb_months, day=day)


def _price_dict(price: Price) -> dict[str, Any]:
    return {
        "usd": price.usd,
        "unit": price.unit,
        "basis": price.basis,
        "source": price.source,
        "as_of": price.as_of,
        "label": price.label(),
    }


def _line(key: tuple[Any, ...], by: str, pieces: list[Piece], prices: PriceTable) -> dict[str, Any]:
    first = pieces[0]
    quantity = sum(p.quantity for p in pieces)
    free = min(quantity, sum(p.free for p in pieces))
    price = prices.price_for(first.region, first.family, first.instance_type)
    line: dict[str, Any] = {by: key[0]} if by != "type" else {}
    line |= {
        "resource_type": first.resource_type if by == "resource" else None,
        "region": first.region,
        "family": first.family,
        "instance_type": first.instance_type,
        "quantity": quantity,
        "unit": unit_of(first.family),
        "free_quantity": free,
        "billable_quantity": quantity - free,
    }
    if by == "resource":  # what the resource holds now (or last held), and whether it still accrues
        latest = max(pieces, key=lambda p: p.started or datetime.min.replace(tzinfo=UTC))
        line["open"] = any(p.open for p in pieces)
        line["size"] = latest.size
        line["size_unit"] = (
            None if latest.size is None else ("GB" if first.family in STORAGE_FAMILIES else "instances")
        )
    if price is None:
        return line | {"rate": None, "usd": None, "priced": False, "note": NOT_PRICED, "price": None}
    per = 1000.0 if first.family.startswith("s3_requests") else 1.0
    note = "PROXY rate, not a found price" if price.is_proxy else ""
    return line | {
        "rate": price.usd,
        "usd": (quantity - free) / per * price.usd,
        "priced": True,
        "note": note,
        "price": _price_dict(price),
    }


def _pieces(
    session: Session,
    since: datetime,
    until: datetime,
    split: bool,
    account_id: str | None,
    region: str | None,
    free_terms: dict[str, Any] | None,
) -> list[Piece]:
    by_account: list[Any] = [lambda t: t.account_id == account_id] if account_id else []
    filters = by_account + ([lambda t: t.region == region] if region else [])
    overlapping = select(BillingUsage).where(
        BillingUsage.started_at < until, or_(BillingUsage.ended_at.is_(None), BillingUsage.ended_at > since)
    )
    rows = list(session.scalars(overlapping.where(*[f(BillingUsage) for f in filters])))
    free = None
    if free_terms:  # the allowance is account-wide and consumed by all usage, not just this window's
        everything = select(BillingUsage).where(*[f(BillingUsage) for f in by_account])
        free = FreeTier(session.scalars(everything), free_terms, until)
    pieces = list(_usage_pieces(rows, since, until, split, free))
    pieces += _request_pieces(session, since, until, filters)
    pieces += _storage_pieces(session, since, until, split, filters)
    return pieces


def build_report(
    session: Session,
    prices: PriceTable,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str = "type",
    account_id: str | None = None,
    region: str | None = None,
    free_tier: bool = False,
    budget: float | None = None,
) -> dict[str, Any]:
    """The report between `since` (default: the beginning) and `until` (default: now)."""
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    until = until or datetime.now(UTC)
    asked_since, since = since, since or datetime(1970, 1, 1, tzinfo=UTC)
    terms = prices.free_tier if free_tier else None
    groups: dict[tuple[Any, ...], list[Piece]] = defaultdict(list)
    for p in _pieces(session, since, until, by == "day", account_id, region, terms):
        head = {"resource": p.resource, "day": p.day, "type": None}[by]
        groups[(head, p.region, p.family, p.instance_type)].append(p)
    lines = [
        _line(key, by, pieces, prices) for key, pieces in sorted(groups.items(), key=lambda kv: _sort(kv[0]))
    ]
    lines = [line for line in lines if line["quantity"] > 0]
    used: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line["price"]:
            used.setdefault(line["price"]["label"] + line["price"]["source"], line["price"])
    total = sum(line["usd"] for line in lines if line["priced"])
    month = month_to_date(session, prices, until, account_id, free_tier) if budget is not None else None
    return {
        "since": asked_since.isoformat() if asked_since else None,
        "until": until.isoformat(),
        "by": by,
        "region": region,
        "free_tier": free_tier,
        "use_proxies": prices.use_proxies,
        "lines": lines,
        "total_usd": total,
        "not_priced": [
            {k: line[k] for k in ("region", "family", "instance_type", "quantity", "unit")}
            | ({by: line[by]} if by != "type" else {})
            for line in lines
            if not line["priced"]
        ],
        "prices_used": list(used.values()),
        "not_found": prices.not_found,
        "not_metered": NOT_METERED,
        "budget": budget,
        "month_to_date_usd": month,
        "over_budget": budget is not None and month is not None and month > budget,
    }


def _sort(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if k is None else str(k) for k in key)


def month_to_date(
    session: Session,
    prices: PriceTable,
    now: datetime,
    account_id: str | None = None,
    free_tier: bool = False,
) -> float:
    """The estimated spend of the current UTC calendar month (what a budget is compared with)."""
    terms = prices.free_tier if free_tier else None
    pieces = _pieces(session, month_start(now), now, False, account_id, None, terms)
    total = 0.0
    for p in pieces:
        price = prices.price_for(p.region, p.family, p.instance_type)
        if price is not None:
            per = 1000.0 if p.family.startswith("s3_requests") else 1.0
            total += (p.quantity - min(p.free, p.quantity)) / per * price.usd
    return total
