"""The price table: on-demand USD rates with their basis, source and as-of date.

The shipped table (`sagelocal/data/pricing/prices.json`) holds only figures that were found
(primary: AWS's own published data; secondary: a third party quoting the AWS Price List). A
lookup with no figure answers None: callers report the usage as not priced, never guess.
Substitutes ("proxies": Studio-notebook rates standing in for notebook-instance rates) are kept
apart and used only when the table is loaded with `use_proxies=True`; their `basis` is "proxy".

A user's own table loads with `PriceTable.load(path)`: a JSON file in the shipped format, or an
AWS Price List offer CSV (see `offer_csv.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

HOURS_PER_MONTH = 730.0  # AWS's convention for turning a monthly rate into an hourly one
HOURLY_FAMILIES = ("notebook_instance", "training", "hosting", "transform")
STORAGE_FAMILIES = ("ml_storage", "s3_storage")
REQUEST_FAMILIES = {"put": "s3_requests_put", "get": "s3_requests_get"}
NOT_PRICED = "not priced (no published figure found)"


@dataclass(frozen=True)
class Price:
    """One rate: `usd` per `unit` ("hour" per instance, "GB-month", "1,000 requests")."""

    usd: float
    unit: str
    basis: str  # primary | secondary | proxy
    source: str
    as_of: str | None
    usage_type: str | None = None

    @property
    def is_proxy(self) -> bool:
        return self.basis == "proxy"

    def label(self) -> str:
        """How a report names the figure it used."""
        text = f"${self.usd:g} per {self.unit} ({self.basis}, as of {self.as_of or 'unknown'})"
        return "PROXY, not a found price: " + text if self.is_proxy else text


class Usage(Protocol):
    """What `rate_per_hour` needs of a usage record (`meter.OpenUsage` has it)."""

    region: str
    family: str
    instance_type: str | None
    quantity: float


Key = tuple[str, str, str | None]  # (region, family, instance_type)


class PriceTable:
    """Rates keyed by (region, family, instance_type); instance_type is None for storage/requests."""

    def __init__(
        self, prices: dict[Key, Price], proxies: dict[Key, Price] | None = None, *, use_proxies: bool = False
    ) -> None:
        self.prices = prices
        self.proxies = proxies or {}
        self.use_proxies = use_proxies
        self.free_tier: dict[str, Any] = {}
        self.not_found: list[str] = []

    @classmethod
    def load(cls, path: Path | None = None, *, use_proxies: bool = False) -> PriceTable:
        """The shipped table, or the file at `path` (JSON in the shipped format, or an AWS Price
        List offer CSV)."""
        if path is not None and Path(path).suffix.lower() == ".csv":
            from sagelocal.billing.offer_csv import load_offer_csv

            return cls(load_offer_csv(Path(path)), use_proxies=use_proxies)
        if path is None:
            text = resources.files("sagelocal").joinpath("data/pricing/prices.json").read_text()
        else:
            text = Path(path).read_text()
        return cls.from_json(json.loads(text), use_proxies=use_proxies)

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, use_proxies: bool = False) -> PriceTable:
        table = cls(
            _entries(doc.get("prices", [])), _entries(doc.get("proxies", [])), use_proxies=use_proxies
        )
        table.free_tier = dict(doc.get("free_tier") or {})
        table.not_found = list(doc.get("not_found") or [])
        return table

    def overlay(self, fallback: PriceTable) -> PriceTable:
        """This table's figures, and `fallback`'s where this one has none."""
        merged = PriceTable(
            fallback.prices | self.prices, fallback.proxies | self.proxies, use_proxies=self.use_proxies
        )
        merged.free_tier = self.free_tier or fallback.free_tier
        merged.not_found = self.not_found or fallback.not_found
        return merged

    def _get(self, key: Key) -> Price | None:
        found = self.prices.get(key)
        if found is None and self.use_proxies:
            found = self.proxies.get(key)
        return found

    def hourly(self, region: str, family: str, instance_type: str | None) -> Price | None:
        """USD per instance-hour of `instance_type` for `family` (notebook_instance, training,
        hosting, transform) in `region`; None when no figure was found."""
        if instance_type is None:
            return None
        return self._get((region, family, instance_type))

    def storage_gb_month(self, region: str, family: str) -> Price | None:
        """USD per GB-month of `family` ("ml_storage" or "s3_storage") in `region`."""
        return self._get((region, family, None))

    def s3_requests(self, region: str, kind: str) -> Price | None:
        """USD per 1,000 S3 Standard requests of `kind` ("put": PUT/COPY/POST/LIST; "get": GET
        and all other requests) in `region`."""
        return self._get((region, REQUEST_FAMILIES[kind], None))

    def price_for(self, region: str, family: str, instance_type: str | None) -> Price | None:
        """The rate of any metered family."""
        if family in HOURLY_FAMILIES:
            return self.hourly(region, family, instance_type)
        if family in STORAGE_FAMILIES:
            return self.storage_gb_month(region, family)
        for kind, name in REQUEST_FAMILIES.items():
            if family == name:
                return self.s3_requests(region, kind)
        return None

    def rate_per_hour(self, usage: Usage) -> float | None:
        """What `usage` costs per hour as it stands: instance rate x instance count, or the
        storage rate per GB-month / 730 x GB. None when there is no figure."""
        if usage.family in HOURLY_FAMILIES:
            price = self.hourly(usage.region, usage.family, usage.instance_type)
            return None if price is None else price.usd * usage.quantity
        if usage.family in STORAGE_FAMILIES:
            price = self.storage_gb_month(usage.region, usage.family)
            return None if price is None else price.usd / HOURS_PER_MONTH * usage.quantity
        return None


def _entries(rows: list[dict[str, Any]]) -> dict[Key, Price]:
    """Index a file's rows; the first figure for a key wins (files list the preferred first)."""
    out: dict[Key, Price] = {}
    for row in rows:
        if row.get("usd") is None:
            continue  # a figure that was not found is not a price
        key = (str(row["region"]), str(row["family"]), row.get("instance_type"))
        out.setdefault(
            key,
            Price(
                usd=float(row["usd"]),
                unit=str(row.get("unit", "hour")),
                basis=str(row.get("basis", "user")),
                source=str(row.get("source", "user-supplied price file")),
                as_of=row.get("as_of"),
                usage_type=row.get("usage_type"),
            ),
        )
    return out
