"""A SIGKILL during a burst of writes loses no acknowledged write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

from sagelocal.launcher import ServerProcess


def _client(server: ServerProcess, service: str):  # type: ignore[no-untyped-def]
    env = server.client_env()
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )


def test_sigkill_during_write_burst_loses_no_acknowledged_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    acked_streams: list[str] = []
    acked_users: list[str] = []
    acked_events: list[str] = []
    stop = threading.Event()

    with (tmp_path / "server.log").open("w") as log:
        server = ServerProcess(home, log=log).start()
        _client(server, "logs").create_log_group(logGroupName="/burst")

        def write_streams(worker: int) -> None:
            logs = _client(server, "logs")
            i = 0
            while not stop.is_set():
                name = f"w{worker}-{i}"
                try:
                    logs.create_log_stream(logGroupName="/burst", logStreamName=name)
                    acked_streams.append(name)
                    msg = f"event {name}"
                    logs.put_log_events(
                        logGroupName="/burst",
                        logStreamName=name,
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": msg}],
                    )
                    acked_events.append(msg)
                except Exception:
                    return  # the server died under us: what was acknowledged is what counts
                i += 1

        def write_users() -> None:
            iam = _client(server, "iam")
            i = 0
            while not stop.is_set():
                try:
                    iam.create_user(UserName=f"burst-{i}")
                    acked_users.append(f"burst-{i}")
                except Exception:
                    return
                i += 1

        threads = [threading.Thread(target=write_streams, args=(w,)) for w in range(3)]
        threads.append(threading.Thread(target=write_users))
        for t in threads:
            t.start()
        time.sleep(2.0)
        server.kill()
        stop.set()
        for t in threads:
            t.join(10)

        assert len(acked_streams) > 10 and len(acked_users) > 3, "the burst should have written something"

        restarted = ServerProcess(home, port=server.port, log=log).start()
        try:
            logs = _client(restarted, "logs")
            streams: set[str] = set()
            for page in logs.get_paginator("describe_log_streams").paginate(logGroupName="/burst"):
                streams.update(s["logStreamName"] for s in page["logStreams"])
            assert set(acked_streams) <= streams
            events: set[str] = set()
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName="/burst"):
                events.update(e["message"] for e in page["events"])
            assert set(acked_events) <= events
            iam = _client(restarted, "iam")
            users = {u["UserName"] for p in iam.get_paginator("list_users").paginate() for u in p["Users"]}
            assert set(acked_users) <= users
        finally:
            restarted.stop()
