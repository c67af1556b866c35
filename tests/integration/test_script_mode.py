"""Script mode through the real server: the SDK v2's SKLearn and XGBoost estimators with an
entry point, a failing script, and boto3 with a hand-made sourcedir.tar.gz."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients
from tests.integration.test_training_api import _log_text, _request, _setup, _wait, _wait_for_secondary

SKLEARN_IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SKLEARN_SCRIPT = """
import argparse, glob, json, os
import joblib
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--max-depth", type=int, default=1)
args = parser.parse_args()
print(f"got max-depth={args.max_depth} hps={os.environ['SM_HPS']}", flush=True)
files = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "**", "*.csv"), recursive=True)
df = pd.concat(pd.read_csv(f, header=None) for f in files)
model = DecisionTreeClassifier(max_depth=args.max_depth).fit(df.iloc[:, 1:], df.iloc[:, 0])
print(f"train accuracy {model.score(df.iloc[:, 1:], df.iloc[:, 0]):.3f}", flush=True)
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.json"), "w") as f:
    json.dump({"rows": len(df)}, f)
"""
XGBOOST_SCRIPT = """
import argparse, glob, os
import pandas as pd
import xgboost as xgb

parser = argparse.ArgumentParser()
parser.add_argument("--num_round", type=int)
parser.add_argument("--max_depth", type=int)
args = parser.parse_args()
print(f"got num_round={args.num_round} max_depth={args.max_depth}", flush=True)
path = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "**", "*.csv"), recursive=True)[0]
df = pd.read_csv(path, header=None)
dtrain = xgb.DMatrix(df.iloc[:, 1:], label=df.iloc[:, 0])
booster = xgb.train({"objective": "binary:logistic", "max_depth": args.max_depth}, dtrain, args.num_round)
booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model"))
"""
FAILING_SCRIPT = """
import os
print("about to fail", flush=True)
raise RuntimeError("the user script was told to fail: " + os.environ["SM_CURRENT_HOST"])
"""
SDK_FIT = """
import json, sys
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker.sklearn import SKLearn
from sagemaker.xgboost import XGBoost

kind, role, bucket, source_dir = sys.argv[1:5]
common = dict(entry_point="train.py", source_dir=source_dir, role=role, instance_type="ml.m5.large",
              instance_count=1, output_path=f"s3://{bucket}/sdk-{kind}")
if kind == "sklearn":
    est = SKLearn(framework_version="1.2-1", hyperparameters={"max-depth": 3}, **common)
else:
    est = XGBoost(framework_version="1.7-1", hyperparameters={"num_round": 4, "max_depth": 2}, **common)
