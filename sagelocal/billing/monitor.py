"""The server's billing chores on one background thread: flush S3 request counts (every
`FLUSH_EVERY` s), sample S3 storage (every `$SAGELOCAL_BILLING_SAMPLE_SECONDS`, default 600 s) and
compare this month's estimated spend with the budget (every `CHECK_EVERY` s), warning in the
server log once per month when it is passed. `close()` flushes and samples one last time."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sagelocal.billing.prices import PriceTable
from sagelocal.billing.report import month_to_date
from sagelocal.billing.s3meter import RequestCounter, sample_storage
from sagelocal.settings import seconds_from_env
from sagelocal.store.db import Database

log = logging.getLogger(__name__)
FLUSH_EVERY = 5.0
CHECK_EVERY = 60.0


def budget_warning(spent: float, budget: float) -> str:
    return (
        f"estimated AWS spend this month, ${spent:,.4f}, has passed the budget of ${budget:,.2f} "
        "(SAGELOCAL_BUDGET_USD / --budget); see `sagelocal cost`"
    )


class BillingMonitor:
    """Keeps the S3 part of the ledger current and watches the budget."""

    def __init__(self, db: Database, counter: RequestCounter | None, budget_usd: float | None) -> None:
        self.db = db
        self.counter = counter
        self.budget_usd = budget_usd
        self.sample_every = seconds_from_env("SAGELOCAL_BILLING_SAMPLE_SECONDS", 600)
        self._prices: PriceTable | None = None
        self._warned_month: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            self._prices = PriceTable.load()
        return self._prices

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sagelocal-billing", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_sample = last_check = float("-inf")
        while not self._stop.wait(FLUSH_EVERY):
            now = time.monotonic()
            try:
                self.flush()
                if now - last_sample >= self.sample_every:
                    self.sample()
                    last_sample = now
                if self.budget_usd is not None and now - last_check >= CHECK_EVERY:
                    self.check_budget()
                    last_check = now
            except Exception:
                log.exception("billing: metering S3 or checking the budget")

    def flush(self) -> None:
        """Write the S3 request counts gathered since the last flush."""
        if self.counter is not None:
            with self.db.write() as session:
                self.counter.flush(session)

    def sample(self) -> None:
        """Record every bucket whose size changed."""
        with self.db.write() as session:
            sample_storage(session, datetime.now(UTC))

    def refresh(self) -> None:
        """Bring the S3 ledger up to date (before a report)."""
        self.flush()
        self.sample()

    def check_budget(self) -> bool:
        """Log a warning (once a month) when this month's estimate passes the budget."""
        if self.budget_usd is None:
            return False
        now = datetime.now(UTC)
        with self.db.read() as session:
            spent = month_to_date(session, self.prices, now)
        if spent <= self.budget_usd:
            return False
        month = now.strftime("%Y-%m")
        if self._warned_month != month:
            self._warned_month = month
            log.warning("sagelocal: %s", budget_warning(spent, self.budget_usd))
        return True

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.refresh()
        except Exception:
            log.exception("billing: final flush")
