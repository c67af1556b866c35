"""The child process of one training job: ``python -m sagelocal.compute.runner``.

It reads its spec (JSON) from ``$SAGELOCAL_JOB_SPEC`` and reports on the file descriptor in
``$SAGELOCAL_STATUS_FD``, one JSON object a line: ``{"event": "phase", "status": ...}`` before
each phase and finally ``{"event": "done", ...}``. Its stdout/stderr (and the algorithm's) are
the job's log. S3 I/O uses the job role's temporary credentials, read from the file the spec
names (the supervisor keeps it fresh) at the start of each S3 phase, against the platform's own
endpoint. In script mode (``spec["framework"]`` set) it also fetches the source directory and
runs the user's entry point (`script_mode`) instead of a built-in algorithm. A non-empty
``output/data`` goes to ``output.tar.gz`` beside ``model.tar.gz``. Imports only the standard
library, boto3 and `sagelocal.compute`, never `sagelocal.services`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import IO, Any

from sagelocal.compute import script_mode

_stopping = False
_algorithm: subprocess.Popen[bytes] | None = None


class DownloadError(Exception):
    """The channel data could not be fetched: the user's mistake (ClientError)."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    global _stopping
    _stopping = True
    if _algorithm is not None and _algorithm.poll() is None:
        _algorithm.send_signal(signal.SIGTERM)
    elif _algorithm is None:
        raise SystemExit(143)  # stopped before training began


