"""``python -m sagelocal.algorithms.xgboost train [--workspace DIR] [--version V | --image URI]``.

The workspace defaults to ``$SAGELOCAL_WORKSPACE`` or ``/opt/ml``; the image version to
``$SAGELOCAL_XGBOOST_VERSION``, else the tag of ``$SAGELOCAL_IMAGE_URI``, else 1.7-1.
Exit 0 on success; 1 with ``output/failure`` on failure; 2 on bad command-line usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def _import_xgboost_fast() -> None:
    """Import xgboost without its optional scikit-learn glue (≈1.7 s of imports the algorithm never uses)."""
    blocked = "sklearn" not in sys.modules
    if blocked:
        sys.modules["sklearn"] = None  # type: ignore[assignment]  # makes `import sklearn` fail fast
    try:
        import xgboost  # noqa: F401
    finally:
        if blocked:
            del sys.modules["sklearn"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagelocal.algorithms.xgboost")
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--version", default=None, help="image version: 1.7-1, 3.0-5, ... or 1 (legacy)")
    parser.add_argument("--image", default=None, help="image URI to take the version from")
    args = parser.parse_args(argv)
    workspace = args.workspace or Path(os.environ.get("SAGELOCAL_WORKSPACE", "/opt/ml"))
    from .hyperparameters import version_from_image

    version = args.version or os.environ.get("SAGELOCAL_XGBOOST_VERSION")
    image = args.image or os.environ.get("SAGELOCAL_IMAGE_URI")
    if not version and image:
        version = version_from_image(image)
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="[%(asctime)s:%(levelname)s] %(message)s",
        datefmt="%Y-%m-%d:%H:%M:%S",
    )  # fmt: skip
    # OpenMP threads that spin while waiting stall badly when jobs share cores (a 0.1 s bank-data run took
    # 1-9 s under load); passive waiting keeps it at 0.1 s.  Read by libgomp at load, so set before import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _import_xgboost_fast()
    from .train import main as train_main

    return train_main(workspace.resolve(), version)


if __name__ == "__main__":
    sys.exit(main())
