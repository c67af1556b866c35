"""Which algorithm a training image URI selects, as the command that runs it in a workspace.

Recognised images (any region's ECR host, including aws-cn):

- ``sagemaker-xgboost:<version>[-cpu-py3]`` (0.90-1 ... 3.x): the built-in XGBoost algorithm,
  or **script mode** (framework mode) when the hyperparameters carry ``sagemaker_program``;
- ``xgboost:1`` / ``xgboost:latest`` (legacy): the built-in XGBoost algorithm only;
- ``sagemaker-scikit-learn:<version>-cpu-py3`` (0.20.0, 0.23-1, 1.0-1, 1.2-1, 1.4-2, ...):
  script mode only (it needs ``sagemaker_program``).

Script mode runs the user's entry point with the platform's own Python (its xgboost,
scikit-learn, pandas and numpy, not the versions the image would pin). Any other image, and a
scikit-learn image without an entry point, raises `UnknownImage`: the job fails with a
``ClientError`` naming the image.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

# Any region's ECR host (aws, aws-cn, ...): <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>
_ECR = r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/"
_XGBOOST = re.compile(_ECR + r"sagemaker-xgboost:([0-9][0-9.]*-[0-9]+)(?:-cpu-py3)?$")
_LEGACY_XGBOOST = re.compile(_ECR + r"xgboost:(1|latest)$")
_SKLEARN = re.compile(_ECR + r"sagemaker-scikit-learn:([0-9][0-9.]*(?:-[0-9]+)?)-cpu-py3$")
OVERRIDE_ENV = "SAGELOCAL_ALGORITHM_OVERRIDE"
PROGRAM_HP = "sagemaker_program"


class UnknownImage(Exception):
    """The image names no algorithm sagelocal implements; the message says why (ClientError)."""


@dataclass(frozen=True)
class Algorithm:
    """The argv (run with `--workspace DIR` appended) and extra environment of an algorithm.
    `framework` ("xgboost" | "sklearn") marks script mode: the runner runs the user's entry
    point instead of `argv`."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    framework: str | None = None


def supported_images() -> str:
    """A human summary of the recognised images, for error messages."""
    return (
        "the built-in XGBoost images (<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-xgboost:"
        "<version>, and the legacy xgboost:1 / xgboost:latest), and in script mode (with a "
        "sagemaker_program hyperparameter) sagemaker-xgboost:<version> and "
        "sagemaker-scikit-learn:<version>-cpu-py3"
    )


def resolve(image: str, hyperparameters: Mapping[str, str] | None = None) -> Algorithm:
    """The algorithm for `image` given the job's hyperparameters; raises UnknownImage.
    `$SAGELOCAL_ALGORITHM_OVERRIDE` (a command line, for tests) replaces the built-in
    algorithm's command for every recognised image (not script mode)."""
    script = PROGRAM_HP in (hyperparameters or {})
    sklearn = _SKLEARN.match(image)
    if sklearn is not None:
        if not script:
            raise UnknownImage(
                f"The training image {image} is a scikit-learn framework image: sagelocal runs it "
                "in script mode only, which needs the sagemaker_program hyperparameter naming the "
                "entry point (the SDK's SKLearn estimator with entry_point sets it)."
            )
        env = {"SAGELOCAL_FRAMEWORK_VERSION": sklearn.group(1), "SAGELOCAL_IMAGE_URI": image}
        return Algorithm([], env, framework="sklearn")
    xgb = _XGBOOST.match(image)
    if xgb is not None and script:
        env = {"SAGELOCAL_FRAMEWORK_VERSION": xgb.group(1), "SAGELOCAL_IMAGE_URI": image}
        return Algorithm([], env, framework="xgboost")
    match = xgb or _LEGACY_XGBOOST.match(image)
    if match is None:
        raise UnknownImage(
            f"The training image {image} is not recognised by sagelocal. Supported: {supported_images()}."
        )
    version = match.group(1)
    env = {"SAGELOCAL_XGBOOST_VERSION": version, "SAGELOCAL_IMAGE_URI": image}
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        return Algorithm([*shlex.split(override)], env)
    return Algorithm([sys.executable, "-m", "sagelocal.algorithms.xgboost", "train"], env)


@dataclass(frozen=True)
class Server:
    """How an endpoint replica serves a model's image: the environment `sagelocal.serving`
    reads (its mode, and the framework or XGBoost version the image pins)."""

    env: dict[str, str]


def resolve_serving(image: str, environment: Mapping[str, str] | None = None) -> Server:
    """The model server for an inference image and its container environment; raises
    UnknownImage. Framework images serve in script mode when `SAGEMAKER_PROGRAM` is set."""
    script = bool((environment or {}).get("SAGEMAKER_PROGRAM"))
    sklearn = _SKLEARN.match(image)
    if sklearn is not None:
        if not script:
            raise UnknownImage(
                f"The image {image} is a scikit-learn framework image: sagelocal serves it in script "
                "mode only, which needs SAGEMAKER_PROGRAM in the container environment naming the "
                "inference script (the SDK's SKLearnModel with entry_point sets it)."
            )
        return Server({"SAGELOCAL_SERVING_MODE": "script", "SAGELOCAL_SERVING_FRAMEWORK": "sklearn"})
    xgb = _XGBOOST.match(image)
    if xgb is not None and script:
        return Server({"SAGELOCAL_SERVING_MODE": "script", "SAGELOCAL_SERVING_FRAMEWORK": "xgboost"})
    match = xgb or _LEGACY_XGBOOST.match(image)
    if match is None:
        raise UnknownImage(
            f"The image {image} is not recognised by sagelocal. Supported: {supported_images()}."
        )
    return Server({"SAGELOCAL_SERVING_MODE": "xgboost", "SAGELOCAL_XGBOOST_VERSION": match.group(1)})
