"""A real JupyterLab launched as notebook instances are: nothing without a presigned URL or its
session; a valid URL opens a cookie session that the REST API, xsrf checks and websockets accept."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sagelocal.notebook_server.identity import session_cookie_name
from sagelocal.notebook_server.launch import ready_path
from sagelocal.notebook_server.tokens import mint_session, mint_url_token
from tests.integration.browser_support import JupyterLab, running_jupyterlab

PROTECTED = ["/lab", "/lab/tree/x.ipynb", "/api/contents", "/api/kernels", "/files/x", "/api/terminals"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    with running_jupyterlab(tmp_path_factory.mktemp("notebook")) as server:
        (server.root / "x").write_text("secret data")
        print(f"JupyterLab ready in {server.startup_seconds:.2f}s")
        yield server


@pytest.fixture
def client(lab: JupyterLab) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lab.base_url, follow_redirects=False, timeout=30) as http:
        yield http


def signed_in(client: httpx.Client, lab: JupyterLab, session_seconds: int = 1800) -> str:
    """Open a presigned URL as a browser does; the session cookie's value."""
    reply = client.get(lab.presigned_url(session_seconds=session_seconds))
    assert reply.status_code == 302, reply.text
    assert reply.headers["location"] == "/lab"
    page = client.get("/lab")
    assert page.status_code == 200
    assert "_xsrf" in client.cookies
    return client.cookies[session_cookie_name(lab.instance)]


