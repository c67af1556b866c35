"""The tutorial's deploy step with the SageMaker SDK (v2, and v3 where its venv exists), unchanged,
against a real server.

In a subprocess (the user's code, only ``import sagelocal.compat.sagemaker_sdk`` first): the
built-in XGBoost estimator is fit on the bank-marketing training split, ``deploy(...,
serializer=CSVSerializer())`` returns an InService predictor, ``predict`` scores the held-out
rows in batches, and ``delete_model()`` and ``delete_endpoint(delete_endpoint_config=True)``
clean up. The scores must equal the trained booster's own ``predict`` to float32 precision.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import AwsClients
from tests.integration.bank_support import TUTORIAL
from tests.integration.role_support import sagemaker_role
from tests.integration.sdk_support import SDK3_PYTHON, sdk3_available

SDK_DEPLOY = """
import json, sys
import numpy as np
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer

role, bucket, prefix, region, hyperparameters, test_csv, out = sys.argv[1:8]
xgb = Estimator(image_uris.retrieve("xgboost", region, "1.7-1"), role, instance_count=1,
                instance_type="ml.m4.xlarge", output_path=f"s3://{bucket}/{prefix}/output")
xgb.set_hyperparameters(**json.loads(hyperparameters))
xgb.fit({"train": TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")}, logs=False)
predictor = xgb.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge", serializer=CSVSerializer())
status = predictor.sagemaker_session.sagemaker_client.describe_endpoint(
    EndpointName=predictor.endpoint_name)["EndpointStatus"]
rows = np.loadtxt(test_csv, delimiter=",", ndmin=2)[:, 1:]
scores = []
for batch in np.array_split(rows, int(rows.shape[0] / 500) + 1):
    body = predictor.predict(batch).decode("utf-8")
    scores.extend(float(line) for line in body.splitlines())
endpoint = predictor.endpoint_name
predictor.delete_model()
predictor.delete_endpoint(delete_endpoint_config=True)
json.dump({"status": status, "scores": scores, "model": xgb.model_data, "endpoint": endpoint}, open(out, "w"))
"""


SDK3_DEPLOY = """
import json, sys, logging
import numpy as np
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker.core import image_uris
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
from sagemaker.core.resources import EndpointConfig
from sagemaker.train import ModelTrainer
from sagemaker.serve import ModelBuilder

role, bucket, prefix, region, hyperparameters, test_csv, out = sys.argv[1:8]
image = image_uris.retrieve("xgboost", region, "1.7-1")
trainer = ModelTrainer(
    training_image=image, role=role, base_job_name="v3-deploy",
    compute=Compute(instance_type="ml.m4.xlarge", instance_count=1),
    output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/v3-output"),
    hyperparameters=json.loads(hyperparameters),
)
trainer.train(input_data_config=[
    InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train", content_type="csv"),
], wait=True, logs=False)
builder = ModelBuilder(model=trainer, image_uri=image, role_arn=role, instance_type="ml.m4.xlarge")
model = builder.build()
endpoint = builder.deploy()
rows = np.loadtxt(test_csv, delimiter=",", ndmin=2)[:200, 1:]
body = "\\n".join(",".join(repr(float(v)) for v in row) for row in rows)
response = endpoint.invoke(body=body, content_type="text/csv", accept="text/csv")
scores = [float(x) for x in response.body.read().decode().split()]
status = endpoint.endpoint_status
config_name = endpoint.endpoint_config_name
endpoint.delete()
EndpointConfig.get(config_name).delete()
model.delete()
json.dump({"status": status, "scores": scores, "model": trainer._latest_training_job.model_artifacts.s3_model_artifacts,
           "endpoint": endpoint.endpoint_name, "config": config_name, "model_name": model.model_name}, open(out, "w"))
"""


def _upload_bank(aws: AwsClients, bank: tuple[Path, Path], bucket: str, prefix: str) -> str:
    role = sagemaker_role(
        aws.client("iam"), aws.client("sts").get_caller_identity()["Account"], f"Role-{bucket}"
    )
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    s3.upload_file(str(bank[0]), bucket, f"{prefix}/train/train.csv")
    return str(role)


def _booster_of(aws: AwsClients, bucket: str, model_uri: str) -> Any:
    import xgboost

    key = model_uri.split(f"s3://{bucket}/", 1)[1]
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    return booster


def test_sdk_v2_deploy_predict_and_clean_up(aws: AwsClients, bank: tuple[Path, Path], tmp_path: Path) -> None:
    import xgboost

    bucket, prefix = "sagemaker-tutorial-deploy", "sagemaker/DEMO-xgboost-dm"
    role = _upload_bank(aws, bank, bucket, prefix)
    out = tmp_path / "result.json"
    args = [sys.executable, "-c", SDK_DEPLOY, role, bucket, prefix, aws.server.region, json.dumps(TUTORIAL)]
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    proc = subprocess.run(
        [*args, str(bank[1]), str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads(out.read_text())
    assert result["status"] == "InService"

    rows = np.loadtxt(bank[1], delimiter=",", ndmin=2)[:, 1:]
    expected = _booster_of(aws, bucket, result["model"]).predict(xgboost.DMatrix(rows))
    scores = np.array(result["scores"], dtype=np.float32)
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-7)
    _check_cleaned_up(aws, result["endpoint"], result["endpoint"], result["endpoint"])


def _check_cleaned_up(aws: AwsClients, endpoint: str, config: str, model: str) -> None:
    sm = aws.client("sagemaker")
    assert all(e["EndpointName"] != endpoint for e in sm.list_endpoints()["Endpoints"])
    assert all(c["EndpointConfigName"] != config for c in sm.list_endpoint_configs()["EndpointConfigs"])
    assert all(m["ModelName"] != model for m in sm.list_models()["Models"])


@pytest.mark.skipif(
    not sdk3_available(), reason=f"SageMaker SDK v3 not installed in {SDK3_PYTHON.parent.parent}"
)
def test_sdk_v3_model_builder_deploy_and_invoke(
    aws: AwsClients, bank: tuple[Path, Path], tmp_path: Path
) -> None:
    """SDK v3 (its own venv): ModelTrainer, then ModelBuilder(model=trainer).build()/.deploy(), then
    Endpoint.invoke and the resources' delete(). The role holds AmazonSageMakerFullAccess, which the
    SDK's role check (iam:SimulatePrincipalPolicy) wants."""
    import xgboost

    bucket, prefix = "sagemaker-tutorial-deploy-v3", "sagemaker/DEMO-xgboost-dm"
    role = _upload_bank(aws, bank, bucket, prefix)
    aws.client("iam").attach_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    )
    out = tmp_path / "result.json"
    repo = str(Path(__file__).resolve().parents[2])
    env = aws.env | {"PYTHONPATH": repo}
    args = [
        str(SDK3_PYTHON),
        "-c",
        SDK3_DEPLOY,
        role,
        bucket,
        prefix,
        aws.server.region,
        json.dumps(TUTORIAL),
    ]
    proc = subprocess.run(
        [*args, str(bank[1]), str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads(out.read_text())
    assert result["status"] == "InService"
    rows = np.loadtxt(bank[1], delimiter=",", ndmin=2)[:200, 1:]
    expected = _booster_of(aws, bucket, result["model"]).predict(xgboost.DMatrix(rows))
    np.testing.assert_allclose(np.array(result["scores"], dtype=np.float32), expected, rtol=1e-6, atol=1e-7)
    _check_cleaned_up(aws, result["endpoint"], result["config"], result["model_name"])
