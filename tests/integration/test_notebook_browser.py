"""A real browser (Debian's Chromium through Playwright) opens a notebook instance's presigned URL,
lands in its JupyterLab, and runs a cell whose boto3 call acts as the instance's role. The same
URL once its lifetime has passed, and a forged one, are turned away with the 403 page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AwsClients
from tests.integration.browser_support import chromium, require_chromium
from tests.integration.notebook_support import URL_TTL, run_inside, unique, wait
from tests.integration.role_support import sagemaker_role

pytestmark = pytest.mark.slow

KERNEL_TIMEOUT_MS = 60_000
CELL = 'import boto3; print(boto3.client("sts").get_caller_identity()["Arn"])'


@pytest.fixture(scope="module")
def instance(notebook_aws: AwsClients) -> Iterator[tuple[str, str]]:
    """An InService instance: its name and its role's name."""
    require_chromium()
    sm = notebook_aws.client("sagemaker")
    account = notebook_aws.client("sts").get_caller_identity()["Account"]
    role_name = unique("nb-browser-role")
    role = sagemaker_role(notebook_aws.client("iam"), account, role_name)
    name = unique("nb-browser")
    sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role)
    wait(sm, "notebook_instance_in_service", name)
    yield name, role_name
    sm.stop_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_stopped", name)
    sm.delete_notebook_instance(NotebookInstanceName=name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_presigned_url_opens_jupyterlab_as_the_role(
    notebook_aws: AwsClients, instance: tuple[str, str], browser: Any
) -> None:
    name, role_name = instance
    sm = notebook_aws.client("sagemaker")
    url = sm.create_presigned_notebook_instance_url(NotebookInstanceName=name)["AuthorizedUrl"]
    minted = time.monotonic()
    assert url.startswith(
        "http://" + sm.describe_notebook_instance(NotebookInstanceName=name)["Url"] + "?authToken="
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(KERNEL_TIMEOUT_MS)
        page.goto(url)
        lab = page.url.split("/lab")[0]
        assert page.url == f"{lab}/lab"  # on to the instance's JupyterLab, the token stripped
        # A new notebook from the launcher, as a user makes one.
        page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # its kernel is up
        editor = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").first
        editor.click()
        page.keyboard.type(CELL)
        page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-NotebookPanel .jp-OutputArea-output").first
        output.wait_for()
        assert (
            output.inner_text().strip()
            == f"arn:aws:sts::{role_arn_account(notebook_aws)}:assumed-role/{role_name}/SageMaker"
        )
        assert "Untitled.ipynb" in run_inside(notebook_aws, name, "ls").stdout.split()  # saved in the volume
    finally:
        context.close()

    # The same URL, once its lifetime has passed, no longer opens anything.
    time.sleep(max(0.0, URL_TTL + 0.5 - (time.monotonic() - minted)))
    context = browser.new_context()
    try:
        page = context.new_page()
        reply = page.goto(url)
        assert reply is not None and reply.status == 403
        assert "expired or is invalid" in page.inner_text("body")
    finally:
        context.close()


def test_forged_url_is_refused(notebook_aws: AwsClients, instance: tuple[str, str], browser: Any) -> None:
    name, _ = instance
    sm = notebook_aws.client("sagemaker")
    url = sm.create_presigned_notebook_instance_url(NotebookInstanceName=name)["AuthorizedUrl"]
    token = url.split("authToken=")[1]
    body, signature = token.split(".")
    forged = url.replace(token, body + "." + signature[::-1])
    context = browser.new_context()
    try:
        page = context.new_page()
        for target in (forged, url.split("?")[0]):  # a bad signature; no token at all
            reply = page.goto(target)
            assert reply is not None and reply.status == 403, target
            assert "expired or is invalid" in page.inner_text("body")
            assert page.locator("input[type=password]").count() == 0  # no login form to guess at
    finally:
        context.close()


def role_arn_account(aws: AwsClients) -> str:
    return str(aws.client("sts").get_caller_identity()["Account"])
