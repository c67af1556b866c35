"""The SageMaker SDK v3 lives in its own venv (v2 and v3 cannot share one): `bench/.venv-sdk3`,
made by hand with `python3 -m venv bench/.venv-sdk3 && bench/.venv-sdk3/bin/pip install
sagemaker==3.27.0`. Tests that drive v3 run only where it exists."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

SDK3_PYTHON = Path(__file__).resolve().parents[2] / "bench" / ".venv-sdk3" / "bin" / "python"


@cache
def sdk3_available() -> bool:
    if not SDK3_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(SDK3_PYTHON), "-c", "import sagemaker.train.model_trainer"], capture_output=True
    )
    return probe.returncode == 0
