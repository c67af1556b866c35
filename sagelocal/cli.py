"""The `sagelocal` command: server, env, smoke, iam explain, notebook run."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from sagelocal import __version__
from sagelocal.settings import (
    COMPUTE_BACKENDS,
    DEFAULT_PORT,
    DEFAULT_REGION,
    ComputeSettings,
    Settings,
    budget_from_env,
    default_home,
    enforcement_from_env,
)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        home=Path(args.home).expanduser().resolve() if args.home else default_home(),
        host=getattr(args, "host", "127.0.0.1"),
        port=args.port if args.port is not None else DEFAULT_PORT,
        region=args.region or os.environ.get("SAGELOCAL_REGION") or DEFAULT_REGION,
        database_url=getattr(args, "database_url", None),
        iam_enforcement=(
            args.iam_enforcement == "on" if getattr(args, "iam_enforcement", None) else enforcement_from_env()
        ),
        budget_usd=budget if (budget := getattr(args, "budget", None)) is not None else budget_from_env(),
        compute=_compute(args),
    )


def _compute(args: argparse.Namespace) -> ComputeSettings:
    """The server's flags over `$SAGELOCAL_COMPUTE`, `$SAGELOCAL_DASK_SCHEDULER`, `$SAGELOCAL_DASK_WORKER_MEMORY`."""
    env = ComputeSettings()
    return ComputeSettings(
        backend=getattr(args, "compute", None) or env.backend,
        dask_scheduler=getattr(args, "dask_scheduler", None) or env.dask_scheduler,
        dask_worker_memory=getattr(args, "dask_worker_memory", None) or env.dask_worker_memory,
    )


def cmd_server(args: argparse.Namespace) -> int:
    import uvicorn

    from sagelocal.app import create_app, open_platform
    from sagelocal.home import HomeInUse, write_server_record

    settings = _settings(args)
    try:
        platform = open_platform(settings)
    except HomeInUse as exc:
        print(f"sagelocal: {exc}", file=sys.stderr)
        return 1
    write_server_record(settings)
    print(
        f"sagelocal {__version__} on {settings.endpoint_url} (home {settings.home}, "
        f"region {settings.region}, account {platform.home.account_id})",
        flush=True,
    )
    if platform.home.admin_console_password:
        print(
            f"Console sign-in for account {platform.home.account_id}: user admin, password "
            f"{platform.home.admin_console_password}\n(shown this once and stored nowhere in clear; "
            "change it with `aws iam update-login-profile --user-name admin --password ...`)",
            flush=True,
        )
    uvicorn.run(
        create_app(platform),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="on",
    )
    return 0


def env_lines(settings: Settings, *, profile: bool = False) -> list[str]:
    """Shell lines that point unchanged AWS clients at the server."""
    from sagelocal.home import initialise, read_server_record
    from sagelocal.store.db import Database

    record = read_server_record(settings.home) or {}
    port = int(record.get("port", settings.port))  # type: ignore[call-overload]
    region = str(record.get("region", settings.region))
    settings = replace(settings, host=str(record.get("host", settings.host)), port=port, region=region)
    # Only the home's facts are needed: no providers, so no start-up recovery runs beside a live server.
    db = Database(settings.resolved_database_url())
    try:
        home = initialise(settings, db)
    finally:
        db.dispose()
    values = {
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # IMDS does not exist here; don't let clients wait for it.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if profile:
        values |= {
            "AWS_CONFIG_FILE": str(home.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(home.credentials_file),
            "AWS_PROFILE": "sagelocal",
        }
        unset = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
    else:
        values |= {
            "AWS_ACCESS_KEY_ID": home.admin_access_key_id,
            "AWS_SECRET_ACCESS_KEY": home.admin_secret_access_key,
        }
        unset = ["AWS_SESSION_TOKEN", "AWS_PROFILE"]
    lines = [f"export {k}={shlex.quote(v)}" for k, v in values.items()]
    lines.append("unset " + " ".join(unset))
    return lines


def cmd_env(args: argparse.Namespace) -> int:
    print("\n".join(env_lines(_settings(args), profile=args.profile)))
    return 0


def cmd_smoke(args: argparse.Namespace) -> int:
    from sagelocal.smoke import run_smoke

    home = Path(args.home).expanduser().resolve() if args.home else None
    return run_smoke(home, args.region or DEFAULT_REGION)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", help="platform home (default $SAGELOCAL_HOME or ~/.sagelocal)")
    p.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--region", default=None, help=f"default region (default {DEFAULT_REGION})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sagelocal", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sagelocal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("server", help="run the platform in the foreground")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default SQLite in the home)")
    p.add_argument("--log-level", default="info")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument(
        "--iam-enforcement",
        choices=("on", "off"),
        default=None,
        help="authorize requests with IAM policies (default $SAGELOCAL_IAM_ENFORCEMENT, else on)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="warn past this monthly USD estimate (default $SAGELOCAL_BUDGET_USD)",
    )
    p.add_argument(
        "--compute",
        choices=COMPUTE_BACKENDS,
        default=None,
        help="where training jobs run: local worker pool, or Dask workers algo-1..N (default $SAGELOCAL_COMPUTE, else local)",
    )
    p.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="tcp://HOST:8786",
        help="train on this existing Dask cluster (implies --compute dask); without it, dask starts a LocalCluster per job",
    )
    p.add_argument(
        "--dask-worker-memory",
        default=None,
        metavar="SIZE",
        help="memory limit of each LocalCluster worker, e.g. 2GiB (default auto: machine memory / InstanceCount)",
    )
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("env", help="print export lines that point AWS clients at the server")
    _common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    p.add_argument("--profile", action="store_true", help="use the sagelocal profile files instead of keys")
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("smoke", help="start a server in a temporary home and drive it with boto3")
    _common(p)
    p.set_defaults(func=cmd_smoke)

    from sagelocal.iam_cli import add_parser as add_iam_parser

    add_iam_parser(sub, _common, _settings)
    from sagelocal.notebook_cli import add_parser as add_notebook_parser

    add_notebook_parser(sub, _common, _settings)
    from sagelocal.billing.cli import add_parser as add_cost_parser

    add_cost_parser(sub, _common, _settings)
    from sagelocal.billing.cleanup_cli import add_parser as add_cleanup_parser

    add_cleanup_parser(sub, _common, _settings)
    from sagelocal.evaluation.cli import add_parser as add_evaluate_parser

    add_evaluate_parser(sub, _common, _settings)
    from sagelocal.demo.cli import add_parser as add_demo_parser

    add_demo_parser(sub, _common, _settings)
    from sagelocal.docs_reference import add_parser as add_docs_reference_parser

    add_docs_reference_parser(sub, _common, _settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
