"""`sagelocal demo [--home DIR] [--keep] [--bucket NAME] [--output DIR]`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagelocal.settings import DEFAULT_REGION


def cmd_demo(args: argparse.Namespace) -> int:
    from sagelocal.demo.run import DemoOptions, run_demo

    options = DemoOptions(
        home=Path(args.home).expanduser().resolve() if args.home else None,
        region=args.region or DEFAULT_REGION,
        keep=args.keep,
        bucket=args.bucket,
        output=Path(args.output),
        tutorial=not args.skip_notebook,
    )
    return run_demo(options)


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole workflow: role, notebook instance, data, training, endpoint, evaluation, "
        "cost, clean-up",
    )
    p.add_argument(
        "--home", help="use the server running on this home, or start one in it (default: a temporary home)"
    )
    p.add_argument("--region", default=None, help=f"region (default {DEFAULT_REGION})")
    p.add_argument("--keep", action="store_true", help="leave every resource for you to explore")
    p.add_argument("--bucket", default=None, help="bucket to use (default sagemaker-<region>-<account>)")
    p.add_argument(
        "--output",
        default="sagelocal-demo",
        help="where the evaluation report is copied (default ./sagelocal-demo)",
    )
    p.add_argument(
        "--skip-notebook",
        action="store_true",
        help="don't also run the tutorial notebook (examples/bank-marketing-xgboost.ipynb) in the instance",
    )
    p.set_defaults(func=cmd_demo)
