"""The tutorial's SageMaker SDK v2 flow, unchanged, against a real server, on the real bank-marketing data.

Issue 4's main Done-when: ``Estimator(image_uris.retrieve("xgboost", region, ...)).fit(..., logs=True)``
in a subprocess (the user's code, only ``import sagelocal.compat.sagemaker_sdk`` first) streams the log
and completes; the model.tar.gz in S3 loads with xgboost, and its AUC on the held-out 30% is within
0.01 of ``xgboost.train`` run directly with the same parameters and seed. Once with the 1.7-1 image and
once with the legacy ``xgboost:latest`` image the original tutorial uses (with ``silent=0``).

Data preparation follows the tutorial (sdk-call-traces.md §0): categoricals one-hot encoded with
``pandas.get_dummies``, ``y_yes`` (1/0) as the first column, no header, shuffled with
``random_state=1729`` and split 70/30. The tutorial fits on ``train`` only; the ``validation`` channel
here is the held-out 30% (without early stopping it only adds ``validation-*`` log lines and metrics;
the model is trained on the 70%).
"""

from __future__ import annotations

import io
import json
import pickle
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import AwsClients
from tests.integration.bank_support import TRUST, TUTORIAL
from tests.integration.role_support import sagemaker_role
from tests.integration.sdk_support import SDK3_PYTHON, sdk3_available

SDK_FIT = """
import json, sys
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

role, bucket, prefix, region, version, hyperparameters = sys.argv[1:7]
container = image_uris.retrieve("xgboost", region, version)
print("IMAGE", container)
xgb = Estimator(container, role, instance_count=1, instance_type="ml.m4.xlarge",
                output_path=f"s3://{bucket}/{prefix}/output")
xgb.set_hyperparameters(**json.loads(hyperparameters))
s3_input_train = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")
s3_input_validation = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/validation", content_type="csv")
xgb.fit({"train": s3_input_train, "validation": s3_input_validation}, logs=True)
print("MODEL", xgb.model_data)
"""


@pytest.fixture(scope="module")
def setup(aws: AwsClients, bank: tuple[Path, Path]) -> tuple[str, str]:
    iam, s3 = aws.client("iam"), aws.client("s3")
    role = sagemaker_role(iam, aws.client("sts").get_caller_identity()["Account"], "TutorialSdkRole")
    bucket = "tutorial-sdk"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    train, test = bank
    s3.upload_file(str(train), bucket, "sagemaker/DEMO-xgboost-dm/train/train.csv")
    s3.upload_file(str(test), bucket, "sagemaker/DEMO-xgboost-dm/validation/validation.csv")
    return role, bucket


def _load_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 0], data[:, 1:]


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _direct_auc(bank: tuple[Path, Path]) -> float:
    """``xgboost.train`` on the same files, same parameters, seed 0 (the container's default)."""
    import xgboost

    (y_train, x_train), (y_test, x_test) = _load_csv(bank[0]), _load_csv(bank[1])
    params = {k: v for k, v in TUTORIAL.items() if k != "num_round"} | {"seed": 0}
    booster = xgboost.train(
        params, xgboost.DMatrix(x_train, label=y_train), num_boost_round=TUTORIAL["num_round"]
    )
    return _auc(y_test, booster.predict(xgboost.DMatrix(x_test)))


@pytest.mark.parametrize(
    ("version", "extra", "repo", "metric"),
    [
        ("1.7-1", {}, "sagemaker-xgboost", "logloss"),
        # the tutorial's legacy image; XGBoost < 1.3 defaulted binary:logistic's eval metric to error
        ("latest", {"silent": 0}, "xgboost", "error"),
    ],
)
def test_sdk_v2_tutorial_fit_on_bank_data_matches_xgboost_train(
    aws: AwsClients,
    setup: tuple[str, str],
    bank: tuple[Path, Path],
    version: str,
    extra: dict[str, Any],
    repo: str,
    metric: str,
) -> None:
    role, bucket = setup
    prefix = "sagemaker/DEMO-xgboost-dm"
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    hps = json.dumps(TUTORIAL | extra)
    args = [sys.executable, "-c", SDK_FIT, role, bucket, prefix, aws.server.region, version, hps]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    out = proc.stdout
    image = out.split("IMAGE ", 1)[1].split()[0]
    assert re.fullmatch(rf"\d{{12}}\.dkr\.ecr\.{aws.server.region}\.amazonaws\.com/{repo}:{version}", image)

    # the log streamed through fit(logs=True): every round, with train and validation metrics
    rounds = re.findall(
        rf"\[(\d+)\]\s*(?:#011|\t)train-{metric}:[0-9.]+\s*(?:#011|\t)validation-{metric}:", out
    )
    assert [int(r) for r in rounds] == list(range(100)), out[-3000:]
    assert "Completed - Training job completed" in out and "Billable seconds:" in out

    model = out.split("MODEL ", 1)[1].split()[0]
    assert model.startswith(f"s3://{bucket}/{prefix}/output/{repo}-") and model.endswith(
        "/output/model.tar.gz"
    )
    job = model.split("/output/")[1].split("/")[0]
    desc = aws.client("sagemaker").describe_training_job(TrainingJobName=job)
    assert desc["TrainingJobStatus"] == "Completed" and desc["ModelArtifacts"]["S3ModelArtifacts"] == model
    assert desc["HyperParameters"] == {k: str(v) for k, v in (TUTORIAL | extra).items()}
    assert {m["MetricName"] for m in desc["FinalMetricDataList"]} >= {
        f"train:{metric}",
        f"validation:{metric}",
    }

    _check_artifact(aws, bank, bucket, model, pickled=version == "latest")


