"""The tutorial's data and settings, shared by the training, deploy and transform tests: the
bank-marketing CSV shipped in the package, the tutorial's hyperparameters, and a SageMaker trust policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sagelocal

BANK_CSV = Path(sagelocal.__file__).parent / "data" / "bank-marketing" / "bank-additional.csv"  # shipped
TUTORIAL: dict[str, Any] = {
    "max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6, "subsample": 0.8,
    "objective": "binary:logistic", "num_round": 100,
}  # fmt: skip
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
