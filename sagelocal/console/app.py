"""The web console's HTTP side, under ``/console``: sign-in and sign-out as an IAM user, the header
(services, search, region, language) and the pages. It has no business logic: sign-in checks the
IAM login profile (`services.iam.login_profiles.check_password`).

Every form carries a CSRF token (sign-in: a cookie it must match; signed in: the session's), and every
answer carries security headers (a strict Content-Security-Policy: no inline script or style).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sagelocal.console.i18n import LANGUAGES, language, translator
from sagelocal.console.pages import PAGES
from sagelocal.console.sessions import COOKIE, ConsoleSession, SessionStore
from sagelocal.console.throttle import SignInThrottle
from sagelocal.services.base import ServiceError
from sagelocal.services.iam.login_profiles import check_password

PREFIX = "/console"
HERE = Path(__file__).parent
CSRF_COOKIE = "sagelocal-console-csrf"
LANG_COOKIE = "sagelocal-console-lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# (slug, message key, words a search matches)
SERVICES = [
    ("sagemaker", "svc_sagemaker", "sagemaker machine learning notebook training endpoint"),
    ("s3", "svc_s3", "s3 simple storage bucket object"),
    ("iam", "svc_iam", "iam identity access management user role policy"),
    ("logs", "svc_logs", "cloudwatch logs log"),
    ("billing", "svc_billing", "billing cost budget clean-up cleanup"),
]


def account_display(account_id: str) -> str:
    """As the AWS console shows an account ID: 1234-5678-9012."""
    return "-".join(account_id[i : i + 4] for i in (0, 4, 8))


def find_service(query: str) -> str | None:
    """The slug of the first service whose name or words contain `query` (case-insensitive)."""
    q = query.strip().lower()
    if not q:
        return None
    for slug, _key, words in SERVICES:
        if q in slug or any(word.startswith(q) or q in word for word in words.split()):
            return slug
    return None


class Console:
    """The console of one platform: its sessions, sign-in throttle and templates."""

    def __init__(self, db: Any, account_id: str, region: str, gateway: Any) -> None:
        self.db, self.account_id, self.region, self.gateway = db, account_id, region, gateway
        self.sessions = SessionStore()
        self.throttle = SignInThrottle()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
        )

    # ------------------------------------------------------------------ helpers
    def session(self, request: Request) -> ConsoleSession | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        session = self.session(request)
        page = self.templates.get_template(name).render(
            t=translator(lang), lang=lang, languages=LANGUAGES, session=session, prefix=PREFIX,
            region=self.region, account=account_display(self.account_id), services=SERVICES,
            here=request.url.path, **context,
        )  # fmt: skip
        return secure(HTMLResponse(page, status_code=status))

    def signed_in(self, request: Request) -> ConsoleSession | Response:
        session = self.session(request)
        if session is None:
            target = f"{PREFIX}/signin?next={quote(request.url.path)}"
            return secure(RedirectResponse(target, status_code=303))
        return session

    # ------------------------------------------------------------------ pages
    async def root(self, request: Request) -> Response:
        target = "/home" if self.session(request) else "/signin"
        return secure(RedirectResponse(PREFIX + target, status_code=303))

    async def signin_form(self, request: Request) -> Response:
        return self._signin_page(request)

    def _signin_page(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        token = secrets.token_urlsafe(32)
        response = self.render(
            request,
            "signin.html",
            status,
            csrf=token,
            error=error,
            next=_safe_next(request.query_params.get("next")),
        )
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=PREFIX)
        return response

    async def signin(self, request: Request) -> Response:
        form = await request.form()
        t = translator(language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))
        cookie, sent = request.cookies.get(CSRF_COOKIE, ""), str(form.get("csrf", ""))
        if not cookie or not secrets.compare_digest(cookie, sent):
            return self._signin_page(request, t["expired_form"], 403)
        account = re.sub(r"[\s-]", "", str(form.get("account", "")))
        user, password = str(form.get("username", "")), str(form.get("password", ""))
        key = f"{account}/{user.lower()}"
        wait = self.throttle.wait_seconds(key)
        if wait > 0:
            return self._signin_page(request, t["locked"].format(seconds=int(wait) + 1), 429)
        found = None
        if account == self.account_id and user and password:
            found = await anyio.to_thread.run_sync(check_password, self.db, self.account_id, user, password)
        if found is None:
            self.throttle.failed(key)
            return self._signin_page(request, t["bad_credentials"], 401)
        self.throttle.succeeded(key)
        session = self.sessions.open(self.account_id, found.name, found.arn, found.user_id)
        response = secure(RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303))
        response.set_cookie(
            COOKIE,
            session.token,
            max_age=int(self.sessions.lifetime),
            httponly=True,
            samesite="strict",
            path=PREFIX,
        )
        response.delete_cookie(CSRF_COOKIE, path=PREFIX)
        return response

    async def signout(self, request: Request) -> Response:
        session = self.session(request)
        form = await request.form()
        if session is not None and secrets.compare_digest(session.csrf, str(form.get("csrf", ""))):
            self.sessions.close(session.token)
        response = secure(RedirectResponse(PREFIX + "/signin", status_code=303))
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    async def home(self, request: Request) -> Response:
        session = self.signed_in(request)
        if isinstance(session, Response):
            return session
        return self.render(request, "home.html")

    async def service(self, request: Request) -> Response:
        session = self.signed_in(request)
        if isinstance(session, Response):
            return session
        slug = request.path_params["slug"]
        match = next((s for s in SERVICES if s[0] == slug), None)
        if match is None:
            return self.render(request, "home.html", 404)
        build = PAGES.get(slug)
        if build is None:
            return self.render(request, "service.html", service=match)
        context = await anyio.to_thread.run_sync(build, self._caller(request, session))
        error = context["error"]
        status = error.status if error is not None else 200
        return self.render(request, f"{slug}.html", status, service=match, **context)

    def _caller(self, request: Request, session: ConsoleSession) -> Any:
        """`call(service, operation, params)` as the session's user (blocking: run it off the loop)."""
        client = request.client.host if request.client else None

        def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
            return self.gateway.call(service, operation, params, session.principal, self.region, client)  # type: ignore[no-any-return]

        return call

    async def open_notebook(self, request: Request) -> Response:
        """Open JupyterLab: a presigned URL made as the user (CreatePresignedNotebookInstanceUrl), then on
        to it. A link, as in AWS's console (a form could not follow the redirect to JupyterLab's own
        origin under `form-action 'self'`); the SameSite=Strict session keeps other sites from using it."""
        session = self.signed_in(request)
        if isinstance(session, Response):
            return session
        params = {"NotebookInstanceName": request.path_params["name"]}
        call = self._caller(request, session)
        try:
            made = await anyio.to_thread.run_sync(
                call, "sagemaker", "CreatePresignedNotebookInstanceUrl", params
            )
        except ServiceError as err:
            context = await anyio.to_thread.run_sync(PAGES["sagemaker"], call)
            service = next(s for s in SERVICES if s[0] == "sagemaker")
            return self.render(
                request, "sagemaker.html", err.status, service=service, **context | {"error": err}
            )
        return secure(RedirectResponse(made["AuthorizedUrl"], status_code=303))

    async def search(self, request: Request) -> Response:
        session = self.signed_in(request)
        if isinstance(session, Response):
            return session
        query = request.query_params.get("q", "")
        slug = find_service(query)
        if slug is None:
            return self.render(request, "home.html", 404, query=query)
        return secure(RedirectResponse(f"{PREFIX}/services/{slug}", status_code=303))

    async def set_language(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        response = secure(RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303))
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path=PREFIX)
        return response

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(PREFIX, self.root),
                Route(PREFIX + "/", self.root),
                Route(PREFIX + "/signin", self.signin_form, methods=["GET"]),
                Route(PREFIX + "/signin", self.signin, methods=["POST"]),
                Route(PREFIX + "/signout", self.signout, methods=["POST"]),
                Route(PREFIX + "/home", self.home),
                Route(PREFIX + "/search", self.search),
                Route(PREFIX + "/services/{slug}", self.service),
                Route(PREFIX + "/sagemaker/notebooks/{name}/open", self.open_notebook),
                Route(PREFIX + "/lang/{lang}", self.set_language),
                Mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="static"),
            ]
        )


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def _safe_next(target: str | None) -> str:
    """Only a console path may follow sign-in or a language switch (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/home"


def is_console_request(scope: dict[str, Any]) -> bool:
    """A browser's request for the console: under /console, unsigned (no Authorization header, no
    presigned query) and not an S3 browser-form upload, so a bucket named "console" still works."""
    path = scope["path"]
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return False
    headers = dict(scope["headers"])
    if b"authorization" in headers:
        return False
    query = scope.get("query_string", b"")
    if b"X-Amz-Signature=" in query or b"Signature=" in query:
        return False
    return not headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")


def is_browser_at_root(scope: dict[str, Any]) -> bool:
    """An unsigned browser GET of `/` (S3's ListBuckets is always signed): sent to the console."""
    if scope["path"] != "/" or scope["method"] != "GET" or scope.get("query_string"):
        return False
    headers = dict(scope["headers"])
    return b"authorization" not in headers and b"text/html" in headers.get(b"accept", b"")