def ws_handshake(lab: JupyterLab, path: str, cookie: str = "") -> int:
    """The status of a websocket upgrade request, as the browser sends it for a kernel's channels."""
    with socket.create_connection(("127.0.0.1", lab.port), timeout=30) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{lab.port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {lab.base_url}\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        )
        sock.sendall(request.encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


def test_ready_path_needs_no_credentials(client: httpx.Client) -> None:
    reply = client.get(ready_path())
    assert reply.status_code == 200
    assert "version" in reply.json()


@pytest.mark.parametrize("path", PROTECTED)
def test_no_credentials_403(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 403


def test_refusal_is_a_page_for_browsers_and_json_for_the_api(client: httpx.Client) -> None:
    page = client.get("/lab")
    assert page.headers["content-type"].startswith("text/html")
    assert "expired or is invalid" in page.text
    assert "CreatePresignedNotebookInstanceUrl" in page.text
    assert "password" not in page.text.lower()
    api = client.post("/api/kernels", json={"name": "python3"})
    assert api.status_code == 403
    assert "CreatePresignedNotebookInstanceUrl" in api.json()["message"]


def test_no_login_form_and_no_jupyter_token(client: httpx.Client) -> None:
    assert client.get("/login").status_code == 403
    assert client.get("/api/contents", headers={"Authorization": "token x"}).status_code == 403
    assert client.get("/api/contents", params={"token": ""}).status_code == 403


def test_forged_expired_and_foreign_tokens_403(client: httpx.Client, lab: JupyterLab) -> None:
    forged = mint_url_token("not-the-secret", lab.instance, 1800)
    expired = mint_url_token(lab.secret, lab.instance, 1800, url_ttl=-1)
    foreign = mint_url_token(lab.secret, "another-instance", 1800)
    for token in (forged, expired, foreign, "garbage", lab.presigned_url().split("=")[1][:-2]):
        reply = client.get("/lab", params={"authToken": token})
        assert reply.status_code == 403, token
        assert "expired or is invalid" in reply.text
        assert client.get("/api/contents", params={"authToken": token}).status_code == 403
    assert not client.cookies


def test_valid_token_opens_a_cookie_session(client: httpx.Client, lab: JupyterLab) -> None:
    before = time.time()
    reply = client.get(lab.presigned_url("/lab/tree", session_seconds=3600) + "&reset")
    assert reply.status_code == 302
    assert reply.headers["location"] == "/lab/tree?reset="
    set_cookie = reply.headers["set-cookie"]
    assert set_cookie.startswith(f"{session_cookie_name(lab.instance)}=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/", "expires="):
        assert attribute in set_cookie
    expires = next(c for c in client.cookies.jar if c.name.startswith("sagelocal")).expires
    assert expires is not None and abs(expires - (before + 3600)) < 10
    assert client.get("/lab").status_code == 200


def test_session_drives_the_api_like_the_front_end(client: httpx.Client, lab: JupyterLab) -> None:
    session = signed_in(client, lab)
    contents = client.get("/api/contents")
    assert contents.status_code == 200
    assert "x" in {item["name"] for item in contents.json()["content"]}
    assert client.get("/files/x").status_code == 403  # jupyter's XSSI check: browsers send a Referer
    assert client.get("/files/x", headers={"Referer": f"{lab.base_url}/lab"}).text == "secret data"
    assert client.get("/api/me").json()["identity"]["username"] == lab.instance

    assert client.post("/api/kernels", json={"name": "python3"}).status_code == 403  # no xsrf header
    xsrf = {"X-XSRFToken": client.cookies["_xsrf"]}
    kernel = client.post("/api/kernels", json={"name": "python3"}, headers=xsrf)
    assert kernel.status_code == 201, kernel.text
    channels = f"/api/kernels/{kernel.json()['id']}/channels"
    try:
        assert ws_handshake(lab, channels) == 403
        cookie = f"{session_cookie_name(lab.instance)}={session}"
        assert ws_handshake(lab, channels, cookie) == 101
    finally:
        assert client.delete(f"/api/kernels/{kernel.json()['id']}", headers=xsrf).status_code == 204


def test_terminals_need_the_session_too(client: httpx.Client, lab: JupyterLab) -> None:
    session = signed_in(client, lab)
    xsrf = {"X-XSRFToken": client.cookies["_xsrf"]}
    terminal = client.post("/api/terminals", headers=xsrf)
    assert terminal.status_code == 200, terminal.text
    socket_path = f"/terminals/websocket/{terminal.json()['name']}"
    try:
        assert ws_handshake(lab, socket_path) == 403
        assert ws_handshake(lab, socket_path, f"{session_cookie_name(lab.instance)}={session}") == 101
    finally:
        assert client.delete(f"/api/terminals/{terminal.json()['name']}", headers=xsrf).status_code == 204


def test_the_bare_server_url_lands_in_lab(client: httpx.Client, lab: JupyterLab) -> None:
    url = lab.presigned_url("/")
    reply = client.get(url)  # jupyter's own redirect to default_url keeps the query
    assert (reply.status_code, reply.headers["location"]) == (302, "/lab?" + url.split("?")[1])
    landed = client.get(reply.headers["location"])
    assert (landed.status_code, landed.headers["location"]) == (302, "/lab")
    assert client.get("/lab").status_code == 200


def test_ended_session_403(client: httpx.Client, lab: JupyterLab) -> None:
    name = session_cookie_name(lab.instance)
    ended = mint_session(lab.secret, lab.instance, expires_at=time.time() - 1)
    other = mint_session(lab.secret, "another-instance", expires_at=time.time() + 600)
    url_token = mint_url_token(lab.secret, lab.instance, 1800)
    for value in (ended, other, url_token):
        assert client.get("/api/contents", headers={"Cookie": f"{name}={value}"}).status_code == 403
        assert client.get("/lab", headers={"Cookie": f"{name}={value}"}).status_code == 403

    session = signed_in(client, lab, session_seconds=1)
    time.sleep(1.2)
    assert client.get("/api/contents", headers={"Cookie": f"{name}={session}"}).status_code == 403


def test_a_new_url_replaces_the_session(client: httpx.Client, lab: JupyterLab) -> None:
    first = signed_in(client, lab)
    client.cookies.delete("_xsrf")
    second = signed_in(client, lab)
    assert first != second
    assert client.get("/api/contents").status_code == 200


def test_the_token_is_not_logged(lab: JupyterLab) -> None:
    url = lab.presigned_url()
    with httpx.Client() as http:
        http.get(url)
    assert url.split("authToken=")[1] not in Path(lab.log_path).read_text()
