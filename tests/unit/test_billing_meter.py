"""The meter against hand-computed costs: a scripted timeline written into a real SQLite
database through the meter's own hooks, priced with the shipped price table in both regions.

Timeline (t0 = 2026-03-02 22:00 UTC), in each region:
  notebook `nb` (20 GB volume): created and InService at t0, stopped at t0+2 h, deleted at t0+5 h
  training job: 2 instances, started t0+1 h, finished 90 s later
  endpoint: 2 instances of ml.m5.xlarge, created t0+1 h, deleted t0+1.5 h
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sagelocal.billing import meter
from sagelocal.billing.prices import NOT_PRICED, PriceTable
from sagelocal.billing.report import build_report
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import Endpoint
from sagelocal.store.models.notebooks import NotebookInstance
from sagelocal.store.models.sagemaker import TrainingJob

ACCOUNT = "123456789012"
T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)
TRAINING_TYPE = {"us-east-1": "ml.m5.xlarge", "ap-northeast-1": "ml.g6.xlarge"}  # priced in each


def arn(region: str, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name}"


def named(cls: type, region: str, kind: str, name: str, **fields: Any) -> Any:
    return cls(account_id=ACCOUNT, region=region, name=name, arn=arn(region, kind, name), **fields)


def step(db: Database, row: Any, at: datetime, gone: bool = False, **changes: Any) -> None:
    """One persisted transition: change the resource, record it at `at`."""
    for key, value in changes.items():
        setattr(row, key, value)
    with db.write() as session:
        meter.record(session, row, gone=gone, at=at)


def script(db: Database, region: str) -> None:
    nb = named(
        NotebookInstance,
        region,
        "notebook-instance",
        "nb",
        status="Pending",
        request={"InstanceType": "ml.t3.medium", "VolumeSizeInGB": 20},
    )
    step(db, nb, T0)
    step(db, nb, T0, status="InService")
    step(db, nb, T0 + 2 * H, status="Stopping")
    step(db, nb, T0 + 2 * H, status="Stopped")
    step(db, nb, T0 + 5 * H, status="Deleting")
    step(db, nb, T0 + 5 * H, gone=True)

    resources = {"InstanceType": TRAINING_TYPE[region], "InstanceCount": 2, "VolumeSizeInGB": 30}
    job = named(
        TrainingJob, region, "training-job", "job", status="InProgress", request={"ResourceConfig": resources}
    )
    step(db, job, T0 + H, training_start_time=T0 + H)
    end = T0 + H + timedelta(seconds=90)
    step(db, job, end, status="Completed", training_end_time=end)

    plan = {"variants": [{"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge", "InstanceCount": 2}]}
    ep = named(Endpoint, region, "endpoint", "ep", status="Creating", pending=plan, deployment=None)
    step(db, ep, T0 + H)
    step(db, ep, T0 + H + timedelta(seconds=40), status="InService", deployment=plan, pending=None)
    step(db, ep, T0 + 1.5 * H, status="Deleting")
    step(db, ep, T0 + 1.5 * H, gone=True)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'billing.db'}")
    database.migrate()
    for region in TRAINING_TYPE:
        script(database, region)
    return database


def report(db: Database, prices: PriceTable | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("until", T0 + 10 * H)
    with db.read() as session:
        return build_report(session, prices or PriceTable.load(), **kwargs)


def by_family(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["family"]: line for line in rep["lines"]}


STORAGE_GB_MONTHS = 20 * 5 / 730  # 20 GB for 5 h (2 InService + 3 stopped), 730 h a month


def test_timeline_in_us_east_1(db: Database) -> None:
    rep = report(db, region="us-east-1")
    lines = by_family(rep)
    assert lines["notebook_instance"]["quantity"] == pytest.approx(2.0)
    assert lines["notebook_instance"]["usd"] == pytest.approx(2 * 0.05)
    assert lines["ml_storage"]["quantity"] == pytest.approx(STORAGE_GB_MONTHS)
    assert lines["ml_storage"]["usd"] == pytest.approx(STORAGE_GB_MONTHS * 0.14)
    assert lines["training"]["quantity"] == pytest.approx(2 * 90 / 3600)
    assert lines["training"]["usd"] == pytest.approx(2 * 90 / 3600 * 0.23)
    assert lines["hosting"]["quantity"] == pytest.approx(2 * 0.5)
    assert lines["hosting"]["usd"] == pytest.approx(1.0 * 0.23)
    expected = 0.10 + STORAGE_GB_MONTHS * 0.14 + 0.0115 + 0.23
    assert rep["total_usd"] == pytest.approx(expected)
    assert rep["not_priced"] == []
    assert {p["basis"] for p in rep["prices_used"]} == {"secondary"}
    assert all(p["as_of"] and p["source"] for p in rep["prices_used"])


def test_timeline_in_ap_northeast_1_prices_only_what_was_found(db: Database) -> None:
    rep = report(db, region="ap-northeast-1")
    lines = by_family(rep)
    assert lines["training"]["instance_type"] == "ml.g6.xlarge"
    assert lines["training"]["usd"] == pytest.approx(2 * 90 / 3600 * 1.634)
    assert rep["total_usd"] == pytest.approx(0.0817)
    for family, quantity in (("notebook_instance", 2.0), ("ml_storage", STORAGE_GB_MONTHS), ("hosting", 1.0)):
        assert lines[family]["usd"] is None and lines[family]["note"] == NOT_PRICED
        assert lines[family]["quantity"] == pytest.approx(quantity)
    assert {(n["family"], n["instance_type"]) for n in rep["not_priced"]} == {
        ("notebook_instance", "ml.t3.medium"),
        ("ml_storage", None),
        ("hosting", "ml.m5.xlarge"),
    }


def test_proxies_only_on_request_and_labelled(db: Database) -> None:
    rep = report(db, PriceTable.load(use_proxies=True), region="ap-northeast-1")
    notebook = by_family(rep)["notebook_instance"]
    assert notebook["usd"] == pytest.approx(2 * 0.065)
    assert notebook["price"]["basis"] == "proxy" and "PROXY" in notebook["note"]
    assert "PROXY" in notebook["price"]["label"]
    assert rep["total_usd"] == pytest.approx(0.0817 + 0.13)
    assert by_family(rep)["hosting"]["usd"] is None  # no proxy for hosting either


def test_free_tier_covers_the_eligible_hours(db: Database) -> None:
    us = report(db, region="us-east-1", free_tier=True)
    lines = by_family(us)
    assert lines["notebook_instance"]["free_quantity"] == pytest.approx(2.0)
    assert lines["training"]["free_quantity"] == pytest.approx(0.05)
    assert lines["hosting"]["free_quantity"] == pytest.approx(1.0)
    assert us["total_usd"] == pytest.approx(STORAGE_GB_MONTHS * 0.14)  # storage is never free
    tokyo = report(db, region="ap-northeast-1", free_tier=True)
    assert tokyo["total_usd"] == pytest.approx(0.0817)  # ml.g6.xlarge training has no allowance


def test_free_tier_allowance_runs_out_and_ends_after_two_months(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ft.db'}")
    db.migrate()
    plan = {"variants": [{"VariantName": "v", "InstanceType": "ml.m5.xlarge", "InstanceCount": 2}]}
    ep = named(Endpoint, "us-east-1", "endpoint", "big", status="InService", deployment=plan, pending=None)
    step(db, ep, T0)  # March: 100 h x 2 instances = 200 instance-hours, 125 free
    step(db, ep, T0 + 100 * H, gone=True)
    late = named(Endpoint, "us-east-1", "endpoint", "late", status="InService", deployment=plan, pending=None)
    may = datetime(2026, 5, 10, tzinfo=UTC)  # third month: nothing free
    step(db, late, may)
    step(db, late, may + 10 * H, gone=True)
    rep = report(db, free_tier=True, by="resource", until=may + 20 * H)
    lines = {line["resource"]: line for line in rep["lines"]}
    assert lines["endpoint/big [v]"]["free_quantity"] == pytest.approx(125)
    assert lines["endpoint/big [v]"]["usd"] == pytest.approx(75 * 0.23)
    assert lines["endpoint/late [v]"]["free_quantity"] == 0
    assert rep["total_usd"] == pytest.approx((75 + 20) * 0.23)


def test_by_day_splits_at_utc_midnight(db: Database) -> None:
    rep = report(db, region="us-east-1", by="day")
    lines = {(line["day"], line["family"]): line["quantity"] for line in rep["lines"]}
    assert lines[("2026-03-02", "notebook_instance")] == pytest.approx(2.0)
    assert lines[("2026-03-02", "ml_storage")] == pytest.approx(20 * 2 / 730)
    assert lines[("2026-03-03", "ml_storage")] == pytest.approx(20 * 3 / 730)
    assert lines[("2026-03-02", "hosting")] == pytest.approx(1.0)  # 23:00-23:30
    assert rep["total_usd"] == pytest.approx(report(db, region="us-east-1")["total_usd"])


def test_since_clips_and_by_resource_names_resources(db: Database) -> None:
    rep = report(db, region="us-east-1", by="resource", since=T0 + H)
    lines = {(line["resource"], line["family"]): line for line in rep["lines"]}
    assert lines[("notebook-instance/nb", "notebook_instance")]["quantity"] == pytest.approx(1.0)
    assert lines[("notebook-instance/nb [volume]", "ml_storage")]["quantity"] == pytest.approx(20 * 4 / 730)
    assert lines[("endpoint/ep [AllTraffic]", "hosting")]["resource_type"] == "endpoint"
    assert not any(line["open"] for line in rep["lines"])  # all deleted


def test_updates_close_and_reopen_and_open_usage_has_rates(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'u.db'}")
    db.migrate()
    two = {"variants": [{"VariantName": "v", "InstanceType": "ml.m5.large", "InstanceCount": 2}]}
    three = {"variants": [{"VariantName": "v", "InstanceType": "ml.m5.large", "InstanceCount": 3}]}
    ep = named(Endpoint, "us-east-1", "endpoint", "e", status="InService", deployment=two, pending=None)
    step(db, ep, T0)
    step(db, ep, T0 + H, status="Updating")  # still serving the old plan: nothing changes
    step(db, ep, T0 + 2 * H, status="InService", deployment=three)
    with db.read() as session:
        usage = meter.open_usage(session, ACCOUNT)
    assert [(u.quantity, u.started_at) for u in usage] == [(3.0, T0 + 2 * H)]
    assert PriceTable.load().rate_per_hour(usage[0]) == pytest.approx(3 * 0.115)
    rep = report(db, until=T0 + 4 * H, by="resource")
    (line,) = rep["lines"]
    assert line["quantity"] == pytest.approx(2 * 2 + 3 * 2)
    assert (line["open"], line["size"], line["size_unit"]) == (True, 3.0, "instances")
    step(db, ep, T0 + 4 * H, status="Failed")
    with db.read() as session:
        assert meter.open_usage(session) == []


def test_budget_compares_the_month_to_date(db: Database) -> None:
    with db.read() as session:
        over = build_report(session, PriceTable.load(), until=T0 + 10 * H, budget=0.1)
        under = build_report(session, PriceTable.load(), until=T0 + 10 * H, budget=100)
    assert over["over_budget"] and not under["over_budget"]
    assert over["month_to_date_usd"] == pytest.approx(over["total_usd"])
