"""Carrying out a clean-up plan, one resource at a time, through the public AWS API.

Each step takes one resource all the way (stop it, wait, delete it, wait until it is gone), so a
SIGINT or SIGTERM is honoured between resources: the current one is finished, the rest are
reported as not reached, and a rerun — which takes a fresh inventory and treats every NotFound
answer as done — picks up where this one stopped.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from sagelocal.billing.cleanup import (
    BUCKET,
    CODE_REPOSITORY,
    ENDPOINT,
    ENDPOINT_CONFIG,
    LIFECYCLE,
    MODEL,
    NOTEBOOK,
    ROLE,
    TRAINING,
    TRANSFORM,
    Item,
    is_gone,
)
from sagelocal.clients import ServerClients

Say = Callable[[str], None]
DONE, GONE, FAILED, NOT_REACHED = "done", "already gone", "failed", "not reached"
INTERRUPTED = "interrupted"


class StopRequest:
    """While entered, SIGINT and SIGTERM ask the run to stop after the current resource's step (a
    second SIGINT interrupts at once)."""

    def __init__(self, say: Say | None = None) -> None:
        self.signum: int | None = None
        self.say = say
        self._saved: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        if self.say:
            self.say(f"{signal.Signals(signum).name}: finishing the current step, then stopping.")

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()


@dataclass(frozen=True)
class Waits:
    """How often and how long to poll a resource that is changing state."""

    delay: float = 0.5
    attempts: int = 1200

    @property
    def config(self) -> dict[str, Any]:
        return {"Delay": self.delay, "MaxAttempts": self.attempts}


@dataclass
class Outcome:
    item: Item
    result: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.item.kind, "name": self.item.name, "region": self.item.region} | {
            "result": self.result,
            "detail": self.detail,
        }


class Steps:
    """The step for each kind of resource; each returns DONE, GONE or INTERRUPTED."""

    def __init__(self, clients: ServerClients, say: Say, stop: StopRequest, waits: Waits) -> None:
        self.clients, self.say, self.stop, self.waits = clients, say, stop, waits

    def client(self, service: str, item: Item) -> Any:
        if service == "iam":
            return self.clients.client("iam")
        return self.clients.client(service, region_name=item.region)

    def _poll(self, describe: Callable[[], dict[str, Any]], key: str, busy: tuple[str, ...]) -> str:
        """Describe until the status leaves `busy`; the status it reached."""
        for _ in range(self.waits.attempts):
            status = str(describe()[key])
            if status not in busy:
                return status
            time.sleep(self.waits.delay)
        raise TimeoutError(f"still {status} after {self.waits.delay * self.waits.attempts:.0f} s")

    def job(self, item: Item) -> str:
        sm = self.client("sagemaker", item)
        noun = "TrainingJob" if item.kind == TRAINING else "TransformJob"
        stop = sm.stop_training_job if item.kind == TRAINING else sm.stop_transform_job
        describe = sm.describe_training_job if item.kind == TRAINING else sm.describe_transform_job
        try:
            stop(**{f"{noun}Name": item.name})
        except ClientError as exc:
            if is_gone(exc):
                return GONE
            if exc.response["Error"]["Code"] != "ValidationException":  # no longer InProgress: fine
                raise
        # Wait for the end, so a stopping job writes nothing into a bucket emptied later.
        status = self._poll(
            lambda: describe(**{f"{noun}Name": item.name}), f"{noun}Status", ("InProgress", "Stopping")
        )
        self.say(f"  {noun} {item.name} is {status}")
        return DONE

    def endpoint(self, item: Item) -> str:
        sm = self.client("sagemaker", item)
        describe = lambda: sm.describe_endpoint(EndpointName=item.name)  # noqa: E731
        status = self._poll(
            describe, "EndpointStatus", ("Creating", "Updating", "SystemUpdating", "RollingBack")
        )
        if status != "Deleting":
            sm.delete_endpoint(EndpointName=item.name)
            self.say("  deleting; waiting until it is gone")
        sm.get_waiter("endpoint_deleted").wait(EndpointName=item.name, WaiterConfig=self.waits.config)
        return DONE

    def notebook(self, item: Item) -> str:
        sm = self.client("sagemaker", item)
        name = {"NotebookInstanceName": item.name}
        describe = lambda: sm.describe_notebook_instance(**name)  # noqa: E731
        while True:
            status = self._poll(describe, "NotebookInstanceStatus", ("Pending", "Updating", "Stopping"))
            if status == "InService":  # stop, then wait (above) until Stopped (or Failed)
                sm.stop_notebook_instance(**name)
                self.say("  stopping; waiting until Stopped")
                continue
            if status in ("Stopped", "Failed"):
                sm.delete_notebook_instance(**name)
                self.say("  deleting; waiting until it is gone")
            sm.get_waiter("notebook_instance_deleted").wait(**name, WaiterConfig=self.waits.config)
            return DONE

    def free(self, item: Item) -> str:
        sm = self.client("sagemaker", item)
        if item.kind == MODEL:
            sm.delete_model(ModelName=item.name)
        elif item.kind == ENDPOINT_CONFIG:
            sm.delete_endpoint_config(EndpointConfigName=item.name)
        elif item.kind == LIFECYCLE:
            sm.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=item.name)
        else:
            sm.delete_code_repository(CodeRepositoryName=item.name)
        return DONE

    def bucket(self, item: Item) -> str:
        """Empty the bucket a page of at most 1000 keys at a time (DeleteObjects), abort its
        multipart uploads, then delete it.

        Every page lists the bucket afresh from its first key, and the bucket itself goes only
        once nothing is left in it. So a run interrupted (or killed) while emptying leaves a bucket
        that still exists and still lists exactly the objects not yet deleted — billed for those,
        shown by the next inventory — and a rerun empties the rest and deletes it.
        """
        s3 = self.client("s3", item)
        removed = 0
        for versions in (False, True):
            while True:
                batch = self._object_page(s3, item.name, versions)
                if not batch:
                    break
                answer = s3.delete_objects(Bucket=item.name, Delete={"Objects": batch, "Quiet": True})
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise RuntimeError(f"could not delete {first.get('Key')}: {first.get('Message')}")
                removed += len(batch)
                if self.stop.requested:
                    self.say(f"  {removed} objects deleted; the rest remain for a rerun")
                    return INTERRUPTED
        for upload in s3.get_paginator("list_multipart_uploads").paginate(Bucket=item.name):
            for u in upload.get("Uploads", []):
                try:
                    s3.abort_multipart_upload(Bucket=item.name, Key=u["Key"], UploadId=u["UploadId"])
                except ClientError as exc:
                    if not is_gone(exc):
                        raise
        if removed:
            self.say(f"  {removed} objects deleted")
        s3.delete_bucket(Bucket=item.name)
        return DONE

    @staticmethod
    def _object_page(s3: Any, bucket: str, versions: bool) -> list[dict[str, str]]:
        if not versions:
            page = s3.list_objects_v2(Bucket=bucket, MaxKeys=1000)
            return [{"Key": o["Key"]} for o in page.get("Contents", [])]
        try:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NotImplemented", "MethodNotAllowed"):
                return []  # a server without versioning keeps no versions
            raise
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        return [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in entries if v.get("VersionId")]

    def role(self, item: Item) -> str:
        iam = self.client("iam", item)
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=item.name):
            for policy in page["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=item.name, PolicyArn=policy["PolicyArn"])
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=item.name):
            for policy_name in page["PolicyNames"]:
                iam.delete_role_policy(RoleName=item.name, PolicyName=policy_name)
        for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=item.name):
            for profile in page["InstanceProfiles"]:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=profile["InstanceProfileName"], RoleName=item.name
                )
        iam.delete_role(RoleName=item.name)
        return DONE

    def run(self, item: Item) -> str:
        by_kind: dict[str, Callable[[Item], str]] = {
            TRAINING: self.job,
            TRANSFORM: self.job,
            ENDPOINT: self.endpoint,
            NOTEBOOK: self.notebook,
            BUCKET: self.bucket,
            ROLE: self.role,
            MODEL: self.free,
            ENDPOINT_CONFIG: self.free,
            LIFECYCLE: self.free,
            CODE_REPOSITORY: self.free,
        }
        return by_kind[item.kind](item)


def execute(
    clients: ServerClients, items: list[Item], say: Say, stop: StopRequest, waits: Waits | None = None
) -> list[Outcome]:
    """Act on `items` in order; a failed step is reported and the others still run."""
    steps = Steps(clients, say, stop, waits or Waits())
    outcomes: list[Outcome] = []
    for index, item in enumerate(items):
        if stop.requested:
            outcomes += [Outcome(rest, NOT_REACHED) for rest in items[index:]]
            break
        say(f"{item.kind} {item.name} ({item.region}): {item.action}")
        try:
            outcome = Outcome(item, steps.run(item))
        except ClientError as exc:
            outcome = Outcome(item, GONE) if is_gone(exc) else Outcome(item, FAILED, str(exc))
        except (WaiterError, TimeoutError, RuntimeError) as exc:
            outcome = Outcome(item, FAILED, str(exc))
        say(f"  {outcome.result}" + (f": {outcome.detail}" if outcome.detail else ""))
        outcomes.append(outcome)
    return outcomes
