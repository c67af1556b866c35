"""`sagelocal notebook run NAME -- CMD...`: run a command inside a notebook instance, as a terminal
in its JupyterLab would (same working directory, variables and role credentials as its kernels).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from typing import Any


def cmd_run(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Any]) -> int:
    from sqlalchemy import select

    from sagelocal.services.sagemaker.notebook_env import layout_for, read_environment
    from sagelocal.store.db import Database
    from sagelocal.store.models.notebooks import NotebookInstance

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        raise SystemExit("usage: sagelocal notebook run NAME -- CMD [ARGS...]")
    settings = settings_of(args)
    db = Database(settings.resolved_database_url())
    try:
        with db.read() as session:
            row = session.scalar(
                select(NotebookInstance).where(
                    NotebookInstance.region == settings.region,
                    NotebookInstance.name_lower == args.name.lower(),
                )
            )
            found = None if row is None else (row.uid, row.status)
    finally:
        db.dispose()
    if found is None:
        print(f"There is no notebook instance {args.name} in {settings.region}.", file=sys.stderr)
        return 2
    uid, status = found
    if status != "InService":
        print(f"Notebook instance {args.name} is {status}, not InService.", file=sys.stderr)
        return 2
    layout = layout_for(settings.home, uid)
    env = read_environment(layout)
    try:
        return subprocess.call(command, cwd=layout.volume, env=env)
    except FileNotFoundError:
        print(f"{command[0]}: command not found", file=sys.stderr)
        return 127


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None], settings_of: Callable[..., Any]
) -> None:
    notebook = sub.add_parser("notebook", help="notebook instance tools")
    commands = notebook.add_subparsers(dest="notebook_command", required=True)
    p = commands.add_parser(
        "run", help="run a command inside a notebook instance (exit status is the command's)"
    )
    common(p)
    p.add_argument(
        "--database-url", default=None, help="the server's SQLAlchemy URL, if not SQLite in the home"
    )
    p.add_argument("name", help="the notebook instance's name")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    p.set_defaults(func=lambda a: cmd_run(a, settings_of))
