"""The price table: the shipped file, user files (JSON and AWS offer CSV), and the CLI's inputs."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sagelocal.billing.cli import add_parser, parse_since, render_text
from sagelocal.billing.prices import HOURLY_FAMILIES, Price, PriceTable
from sagelocal.settings import Settings
from sagelocal.store.db import Database

FAMILIES = {
    *HOURLY_FAMILIES,
    "studio_notebook",
    "ml_storage",
    "s3_storage",
    "s3_requests_put",
    "s3_requests_get",
}


def test_shipped_table_is_sourced_and_has_no_invented_figures() -> None:
    doc = json.loads(
        (Path(__file__).parents[2] / "sagelocal" / "data" / "pricing" / "prices.json").read_text()
    )
    for row in doc["prices"]:
        assert row["family"] in FAMILIES
        assert row["basis"] in ("primary", "secondary"), row
        assert row["usd"] > 0 and row["source"] and row["as_of"], row
    assert all(row["basis"] == "proxy" for row in doc["proxies"])
    table = PriceTable.load()
    assert table.hourly("us-east-1", "notebook_instance", "ml.t3.medium") == Price(
        0.05,
        "hour",
        "secondary",
        table.prices[("us-east-1", "notebook_instance", "ml.t3.medium")].source,
        "2026-09-24",
        "USE1-Notebk:ml.t3.medium",
    )
    assert table.hourly("ap-northeast-1", "notebook_instance", "ml.t3.medium") is None  # not found
    assert table.hourly("us-east-1", "transform", "ml.m5.xlarge") is None  # not found anywhere
    assert table.storage_gb_month("ap-northeast-1", "ml_storage") is None
    assert table.storage_gb_month("ap-northeast-1", "s3_storage").usd == 0.025  # type: ignore[union-attr]
    assert table.s3_requests("us-east-1", "put").usd == 0.005  # type: ignore[union-attr]
    assert table.s3_requests("us-east-1", "get").basis == "primary"  # type: ignore[union-attr]
    proxied = PriceTable.load(use_proxies=True).hourly("ap-northeast-1", "notebook_instance", "ml.t3.medium")
    assert proxied is not None and proxied.usd == 0.065 and proxied.is_proxy


OFFER_CSV = """"FormatVersion","v1.0"
"Disclaimer","This pricing list is for informational purposes only."
"Publication Date","2026-09-24T23:59:00Z"
"Version","20260924235900"
"OfferCode","AmazonSageMaker"
"SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency","Product Family","serviceCode","Location","usageType","operation","Region Code"
"AAA","JRTCKXETXF","AAA.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.0611 per Notebook ml.t3.medium","2026-09-01","","","Hrs","0.0611000000","USD","ML Instance","AmazonSageMaker","Asia Pacific (Tokyo)","APN1-Notebk:ml.t3.medium","RunInstance:0001","ap-northeast-1"
"BBB","JRTCKXETXF","BBB.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.2980 per Hosting ml.m5.xlarge","2026-09-01","","","Hrs","0.2980000000","USD","ML Instance","AmazonSageMaker","Asia Pacific (Tokyo)","APN1-Host:ml.m5.xlarge","RunInstance:0002",""
"CCC","JRTCKXETXF","CCC.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.298 per Tsform","2026-09-01","","","Hrs","0.2980000000","USD","ML Instance","AmazonSageMaker","Asia Pacific (Tokyo)","APN1-Tsform:ml.m5.xlarge","RunInstance:0003","ap-northeast-1"
"DDD","JRTCKXETXF","DDD.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.168 per GB-Mo","2026-09-01","","","GB-Mo","0.1680000000","USD","Storage","AmazonSageMaker","Asia Pacific (Tokyo)","APN1-Notebk:VolumeUsage.gp2","","ap-northeast-1"
"EEE","4NA7Y494T4","EEE.4NA7Y494T4.6YS6EN2CT7","Reserved","savings","2026-09-01","","","Hrs","0.2000000000","USD","ML Instance","AmazonSageMaker","Asia Pacific (Tokyo)","APN1-Train:ml.m5.xlarge","","ap-northeast-1"
"FFF","JRTCKXETXF","FFF.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.25 per Train","2026-09-01","","","Hrs","0.2500000000","USD","ML Instance","AmazonSageMaker","US East (N. Virginia)","USE1-Train:ml.m5.xlarge","",""
"""


def test_offer_csv_loads_on_demand_rows_by_usage_type(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text(OFFER_CSV)
    table = PriceTable.load(path)
    notebook = table.hourly("ap-northeast-1", "notebook_instance", "ml.t3.medium")
    assert notebook is not None and notebook.usd == pytest.approx(0.0611)
    assert notebook.basis == "primary" and notebook.as_of == "2026-09-24T23:59:00Z"
    assert "index.csv" in notebook.source and notebook.usage_type == "APN1-Notebk:ml.t3.medium"
    assert table.hourly("ap-northeast-1", "hosting", "ml.m5.xlarge").usd == 0.298  # type: ignore[union-attr]
    assert table.hourly("ap-northeast-1", "transform", "ml.m5.xlarge") is not None
    assert table.storage_gb_month("ap-northeast-1", "ml_storage").usd == 0.168  # type: ignore[union-attr]
    assert table.hourly("ap-northeast-1", "training", "ml.m5.xlarge") is None  # Reserved only
    assert table.hourly("us-east-1", "training", "ml.m5.xlarge").usd == 0.25  # type: ignore[union-attr]
    merged = table.overlay(PriceTable.load())
    assert merged.hourly("us-east-1", "hosting", "ml.m5.large").usd == 0.115  # type: ignore[union-attr]
    assert merged.hourly("us-east-1", "training", "ml.m5.xlarge").usd == 0.25  # type: ignore[union-attr]


def test_parse_since() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2026-03-01T09:00:00+09:00", now) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday", now)


def test_cost_command_on_an_empty_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--home")
        p.add_argument("--region")

    add_parser(sub, common, lambda a: Settings(home=tmp_path, database_url=a.database_url, budget_usd=None))
    missing = parser.parse_args(["cost", "--database-url", f"sqlite:///{tmp_path / 'nothing.db'}"])
    assert missing.func(missing) == 2
    assert "no sagelocal database" in capsys.readouterr().err
    Database(f"sqlite:///{tmp_path / 'c.db'}").migrate()
    args = parser.parse_args(
        ["cost", "--json", "--database-url", f"sqlite:///{tmp_path / 'c.db'}", "--budget", "5"]
    )
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["lines"] == [] and report["total_usd"] == 0 and report["budget"] == 5
    assert report["over_budget"] is False
    assert "no metered usage" in render_text(report)
