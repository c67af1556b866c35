"""Jupyter Server identity provider: SageMaker-style presigned URLs (`?authToken=`) open a
browser session kept in a signed cookie; everything else is refused with 403, never a login form.

Configured by the environment: `SAGELOCAL_NOTEBOOK_INSTANCE` (the notebook instance's name) and
`SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE` (a file holding the signing secret, read once at start).
"""

from __future__ import annotations

import html
import json
import os
import time
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode

from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Bool, default

from sagelocal.notebook_server.tokens import (
    InvalidToken,
    mint_session,
    read_secret,
    verify_session,
    verify_url_token,
)

ENV_INSTANCE = "SAGELOCAL_NOTEBOOK_INSTANCE"
ENV_SECRET_FILE = "SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE"
TOKEN_ARGUMENT = "authToken"
COOKIE_PREFIX = "sagelocal-notebook-session"

REFUSED_MESSAGE = (
    "Invalid or expired auth token. The notebook URL has expired or is invalid: open the notebook "
    "instance again from the console or with CreatePresignedNotebookInstanceUrl."
)

_REFUSED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:4em auto;color:#222}}</style></head>
<body><h1>403 Forbidden</h1>
<p>The URL for notebook instance <strong>{instance}</strong> has expired or is invalid.</p>
<p>Open the notebook instance again from the console, or get a new URL with
<code>CreatePresignedNotebookInstanceUrl</code>.</p></body></html>
"""


def session_cookie_name(instance: str) -> str:
    """The session cookie's name; per instance, since browsers share cookies across ports."""
    return f"{COOKIE_PREFIX}-{instance}"


class PresignedUrlIdentityProvider(IdentityProvider):
    """Authenticates by presigned-URL token or session cookie; one user, named after the instance."""

    need_token = Bool(False)

    @default("token")
    def _token_default(self) -> str:
        return ""  # jupyter's shared token (and JUPYTER_TOKEN) play no part here

    @default("updatable_fields")
    def _updatable_fields_default(self) -> list[str]:
        return []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instance = os.environ.get(ENV_INSTANCE, "")
        secret_file = os.environ.get(ENV_SECRET_FILE, "")
        if not self.instance or not secret_file:
            raise RuntimeError(f"{ENV_INSTANCE} and {ENV_SECRET_FILE} must both be set")
        self._secret = read_secret(secret_file)
        self.cookie_name = session_cookie_name(self.instance)

    @property
    def login_available(self) -> bool:
        return False  # no /login form: a presigned URL is the only way in

    @property
    def logout_available(self) -> bool:
        return False

    def get_user(self, handler: web.RequestHandler) -> User | None:
        """The instance's user, or None for endpoints open to all; otherwise finishes with 403."""
        now = time.time()
        token = handler.get_query_argument(TOKEN_ARGUMENT, None)
        reason = "missing credentials"
        if token is not None:
            try:
                session_seconds = verify_url_token(self._secret, token, self.instance, now)
            except InvalidToken as exc:
                reason = f"authToken {exc.reason}"
            else:
                self._start_session(handler, now + session_seconds)
                return self._authenticated(handler, token_given=True)
        cookie = handler.get_cookie(self.cookie_name)
        if cookie is not None:
            if verify_session(self._secret, cookie, self.instance, now):
                return self._authenticated(handler, token_given=token is not None)
            if token is None:
                reason = "session cookie invalid or expired"
        if _allows_anonymous(handler):
            return None
        self._refuse(handler, reason)

    def _user(self) -> User:
        return User(username=self.instance, initials=self.instance[:2].upper())

    def _start_session(self, handler: web.RequestHandler, expires_at: float) -> None:
        handler.set_cookie(
            self.cookie_name,
            mint_session(self._secret, self.instance, expires_at),
            path=_base_url(handler),
            expires=expires_at,
            httponly=True,
            samesite="Lax",
            secure=handler.request.protocol == "https",
        )

    def _authenticated(self, handler: web.RequestHandler, token_given: bool) -> User:
        """The user; a browser page opened with `authToken` is first redirected to its bare URL."""
        if token_given and _is_page_view(handler):
            args = [
                (k, v)
                for k, v in parse_qsl(handler.request.query, keep_blank_values=True)
                if k != TOKEN_ARGUMENT
            ]
            location = "/" + (handler.request.path or "/").lstrip("/")  # never `//host`
            handler.set_header("Cache-Control", "no-store")
            handler.redirect(location + (f"?{urlencode(args)}" if args else ""))
            raise web.Finish()
        return self._user()

    def _refuse(self, handler: web.RequestHandler, reason: str) -> NoReturn:
        """Finish the request with 403: JSON for the API and websockets, a page for browsers."""
        self.log.warning("Refusing %s %s: %s", handler.request.method, handler.request.path, reason)
        handler.set_status(403)
        handler.set_header("Cache-Control", "no-store")
        if handler.get_cookie(self.cookie_name) is not None:
            handler.clear_cookie(self.cookie_name, path=_base_url(handler))
        if not isinstance(handler, APIHandler | WebSocketHandler):
            handler.set_header("Content-Type", "text/html; charset=UTF-8")
            raise web.Finish(_REFUSED_PAGE.format(instance=html.escape(self.instance)))
        handler.set_header("Content-Type", "application/json")
        raise web.Finish(json.dumps({"message": REFUSED_MESSAGE, "reason": "Forbidden"}))


def _base_url(handler: web.RequestHandler) -> str:
    return str(handler.settings.get("base_url", "/"))


def _is_page_view(handler: web.RequestHandler) -> bool:
    """A browser navigation: GET of a non-API, non-websocket handler."""
    return handler.request.method == "GET" and not isinstance(handler, APIHandler | WebSocketHandler)


def _allows_anonymous(handler: web.RequestHandler) -> bool:
    """Whether jupyter marks the handler's method @allow_unauthenticated (static files, /api...)."""
    method = getattr(handler, (handler.request.method or "").lower(), None)
    return bool(getattr(method, "__allow_unauthenticated", False))
