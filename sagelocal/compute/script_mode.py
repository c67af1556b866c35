"""Script mode ("bring your own training code") inside a job's child process.

Reproduces what the SageMaker training toolkit does in the framework containers: fetch
``sagemaker_submit_directory`` (``sourcedir.tar.gz``) into ``<workspace>/code``, JSON-decode the
hyperparameters, and run ``sagemaker_program`` with the platform's Python as
``python <program> --<hp> <value> ...`` (keys sorted, one-letter keys as ``-k``) in the code
directory, with the toolkit's ``SM_*`` environment. A failing script becomes the toolkit's
``ExecuteUserScriptError`` text. Imports only the standard library (boto3 via the caller's client).
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import subprocess
import sys
import tarfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FRAMEWORK_MODULES = {
    "sklearn": "sagemaker_sklearn_container.training:main",
    "xgboost": "sagemaker_xgboost_container.training:main",
}
PROGRAM = "sagemaker_program"
SUBMIT_DIR = "sagemaker_submit_directory"
LOG_LEVEL = "sagemaker_container_log_level"
STDERR_TAIL_LINES = 20
ERROR_MESSAGE_MAX = 700  # the job's FailureReason is cut at 1024 characters
# The server's own AWS settings must not reach the user's script.
_AWS_INHERITED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


class CodeError(Exception):
    """The source directory could not be fetched or unpacked (the user's mistake)."""


def decode_hyperparameters(raw: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(user, framework) hyperparameters: each value JSON-decoded where it parses (else kept as
    the string), split on the ``sagemaker_`` prefix as the toolkit does."""
    user: dict[str, Any] = {}
    framework: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            decoded = json.loads(value)
        except (ValueError, TypeError):
            decoded = value
        (framework if key.startswith("sagemaker_") else user)[key] = decoded
    return user, framework


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def to_cmd_args(hps: Mapping[str, Any]) -> list[str]:
    """The toolkit's argv for hyperparameters: sorted keys, ``--key value`` (``-k`` for one
    letter), dicts as ``a=1,b=2``, everything else ``str()``-ed."""
    args: list[str] = []
    for key in sorted(hps):
        value = hps[key]
        args.append(f"--{key}" if len(key) > 1 else f"-{key}")
        if isinstance(value, Mapping):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append(_text(value))
    return args


def env_value(value: Any) -> str:
    """A value as the toolkit writes it into an SM_* variable (strings as is, else compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def training_env(ws: Path, spec: Mapping[str, Any], raw_hps: Mapping[str, str]) -> dict[str, Any]:
    """The toolkit's training environment (SM_TRAINING_ENV) of a job in workspace `ws`."""
    user, framework = decode_hyperparameters(raw_hps)
    program = str(framework.get(PROGRAM, ""))
    config = ws / "input" / "config"
    input_data_config = json.loads((config / "inputdataconfig.json").read_text())
    resource_config = json.loads((config / "resourceconfig.json").read_text())
    channels = {name: str(ws / "input" / "data" / name) for name in sorted(input_data_config)}
    hosts = sorted(resource_config.get("hosts") or ["algo-1"])
    current = resource_config.get("current_host", hosts[0])
    return {
        "additional_framework_parameters": {
            k: v for k, v in framework.items() if k not in (PROGRAM, SUBMIT_DIR, LOG_LEVEL)
        },
        "channel_input_dirs": channels,
        "current_host": current,
        "current_instance_type": spec.get("instance_type", "ml.m5.large"),
        "framework_module": FRAMEWORK_MODULES.get(spec.get("framework") or "", ""),
        "hosts": hosts,
        "hyperparameters": user,
        "input_config_dir": str(config),
        "input_data_config": input_data_config,
        "input_dir": str(ws / "input"),
        "is_master": current == hosts[0],
        "job_name": spec["name"],
        "log_level": int(framework.get(LOG_LEVEL, 20)),
        "master_hostname": hosts[0],
        "model_dir": str(ws / "model"),
        "module_dir": str(framework.get(SUBMIT_DIR, "")),
        "module_name": program[:-3] if program.endswith(".py") else program,
        "network_interface_name": "eth0",
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "output_data_dir": str(ws / "output" / "data"),
        "output_dir": str(ws / "output"),
        "output_intermediate_dir": str(ws / "output" / "intermediate"),
        "resource_config": resource_config,
        "user_entry_point": program,
    }


def sm_environment(env: Mapping[str, Any]) -> dict[str, str]:
    """The SM_* variables the toolkit derives from a training environment (`training_env`)."""
    hps = env["hyperparameters"]
    doc: dict[str, Any] = {
        "hosts": env["hosts"],
        "network_interface_name": env["network_interface_name"],
        "hps": hps,
        "user_entry_point": env["user_entry_point"],
        "framework_params": env["additional_framework_parameters"],
        "resource_config": env["resource_config"],
        "input_data_config": env["input_data_config"],
        "output_data_dir": env["output_data_dir"],
        "channels": sorted(env["channel_input_dirs"]),
        "current_host": env["current_host"],
        "current_instance_type": env["current_instance_type"],
        "module_name": env["module_name"],
        "log_level": env["log_level"],
        "framework_module": env["framework_module"],
        "input_dir": env["input_dir"],
        "input_config_dir": env["input_config_dir"],
        "output_dir": env["output_dir"],
        "num_cpus": env["num_cpus"],
        "num_gpus": env["num_gpus"],
        "model_dir": env["model_dir"],
        "module_dir": env["module_dir"],
        "training_env": dict(env),
        "user_args": to_cmd_args(hps),
        "output_intermediate_dir": env["output_intermediate_dir"],
    }
    doc |= {f"channel_{name}": path for name, path in env["channel_input_dirs"].items()}
    doc |= {f"hp_{key}": value for key, value in hps.items()}
    return {f"SM_{key.upper()}": env_value(value) for key, value in doc.items()}


def aws_environment(spec: Mapping[str, Any], ws: Path) -> dict[str, str]:
    """Region, endpoint and the job role's credentials, so the script's boto3 reaches sagelocal.
    The credentials come from a ``credential_process`` in a private AWS config file that re-reads
    the file the supervisor keeps fresh, so botocore renews them in jobs that outlive one set
    (as the container credentials endpoint does on SageMaker)."""
    private = ws / ".sagelocal"
    private.mkdir(parents=True, exist_ok=True)
    process = [sys.executable, "-m", "sagelocal.compute.script_mode", "credentials", spec["credentials_file"]]
    config = private / "aws-config"
    config.write_text(f"[default]\nregion = {spec['region']}\ncredential_process = {shlex.join(process)}\n")
    (private / "aws-credentials").write_text("")
    return {
        "AWS_REGION": spec["region"],
        "AWS_DEFAULT_REGION": spec["region"],
        "AWS_ENDPOINT_URL": spec["endpoint_url"],
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(private / "aws-credentials"),
        "TRAINING_JOB_NAME": spec["name"],
    }


def credential_process_output(credentials_file: str, lifetime: float = 1200.0) -> str:
    """The credential_process JSON of the job role's current credentials. The Expiration given
    is `lifetime` seconds ahead so botocore re-reads the file well within the real lifetime."""
    creds = json.loads(Path(credentials_file).read_text())
    expiry = datetime.now(UTC) + timedelta(seconds=lifetime)
    doc = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    return json.dumps({"Version": 1, **doc, "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")})


def fetch_code(ws: Path, s3: Any, raw_hps: Mapping[str, str]) -> Path:
    """Download and unpack sourcedir.tar.gz into <ws>/code; returns the code directory."""
    from botocore.exceptions import ClientError

    _, framework = decode_hyperparameters(raw_hps)
    code = ws / "code"
    code.mkdir(parents=True, exist_ok=True)
    uri = framework.get(SUBMIT_DIR)
    if not uri:
        return code  # the entry point must then already be there (not the SDK's way)
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise CodeError(f"sagemaker_submit_directory must be an s3:// URI of a tar.gz, got {uri!r}.")
    bucket, _, key = uri[len("s3://") :].partition("/")
    archive = ws / ".sagelocal" / "sourcedir.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    try:
        s3.download_file(bucket, key, str(archive))
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(code, filter="data")
    except ClientError as exc:
        raise CodeError(f"Could not download the source directory {uri}: {exc}") from None
    except (tarfile.TarError, OSError) as exc:
        raise CodeError(f"Could not unpack the source directory {uri}: {exc}") from None
    finally:
        archive.unlink(missing_ok=True)
    return code


def command(program: str, args: list[str], python: str = sys.executable) -> list[str]:
    """The toolkit's command: ``python program args`` for a .py program, else a shell command."""
    if program.endswith(".py"):
        return [python, program, *args]
    return ["/bin/sh", "-c", f"./{program} {' '.join(args)}"]


def format_error(exit_code: int, stderr: str, cmd: list[str]) -> str:
    """The toolkit's ExecuteUserScriptError text, with the tail of the script's stderr."""
    message = stderr.strip()
    if len(message) > ERROR_MESSAGE_MAX:
        message = "..." + message[-ERROR_MESSAGE_MAX:]
    return (
        f'ExecuteUserScriptError:\nExitCode {exit_code}\nErrorMessage "{message}"\nCommand "{" ".join(cmd)}"'
    )


def _tee(stream: Any, tail: collections.deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        tail.append(line)
        sys.stdout.write(line)
        sys.stdout.flush()


class UserScript:
    """The running entry point: stdout goes to the job's log as is, stderr too (and its tail is
    kept for the failure message)."""

    def __init__(self, ws: Path, spec: Mapping[str, Any], extra_env: Mapping[str, str] | None = None) -> None:
        raw = spec["hyperparameters"]
        env = training_env(ws, spec, raw)
        self.code = ws / "code"
        self.cmd = command(env["user_entry_point"], to_cmd_args(env["hyperparameters"]))
        (ws / "output" / "intermediate").mkdir(parents=True, exist_ok=True)
        if (self.code / "requirements.txt").exists():
            print(
                "requirements.txt found: not installed (sagelocal runs scripts offline, with the "
                "platform's Python packages)",
                flush=True,
            )
        print("Training Env:\n\n" + json.dumps(env, indent=4, sort_keys=True), flush=True)
        print(f"\nInvoking script with the following command:\n\n{' '.join(self.cmd)}\n", flush=True)
        inherited = {k: v for k, v in os.environ.items() if k not in _AWS_INHERITED}
        user_env = spec.get("algorithm_env", {})  # the job's Environment (and the image's)
        self.env = {**inherited, **user_env, **sm_environment(env), **aws_environment(spec, ws)}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.code), os.environ.get("PYTHONPATH")]))
        self.env["PYTHONUNBUFFERED"] = "1"
        self.env.update(extra_env or {})
        for k in ("SAGELOCAL_JOB_SPEC", "SAGELOCAL_STATUS_FD", "SAGELOCAL_WORKSPACE"):
            self.env.pop(k, None)
        self._tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.proc = subprocess.Popen(self.cmd, cwd=self.code, env=self.env, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=_tee, args=(self.proc.stderr, self._tail), daemon=True)
        self._reader.start()

    def wait(self) -> int:
        """The exit code, once stderr is drained."""
        code = self.proc.wait()
        self._reader.join(timeout=10)
        return code

    def failure(self, exit_code: int) -> str:
        return format_error(exit_code, "".join(self._tail), self.cmd)


if __name__ == "__main__":  # credential_process: python -m sagelocal.compute.script_mode credentials FILE
    if sys.argv[1:2] == ["credentials"] and len(sys.argv) == 3:
        print(credential_process_output(sys.argv[2]))
    else:
        sys.exit("usage: python -m sagelocal.compute.script_mode credentials FILE")
