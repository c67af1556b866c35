"""`sagelocal cost`: what the platform's work would have cost on AWS.

    sagelocal cost [--since ISO|7d|12h] [--by resource|type|day] [--free-tier] [--region R]
                   [--prices FILE] [--use-proxies] [--budget USD] [--json]

It reads the home's database directly (the server need not run; S3 requests a running server
counted in the last few seconds may not be flushed yet). The server answers the same report as
JSON at `GET /_sagelocal/cost?since=...&by=...` (`report_from_query`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sagelocal.billing.prices import NOT_PRICED, PriceTable

RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
STEP = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """`7d`, `12h`, `30m`, `2w` before now, or an ISO date/time (UTC unless it says otherwise)."""
    if not text:
        return None
    now = now or datetime.now(UTC)
    match = RELATIVE.match(text.strip())
    if match:
        return now - timedelta(**{STEP[match.group(2)]: float(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since must be an ISO date/time or like 7d, 12h, 30m; not {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def report_from_query(db: Any, monitor: Any, query: dict[str, str]) -> dict[str, Any]:
    """The server's `/_sagelocal/cost` answer (S3 counts flushed and storage sampled first)."""
    from sagelocal.billing.report import build_report

    if monitor is not None:
        monitor.refresh()
    use_proxies = _flag(query.get("use_proxies"))
    prices = (
        PriceTable.load(use_proxies=True)
        if use_proxies
        else (monitor.prices if monitor else PriceTable.load())
    )
    with db.read() as session:
        return build_report(
            session,
            prices,
            since=parse_since(query.get("since")),
            by=query.get("by") or "type",
            region=query.get("region") or None,
            free_tier=_flag(query.get("free_tier")),
            budget=getattr(monitor, "budget_usd", None),
        )


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def _since(report: dict[str, Any]) -> str:
    return "from the start of metering" if report["since"] is None else f"from {report['since'][:19]}"


def render_text(report: dict[str, Any]) -> str:
    """The report as a table for a terminal."""
    by = report["by"]
    out = [
        f"Estimated AWS on-demand cost, {_since(report)} to {report['until'][:19]} UTC, by {by}"
        + (f", region {report['region']}" if report["region"] else "")
        + (", free tier applied" if report["free_tier"] else "")
        + (", PROXY rates allowed" if report["use_proxies"] else ""),
        "",
    ]
    head = {"resource": "RESOURCE", "day": "DAY", "type": None}[by]
    cols = ([head] if head else []) + ["REGION", "FAMILY", "INSTANCE TYPE", "QUANTITY", "FREE", "RATE", "USD"]
    rows = []
    for line in report["lines"]:
        rate = f"${line['rate']:g}/{line['price']['unit']}" if line["priced"] else ""
        usd = _money(line["usd"]) if line["priced"] else NOT_PRICED
        if line["note"] and line["priced"]:
            usd += f"  ({line['note']})"
        cells = [line[by]] if head else []
        cells += [line["region"], line["family"], line["instance_type"] or "-"]
        cells += [f"{line['quantity']:.4f} {line['unit']}", f"{line['free_quantity']:.4f}", rate, usd]
        rows.append([str(c) for c in cells])
    widths = [max(len(c) for c in col) for col in zip(cols, *rows, strict=False)]
    for cells in [cols, *rows]:
        out.append("  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False)) + "  " + cells[-1])
    if not rows:
        out.append("(no metered usage in this period)")
    unpriced = len(report["not_priced"])
    out += ["", f"Total: {_money(report['total_usd'])} (priced lines only; {unpriced} line(s) not priced)"]
    if report["prices_used"]:
        out.append("Prices used:")
        out += [f"  {p['label']} - {p['source']}" for p in report["prices_used"]]
    if unpriced:
        out.append("Not priced (no published figure found):")
        out += [
            f"  {n['region']} {n['family']} {n['instance_type'] or ''} {n['quantity']:.4f} {n['unit']}"
            for n in report["not_priced"]
        ]
    return "\n".join(out)


def budget_line(report: dict[str, Any]) -> str | None:
    if not report["over_budget"]:
        return None
    from sagelocal.billing.monitor import budget_warning

    return "WARNING: " + budget_warning(report["month_to_date_usd"], report["budget"])


def cmd_cost(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Any]) -> int:
    from sqlalchemy.exc import OperationalError

    from sagelocal.billing.report import build_report
    from sagelocal.billing.s3meter import sample_storage
    from sagelocal.store.db import Database

    settings = settings_of(args)
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"sagelocal cost: no sagelocal database at {url} (wrong --home?)", file=sys.stderr)
        return 2
    try:
        since = parse_since(args.since)
        prices = PriceTable.load(use_proxies=args.use_proxies)
        if args.prices:
            prices = PriceTable.load(Path(args.prices), use_proxies=args.use_proxies).overlay(prices)
    except (ValueError, OSError) as exc:
        print(f"sagelocal cost: {exc}", file=sys.stderr)
        return 2
    budget = args.budget if args.budget is not None else settings.budget_usd
    db = Database(url)
    try:
        db.migrate()
        with db.write() as session:
            sample_storage(session, datetime.now(UTC))
        with db.read() as session:
            report = build_report(
                session,
                prices,
                since=since,
                by=args.by,
                region=args.region,
                free_tier=args.free_tier,
                budget=budget,
            )
    except OperationalError as exc:
        print(f"sagelocal cost: cannot read the database {url}: {exc.orig}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(json.dumps(report, indent=1) if args.json else render_text(report))
    warning = budget_line(report)
    if warning:
        print(warning, file=sys.stderr)
    return 0


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    p = sub.add_parser("cost", help="what this platform's work would have cost on AWS")
    common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    p.add_argument("--since", default=None, help="ISO date/time, or 7d / 12h / 30m ago (default: everything)")
    p.add_argument(
        "--by", choices=("resource", "type", "day"), default="type", help="group lines (default type)"
    )
    p.add_argument("--free-tier", action="store_true", help="apply SageMaker's first-two-months free tier")
    p.add_argument(
        "--prices", default=None, help="your own price file (JSON like the shipped one, or an AWS offer CSV)"
    )
    p.add_argument(
        "--use-proxies", action="store_true", help="price notebook instances at Studio rates (labelled PROXY)"
    )
    p.add_argument(
        "--budget", type=float, default=None, help="monthly USD budget (default $SAGELOCAL_BUDGET_USD)"
    )
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(func=lambda a: cmd_cost(a, settings_of))
