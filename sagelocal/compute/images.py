"""Which algorithm a training image URI selects, as the command that runs it in a workspace."""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field

# Any region's ECR host (aws, aws-cn, ...): <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>
_ECR = r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/"
_XGBOOST = re.compile(_ECR + r"sagemaker-xgboost:([0-9][0-9.]*-[0-9]+)(?:-cpu-py3)?$")
_LEGACY_XGBOOST = re.compile(_ECR + r"xgboost:(1|latest)$")
OVERRIDE_ENV = "SAGELOCAL_ALGORITHM_OVERRIDE"


class UnknownImage(Exception):
    """The image names no algorithm sagelocal implements."""


@dataclass(frozen=True)
class Algorithm:
    """The argv (run with `--workspace DIR` appended) and extra environment of an algorithm."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def resolve(image: str) -> Algorithm:
    """The algorithm for `image`; raises UnknownImage. `$SAGELOCAL_ALGORITHM_OVERRIDE` (a command
    line, for tests) replaces the built-in algorithm's command for every recognised image."""
    match = _XGBOOST.match(image) or _LEGACY_XGBOOST.match(image)
    if match is None:
        raise UnknownImage(image)
    version = match.group(1)
    env = {"SAGELOCAL_XGBOOST_VERSION": version, "SAGELOCAL_IMAGE_URI": image}
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        return Algorithm([*shlex.split(override)], env)
    return Algorithm([sys.executable, "-m", "sagelocal.algorithms.xgboost", "train"], env)