def _s3(spec: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config

    creds = json.loads(Path(spec["credentials_file"]).read_text())
    return boto3.client(
        "s3",
        endpoint_url=spec["endpoint_url"],
        region_name=spec["region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
    )


def split_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// or https:// S3 URI."""
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if uri.startswith("https://") and ".s3" in bucket:
        bucket = bucket.split(".s3", 1)[0]
    return bucket, key


def write_config(ws: Path, spec: dict[str, Any]) -> None:
    """input/config/*.json as SageMaker writes them, and the empty model/ and output/ dirs."""
    config = ws / "input" / "config"
    for d in (config, ws / "model", ws / "output" / "data", ws / "input" / "data"):
        d.mkdir(parents=True, exist_ok=True)
    channels = {}
    for ch in spec["channels"]:
        source = ch["DataSource"]["S3DataSource"]
        channels[ch["ChannelName"]] = {
            "TrainingInputMode": ch.get("InputMode", spec["input_mode"]),
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": ch.get("RecordWrapperType", "None"),
        } | ({"ContentType": ch["ContentType"]} if "ContentType" in ch else {})
    resource = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
    files = {"hyperparameters.json": spec["hyperparameters"], "inputdataconfig.json": channels}
    files["resourceconfig.json"] = resource
    for name, doc in files.items():
        (config / name).write_text(json.dumps(doc))


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    return keys


def channel_objects(s3: Any, source: dict[str, Any], spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(bucket, key, path relative to the channel dir) of every object a channel names."""
    uri = source["S3Uri"]
    bucket, prefix = split_s3_uri(uri)
    if source["S3DataType"] == "ManifestFile":
        body = s3.get_object(Bucket=bucket, Key=prefix)["Body"].read()
        entries = json.loads(body)
        base = entries[0]["prefix"]
        mbucket, mprefix = split_s3_uri(base)
        return [(mbucket, mprefix + rel, rel) for rel in entries[1:]]
    keys = _keys(s3, bucket, prefix)
    if not keys:
        raise DownloadError(
            f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that '
            f"the bucket exists in the selected region ({spec['region']}), that objects exist under "
            f'that S3 prefix, and that the role "{spec["role_arn"]}" has "s3:ListBucket" permissions '
            f'on bucket "{bucket}".'
        )
    cut = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return [(bucket, k, k[len(cut) :]) for k in keys]


def download(ws: Path, s3: Any, spec: dict[str, Any]) -> None:
    """Every channel's objects into input/data/<channel>/ (File mode, FullyReplicated)."""
    from botocore.exceptions import ClientError

    for ch in spec["channels"]:
        target = ws / "input" / "data" / ch["ChannelName"]
        target.mkdir(parents=True, exist_ok=True)
        current: str | None = None
        try:
            for bucket, key, rel in channel_objects(s3, ch["DataSource"]["S3DataSource"], spec):
                path = target / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                current = f"s3://{bucket}/{key}"
                s3.download_file(bucket, key, str(path))
        except ClientError as exc:
            uri = ch["DataSource"]["S3DataSource"]["S3Uri"]
            code = exc.response.get("Error", {}).get("Code", "")
            if current is not None and code in ("403", "AccessDenied", "Forbidden"):  # AWS's wording
                raise DownloadError(
                    f"Data download failed:Unable to download object {current} (AccessDenied: Access Denied)"
                ) from None
            raise DownloadError(f"Data download failed:Could not download {uri}: {exc}") from None


def upload_model(ws: Path, s3: Any, uri: str) -> None:
    """tar.gz the model/ directory's contents and put it at `uri`."""
    archive = ws.parent / f".{ws.name}.model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted((ws / "model").iterdir()):
            tar.add(item, arcname=item.name)
    bucket, key = split_s3_uri(uri)
    s3.upload_file(str(archive), bucket, key)
    archive.unlink()


def _read_metrics(ws: Path) -> dict[str, float]:
    try:
        doc = json.loads((ws / "output" / "metrics.json").read_text())
        return {str(k): float(v) for k, v in doc.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def upload_output_data(ws: Path, s3: Any, model_uri: str) -> str | None:
    """output/data's contents as output.tar.gz beside model.tar.gz, if there are any."""
    data = ws / "output" / "data"
    items = sorted(data.iterdir()) if data.is_dir() else []
    if not items:
        return None
    uri = model_uri.rsplit("/", 1)[0] + "/output.tar.gz"
    archive = ws.parent / f".{ws.name}.output.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in items:
            tar.add(item, arcname=item.name)
    bucket, key = split_s3_uri(uri)
    s3.upload_file(str(archive), bucket, key)
    archive.unlink()
    return uri


def _run_script(ws: Path, spec: dict[str, Any]) -> int:
    global _algorithm
    script = script_mode.UserScript(ws, spec)
    _algorithm = script.proc
    code = script.wait()
    if code != 0 and not _stopping:
        (ws / "output" / "failure").write_text(script.failure(code))
    return code


def _train(ws: Path, spec: dict[str, Any]) -> int:
    global _algorithm
    if spec.get("framework"):
        return _run_script(ws, spec)
    env = {**os.environ, **spec["algorithm_env"], "SAGELOCAL_WORKSPACE": str(ws)}
    for k in ("SAGELOCAL_JOB_SPEC", "SAGELOCAL_STATUS_FD"):
        env.pop(k, None)
    _algorithm = subprocess.Popen([*spec["algorithm_argv"], "--workspace", str(ws)], cwd=ws, env=env)
    return _algorithm.wait()


def run(spec: dict[str, Any], report: IO[str]) -> None:
    """All phases of one job; the outcome goes to `report` as the final `done` event."""
    ws = Path(spec["workspace"])

    def emit(event: str, **fields: Any) -> None:
        report.write(json.dumps({"event": event, **fields}) + "\n")
        report.flush()

    emit("phase", status="Downloading")
    s3 = _s3(spec)
    try:
        write_config(ws, spec)
        download(ws, s3, spec)
        if spec.get("framework"):
            script_mode.fetch_code(ws, s3, spec["hyperparameters"])
    except (DownloadError, script_mode.CodeError) as exc:
        emit("done", client_error=str(exc))
        return
    emit("phase", status="Training")
    code = _train(ws, spec)
    failure = ws / "output" / "failure"
    if code != 0 and not _stopping:
        text = failure.read_text(errors="replace") if failure.exists() else ""
        emit("done", exit_code=code, failure=text or None)
        return
    model = None
    if not _stopping or any((ws / "model").iterdir()):
        emit("phase", status="Uploading")
        s3 = _s3(spec)
        upload_model(ws, s3, spec["model_uri"])
        upload_output_data(ws, s3, spec["model_uri"])
        model = spec["model_uri"]
    emit("done", exit_code=code, model=model, metrics=_read_metrics(ws))


def _watch_parent(parent: int) -> None:
    """If the server dies, the job dies with it (recovery marks it Failed on restart)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    _watch_parent(os.getppid())
    spec = json.loads(os.environ["SAGELOCAL_JOB_SPEC"])
    with os.fdopen(int(os.environ["SAGELOCAL_STATUS_FD"]), "w") as report:
        run(spec, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
