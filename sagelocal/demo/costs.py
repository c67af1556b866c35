"""The demo's cost step: what this run's resources would have cost on AWS, from the server's meter
(`GET /_sagelocal/cost`, the same report `sagelocal cost` prints)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from sagelocal.billing.prices import NOT_PRICED
from sagelocal.clients import ServerClients


def fetch_report(clients: ServerClients, since: float, by: str = "resource") -> dict[str, Any]:
    query = urllib.parse.urlencode(
        {"since": datetime.fromtimestamp(since, UTC).isoformat(), "by": by, "region": clients.region}
    )
    with urllib.request.urlopen(f"{clients.endpoint_url}/_sagelocal/cost?{query}", timeout=30) as answer:
        return dict(json.loads(answer.read()))


def _quantity(line: dict[str, Any]) -> str:
    amount, unit = line["quantity"], line["unit"]
    if unit == "instance-hours":
        return f"{amount * 3600:,.0f} instance-seconds"
    if unit == "GB-months":
        return f"{amount * 730:.4f} GB-hours"
    return f"{amount:,.0f} {unit}" if float(amount).is_integer() else f"{amount:.6f} {unit}"


def cost_table(report: dict[str, Any]) -> Table:
    """One row per metered resource and usage: its quantity and USD, or why it is not priced."""
    table = Table(title="What this run would have cost on AWS (on-demand)", show_header=True)
    for column, justify in (("resource", "left"), ("usage", "left"), ("quantity", "right"), ("USD", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for line in report["lines"]:
        usd = f"{line['usd']:.6f}" if line["priced"] else NOT_PRICED
        usage = " ".join(x for x in (line["family"], line["instance_type"]) if x)
        table.add_row(line["resource"].rstrip("/ ") or "(account)", usage, _quantity(line), usd)
    return table


def cost_lines(clients: ServerClients, since: float) -> list[Any]:
    """The table, the total, each price's basis and source, and what could not be priced."""
    report = fetch_report(clients, since)
    out: list[Any] = [cost_table(report)]
    unpriced = len(report["not_priced"])
    out.append(
        f"total ${report['total_usd']:.6f} for the priced lines"
        + (f"; {unpriced} not priced: AWS publishes no figure we could find for them" if unpriced else "")
    )
    sources = sorted(
        {f"{p['basis']}, as of {str(p['as_of'])[:10]}: {p['source']}" for p in report["prices_used"]}
    )
    out += [f"prices ({s})" for s in sources]
    if unpriced and clients.region == "ap-northeast-1":
        out.append(
            "SageMaker instance rates were found for us-east-1 only: try `sagelocal demo --region us-east-1`"
        )
    since_text = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    out.append(f"any time: sagelocal cost --since {since_text} --by resource")
    return out
