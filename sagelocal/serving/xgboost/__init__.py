"""The built-in XGBoost algorithm's inference server (contract §4): decode, model, predict, encode."""

from __future__ import annotations

import sys


def import_xgboost_lean() -> None:
    """Import xgboost without its optional scikit-learn integration.

    ``import xgboost`` imports scikit-learn when it is installed, which is most of a replica's start-up time
    (about 2 s of 2.5 s); the algorithm container only uses ``Booster``.  Script mode, where the user's code
    may need the scikit-learn wrappers, imports xgboost normally.
    """
    if "xgboost" in sys.modules or "sklearn" in sys.modules:
        return
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # makes `import sklearn` raise ImportError
    try:
        import xgboost  # noqa: F401
    finally:
        if sys.modules.get("sklearn", False) is None:
            del sys.modules["sklearn"]