def _check_artifact(aws: AwsClients, bank: tuple[Path, Path], bucket: str, model: str, pickled: bool) -> None:
    """The model.tar.gz loads with xgboost, predicts, and scores like ``xgboost.train`` run directly."""
    import xgboost

    body = aws.client("s3").get_object(Bucket=bucket, Key=model.split(f"s3://{bucket}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        member = tar.extractfile("xgboost-model")
        assert member is not None
        raw = member.read()
    if pickled:  # the legacy image pickles the Booster
        booster = pickle.loads(raw)
    else:
        booster = xgboost.Booster()
        booster.load_model(bytearray(raw))
    y_test, x_test = _load_csv(bank[1])
    predictions = booster.predict(xgboost.DMatrix(x_test))
    assert predictions.shape == y_test.shape and ((predictions >= 0) & (predictions <= 1)).all()

    job_auc, direct_auc = _auc(y_test, predictions), _direct_auc(bank)
    print(f"{model}: job AUC {job_auc:.6f}, direct xgboost.train AUC {direct_auc:.6f}")
    assert abs(job_auc - direct_auc) < 0.01, (job_auc, direct_auc)
    assert job_auc > 0.7


SDK3_FIT = """
import json, logging, sys
logging.basicConfig(level=logging.INFO)  # v3 logs the job's log events through `logging` at INFO
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker.core import image_uris
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
from sagemaker.train import ModelTrainer

role, bucket, prefix, region, hyperparameters = sys.argv[1:6]
trainer = ModelTrainer(
    training_image=image_uris.retrieve("xgboost", region, "1.7-1"), role=role, base_job_name="v3-xgboost",
    compute=Compute(instance_type="ml.m4.xlarge", instance_count=1),
    output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/v3-output"),
    hyperparameters=json.loads(hyperparameters),
)
trainer.train(input_data_config=[
    InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train", content_type="csv"),
    InputData(channel_name="validation", data_source=f"s3://{bucket}/{prefix}/validation", content_type="csv"),
], wait=True, logs=True)
job = trainer._latest_training_job
print("STATUS", job.training_job_status)
print("MODEL", job.model_artifacts.s3_model_artifacts)
"""


@pytest.mark.skipif(
    not sdk3_available(), reason=f"SageMaker SDK v3 not installed in {SDK3_PYTHON.parent.parent}"
)
def test_sdk_v3_model_trainer_on_bank_data(
    aws: AwsClients, setup: tuple[str, str], bank: tuple[Path, Path]
) -> None:
    """SDK v3 (its own venv: v2 and v3 conflict). ModelTrainer validates the role with
    iam:SimulatePrincipalPolicy (its smoke-test actions must be allowed) and GetRole (the trust)."""
    role, bucket = setup
    aws.client("iam").attach_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    )
    prefix = "sagemaker/DEMO-xgboost-dm"
    repo = str(Path(__file__).resolve().parents[2])
    env = aws.env | {"PYTHONPATH": repo}
    args = [str(SDK3_PYTHON), "-c", SDK3_FIT, role, bucket, prefix, aws.server.region, json.dumps(TUTORIAL)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert "STATUS Completed" in proc.stdout
    rounds = re.findall(
        r"\[(\d+)\]\s*(?:#011|\t)train-logloss:[0-9.]+\s*(?:#011|\t)validation-logloss:", proc.stderr
    )
    assert [int(r) for r in rounds] == list(range(100)), proc.stderr[-3000:]
    model = proc.stdout.split("MODEL ", 1)[1].split()[0]
    assert model.startswith(f"s3://{bucket}/{prefix}/v3-output/v3-xgboost-") and model.endswith(
        "/output/model.tar.gz"
    )
    job = model.split("/v3-output/")[1].split("/")[0]
    desc = aws.client("sagemaker").describe_training_job(TrainingJobName=job)
    assert (
        desc["TrainingJobStatus"] == "Completed" and desc["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    )
    assert desc["HyperParameters"] == {k: str(v) for k, v in TUTORIAL.items()}
    _check_artifact(aws, bank, bucket, model, pickled=False)


SDK3_ROLE_CHECK = """
import sys
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker.core import image_uris
from sagemaker.core.training.configs import Compute
from sagemaker.train import ModelTrainer

role, region = sys.argv[1:3]
try:
    ModelTrainer(training_image=image_uris.retrieve("xgboost", region, "1.7-1"), role=role,
                 compute=Compute(instance_type="ml.m4.xlarge", instance_count=1))
except Exception as exc:
    print("REFUSED", type(exc).__name__, exc)
else:
    print("ACCEPTED")
"""


@pytest.mark.skipif(
    not sdk3_available(), reason=f"SageMaker SDK v3 not installed in {SDK3_PYTHON.parent.parent}"
)
def test_sdk_v3_role_check_uses_simulate_principal_policy(aws: AwsClients) -> None:
    """A role without permissions is refused by ModelTrainer's own check (SimulatePrincipalPolicy
    says implicitDeny), the same role with AmazonSageMakerFullAccess is accepted."""
    iam = aws.client("iam")
    role = iam.create_role(RoleName="V3CheckedRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    env = aws.env | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = [str(SDK3_PYTHON), "-c", SDK3_ROLE_CHECK, role, aws.server.region]
    refused = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert "REFUSED RoleValidationError" in refused.stdout, refused.stdout + refused.stderr[-2000:]
    assert "ecr:GetAuthorizationToken" in refused.stdout
    iam.attach_role_policy(
        RoleName="V3CheckedRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    )
    accepted = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert "ACCEPTED" in accepted.stdout, accepted.stdout + accepted.stderr[-2000:]
