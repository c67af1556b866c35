"""The SageMaker SDK's hard-wired STS calls reach the server once the compat module is imported,
and its waits poll at seconds' scale, not SageMaker's minutes."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import AwsClients

SCRIPT = """
import sagelocal.compat.sagemaker_sdk as compat
import sagemaker
from sagemaker.telemetry import telemetry_logging
from sagemaker import utils

assert "sagemaker.session.sts_regional_endpoint" in compat.PATCHED, compat.PATCHED
session = sagemaker.Session()
print(utils.sts_regional_endpoint(session.boto_region_name))
print(session.account_id())
print(telemetry_logging._send_telemetry_request(0, [1], session) is None)
import time
from sagemaker import session as session_module
started = time.monotonic()
assert session_module._wait_until(lambda: "done", 30) == "done"  # deploy()'s 30 s endpoint poll
print(round(time.monotonic() - started, 2))
"""


def test_sdk_sts_calls_honour_the_endpoint(aws: AwsClients) -> None:
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    endpoint, account, telemetry_silenced, waited = proc.stdout.split()[-4:]
    assert endpoint == aws.server.endpoint_url
    assert account == aws.server.health()["account_id"]
    assert telemetry_silenced == "True"
    assert float(waited) < 2, "the SDK's poll interval should be capped at SAGELOCAL_SDK_POLL_SECONDS"


def test_without_endpoint_settings_aws_endpoint_is_kept(aws: AwsClients) -> None:
    env = {k: v for k, v in aws.env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    code = "import sagelocal.compat.sagemaker_sdk\nfrom sagemaker import utils\nprint(utils.sts_regional_endpoint('ap-northeast-1'))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "https://sts.ap-northeast-1.amazonaws.com"
