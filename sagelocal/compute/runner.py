"""The child process of one training job: ``python -m sagelocal.compute.runner``.

It reads its spec (JSON) from ``$SAGELOCAL_JOB_SPEC`` and reports on the file descriptor in
``$SAGELOCAL_STATUS_FD``, one JSON object a line: ``{"event": "phase", "status": ...}`` before
each phase and finally ``{"event": "done", ...}``. Its stdout/stderr (and the algorithm's) are
the job's log. S3 I/O uses the job role's temporary credentials, read from the file the spec
names (the supervisor keeps it fresh) at the start of each S3 phase, against the platform's own
endpoint. In script mode (``spec["framework"]`` set) it also fetches the source directory and
runs the user's entry point (`script_mode`) instead of a built-in algorithm. A non-empty
``output/data`` goes to ``output.tar.gz`` beside ``model.tar.gz``. With the Dask backend
(``spec["dask"]``) the hosts are Dask workers (`multi_host`). Imports only the standard library,
boto3 and `sagelocal.compute` (and, on Dask, the distributed algorithm), never `sagelocal.services`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import IO, Any

from sagelocal.compute import dask_cluster, multi_host, script_mode
from sagelocal.compute.channels import DownloadError, download, s3_client, split_s3_uri

_stopping = False
_algorithm: subprocess.Popen[bytes] | None = None


def _on_sigterm(_signum: int, _frame: Any) -> None:
    global _stopping
    _stopping = True
    if _algorithm is not None and _algorithm.poll() is None:
        _algorithm.send_signal(signal.SIGTERM)
    elif _algorithm is None:
        raise SystemExit(143)  # stopped before training began


def _s3(spec: dict[str, Any]) -> Any:
    creds = json.loads(Path(spec["credentials_file"]).read_text())
    return s3_client(spec["endpoint_url"], spec["region"], creds)


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
    # The local backend trains on one node; the Dask backend has a host per instance.
    count = int(spec.get("instance_count", 1)) if spec.get("dask") else 1
    hosts = [f"algo-{i + 1}" for i in range(count)]
    resource = {"current_host": "algo-1", "hosts": hosts, "network_interface_name": "eth0"}
    files = {"hyperparameters.json": spec["hyperparameters"], "inputdataconfig.json": channels}
    files["resourceconfig.json"] = resource
    for name, doc in files.items():
        (config / name).write_text(json.dumps(doc))


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


def _run_script(ws: Path, spec: dict[str, Any], extra_env: dict[str, str] | None = None) -> int:
    global _algorithm
    script = script_mode.UserScript(ws, spec, extra_env)
    _algorithm = script.proc
    code = script.wait()
    if code != 0 and not _stopping:
        (ws / "output" / "failure").write_text(script.failure(code))
    return code


def _train(ws: Path, spec: dict[str, Any], hosts: multi_host.MultiHostJob | None) -> int:
    global _algorithm
    if spec.get("framework"):
        return _run_script(ws, spec, hosts.script_env() if hosts else None)
    if hosts is not None:
        return hosts.train_xgboost(spec["algorithm_env"].get("SAGELOCAL_XGBOOST_VERSION"))
    env = {**os.environ, **spec["algorithm_env"], "SAGELOCAL_WORKSPACE": str(ws)}
    for k in ("SAGELOCAL_JOB_SPEC", "SAGELOCAL_STATUS_FD"):
        env.pop(k, None)
    _algorithm = subprocess.Popen([*spec["algorithm_argv"], "--workspace", str(ws)], cwd=ws, env=env)
    return _algorithm.wait()


def run(spec: dict[str, Any], report: IO[str]) -> None:
    """All phases of one job; the outcome goes to `report` as the final `done` event."""
    ws = Path(spec["workspace"])
    lock = threading.Lock()  # the Dask watchdog may report from its own thread

    def emit(event: str, **fields: Any) -> None:
        with lock:
            report.write(json.dumps({"event": event, **fields}) + "\n")
            report.flush()

    hosts = multi_host.MultiHostJob(ws, spec, emit) if spec.get("dask") else None
    try:
        _run_phases(ws, spec, emit, hosts)
    finally:
        if hosts is not None:
            hosts.close()


def _run_phases(ws: Path, spec: dict[str, Any], emit: Any, hosts: multi_host.MultiHostJob | None) -> None:
    emit("phase", status="Downloading")
    s3 = _s3(spec)
    try:
        write_config(ws, spec)
        if hosts is None:
            download(ws, s3, spec)
        else:
            hosts.start()
            if spec.get("framework"):  # the entry point runs as algo-1: algo-1's share, here
                download(ws, s3, spec, host_index=0, host_count=hosts.count)
            else:
                hosts.download(s3)
        if spec.get("framework"):
            script_mode.fetch_code(ws, s3, spec["hyperparameters"])
    except (DownloadError, script_mode.CodeError) as exc:
        emit("done", client_error=str(exc))
        return
    except dask_cluster.CapacityError as exc:
        emit("done", exit_code=1, failure=str(exc))
        return
    emit("phase", status="Training")
    code = _train(ws, spec, hosts)
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
