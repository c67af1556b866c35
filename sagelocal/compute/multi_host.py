"""The Dask backend's part of a job process: hosts algo-1..N on Dask workers, their channel data, and
the built-in XGBoost algorithm trained across them (script mode runs the entry point as algo-1, with
the cluster's address, see `script_env`).

Each host receives its share of every channel (`channels.host_share`) from S3, downloaded *by its
worker* into the host's directory: ``<workspace>/hosts/algo-i`` for a LocalCluster, the worker's
local directory for an existing cluster. Lines meant for one host's log stream go to the supervisor
as ``{"event": "log", "host": ...}``. A watchdog fails the job if a worker leaves mid-job.
"""

from __future__ import annotations

import contextlib
import json
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagelocal.compute import channels, dask_cluster

Emit = Callable[..., None]


def host_dir(root: str | None, job: str, host: str) -> str:
    """On a worker: the host's directory (under `root`, else under the worker's local directory)."""
    if root is None:
        from distributed import get_worker

        root = str(Path(get_worker().local_directory) / "sagelocal-jobs" / job)
    return str(Path(root) / host)


def fetch_share(
    root: str | None, job: str, host: str, config: dict[str, Any], shares: dict[str, Any], s3: dict[str, Any]
) -> str:
    """On a worker: write the host's input/config and download its share of each channel."""
    base = Path(host_dir(root, job, host))
    (base / "input" / "config").mkdir(parents=True, exist_ok=True)
    for name, doc in config.items():
        (base / "input" / "config" / name).write_text(json.dumps(doc))
    client = channels.s3_client(s3["endpoint_url"], s3["region"], s3)
    for name, (uri, objects) in shares.items():
        channels.fetch(client, [tuple(o) for o in objects], base / "input" / "data" / name, uri)
    return str(base)


