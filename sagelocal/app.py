"""Assembles the platform (store, home, providers, gateway) and serves it as one ASGI app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from sagelocal import __version__
from sagelocal.billing.monitor import BillingMonitor
from sagelocal.gateway.auth import Authenticator
from sagelocal.gateway.dispatch import Gateway
from sagelocal.gateway.http import Headers, HttpRequest, HttpResponse
from sagelocal.home import HomeInfo, initialise, lock_home
from sagelocal.services import build_providers
from sagelocal.services.base import utcnow
from sagelocal.services.identity import CredentialStore
from sagelocal.services.runtime.provider import RuntimeProvider
from sagelocal.services.runtime.status import live_endpoints
from sagelocal.settings import Settings
from sagelocal.store.db import Database

INTERNAL_PREFIX = "/_sagelocal/"

Scope = dict[str, Any]


@dataclass
class Platform:
    """Everything one running server holds."""

    settings: Settings
    db: Database
    home: HomeInfo
    gateway: Gateway
    lock: TextIO | None = None
    billing: BillingMonitor | None = None
    started: float = field(default_factory=time.monotonic)


def open_platform(settings: Settings) -> Platform:
    """Open (initialising on first use) the home and wire the services together.

    Raises HomeInUse if another server holds the home."""
    lock = lock_home(settings.home)
    db = Database(settings.resolved_database_url())
    home = initialise(settings, db, issue_console_password=True)
    authenticator = Authenticator(
        CredentialStore(db), home.account_id, utcnow, settings.max_clock_skew_seconds
    )
    spool_dir = settings.home / "blobs" / "tmp"
    providers = build_providers(db, settings)
    for provider in providers.values():
        provider.recover()  # before any request: finish or undo what a crash left half-done
    authorize = None
    if settings.iam_enforcement:
        from sagelocal.services.iam.authorizer import Authorizer
        from sagelocal.services.s3.authz_lookup import S3AuthzLookup

        lookup = S3AuthzLookup(db)
        authorize = Authorizer(db, lookup.bucket_policy, lookup.object_tags).check
    gateway = Gateway(providers, authenticator, settings.region, utcnow, spool_dir, authorize)
    counter = getattr(providers.get("s3"), "request_counter", None)
    billing = BillingMonitor(db, counter, settings.budget_usd)
    return Platform(settings, db, home, gateway, lock, billing)


def _internal_app(platform: Platform) -> Starlette:
    async def health(_: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "region": platform.settings.region,
                "account_id": platform.home.account_id,
                "uptime_seconds": round(time.monotonic() - platform.started, 3),
            }
        )

    async def endpoints(_: Request) -> JSONResponse:
        runtime = platform.gateway.providers.get("sagemaker-runtime")
        if not isinstance(runtime, RuntimeProvider):
            return JSONResponse({"Endpoints": []})
        return JSONResponse({"Endpoints": live_endpoints(runtime.hosting, runtime.metrics)})

    def notebooks() -> Any:
        provider = platform.gateway.providers.get("sagemaker")
        return getattr(provider, "notebook_runner", None)

    async def open_notebook(request: Request) -> Response:
        """A notebook instance's Url: on to its JupyterLab, the presigned token with it (the
        notebook server checks the token)."""
        runner = notebooks()
        if runner is None:
            return PlainTextResponse("Notebook instances are not available.", status_code=404)
        target, problem = await anyio.to_thread.run_sync(
            runner.access.browser_target,
            platform.home.account_id,
            request.path_params["region"],
            request.path_params["name"],
        )
        if problem:
            return PlainTextResponse(problem, status_code=404)
        query = request.url.query
        return RedirectResponse(target + ("?" + query if query else ""), status_code=302)

    async def notebook_credentials(request: Request) -> Response:
        """The container-credentials endpoint boto3 calls inside notebook instances."""
        runner = notebooks()
        token = request.headers.get("authorization", "")
        creds = await anyio.to_thread.run_sync(runner.access.credentials, token) if runner and token else None
        if creds is None:
            return JSONResponse(
                {"message": "Invalid or expired notebook credentials token."}, status_code=403
            )
        return JSONResponse(creds)

    async def notebook_volumes(_: Request) -> JSONResponse:
        runner = notebooks()
        volumes = await anyio.to_thread.run_sync(runner.access.volumes) if runner else []
        return JSONResponse({"NotebookInstances": volumes})

    async def cost(request: Request) -> JSONResponse:
        """The cost report (`sagelocal cost --json`): ?since=ISO|7d&by=resource|type|day
        &region=R&free_tier=1&use_proxies=1."""
        from sagelocal.billing.cli import report_from_query

        try:
            body = await anyio.to_thread.run_sync(
                report_from_query, platform.db, platform.billing, dict(request.query_params)
            )
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        return JSONResponse(body)

    return Starlette(
        routes=[
            Route("/_sagelocal/cost", cost),
            Route("/_sagelocal/health", health),
            Route("/_sagelocal/endpoints", endpoints),
            Route("/_sagelocal/notebooks", notebook_volumes),
            Route("/_sagelocal/notebooks/{region}/{name}", open_notebook),
            Route("/_sagelocal/notebook-credentials", notebook_credentials),
        ]
    )


async def _body_stream(receive: Any) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("client disconnected before the body was complete")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _streams_body(scope: Scope) -> bool:
    """Uploads (S3's PUTs and browser-form POSTs) are streamed to disk by the gateway; every
    other body is read whole."""
    if scope["method"] == "PUT":
        return True
    if scope["method"] != "POST":
        return False
    ctype = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    return ctype.lower().startswith(b"multipart/form-data")


def _to_request(scope: Scope, receive: Any) -> HttpRequest:
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    client = scope.get("client")
    return HttpRequest(
        method=scope["method"],
        path=path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
        client_ip=client[0] if client else None,
        scheme=scope.get("scheme", "http"),
        stream=_body_stream(receive),
    )


async def _send(send: Any, response: HttpResponse, head_only: bool) -> None:
    body = response.body
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()]
    if isinstance(body, bytes):
        if not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    try:
        if head_only:
            pass
        elif hasattr(body, "__aiter__"):
            async for chunk in body:  # type: ignore[union-attr]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:  # a blocking iterable (file chunks): read each piece off the event loop
            chunks = iter(body)  # type: ignore[arg-type]
            while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        close = getattr(body, "close", None) or getattr(body, "aclose", None)
        if close is not None:
            result = close()
            if hasattr(result, "__await__"):
                await result
    await send({"type": "http.response.body", "body": b""})


def create_app(platform: Platform) -> Any:
    """The ASGI app: internal routes under /_sagelocal/, the web console under /console (and a
    browser's unsigned GET of /), every AWS service on the rest."""
    from sagelocal.console.app import PREFIX, Console, is_browser_at_root, is_console_request

    internal = _internal_app(platform)
    console = Console(platform.db, platform.home.account_id, platform.settings.region, platform.gateway).app()
    gateway = platform.gateway

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if platform.billing is not None:
                        platform.billing.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    for provider in gateway.providers.values():
                        await anyio.to_thread.run_sync(provider.shutdown)
                    if platform.billing is not None:
                        await anyio.to_thread.run_sync(platform.billing.close)
                    platform.db.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"].startswith(INTERNAL_PREFIX):
            await internal(scope, receive, send)
            return
        if is_console_request(scope):
            await console(scope, receive, send)
            return
        if is_browser_at_root(scope):
            await RedirectResponse(PREFIX + "/", status_code=302)(scope, receive, send)
            return
        request = _to_request(scope, receive)
        if not _streams_body(scope):
            await request.load_body()
        response = await gateway.handle(request)
        await _send(send, response, scope["method"] == "HEAD")

    return app
