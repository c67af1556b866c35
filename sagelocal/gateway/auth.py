"""Authentication: who signed this request, and is the signature good?

Resolves the access key to a credential (IAM user key or STS session), checks the session
token and its expiry, then verifies the SigV4 signature with the secret. Errors are those of
the service's protocol family (query, json, rest-json, s3).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sagelocal.gateway.http import HttpRequest
from sagelocal.gateway.sigv2 import SigV2Info
from sagelocal.gateway.sigv4 import SignatureInfo, auth_error, parse_signature, verify_signature
from sagelocal.services.base import Principal
from sagelocal.services.identity import Credential, CredentialStore

FAMILIES = {
    "sts": "query",
    "iam": "query",
    "logs": "json",
    "sagemaker": "json",
    "sagemaker-runtime": "rest-json",
    "s3": "s3",
}


def family_of(service: str) -> str:
    """The protocol family whose error wording a service's auth failures use."""
    return FAMILIES.get(service, "json")


@dataclass(frozen=True)
class Authentication:
    """The outcome: who called (None: anonymous S3), the scope's region, and what a body
    streamed later still needs (the signature and the secret, for aws-chunked and payload hashes)."""

    principal: Principal | None
    region: str | None
    signature: SignatureInfo | SigV2Info | None = None
    secret: str | None = None


ANONYMOUS = Authentication(None, None)


class Authenticator:
    """Verifies SigV4 for every request; S3 alone admits anonymous requests."""

    def __init__(
        self,
        credentials: CredentialStore,
        account_id: str,
        clock: Callable[[], datetime],
        max_skew_seconds: int = 900,
    ) -> None:
        self.credentials = credentials
        self.account_id = account_id
        self.clock = clock
        self.max_skew = max_skew_seconds

    def authenticate(
        self, request: HttpRequest, service: str, *, check_payload: bool = True
    ) -> Authentication:
        """Verify the request's signature; `check_payload=False` when its body is read later."""
        family = family_of(service)
        info = parse_signature(request, family)
        if info is None:
            if family == "s3":
                return ANONYMOUS
            raise auth_error(family, "missing")
        cred = self.credential(info.access_key_id, info.security_token, family)
        verify_signature(
            request,
            info,
            cred.secret_access_key,
            self.clock(),
            self.max_skew,
            family,
            check_payload=check_payload,
        )
        return Authentication(cred.principal, info.region, info, cred.secret_access_key)

    def credential(self, access_key_id: str, token: str | None, family: str) -> Credential:
        """The active credential for a key, its session token checked and unexpired."""
        cred = self.credentials.lookup(access_key_id)
        if cred is None or not cred.active:
            raise auth_error(family, "unknown-key", access_key_id=access_key_id)
        if cred.session_token is not None:
            if not token or not hmac.compare_digest(token, cred.session_token):
                raise auth_error(family, "bad-token", access_key_id=access_key_id)
            if cred.expiration is not None and self.clock() >= cred.expiration:
                raise auth_error(family, "expired-token", access_key_id=access_key_id)
        return cred
