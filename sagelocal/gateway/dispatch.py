"""The request pipeline: identify → authenticate → parse → validate → call the provider → serialize.

Everything here is protocol-generic: codecs come from botocore's service models, providers are
plain Python, and every failure becomes the protocol's own error response.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from botocore import xform_name
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel

from sagelocal.blobs.spool import SpooledBody
from sagelocal.gateway.auth import Authenticator
from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.gateway.protocols import codec_for
from sagelocal.gateway.protocols.rest_codec import has_streaming_input
from sagelocal.gateway.protocols.validation import validate, validation_error
from sagelocal.gateway.routing import identify_service, service_model
from sagelocal.gateway.s3_addressing import to_path_style
from sagelocal.gateway.s3_post import (
    check_policy,
    check_signature,
    check_signature_v2,
    post_form_bucket,
    post_response,
    put_params,
    read_form,
)
from sagelocal.gateway.sigv4_canonical import signing_key
from sagelocal.gateway.upload import load_small_body, spool_upload, verify_small_body_digests
from sagelocal.services.authz_requests import ActionRequest
from sagelocal.services.base import NotImplementedOperation, Principal, Provider, RequestContext, ServiceError

log = logging.getLogger("sagelocal.gateway")

# Raises the protocol's AccessDenied unless the caller may do everything listed.
Authorize = Callable[[RequestContext, Sequence[ActionRequest]], None]
# An operation: plain (run on a worker thread) or a coroutine (awaited on the event loop).
Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


def _request_id(service: str) -> str:
    return secrets.token_hex(8).upper() if service == "s3" else str(uuid.uuid4())


def _internal_error(service: str) -> ServiceError:
    if service == "s3":
        return ServiceError("InternalError", "We encountered an internal error. Please try again.", 500)
    return ServiceError(
        "InternalFailure", "The request processing has failed because of an unknown error.", 500
    )


class Gateway:
    """Turns HttpRequests into HttpResponses for every service we serve."""

    def __init__(
        self,
        providers: dict[str, Provider],
        authenticator: Authenticator,
        default_region: str,
        clock: Callable[[], datetime],
        spool_dir: Path,
        authorize: Authorize | None = None,
    ) -> None:
        self.spool_dir = spool_dir
        self.authorize = authorize
        self.providers = providers
        self.authenticator = authenticator
        self.default_region = default_region
        self.clock = clock
        self._handlers: dict[tuple[str, str], Handler | None] = {}

    def handler_for(self, service: str, operation: str) -> Handler | None:
        """The provider's operation (preceded by its authorization when IAM is enforced), made
        once per operation."""
        key = (service, operation)
        if key not in self._handlers:
            provider = self.providers.get(service)
            handler = getattr(provider, xform_name(operation), None) if provider else None
            if handler is not None and self.authorize is not None:
                handler = self._authorized(handler, service, operation)
            self._handlers[key] = handler
        return self._handlers[key]

    async def handle(self, request: HttpRequest) -> HttpResponse:
        service = identify_service(request)
        request_id = _request_id(service)
        try:
            codec = codec_for(service_model(service))
        except UnknownServiceError:
            return HttpResponse(
                400,
                {"Content-Type": "application/json", "x-amzn-RequestId": request_id},
                f'{{"__type": "UnknownService", "message": "sagelocal does not serve {service}."}}'.encode(),
            )
        operation: OperationModel | None = None
        try:
            streamed = request.stream is not None
            auth = self.authenticator.authenticate(request, service, check_payload=not streamed)
            if service == "s3":
                request = to_path_style(request)
                bucket = post_form_bucket(request)
                if bucket is not None:
                    return self._finish(
                        service, await self._post_object(request, bucket, request_id), request_id
                    )
            operation, path_params = codec.find_operation(request)
            handler = self.handler_for(service, operation.name)
            if handler is None:
                raise NotImplementedOperation(service, operation.name)
            if streamed:
                if has_streaming_input(operation):
                    await spool_upload(request, auth.signature, auth.secret, self.spool_dir)
                else:
                    await load_small_body(request, auth.signature, auth.secret)
            if service == "s3" and not isinstance(request.body, SpooledBody):
                verify_small_body_digests(request)
            params = codec.parse(operation, request, path_params)
            problems = validate(operation, params, required_only=service == "s3")
            if problems:
                raise validation_error(service, problems)
            ctx = RequestContext(
                service=service,
                operation=operation.name,
                region=auth.region or self.default_region,
                account_id=auth.principal.account_id if auth.principal else self.authenticator.account_id,
                principal=auth.principal,
                request_id=request_id,
                source_ip=request.client_ip,
                secure_transport=request.scheme == "https",
                received_at=self.clock(),
            )
            if inspect.iscoroutinefunction(handler):  # waits on I/O only (InvokeEndpoint)
                result = await handler(ctx, params)  # type: ignore[misc]
            else:
                result = await anyio.to_thread.run_sync(handler, ctx, params)
            response = codec.serialize(operation, result or {}, request_id)
        except ServiceError as err:
            response = codec.serialize_error(err, operation, request_id, request)
        except Exception:
            log.exception("unhandled error in %s %s", service, operation.name if operation else "?")
            response = codec.serialize_error(_internal_error(service), operation, request_id, request)
        finally:
            if isinstance(request.body, SpooledBody):
                request.body.discard()  # a no-op once the provider adopted the file
        return self._finish(service, response, request_id)

    def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        region: str | None = None,
        source_ip: str | None = None,
    ) -> dict[str, Any]:
        """One operation for a caller that is already authenticated (the web console's signed-in
        user): the model's validation, the principal's IAM authorization and the provider, as over
        HTTP, without the wire. Raises ServiceError with AWS's code and message."""
        model = service_model(service).operation_model(operation)
        handler = self.handler_for(service, operation)
        if handler is None:
            raise NotImplementedOperation(service, operation)
        problems = validate(model, params, required_only=service == "s3")
        if problems:
            raise validation_error(service, problems)
        ctx = RequestContext(
            service=service,
            operation=operation,
            region=region or self.default_region,
            account_id=principal.account_id,
            principal=principal,
            request_id=_request_id(service),
            source_ip=source_ip,
            received_at=self.clock(),
        )
        if inspect.iscoroutinefunction(handler):
            raise NotImplementedOperation(service, operation)  # none the console needs is
        return handler(ctx, params) or {}

    def _authorized(self, handler: Handler, service: str, operation: str) -> Handler:
        """`handler` preceded by the authorization of what the operation needs (on the same thread;
        for a coroutine operation on the event loop, where cached policies make it CPU-only)."""
        authorize = self.authorize
        provider = self.providers[service]
        assert authorize is not None

        if inspect.iscoroutinefunction(handler):

            async def checked_async(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
                authorize(ctx, provider.authz_actions(ctx, operation, params))
                return await handler(ctx, params)  # type: ignore[no-any-return,misc]

            return checked_async

        def checked(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
            authorize(ctx, provider.authz_actions(ctx, operation, params))
            return handler(ctx, params)  # type: ignore[return-value]

        return checked

    async def _post_object(self, request: HttpRequest, bucket: str, request_id: str) -> HttpResponse:
        """S3's presigned POST: the form's policy and signature checked, then PutObject."""
        assert request.stream is not None
        form = await read_form(request.headers["content-type"], request.stream, self.spool_dir)
        try:
            principal = None
            token = form.fields.get("x-amz-security-token")
            if "x-amz-credential" in form.fields or "x-amz-signature" in form.fields:
                key_id, date, region, *_ = (form.fields.get("x-amz-credential", "") + "////").split("/")
                cred = self.authenticator.credential(key_id, token, "s3")
                check_signature(form, signing_key(cred.secret_access_key, date, region, "s3"))
                principal = cred.principal
            elif "awsaccesskeyid" in form.fields:
                cred = self.authenticator.credential(form.fields["awsaccesskeyid"], token, "s3")
                check_signature_v2(form, cred.secret_access_key)
                principal = cred.principal
            if "policy" in form.fields:
                check_policy(form, bucket, self.clock())
            elif principal is not None:
                raise ServiceError("InvalidArgument", "Bucket POST must contain a field named 'policy'.", 400)
            handler = self.handler_for("s3", "PutObject")
            if handler is None:
                raise NotImplementedOperation("s3", "PutObject")
            params = put_params(form, bucket)
            ctx = RequestContext(
                "s3",
                "PutObject",
                self.default_region,
                principal.account_id if principal else self.authenticator.account_id,
                principal,
                request_id,
                request.client_ip,
                request.scheme == "https",
                self.clock(),
            )
            result = await anyio.to_thread.run_sync(handler, ctx, params)
        except ServiceError as err:
            return codec_for(service_model("s3")).serialize_error(err, None, request_id, request)
        finally:
            if form.file is not None:
                form.file.discard()
        return post_response(form, request, params, result)

    @staticmethod
    def _finish(service: str, response: HttpResponse, request_id: str) -> HttpResponse:
        if service == "s3":
            response.headers.setdefault("x-amz-request-id", request_id)
            response.headers.setdefault("x-amz-id-2", request_id)
        else:
            response.headers.setdefault("x-amzn-RequestId", request_id)
        return response
