"""Where multi-instance jobs run and which S3 objects each host receives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagelocal.compute.channels import host_share
from sagelocal.compute.runner import write_config
from sagelocal.settings import ComputeSettings

OBJECTS = [("b", f"data/part-{i}.csv", f"part-{i}.csv") for i in (3, 0, 4, 1, 2)]


def test_fully_replicated_gives_every_host_every_object() -> None:
    for host in range(3):
        assert host_share(OBJECTS, "FullyReplicated", host, 3) == OBJECTS


def test_sharded_by_s3_key_deals_objects_in_key_order() -> None:
    shares = [host_share(OBJECTS, "ShardedByS3Key", host, 2) for host in range(2)]
    assert [[o[1] for o in share] for share in shares] == [
        ["data/part-0.csv", "data/part-2.csv", "data/part-4.csv"],
        ["data/part-1.csv", "data/part-3.csv"],
    ]
    assert sorted(o for share in shares for o in share) == sorted(OBJECTS)  # each object exactly once


def test_sharded_with_more_hosts_than_objects_leaves_some_hosts_empty() -> None:
    shares = [host_share(OBJECTS[:1], "ShardedByS3Key", host, 3) for host in range(3)]
    assert [len(s) for s in shares] == [1, 0, 0]


def test_compute_settings_validate_and_a_scheduler_implies_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("COMPUTE", "DASK_SCHEDULER", "DASK_WORKER_MEMORY", "DASK_WORKER_WAIT")
    for name in (f"SAGELOCAL_{n}" for n in names):
        monkeypatch.delenv(name, raising=False)
    assert ComputeSettings().for_job() is None  # local by default
    assert ComputeSettings(dask_scheduler="tcp://10.0.0.5:8786").for_job() == {
        "scheduler": "tcp://10.0.0.5:8786",
        "worker_memory": "auto",
        "worker_wait": "60",
    }
    monkeypatch.setenv("SAGELOCAL_COMPUTE", "dask")
    monkeypatch.setenv("SAGELOCAL_DASK_WORKER_MEMORY", "2GiB")
    assert ComputeSettings().for_job() == {"scheduler": "", "worker_memory": "2GiB", "worker_wait": "60"}
    with pytest.raises(ValueError, match="must be one of local, dask"):
        ComputeSettings(backend="kubernetes")


def _spec(dask: dict[str, str] | None, count: int) -> dict[str, object]:
    return {
        "channels": [],
        "input_mode": "File",
        "hyperparameters": {},
        "instance_count": count,
        "dask": dask,
    }


def test_resourceconfig_lists_a_host_per_instance_only_on_dask(tmp_path: Path) -> None:
    write_config(tmp_path / "local", _spec(None, 3))
    write_config(tmp_path / "dask", _spec({"scheduler": "", "worker_memory": "auto"}, 3))
    local = json.loads((tmp_path / "local" / "input" / "config" / "resourceconfig.json").read_text())
    dask = json.loads((tmp_path / "dask" / "input" / "config" / "resourceconfig.json").read_text())
    assert local["hosts"] == ["algo-1"]
    assert dask == {
        "current_host": "algo-1",
        "hosts": ["algo-1", "algo-2", "algo-3"],
        "network_interface_name": "eth0",
    }
