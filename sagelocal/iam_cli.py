"""`sagelocal iam explain`: why a principal may or may not perform an action on a resource."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def _context(pairs: list[str]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--context takes KEY=VALUE, not {pair!r}")
        current = out.get(key)
        out[key] = (
            value if current is None else [*([current] if isinstance(current, str) else current), value]
        )
    return out


def cmd_explain(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Any]) -> int:
    from rich.console import Console

    from sagelocal.home import initialise
    from sagelocal.services.iam.explain import UnknownPrincipal, explain
    from sagelocal.store.db import Database

    settings = settings_of(args)
    db = Database(settings.resolved_database_url())
    console = Console()
    try:
        initialise(settings, db)
        with db.read() as session:
            result = explain(session, args.principal, args.action, args.resource, _context(args.context))
    except UnknownPrincipal as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    finally:
        db.dispose()
    decision = result.decision
    verdict = {"allow": "[green]ALLOWED[/green]", "explicit_deny": "[red]DENIED (explicit deny)[/red]"}
    console.print(verdict.get(decision.kind, "[red]DENIED (no policy allows it)[/red]"), highlight=False)
    console.print(result.message, highlight=False, soft_wrap=True)
    if decision.statements:
        console.print("Deciding statements:")
        for ref in decision.statements:
            console.print(f"  {ref.effect:5} {ref.label} in {ref.source}", highlight=False)
    console.print("Policies considered: " + (", ".join(result.policies) or "none"), highlight=False)
    return 0 if decision.allowed else 1


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    iam = sub.add_parser("iam", help="IAM tools").add_subparsers(dest="iam_command", required=True)
    p = iam.add_parser(
        "explain", help="say which statement allows or denies an action (exit 0 allowed, 1 denied)"
    )
    common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    p.add_argument("--principal", required=True, help="a user, role or assumed-role session ARN")
    p.add_argument("--action", required=True, help="e.g. s3:GetObject")
    p.add_argument("--resource", default="*", help="e.g. arn:aws:s3:::my-bucket/key (default *)")
    p.add_argument(
        "--context", action="append", default=[], metavar="KEY=VALUE", help="a condition key (repeatable)"
    )
    p.set_defaults(func=lambda a: cmd_explain(a, settings_of))
