"""Read an AWS Price List offer file (CSV) into price-table entries.

An offer CSV (e.g. `.../offers/v1.0/aws/AmazonSageMaker/current/ap-northeast-1/index.csv`) opens
with five metadata lines (FormatVersion, Disclaimer, Publication Date, Version, OfferCode), then a
header row and one row per SKU and term. We keep OnDemand USD rows whose `usageType` we meter:

    APN1-Notebk:ml.t3.medium       notebook_instance  (Hrs)
    APN1-Train:ml.m5.xlarge        training           (Hrs)
    APN1-Host:ml.m5.xlarge         hosting            (Hrs)
    APN1-Tsform:ml.m5.xlarge       transform          (Hrs)
    APN1-Notebk:VolumeUsage.gp2    ml_storage         (GB-Mo)
    APN1-TimedStorage-ByteHrs      s3_storage         (GB-Mo, first tier)
    APN1-Requests-Tier1 / -Tier2   s3_requests_put / s3_requests_get (per request; stored per 1,000)

The region is the `Region Code` column when present, else the usage type's prefix.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sagelocal.billing.prices import Key, Price

PREFIXES = {
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "APN3": "ap-northeast-3",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "EUC1": "eu-central-1",
    "EU": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "CAN1": "ca-central-1",
}
SAGEMAKER_KINDS = {
    "Notebk": "notebook_instance",
    "Train": "training",
    "Host": "hosting",
    "Tsform": "transform",
}
USAGE = re.compile(r"^(?:(?P<prefix>[A-Z]{2,4}\d?)-)?(?P<what>.+)$")
META_LINES = 5


def _family(what: str) -> tuple[str, str | None, float] | None:
    """(family, instance type, multiplier to our unit) of a usage type without its prefix."""
    kind, _, rest = what.partition(":")
    if kind in SAGEMAKER_KINDS and rest.startswith("ml."):
        return SAGEMAKER_KINDS[kind], rest, 1.0
    if kind in ("Notebk", "Host") and rest.startswith("VolumeUsage"):
        return "ml_storage", None, 1.0
    if what == "TimedStorage-ByteHrs":
        return "s3_storage", None, 1.0
    if what == "Requests-Tier1":
        return "s3_requests_put", None, 1000.0
    if what == "Requests-Tier2":
        return "s3_requests_get", None, 1000.0
    return None


UNITS = {"notebook_instance": "hour", "training": "hour", "hosting": "hour", "transform": "hour"}


def load_offer_csv(path: Path) -> dict[Key, Price]:
    """The metered figures of one offer CSV, each sourced to the file and its publication date."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        meta_rows = [next(csv.reader([fh.readline()]), []) for _ in range(META_LINES)]
        meta = {row[0]: row[1] for row in meta_rows if len(row) >= 2}
        reader = csv.DictReader(fh)
        published = meta.get("Publication Date")
        source = f"AWS Price List offer file {path.name} (OfferCode {meta.get('OfferCode', '?')}, version {meta.get('Version', '?')})"
        out: dict[Key, Price] = {}
        for raw in reader:
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            if row.get("termtype") != "OnDemand" or row.get("currency", "USD") != "USD":
                continue
            match = USAGE.match(row.get("usagetype", ""))
            parsed = _family(match.group("what")) if match else None
            if match is None or parsed is None:
                continue
            if row.get("startingrange") not in (None, "", "0"):
                continue  # tiered prices: the first tier only
            region = row.get("region code") or PREFIXES.get(match.group("prefix") or "")
            if not region:
                continue
            family, instance_type, multiplier = parsed
            try:
                usd = float(row["priceperunit"]) * multiplier
            except (KeyError, ValueError):
                continue
            unit = UNITS.get(family, "1,000 requests" if multiplier != 1.0 else "GB-month")
            key = (region, family, instance_type)
            price = Price(usd, unit, "primary", source, published, row.get("usagetype"))
            if key not in out or (family == "ml_storage" and "Notebk:" in (price.usage_type or "")):
                out[key] = price  # notebook volumes are what the meter prices as ml_storage
    return out
