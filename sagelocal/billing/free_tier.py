"""SageMaker's free tier: monthly instance-hour allowances in the first two months.

From the price table's `free_tier` (AWS pricing page): per month, for the first 2 months
starting with the month (UTC, calendar) of the account's first SageMaker resource, 250 h of
ml.t2/t3.medium notebook instances, 50 h of ml.m4/m5.xlarge training, 125 h of ml.m4/m5.xlarge
real-time hosting; nothing for batch transform. The allowance is account-wide (all regions) and
granted to usage in order of its start; within one usage row the free part is its earliest
stretch (all its instances together).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sagelocal.store.models.billing import BillingUsage

SAGEMAKER_FAMILIES = ("notebook_instance", "training", "hosting", "transform", "ml_storage")
Interval = tuple[datetime, datetime]


def month_start(when: datetime, add: int = 0) -> datetime:
    index = when.year * 12 + when.month - 1 + add
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def overlap(a: Interval, b: Interval) -> float:
    """Hours two intervals share."""
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return max(0.0, (end - start).total_seconds() / 3600)


class FreeTier:
    """The free wall-clock stretches of each ledger row (`free_hours` prices them)."""

    def __init__(self, rows: Iterable[BillingUsage], terms: dict[str, Any], now: datetime) -> None:
        self.allowances: list[dict[str, Any]] = list(terms.get("monthly_hours", []))
        self.months = int(terms.get("months", 2))
        self.free: dict[int, list[Interval]] = defaultdict(list)
        rows = list(rows)
        by_account: dict[str, list[BillingUsage]] = defaultdict(list)
        for row in rows:
            if row.family in SAGEMAKER_FAMILIES:
                by_account[row.account_id].append(row)
        for account_rows in by_account.values():
            self._grant(account_rows, now)

    def _allowance(self, row: BillingUsage) -> int | None:
        for index, allowance in enumerate(self.allowances):
            if row.family == allowance["family"] and row.instance_type in allowance["instance_types"]:
                return index
        return None

    def _grant(self, rows: list[BillingUsage], now: datetime) -> None:
        first = min(r.started_at for r in rows)
        months = [month_start(first, i) for i in range(self.months)]
        segments = []
        for row in rows:
            index = self._allowance(row)
            if index is None or row.quantity <= 0:
                continue
            end = row.ended_at or now
            for month in months:
                start, stop = max(row.started_at, month), min(end, month_start(month, 1))
                if stop > start:
                    segments.append((start, stop, month, index, row))
        left: dict[tuple[datetime, int], float] = {}
        for start, stop, month, index, row in sorted(segments, key=lambda s: (s[0], s[4].id or 0)):
            remaining = left.setdefault((month, index), float(self.allowances[index]["hours"]))
            used = (stop - start).total_seconds() / 3600 * row.quantity
            take = min(remaining, used)
            if take <= 0:
                continue
            left[(month, index)] = remaining - take
            self.free[row.id].append((start, start + timedelta(hours=take / row.quantity)))

    def free_hours(self, row: BillingUsage, window: Interval) -> float:
        """Free instance-hours of `row` within `window`."""
        return sum(overlap(stretch, window) for stretch in self.free.get(row.id, [])) * row.quantity
