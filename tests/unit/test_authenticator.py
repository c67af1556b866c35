"""The authenticator: keys resolved from the store, session tokens checked, expiry honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sagelocal.gateway.auth import Authenticator
from sagelocal.services.base import RequestContext, ServiceError
from sagelocal.services.iam.identity import bootstrap_admin
from sagelocal.services.identity import CredentialStore
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database
from sagelocal.store.models import Base
from tests.unit import sigv4_helpers as signers

ACCOUNT = "123456789012"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Database, str]:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    Base.metadata.create_all(db.engine)
    bootstrap_admin(db, ACCOUNT, access_key_id=signers.ACCESS_KEY, secret_access_key=signers.SECRET)
    return db, signers.ACCESS_KEY


def _session_credentials(db: Database, auth: Authenticator) -> dict[str, object]:
    principal = auth.authenticate(
        signers.capture(signers.client("sts"), "get_caller_identity"), "sts"
    ).principal
    ctx = RequestContext("sts", "GetSessionToken", "ap-northeast-1", ACCOUNT, principal, "rid")
    return StsProvider(db).get_session_token(ctx, {"DurationSeconds": 900})["Credentials"]


def test_session_credentials_work_until_they_expire(setup: tuple[Database, str]) -> None:
    db, _ = setup
    now = [datetime.now(UTC)]
    auth = Authenticator(CredentialStore(db), ACCOUNT, lambda: now[0])
    creds = _session_credentials(db, auth)

    def request():  # type: ignore[no-untyped-def]
        c = signers.client(
            "sts",
            access_key=creds["AccessKeyId"],
            secret=creds["SecretAccessKey"],
            token=creds["SessionToken"],
        )
        return signers.capture(c, "get_caller_identity")

    result = auth.authenticate(request(), "sts")
    assert result.principal is not None and result.principal.arn.endswith(":user/admin")
    assert result.region == "ap-northeast-1"

    # botocore signs with the real time; our clock moves past the expiry (skew allowance widened
    # so that only the token's expiry can refuse the request)
    now[0] = creds["Expiration"] + timedelta(seconds=1)  # type: ignore[operator]
    auth.max_skew = 10**6
    with pytest.raises(ServiceError) as err:
        auth.authenticate(request(), "sts")
    assert (err.value.code, err.value.status) == ("ExpiredToken", 403)
    with pytest.raises(ServiceError) as err:
        auth.authenticate(request(), "logs")
    assert err.value.code == "ExpiredTokenException"


def test_unknown_and_missing(setup: tuple[Database, str]) -> None:
    db, _ = setup
    auth = Authenticator(CredentialStore(db), ACCOUNT, lambda: datetime.now(UTC))
    req = signers.capture(signers.client("sts"), "get_caller_identity")
    req.headers = signers.with_headers(
        req, authorization=req.headers["authorization"].replace("AKIASAGE", "AKIAXXXX")
    ).headers
    with pytest.raises(ServiceError) as err:
        auth.authenticate(req, "sts")
    assert err.value.code == "InvalidClientTokenId"
