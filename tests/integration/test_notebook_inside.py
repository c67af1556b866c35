"""From inside a notebook instance, with no keys and no endpoint URLs in code: the SDK finds the
instance's role and default bucket, and boto3 acts as the role (`assumed-role/<role>/SageMaker`)
to upload the bank data, train the built-in XGBoost model, deploy it and call the endpoint. The
role holds only AmazonSageMakerFullAccess, so a bucket without "sagemaker" in its name is denied
exactly as on AWS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import AwsClients
from tests.integration.bank_support import BANK_CSV
from tests.integration.notebook_support import run_inside, unique, wait
from tests.integration.role_support import sagemaker_role

pytestmark = pytest.mark.slow

SCRIPT = """
import sys
import time

import boto3
import pandas as pd
import sagemaker
from botocore.exceptions import ClientError

role = sagemaker.get_execution_role()
session = sagemaker.Session()
bucket = session.default_bucket()
region = session.boto_region_name
print("ROLE", role)
print("CALLER", boto3.client("sts").get_caller_identity()["Arn"])
print("BUCKET", bucket)

frame = pd.get_dummies(pd.read_csv(sys.argv[1], sep=";"))
frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
shuffled = frame.sample(frac=1, random_state=1729)
cut = int(0.7 * len(shuffled))
train, test = shuffled.iloc[:cut], shuffled.iloc[cut:]
train.to_csv("train.csv", index=False, header=False)
train_uri = session.upload_data("train.csv", bucket=bucket, key_prefix="bank/train")

sm = boto3.client("sagemaker")
image = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")
job = "nb-xgb-" + str(int(time.time() * 1000))
sm.create_training_job(
    TrainingJobName=job,
    RoleArn=role,
    AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
    HyperParameters={"max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6",
                     "subsample": "0.8", "objective": "binary:logistic", "num_round": "100"},
    InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": train_uri, "S3DataDistributionType": "FullyReplicated"}}}],
    OutputDataConfig={"S3OutputPath": f"s3://{bucket}/bank/output"},
    ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
)
sm.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
desc = sm.describe_training_job(TrainingJobName=job)
print("TRAINING", desc["TrainingJobStatus"], desc.get("FailureReason", ""))

sm.create_model(ModelName=job, ExecutionRoleArn=role,
                PrimaryContainer={"Image": image, "ModelDataUrl": desc["ModelArtifacts"]["S3ModelArtifacts"]})
sm.create_endpoint_config(EndpointConfigName=job, ProductionVariants=[{
    "VariantName": "AllTraffic", "ModelName": job, "InitialInstanceCount": 1, "InstanceType": "ml.m5.xlarge"}])
sm.create_endpoint(EndpointName=job, EndpointConfigName=job)
sm.get_waiter("endpoint_in_service").wait(EndpointName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
body = test.drop(columns=["y_yes"]).head(200).to_csv(index=False, header=False)
answer = boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName=job, ContentType="text/csv", Body=body)
scores = [float(x) for x in answer["Body"].read().decode().replace("\\n", ",").split(",") if x]
truth = test["y_yes"].head(200).tolist()
accuracy = sum((s > 0.5) == (t > 0.5) for s, t in zip(scores, truth)) / len(truth)
print("PREDICTIONS", len(scores), f"{accuracy:.3f}")

try:
    boto3.client("s3").put_object(Bucket=sys.argv[2], Key="my-object.csv", Body=b"1,2,3")
    print("PLAIN-BUCKET allowed")
except ClientError as exc:
    print("PLAIN-BUCKET", exc.response["Error"]["Code"], exc.response["Error"]["Message"])

sm.delete_endpoint(EndpointName=job)
sm.delete_endpoint_config(EndpointConfigName=job)
sm.delete_model(ModelName=job)
"""


def test_workflow_from_inside_the_instance(notebook_aws: AwsClients, tmp_path: Path) -> None:
    iam, sm = notebook_aws.client("iam"), notebook_aws.client("sagemaker")
    account = notebook_aws.client("sts").get_caller_identity()["Account"]
    role_name = unique("AmazonSageMaker-ExecutionRole")
    role = sagemaker_role(iam, account, role_name, ("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",))
    plain = unique("my-s3-bucket")
    notebook_aws.client("s3").create_bucket(
        Bucket=plain, CreateBucketConfiguration={"LocationConstraint": notebook_aws.server.region}
    )
    name = unique("nb-work")
    sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role)
    wait(sm, "notebook_instance_in_service", name)
    script = tmp_path / "workflow.py"
    script.write_text(SCRIPT)
    result = run_inside(notebook_aws, name, "python", str(script), str(BANK_CSV), plain)
    assert result.returncode == 0, result.stdout + result.stderr
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines() if re.match(r"^[A-Z-]+ ", line))
    assert out["ROLE"] == role
    assert out["CALLER"] == f"arn:aws:sts::{account}:assumed-role/{role_name}/SageMaker"
    assert out["BUCKET"] == f"sagemaker-{notebook_aws.server.region}-{account}"
    assert out["TRAINING"].strip() == "Completed"
    count, accuracy = out["PREDICTIONS"].split()
    assert int(count) == 200 and float(accuracy) > 0.8
    assert out["PLAIN-BUCKET"].startswith("AccessDenied ")
    assert (
        f"assumed-role/{role_name}/SageMaker is not authorized to perform: s3:PutObject"
        in out["PLAIN-BUCKET"]
    )
    sm.stop_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_stopped", name)
    sm.delete_notebook_instance(NotebookInstanceName=name)
