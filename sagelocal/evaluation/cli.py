"""`sagelocal evaluate`: score a labelled CSV with an endpoint (or its model through batch transform)
or a model artifact, print the summary and write the report to disk and, optionally, S3."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

AUTO_TRANSFORM_ROWS = 100_000  # above this, an endpoint's model is evaluated with batch transform


def _staging(args: argparse.Namespace, stamp: str) -> str:
    """The S3 prefix batch transform stages its input and output under."""
    from .data import S3Uri

    if args.s3_output:
        return str(S3Uri.parse(args.s3_output).join("batch-transform"))
    if args.data.startswith("s3://"):
        return str(S3Uri(S3Uri.parse(args.data).bucket, f"sagelocal-evaluation/{stamp}"))
    raise ValueError("batch transform stages its data in S3: give --s3-output s3://bucket/prefix")


def cmd_evaluate(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Any]) -> int:
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.console import Console

    from sagelocal.clients import NoServer, from_settings

    from . import api
    from .data import is_s3, load_labelled_csv
    from .report import write_report
    from .summary import summary_table

    console = Console()
    stamp = time.strftime("%Y%m%d-%H%M%S")

    @cache
    def clients() -> Any:
        return from_settings(settings_of(args))

    @cache
    def s3() -> Any:
        return clients().client("s3")

    if args.model_artifact and args.batch_transform:
        print("sagelocal evaluate: --batch-transform applies to --endpoint", file=sys.stderr)
        return 2
    try:
        needs_s3 = is_s3(args.data) or is_s3(args.model_artifact or "") or bool(args.s3_output)
        s3_client = s3() if needs_s3 else None
        features, labels = load_labelled_csv(args.data, args.label_column, args.header, s3_client)
        if args.model_artifact:
            evaluation = api.evaluate_model_artifact(
                args.model_artifact, features, labels, args.threshold, s3_client=s3_client
            )
        elif args.batch_transform or len(features) > AUTO_TRANSFORM_ROWS:
            evaluation = api.evaluate_transform(
                clients().client("sagemaker"),
                s3(),
                args.endpoint,
                features,
                labels,
                _staging(args, stamp),
                args.threshold,
            )
        else:
            evaluation = api.evaluate_endpoint(
                clients().client("sagemaker-runtime"),
                args.endpoint,
                features,
                labels,
                args.threshold,
                args.batch_rows,
            )
        out_dir = Path(args.output or f"evaluation-{stamp}")
        files = write_report(
            evaluation, out_dir, s3_client=s3_client, s3_uri=args.s3_output, title=args.title
        )
    except (ClientError, BotoCoreError, NoServer, ValueError, RuntimeError, OSError) as exc:
        print(f"sagelocal evaluate: {exc}", file=sys.stderr)
        return 1
    console.print(summary_table(evaluation))
    console.print(
        f"Report written to {files.directory.resolve()}: metrics.json, roc.png, pr.png, report.html",
        soft_wrap=True,
        highlight=False,
    )
    if files.s3_uris:
        console.print(f"Uploaded to {args.s3_output.rstrip('/')}/", soft_wrap=True, highlight=False)
    return 0


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a binary classifier (endpoint or model artifact) on a labelled CSV",
        description=(
            "Score a labelled CSV with an endpoint, its model through batch transform, or a model.tar.gz; "
            "print the metrics and write metrics.json, roc.png, pr.png and report.html."
        ),
    )
    common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--endpoint", help="a real-time endpoint's name")
    source.add_argument("--model-artifact", help="a built-in XGBoost model.tar.gz (path or s3:// URI)")
    p.add_argument("--data", required=True, help="the labelled CSV (path or s3:// URI)")
    p.add_argument("--threshold", type=float, default=0.5, help="positive when score >= threshold (0.5)")
    p.add_argument(
        "--label-column", default="0", help="the label's 0-based column index, or name with --header (0)"
    )
    p.add_argument("--header", action="store_true", help="the CSV's first line is a header")
    p.add_argument("--output", default=None, help="report directory (default ./evaluation-<timestamp>)")
    p.add_argument("--s3-output", default=None, help="also upload the report under this s3:// prefix")
    p.add_argument(
        "--batch-transform",
        action="store_true",
        help=f"score with a transform job on the endpoint's model (automatic above {AUTO_TRANSFORM_ROWS} rows)",
    )
    p.add_argument("--batch-rows", type=int, default=500, help="rows per InvokeEndpoint request (500)")
    p.add_argument("--title", default="Model evaluation", help="the report's title")
    p.set_defaults(func=lambda a: cmd_evaluate(a, settings_of))