est.fit({"train": f"s3://{bucket}/data/train"}, logs=True)
print("RESULT " + json.dumps({"model": est.model_data, "job": est.latest_training_job.name}))
"""


@pytest.fixture(scope="module")
def setup(aws: AwsClients) -> tuple[str, str]:
    return _setup(aws, "script")


def _objects(aws: AwsClients, uri: str) -> dict[str, bytes]:
    bucket, key = uri.split("s3://", 1)[1].split("/", 1)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _sdk_fit(
    aws: AwsClients, tmp_path: Path, kind: str, script: str, setup: tuple[str, str]
) -> dict[str, Any]:
    role, bucket = setup
    (tmp_path / "train.py").write_text(script)
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    args = [sys.executable, "-c", SDK_FIT, kind, role, bucket, str(tmp_path)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.split("RESULT ", 1)[1])
    result["stdout"] = proc.stdout
    return result


def test_sdk_sklearn_estimator_with_entry_point(
    aws: AwsClients, setup: tuple[str, str], tmp_path: Path
) -> None:
    result = _sdk_fit(aws, tmp_path, "sklearn", SKLEARN_SCRIPT, setup)
    assert "got max-depth=3" in result["stdout"] and "Completed - Training job completed" in result["stdout"]
    desc = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job"])
    assert desc["TrainingJobStatus"] == "Completed"
    assert desc["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert json.loads(desc["HyperParameters"]["sagemaker_program"]) == "train.py"
    assert "model.joblib" in _objects(aws, result["model"])
    output = _objects(aws, result["model"].replace("model.tar.gz", "output.tar.gz"))
    assert json.loads(output["report.json"]) == {"rows": 60}
    log = _log_text(aws, result["job"])
    assert 'got max-depth=3 hps={"max-depth":3}' in log and "train accuracy" in log
    assert "Invoking script with the following command:" in log and "train.py --max-depth 3" in log


def test_sdk_xgboost_estimator_with_entry_point(
    aws: AwsClients, setup: tuple[str, str], tmp_path: Path
) -> None:
    result = _sdk_fit(aws, tmp_path, "xgboost", XGBOOST_SCRIPT, setup)
    desc = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job"])
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:1.7-1")
    files = _objects(aws, result["model"])
    assert list(files) == ["xgboost-model"]
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(bytearray(files["xgboost-model"]))
    assert booster.num_boosted_rounds() == 4
    assert "got num_round=4 max_depth=2" in _log_text(aws, result["job"])


def _sourcedir(aws: AwsClients, bucket: str, key: str, files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    return f"s3://{bucket}/{key}"


def _script_request(name: str, setup: tuple[str, str], uri: str, **hps: str) -> dict[str, Any]:
    role, bucket = setup
    spec = {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"}
    hyperparameters = {
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps(uri),
        "sagemaker_container_log_level": "20",
        "sagemaker_region": json.dumps("ap-northeast-1"),
    } | hps
    return _request(name, role, bucket, AlgorithmSpecification=spec, HyperParameters=hyperparameters)


def test_failing_script_is_an_algorithm_error(aws: AwsClients, setup: tuple[str, str]) -> None:
    uri = _sourcedir(aws, setup[1], "code/fail/sourcedir.tar.gz", {"train.py": FAILING_SCRIPT})
    sm = aws.client("sagemaker")
    sm.create_training_job(**_script_request("script-fails", setup, uri, epochs="3"))
    desc = _wait(sm, "script-fails")
    assert desc["TrainingJobStatus"] == "Failed"
    reason = desc["FailureReason"]
    assert reason.startswith('AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "')
    assert "RuntimeError: the user script was told to fail: algo-1" in reason
    assert reason.endswith(' train.py --epochs 3"') and '\nCommand "' in reason
    assert [t["Status"] for t in desc["SecondaryStatusTransitions"]][-2:] == ["Training", "Failed"]
    assert "about to fail" in _log_text(aws, "script-fails")


def test_boto3_hand_made_sourcedir(aws: AwsClients, setup: tuple[str, str]) -> None:
    files = {
        "train.py": "import helper\nhelper.main()\n",
        "helper.py": (
            "import json, os, sys, boto3\n"
            "def main():\n"
            "    print('argv', sys.argv[1:], flush=True)\n"
            "    env = {k: os.environ[k] for k in ('SM_CHANNELS', 'SM_HP_ALPHA', 'SM_NUM_GPUS', 'SM_HOSTS', 'MY_SETTING')}\n"
            "    print('env', json.dumps(env, sort_keys=True), flush=True)\n"
            "    s3 = boto3.client('s3')\n"
            "    names = [b['Name'] for b in s3.list_buckets()['Buckets']]\n"
            "    print('buckets-seen', 'training-script' in names, flush=True)\n"
            "    open(os.path.join(os.environ['SM_MODEL_DIR'], 'weights.txt'), 'w').write('0.5')\n"
        ),
        "requirements.txt": "nothing-to-install==1.0\n",
    }
    uri = _sourcedir(aws, setup[1], "code/ok/sourcedir.tar.gz", files)
    sm = aws.client("sagemaker")
    req = _script_request("script-boto3", setup, uri, alpha="0.5", n='"x y"')
    sm.create_training_job(**req, Environment={"MY_SETTING": "on"})
    desc = _wait(sm, "script-boto3")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    assert _objects(aws, desc["ModelArtifacts"]["S3ModelArtifacts"]) == {"weights.txt": b"0.5"}
    log = _log_text(aws, "script-boto3")
    assert "argv ['--alpha', '0.5', '-n', 'x y']" in log
    env = json.loads(log.split("\nenv ", 1)[1].split("\n", 1)[0])
    assert env == {
        "MY_SETTING": "on",
        "SM_CHANNELS": '["train"]',
        "SM_HOSTS": '["algo-1"]',
        "SM_HP_ALPHA": "0.5",
        "SM_NUM_GPUS": "0",
    }
    assert "buckets-seen True" in log and "requirements.txt found: not installed" in log
    with pytest.raises(ClientError):  # nothing in output/data: no output.tar.gz
        _objects(aws, desc["ModelArtifacts"]["S3ModelArtifacts"].replace("model.tar.gz", "output.tar.gz"))


def test_sklearn_image_without_entry_point_is_a_client_error(aws: AwsClients, setup: tuple[str, str]) -> None:
    role, bucket = setup
    sm = aws.client("sagemaker")
    spec = {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"}
    sm.create_training_job(**_request("sklearn-no-program", role, bucket, AlgorithmSpecification=spec))
    desc = _wait(sm, "sklearn-no-program")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith(f"ClientError: The training image {SKLEARN_IMAGE} ")
    assert "sagemaker_program" in desc["FailureReason"]


def test_stop_a_running_script(aws: AwsClients, setup: tuple[str, str]) -> None:
    script = (
        "import os, time\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'partial.txt'), 'w').write('so far')\n"
        "print('sleeping', flush=True)\n"
        "time.sleep(120)\n"
    )
    uri = _sourcedir(aws, setup[1], "code/sleep/sourcedir.tar.gz", {"train.py": script})
    sm = aws.client("sagemaker")
    sm.create_training_job(**_script_request("script-stopped", setup, uri))
    _wait_for_secondary(sm, "script-stopped", "Training")
    time.sleep(1.0)  # let the script start
    sm.stop_training_job(TrainingJobName="script-stopped")
    desc = _wait(sm, "script-stopped")
    assert desc["TrainingJobStatus"] == "Stopped" and desc["SecondaryStatus"] == "Stopped"
    assert _objects(aws, desc["ModelArtifacts"]["S3ModelArtifacts"]) == {"partial.txt": b"so far"}
