"""Script mode's pieces: hyperparameter decoding, argv, the SM_* environment, errors, image choice."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sagelocal.compute import images, script_mode
from sagelocal.compute.runner import write_config

XGB = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
RAW = {
    "sagemaker_program": '"train.py"',
    "sagemaker_submit_directory": '"s3://b/job/source/sourcedir.tar.gz"',
    "sagemaker_container_log_level": "20",
    "sagemaker_region": '"ap-northeast-1"',
    "max-depth": "3",
    "lr": "0.1",
    "name": '"x y"',
    "plain": "not json",
    "k": "true",
    "opts": '{"b": 2, "a": 1}',
}


def test_decode_hyperparameters_splits_framework_ones() -> None:
    user, framework = script_mode.decode_hyperparameters(RAW)
    assert user == {
        "max-depth": 3,
        "lr": 0.1,
        "name": "x y",
        "plain": "not json",
        "k": True,
        "opts": {"a": 1, "b": 2},
    }
    assert framework["sagemaker_program"] == "train.py" and framework["sagemaker_container_log_level"] == 20


def test_cmd_args_follow_the_toolkit() -> None:
    user, _ = script_mode.decode_hyperparameters(RAW)
    assert script_mode.to_cmd_args(user) == [
        "-k", "True",
        "--lr", "0.1",
        "--max-depth", "3",
        "--name", "x y",
        "--opts", "a=1,b=2",
        "--plain", "not json",
    ]  # fmt: skip
    assert script_mode.command("train.py", ["--a", "1"], python="/py") == ["/py", "train.py", "--a", "1"]
    assert script_mode.command("run.sh", ["--a", "1"]) == ["/bin/sh", "-c", "./run.sh --a 1"]


def _workspace(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    ws = tmp_path / "ws"
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "TOK"}))
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train"}},
        "ContentType": "text/csv",
    }
    spec: dict[str, Any] = {
        "name": "job-1",
        "channels": [channel, channel | {"ChannelName": "validation"}],
        "input_mode": "File",
        "hyperparameters": RAW,
        "framework": "sklearn",
        "instance_type": "ml.m5.xlarge",
        "region": "ap-northeast-1",
        "endpoint_url": "http://127.0.0.1:4566",
        "credentials_file": str(creds),
    }
    write_config(ws, spec)
    return ws, spec


def test_sm_environment(tmp_path: Path) -> None:
    ws, spec = _workspace(tmp_path)
    env = script_mode.training_env(ws, spec, RAW)
    sm = script_mode.sm_environment(env)
    assert sm["SM_MODEL_DIR"] == str(ws / "model")
    assert sm["SM_CHANNELS"] == '["train","validation"]'
    assert sm["SM_CHANNEL_TRAIN"] == str(ws / "input/data/train")
    assert sm["SM_CHANNEL_VALIDATION"] == str(ws / "input/data/validation")
    hps = json.loads(sm["SM_HPS"])
    assert hps["max-depth"] == 3 and not any(k.startswith("sagemaker_") for k in hps)
    assert sm["SM_HP_MAX-DEPTH"] == "3" and sm["SM_HP_NAME"] == "x y" and sm["SM_HP_OPTS"] == '{"a":1,"b":2}'
    assert sm["SM_OUTPUT_DATA_DIR"] == str(ws / "output/data") and sm["SM_OUTPUT_DIR"] == str(ws / "output")
    assert sm["SM_INPUT_DIR"] == str(ws / "input") and sm["SM_INPUT_CONFIG_DIR"] == str(ws / "input/config")
    assert sm["SM_NUM_GPUS"] == "0" and int(sm["SM_NUM_CPUS"]) >= 1
    assert sm["SM_HOSTS"] == '["algo-1"]' and sm["SM_CURRENT_HOST"] == "algo-1"
    assert sm["SM_MODULE_NAME"] == "train" and sm["SM_USER_ENTRY_POINT"] == "train.py"
    assert sm["SM_MODULE_DIR"] == "s3://b/job/source/sourcedir.tar.gz"
    assert sm["SM_FRAMEWORK_MODULE"] == "sagemaker_sklearn_container.training:main"
    assert json.loads(sm["SM_USER_ARGS"])[:2] == ["-k", "True"]
    assert json.loads(sm["SM_RESOURCE_CONFIG"])["current_host"] == "algo-1"
    assert json.loads(sm["SM_INPUT_DATA_CONFIG"])["train"]["ContentType"] == "text/csv"
    assert sm["SM_FRAMEWORK_PARAMS"] == '{"sagemaker_region":"ap-northeast-1"}'
    training = json.loads(sm["SM_TRAINING_ENV"])
    assert training["job_name"] == "job-1" and training["current_instance_type"] == "ml.m5.xlarge"
    assert training["hyperparameters"] == hps and training["log_level"] == 20
    aws = script_mode.aws_environment(spec, ws)
    assert aws["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and aws["AWS_REGION"] == "ap-northeast-1"
    assert aws["TRAINING_JOB_NAME"] == "job-1" and "AWS_ACCESS_KEY_ID" not in aws


def test_script_credentials_come_from_a_refreshing_process(tmp_path: Path) -> None:
    ws, spec = _workspace(tmp_path)
    env = os.environ | script_mode.aws_environment(spec, ws)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(k, None)
    code = "import boto3; c = boto3.Session().get_credentials(); print(c.access_key, c.token, c.method)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["AK", "TOK", "custom-process"]
    doc = json.loads(script_mode.credential_process_output(spec["credentials_file"]))
    assert doc["Version"] == 1 and doc["SessionToken"] == "TOK" and doc["Expiration"].endswith("Z")


def test_format_error_has_the_toolkit_shape() -> None:
    text = script_mode.format_error(
        1, "Traceback...\nValueError: boom\n", ["/usr/bin/python3", "train.py", "--a", "1"]
    )
    assert text == (
        'ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback...\nValueError: boom"\n'
        'Command "/usr/bin/python3 train.py --a 1"'
    )
    long = script_mode.format_error(2, "x" * 5000 + "\nKeyError: 'k'", ["python", "t.py"])
    assert "KeyError: 'k'" in long and len(long) < 1024 and '"...' in long


class FakeS3:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls: list[tuple[str, str]] = []

    def download_file(self, bucket: str, key: str, path: str) -> None:
        self.calls.append((bucket, key))
        Path(path).write_bytes(self.body)


def _tarball(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def test_fetch_code_unpacks_the_source_dir(tmp_path: Path) -> None:
    s3 = FakeS3(_tarball({"train.py": "print(1)", "lib/util.py": ""}))
    code = script_mode.fetch_code(tmp_path, s3, RAW)
    assert s3.calls == [("b", "job/source/sourcedir.tar.gz")]
    assert (code / "train.py").read_text() == "print(1)" and (code / "lib/util.py").exists()
    with pytest.raises(script_mode.CodeError, match="Could not unpack"):
        script_mode.fetch_code(tmp_path / "2", FakeS3(b"not a tarball"), RAW)
    with pytest.raises(script_mode.CodeError, match="Could not unpack"):  # no escaping the code dir
        script_mode.fetch_code(tmp_path / "3", FakeS3(_tarball({"../evil.py": ""})), RAW)


def test_user_script_runs_with_its_environment(tmp_path: Path) -> None:
    ws, spec = _workspace(tmp_path)
    (ws / "code").mkdir()
    (ws / "code" / "train.py").write_text(
        "import os, sys\nprint(sys.argv[1:], os.environ['SM_HP_LR'], os.getcwd())\n"
        "sys.stderr.write('Traceback\\nValueError: nope\\n')\nsys.exit(3)\n"
    )
    script = script_mode.UserScript(ws, spec)
    assert script.cmd[0] == sys.executable and script.cmd[1] == "train.py"
    code = script.wait()
    assert code == 3
    failure = script.failure(code)
    assert failure.startswith(
        'ExecuteUserScriptError:\nExitCode 3\nErrorMessage "Traceback\nValueError: nope"'
    )


def test_images_choose_script_mode() -> None:
    program = {"sagemaker_program": '"train.py"'}
    assert images.resolve(XGB, program).framework == "xgboost"
    assert images.resolve(XGB + "-cpu-py3", program).framework == "xgboost"
    assert images.resolve(XGB).framework is None  # the built-in algorithm
    sk = images.resolve(SKLEARN, program)
    assert sk.framework == "sklearn" and sk.env["SAGELOCAL_FRAMEWORK_VERSION"] == "1.2-1"
    old = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.20.0-cpu-py3"
    assert images.resolve(old, program).framework == "sklearn"
    with pytest.raises(images.UnknownImage, match="sagemaker_program"):
        images.resolve(SKLEARN)
    legacy = "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/xgboost:1"
    assert images.resolve(legacy, program).framework is None  # no framework mode in the legacy image
    with pytest.raises(images.UnknownImage, match="not recognised"):
        images.resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-pytorch:2.0-cpu-py3", program)
