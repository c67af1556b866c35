"""The web console's sign-in (issue 9, first part), against a real server: over HTTP with httpx
(redirects, CSRF, lockout, cookies, security headers) and in Debian's Chromium through Playwright
(sign in with the administrator's first password, search a service, switch to Japanese, sign out),
with screenshots in test-artifacts/console/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.browser_support import chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


class ConsoleServer:
    def __init__(self, server: ServerProcess, account: str, password: str) -> None:
        self.server, self.account, self.password = server, account, password
        self.url = server.endpoint_url

    @property
    def account_display(self) -> str:
        return f"{self.account[:4]}-{self.account[4:8]}-{self.account[8:]}"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    home = tmp_path_factory.mktemp("console-home")
    log_path = home.parent / "console-server.log"
    with log_path.open("w") as log, ServerProcess(home, log=log) as server:
        printed = re.search(
            r"Console sign-in for account (\d{12}): user admin, password (\S+)", log_path.read_text()
        )
        assert printed is not None, log_path.read_text()
        yield ConsoleServer(server, printed.group(1), printed.group(2))


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def _sign_in(client: httpx.Client, console: ConsoleServer, user: str, password: str) -> httpx.Response:
    form = client.get("/console/signin")
    data = {"csrf": _csrf(form), "account": console.account_display, "username": user, "password": password}
    return client.post("/console/signin", data=data)


def test_a_browser_at_the_root_is_sent_to_the_console_and_aws_clients_are_not(console: ConsoleServer) -> None:
    with httpx.Client(base_url=console.url) as client:
        root = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        assert root.status_code == 302 and root.headers["location"] == "/console/"
        assert client.get("/console/").headers["location"] == "/console/signin"
        page = client.get("/console/signin")
    assert page.status_code == 200 and 'name="password" type="password"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    # signed requests keep their meaning: a bucket named "console" is S3's, not the console's
    aws = AwsClients(console.server)
    s3 = aws.client("s3")
    s3.create_bucket(
        Bucket="console", CreateBucketConfiguration={"LocationConstraint": console.server.region}
    )
    s3.put_object(Bucket="console", Key="index.html", Body=b"<p>mine</p>")
    assert s3.get_object(Bucket="console", Key="index.html")["Body"].read() == b"<p>mine</p>"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["console"]


def test_sign_in_needs_the_forms_csrf_token_and_the_right_password(console: ConsoleServer) -> None:
    with httpx.Client(base_url=console.url) as client:
        client.get("/console/signin")
        forged = client.post(
            "/console/signin",
            data={
                "csrf": "forged",
                "account": console.account,
                "username": "admin",
                "password": console.password,
            },
        )
        assert forged.status_code == 403 and "expired" in forged.text
        wrong = _sign_in(client, console, "admin", console.password + "x")
        assert wrong.status_code == 401 and "authentication information is incorrect" in wrong.text
        assert "sagelocal-console=" not in wrong.headers.get("set-cookie", "")
        other_account = client.get("/console/signin")
        data = {
            "csrf": _csrf(other_account),
            "account": "111122223333",
            "username": "admin",
            "password": console.password,
        }
        assert client.post("/console/signin", data=data).status_code == 401


def test_repeated_failures_lock_the_user_name_out(console: ConsoleServer) -> None:
    aws = AwsClients(console.server)
    aws.client("iam").create_user(UserName="console-carol")
    aws.client("iam").create_login_profile(UserName="console-carol", Password="Carol-Pass-9")
    with httpx.Client(base_url=console.url) as client:
        codes = [_sign_in(client, console, "console-carol", f"Wrong-Pass-{i}").status_code for i in range(5)]
        assert codes == [401] * 5
        locked = _sign_in(client, console, "console-carol", "Carol-Pass-9")  # even the right password waits
        assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
        assert _sign_in(client, console, "admin", console.password).status_code == 303  # other users are not


def test_a_session_signs_in_shows_the_account_and_signs_out(console: ConsoleServer) -> None:
    with httpx.Client(base_url=console.url) as client:
        signed = _sign_in(client, console, "admin", console.password)
        assert signed.status_code == 303 and signed.headers["location"] == "/console/home"
        cookie = signed.headers["set-cookie"]
        assert "sagelocal-console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        home = client.get("/console/home")
        assert home.status_code == 200
        assert f'<strong id="account">{console.account_display}</strong>' in home.text
        assert '<strong id="user">admin</strong>' in home.text
        found = client.get("/console/search", params={"q": "Sage"})
        assert found.status_code == 303 and found.headers["location"] == "/console/services/sagemaker"
        assert client.get("/console/search", params={"q": "nothing-like-it"}).status_code == 404
        ja = client.get("/console/lang/ja", params={"next": "/console/home"})
        assert ja.headers["location"] == "/console/home"
        assert "サインアウト" in client.get("/console/home").text
        assert client.get("/console/lang/ja", params={"next": "https://evil.example/"}).headers[
            "location"
        ] == ("/console/home")  # no open redirect
        signout = client.post("/console/signout", data={"csrf": _csrf(client.get("/console/home"))})
        assert signout.status_code == 303
        client.cookies.set(
            "sagelocal-console", cookie.split("sagelocal-console=")[1].split(";")[0], path="/console"
        )
        assert (
            client.get("/console/home").headers["location"].startswith("/console/signin")
        )  # the token is dead


def test_in_chromium_sign_in_search_japanese_and_sign_out(console: ConsoleServer) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(locale="en-US")
        page.goto(console.url + "/")
        assert page.url.endswith("/console/signin")
        page.fill("input[name=account]", console.account_display)
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", console.password)
        page.screenshot(path=str(ARTIFACTS / "01-signin.png"))
        page.click("button[type=submit]")
        page.wait_for_url("**/console/home")
        assert page.inner_text("#account") == console.account_display
        page.screenshot(path=str(ARTIFACTS / "02-home.png"))
        page.fill("input[name=q]", "Sage")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**/console/services/sagemaker")
        assert page.inner_text("#service-name") == "Amazon SageMaker"
        page.click("text=日本語")
        page.wait_for_url("**/console/services/sagemaker")
        assert page.inner_text("button:has-text('サインアウト')") == "サインアウト"
        page.screenshot(path=str(ARTIFACTS / "03-sagemaker-ja.png"))
        page.click("button:has-text('サインアウト')")
        page.wait_for_url("**/console/signin")
        assert "IAM ユーザーとしてサインイン" in page.content()
        page.screenshot(path=str(ARTIFACTS / "04-signed-out-ja.png"))
        ja_browser = browser.new_page(
            locale="ja-JP", extra_http_headers={"Accept-Language": "ja-JP,ja;q=0.9"}
        )
        ja_browser.goto(console.url + "/console/signin")
        assert "サインイン" in ja_browser.inner_text("h1")  # the browser's language is the default


def test_pages_show_what_the_users_own_api_calls_would_get(console: ConsoleServer) -> None:
    """The S3 page as a user with no policy: AWS's AccessDenied for ListAllMyBuckets, as the API would
    answer that user; once a policy allows it, the buckets."""
    aws = AwsClients(console.server)
    iam = aws.client("iam")
    iam.create_user(UserName="console-dave")
    iam.create_login_profile(UserName="console-dave", Password="Dave-Pass-77")
    aws.client("s3").create_bucket(
        Bucket="sagemaker-console-pages",
        CreateBucketConfiguration={"LocationConstraint": console.server.region},
    )
    with httpx.Client(base_url=console.url) as client:
        assert _sign_in(client, console, "console-dave", "Dave-Pass-77").status_code == 303
        denied = client.get("/console/services/s3")
        assert denied.status_code == 403
        assert (
            f"<strong>AccessDenied</strong>: User: arn:aws:iam::{console.account}:user/console-dave is not "
            "authorized to perform: s3:ListAllMyBuckets"
        ) in denied.text
        allow = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}'
        iam.put_user_policy(UserName="console-dave", PolicyName="list-buckets", PolicyDocument=allow)
        time.sleep(1.1)  # policies are cached for a second (IAM changes are eventually consistent)
        listed = client.get("/console/services/s3")
        assert listed.status_code == 200 and '<tr data-name="sagemaker-console-pages">' in listed.text
        sagemaker = client.get("/console/services/sagemaker")  # still not allowed to list notebooks
        assert sagemaker.status_code == 400  # SageMaker's AccessDeniedException is a 400, as on AWS
        assert "sagemaker:ListNotebookInstances" in sagemaker.text


def test_in_chromium_open_jupyterlab_from_the_notebook_instances_page(console: ConsoleServer) -> None:
    from tests.integration.notebook_support import unique, wait
    from tests.integration.role_support import sagemaker_role

    aws = AwsClients(console.server)
    sm = aws.client("sagemaker")
    role = sagemaker_role(aws.client("iam"), console.account, unique("console-nb-role"))
    name = unique("console-nb")
    sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role)
    try:
        wait(sm, "notebook_instance_in_service", name)
        with chromium() as browser:
            page = browser.new_page(locale="en-US")
            page.set_default_timeout(60_000)
            page.goto(console.url + "/console/services/sagemaker")
            page.fill("input[name=account]", console.account)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", console.password)
            page.click("button[type=submit]")
            page.wait_for_url("**/console/services/sagemaker")  # back where sign-in was asked for
            row = page.locator(f'tr[data-name="{name}"]')
            assert row.locator(".status").inner_text() == "InService"
            assert row.locator("td").nth(1).inner_text() == "ml.t2.medium"
            page.screenshot(path=str(ARTIFACTS / "05-notebook-instances.png"))
            row.locator("a", has_text="Open JupyterLab").click()
            page.wait_for_url("**/lab**")
            page.locator(".jp-LauncherCard").first.wait_for()  # JupyterLab's launcher is up
            page.screenshot(path=str(ARTIFACTS / "06-jupyterlab.png"))
    finally:
        sm.stop_notebook_instance(NotebookInstanceName=name)
        wait(sm, "notebook_instance_stopped", name)
        sm.delete_notebook_instance(NotebookInstanceName=name)
