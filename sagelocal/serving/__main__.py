"""``python -m sagelocal.serving --model-dir DIR --port PORT [--host 127.0.0.1] [--code-dir DIR]``.

Loads the model eagerly (a failure is kept and reported by ``/ping``), binds the port, logs
``Listening at: http://HOST:PORT``, and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the container sets it, before xgboost loads OpenMP

log = logging.getLogger("sagelocal.serving")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sagelocal.serving", description="Run one endpoint replica's model server."
    )
    parser.add_argument(
        "--model-dir", type=Path, required=True, help="the unpacked model (like /opt/ml/model)"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--code-dir", type=Path, default=None, help="script mode: where SAGEMAKER_PROGRAM lives"
    )
    return parser.parse_args(argv)


def build_app(model_dir: Path, code_dir: Path | None = None):  # type: ignore[no-untyped-def]
    """The ASGI app for the environment's serving mode, the model already loaded (or its failure kept)."""
    from .app import ServingApp
    from .config import ServingConfig
    from .watchdog import Watchdog

    config = ServingConfig.from_env()
    params = None
    if config.mode == "script":
        from .script import ScriptHandler

        handler = ScriptHandler(model_dir, code_dir, config)
    else:
        from .xgboost import import_xgboost_lean

        import_xgboost_lean()
        from .xgboost.handler import XGBoostHandler

        handler = XGBoostHandler(model_dir, config)
        params = json.dumps(
            {
                "MaxConcurrentTransforms": os.cpu_count() or 1,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": int(config.max_content_length / 1024**2),
            }
        ).encode()
    return ServingApp(handler, config.max_content_length, params, Watchdog(config.timeout))


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = _parse(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S %z",
    )
    log.info("Starting the model server (mode %s)", os.environ.get("SAGELOCAL_SERVING_MODE") or "xgboost")
    app = build_app(args.model_dir, args.code_dir)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=60,  # gunicorn's keepalive in the container
    )
    log.info("Listening at: http://%s:%d (%d)", args.host, args.port, os.getpid())
    uvicorn.Server(config).run(sockets=[sock])
    log.info("Shutting down the model server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