class MultiHostJob:
    """One job's cluster, from `start()` to `close()`."""

    def __init__(self, ws: Path, spec: dict[str, Any], emit: Emit) -> None:
        self.ws, self.spec, self.emit = ws, spec, emit
        self.count = max(1, int(spec.get("instance_count", 1)))
        self.hosts = [f"algo-{i + 1}" for i in range(self.count)]
        self.cluster: dask_cluster.Cluster | None = None
        self.watchdog: dask_cluster.Watchdog | None = None
        self.host_dirs: dict[str, str] = {}

    def say(self, host: str, line: str) -> None:
        if host == "algo-1":  # the job process's own output is algo-1's stream
            print(line, flush=True)
        else:
            self.emit("log", host=host, line=line)

    def start(self) -> None:
        """Acquire the workers (CapacityError if the cluster has too few) and start the watchdog."""
        dask = self.spec["dask"]
        wait = float(dask.get("worker_wait", 60))
        self.cluster = dask_cluster.acquire(
            self.count, dask.get("scheduler") or None, dask["worker_memory"], wait
        )
        kind = "a LocalCluster started for this job" if self.cluster.local else self.cluster.scheduler_address
        for host, address in self.cluster.hosts.items():
            limit = self.cluster.memory_limits.get(host, 0)
            memory = f", memory limit {limit / 2**30:.2f} GiB" if limit else ""
            self.say(
                host, f"{host} is Dask worker {address} (pid {self.cluster.pids[host]}{memory}) of {kind}"
            )
        self.watchdog = dask_cluster.Watchdog(self.cluster, self._lost).start()

    def _lost(self, _host: str, why: str) -> None:
        """A worker is gone: XGBoost's collective would wait for it forever, so the job ends now."""
        reason = f"AlgorithmError: {why}. Distributed training cannot go on without every host."
        try:
            (self.ws / "output").mkdir(parents=True, exist_ok=True)
            (self.ws / "output" / "failure").write_text(reason)
            self.emit("done", exit_code=1, failure=reason)
        finally:
            os._exit(1)  # the supervisor then ends the job's process group, LocalCluster included

    def resource_config(self, host: str) -> dict[str, Any]:
        return {"current_host": host, "hosts": self.hosts, "network_interface_name": "eth0"}

    def download(self, s3: Any) -> None:
        """Each host's share of each channel, fetched by its own worker. Raises DownloadError."""
        from botocore.exceptions import ClientError

        assert self.cluster is not None
        listed: dict[str, tuple[str, str, list[channels.Obj]]] = {}
        for ch in self.spec["channels"]:
            source = ch["DataSource"]["S3DataSource"]
            try:
                objects = channels.channel_objects(s3, source, self.spec)
            except ClientError as exc:
                raise channels.DownloadError(
                    f"Data download failed:Could not download {source['S3Uri']}: {exc}"
                ) from None
            dist = source.get("S3DataDistributionType", "FullyReplicated")
            listed[ch["ChannelName"]] = (source["S3Uri"], dist, objects)
        creds = json.loads(Path(self.spec["credentials_file"]).read_text())
        s3conf = {"endpoint_url": self.spec["endpoint_url"], "region": self.spec["region"], **creds}
        config = {
            name: json.loads((self.ws / "input" / "config" / name).read_text())
            for name in ("hyperparameters.json", "inputdataconfig.json")
        }
        root = str(self.ws / "hosts") if self.cluster.local is not None else None
        futures = {}
        for i, host in enumerate(self.hosts):
            shares = {}
            for name, (uri, dist, objects) in listed.items():
                share = channels.host_share(objects, dist, i, self.count)
                shares[name] = (uri, share)
                self.say(
                    host, f"Channel {name} ({dist}): {len(share)} of {len(objects)} S3 objects for {host}"
                )
            futures[host] = self.cluster.client.submit(
                fetch_share, root, self.spec["name"], host, config | {"resourceconfig.json": self.resource_config(host)},
                shares, s3conf, workers=[self.cluster.hosts[host]], allow_other_workers=False, pure=False,
            )  # fmt: skip
        for host, future in futures.items():
            self.host_dirs[host] = future.result()  # a DownloadError raised on the worker re-raises here

    def train_xgboost(self, version: str | None) -> int:
        """The built-in algorithm across the hosts; 0, or 1 with output/failure written."""
        from sagelocal.algorithms.xgboost import distributed
        from sagelocal.algorithms.xgboost.errors import XGBoostJobError

        assert self.cluster is not None
        client = self.cluster.client
        client.subscribe_topic(distributed.TOPIC, lambda event: print(event[1], flush=True))
        names = [ch["ChannelName"] for ch in self.spec["channels"]]
        hosts = [
            distributed.Host(h, self.cluster.hosts[h], {n: str(Path(self.host_dirs[h]) / "input" / "data" / n) for n in names})
            for h in self.hosts
        ]  # fmt: skip
        failure = self.ws / "output" / "failure"
        try:
            metrics = distributed.Trainer(client, hosts, self.say).train(
                self.ws / "input" / "config", self.ws / "model", version
            )
        except Exception as exc:
            if isinstance(exc, XGBoostJobError):
                reason = exc.failure_reason
            else:
                reason = f"AlgorithmError: framework error: \n{traceback.format_exc()}\n{exc}"[:1024]
            lost = self.watchdog.wait_missing(5.0) if self.watchdog is not None else None
            if lost is not None:  # the collective failed because a host died: say so
                reason = f"AlgorithmError: {lost[1]}. Distributed training cannot go on without every host."
            failure.write_text(reason)
            print(reason, flush=True)
            return 1
        finally:
            if self.watchdog is not None:
                self.watchdog.stop()
        (self.ws / "output" / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True))
        return 0

    def script_env(self) -> dict[str, str]:
        """What a script-mode entry point (run as algo-1) needs to use the job's workers with Dask."""
        assert self.cluster is not None
        address = self.cluster.scheduler_address
        return {"DASK_SCHEDULER_ADDRESS": address, "SAGELOCAL_DASK_SCHEDULER": address}

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.cluster is not None:
            if self.cluster.local is None:  # an existing cluster: tidy the hosts' directories
                with contextlib.suppress(Exception):
                    self.cluster.client.run(
                        _remove_job_dirs, self.spec["name"], workers=list(self.cluster.hosts.values())
                    )
            self.cluster.close()


def _remove_job_dirs(job: str, dask_worker: Any = None) -> None:
    """On each worker (`Client.run` passes `dask_worker`): remove the job's host directories."""
    import shutil

    shutil.rmtree(Path(dask_worker.local_directory) / "sagelocal-jobs" / job, ignore_errors=True)
