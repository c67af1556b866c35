"""The tutorial's deploy step with the SageMaker SDK v2, unchanged, against a real server.

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

import numpy as np

from tests.conftest import AwsClients
from tests.integration.bank_support import TRUST, TUTORIAL

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


def test_sdk_v2_deploy_predict_and_clean_up(aws: AwsClients, bank: tuple[Path, Path], tmp_path: Path) -> None:
    import xgboost

    iam, s3, sm = aws.client("iam"), aws.client("s3"), aws.client("sagemaker")
    role = iam.create_role(RoleName="TutorialDeployRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    bucket, prefix = "sagemaker-tutorial-deploy", "sagemaker/DEMO-xgboost-dm"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    s3.upload_file(str(bank[0]), bucket, f"{prefix}/train/train.csv")
    out = tmp_path / "result.json"
    args = [sys.executable, "-c", SDK_DEPLOY, role, bucket, prefix, aws.server.region, json.dumps(TUTORIAL)]
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    proc = subprocess.run(
        [*args, str(bank[1]), str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads(out.read_text())
    assert result["status"] == "InService"

    key = result["model"].split(f"s3://{bucket}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    rows = np.loadtxt(bank[1], delimiter=",", ndmin=2)[:, 1:]
    expected = booster.predict(xgboost.DMatrix(rows))
    scores = np.array(result["scores"], dtype=np.float32)
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-7)

    # the SDK cleaned up all three resources
    name = result["endpoint"]
    assert all(e["EndpointName"] != name for e in sm.list_endpoints()["Endpoints"])
    assert all(c["EndpointConfigName"] != name for c in sm.list_endpoint_configs()["EndpointConfigs"])
    assert all(m["ModelName"] != name for m in sm.list_models()["Models"])
