"""`sagelocal cleanup`: list every resource with whether, why and at what rate it is billed, and
delete the billed ones (`--all`: every one) in dependency order. A dry run unless `--yes`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sagelocal.billing.cleanup import HOURS_PER_MONTH, Item, Rates, all_regions, hourly_total, inventory, plan
from sagelocal.billing.cleanup_steps import DONE, GONE, Outcome, StopRequest, execute

NOTHING = "Nothing billable remains."


def money(usd: float) -> str:
    """An hourly amount, with the digits a tiny one (a few objects' storage) needs."""
    return "0" if usd == 0 else f"{usd:.4f}" if usd >= 0.01 else f"{usd:.2g}"


def _usd(item: Item) -> str:
    return "not priced" if item.rate.usd is None else money(item.rate.usd)


def _table(items: list[Item], chosen: list[Item], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for header in ("Kind", "Name", "Region", "State", "Billed", "Why", "USD/h", "Rate", "Action"):
        wrap = header in ("Why", "Rate")
        table.add_column(header, no_wrap=not wrap, justify="right" if header == "USD/h" else "left")
    picked = {id(i) for i in chosen}
    for i in items:
        action = i.action if id(i) in picked else "keep (free; --all deletes it)"
        billed = "yes" if i.billed else "no"
        table.add_row(i.kind, i.name, i.region, i.state, billed, i.why, _usd(i), i.rate.note, action)
    return table


def _total_line(items: list[Item]) -> str:
    usd, unpriced = hourly_total(items)
    billed = sum(1 for i in items if i.billed)
    line = f"Being spent now: ${money(usd)}/h across {billed} billed resource{'s' * (billed != 1)}"
    return line + (f" ({unpriced} not priced, not included)." if unpriced else ".")


def _summary(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    return ", ".join(f"{n} {result}" for result, n in counts.items()) or "nothing done"


def cmd_cleanup(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Any]) -> int:
    from rich.console import Console

    from sagelocal.clients import NoServer, from_settings

    settings = settings_of(args)
    try:
        clients = from_settings(settings)
    except NoServer as exc:
        print(f"sagelocal: {exc}", file=sys.stderr)
        return 2
    regions = all_regions(clients) if args.all_regions else [args.region or clients.region]
    console = Console(stderr=args.json, highlight=False)
    say: Callable[[str], None] = lambda text: console.print(text, markup=False)  # noqa: E731

    rates = Rates.load()
    items = inventory(clients, regions, rates)
    chosen = plan(items, everything=args.all)
    report: dict[str, Any] = {"regions": regions, "dry_run": not args.yes, "all": args.all}
    report |= {"items": [i.to_json() for i in items], "plan": [i.to_json() for i in chosen]}
    report["usd_per_hour"], report["not_priced"] = hourly_total(items)
    report["prices"] = rates.used
    where = ", ".join(regions) if len(regions) < 4 else f"{len(regions)} regions"
    if not args.json and items:
        console.print(_table(items, chosen, f"Resources in {where}"))
        console.print(_total_line(items))
        for key, label in sorted(rates.used.items()):
            say(f"  {key}: {label}")
        if rates.used:
            say(f"  (USD on-demand; a GB-month is {HOURS_PER_MONTH:g} hours)")
    if not chosen:
        report["message"] = NOTHING if not args.all else f"{NOTHING} Nothing else to delete either."
        say(report["message"])
        return _emit(report, args, 0)
    if not args.yes:
        billed = sum(1 for i in chosen if i.billed)
        report["message"] = (
            f"Dry run: nothing was changed. With --yes this deletes {len(chosen)} resource"
            f"{'s' * (len(chosen) != 1)} ({billed} billed), in the order listed."
        )
        say(report["message"])
        return _emit(report, args, 0)

    again = "Run `sagelocal cleanup --yes" + " --all" * args.all + "` again to finish."
    try:
        with StopRequest(say) as stop:
            outcomes = execute(clients, chosen, say, stop)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        say(f"Interrupted during a step. {again}")
        return 130
    report["outcomes"] = [o.to_json() for o in outcomes]
    say(f"Clean-up: {_summary(outcomes)}.")
    remaining = [i for i in inventory(clients, regions, rates) if i.billed or args.all]
    report["remaining"] = [i.to_json() for i in remaining]
    if remaining:
        say("Still there: " + ", ".join(f"{i.kind} {i.name} ({i.why})" for i in remaining))
        say(again)
    else:
        say(NOTHING)
    code = 0 if all(o.result in (DONE, GONE) for o in outcomes) and not remaining else 1
    if stop.signum is not None:
        code = 128 + int(stop.signum)
    return _emit(report, args, code)


def _emit(report: dict[str, Any], args: argparse.Namespace, code: int) -> int:
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return code


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    p = sub.add_parser(
        "cleanup",
        help="list what is billed and why; delete it (dry run unless --yes)",
        description=__doc__,
    )
    common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    p.add_argument("--yes", action="store_true", help="act: delete (default: a dry run that changes nothing)")
    p.add_argument(
        "--all", action="store_true", help="also the free resources (models, configs, repositories, roles)"
    )
    p.add_argument("--all-regions", action="store_true", help="every region, not only --region's")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.set_defaults(func=lambda a: cmd_cleanup(a, settings_of))
