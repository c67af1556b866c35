"""IAM's internal API: bootstrap_admin, find_access_key, find_role_by_arn, recording use."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sagelocal.services.iam.identity import (
    bootstrap_admin,
    find_access_key,
    find_role_by_arn,
    record_access_key_use,
    record_role_use,
)
from sagelocal.services.iam.provider import IamProvider
from tests.unit.iam_helpers import ACCOUNT, TRUST_SAGEMAKER, IamClient, admin_principal, make_db


def test_bootstrap_admin_is_idempotent(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    key_id, secret = bootstrap_admin(db, ACCOUNT)
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key_id)
    assert re.fullmatch(r"[A-Za-z0-9/+]{40}", secret)
    assert bootstrap_admin(db, ACCOUNT) == (key_id, secret)

    iam = IamClient(IamProvider(db), admin_principal(db))
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["admin"]
    assert iam.list_attached_user_policies(UserName="admin")["AttachedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    ]
    assert len(iam.list_access_keys(UserName="admin")["AccessKeyMetadata"]) == 1

    # Another account gets its own admin.
    other_id, _ = bootstrap_admin(db, "210987654321")
    assert other_id != key_id
    # If the admin lost its keys, a new one is made (with chosen values, if given).
    iam.delete_access_key(UserName="admin", AccessKeyId=key_id)
    assert bootstrap_admin(db, ACCOUNT, access_key_id="AKIAEXAMPLE000000001", secret_access_key="s" * 40) == (
        "AKIAEXAMPLE000000001",
        "s" * 40,
    )


def test_find_access_key(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    key_id, secret = bootstrap_admin(db, ACCOUNT)
    with db.read() as s:
        key = find_access_key(s, key_id)
        assert find_access_key(s, "AKIADOESNOTEXIST0000") is None
    assert key is not None
    assert (key.secret_access_key, key.status, key.account_id) == (secret, "Active", ACCOUNT)
    assert key.user_name == "admin" and key.user_arn == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert key.user_id.startswith("AIDA")

    iam = IamClient(IamProvider(db), admin_principal(db))
    iam.update_access_key(UserName="admin", AccessKeyId=key_id, Status="Inactive")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with db.write() as s:
        record_access_key_use(s, key_id, "s3", "ap-northeast-1", when)
        record_access_key_use(s, "AKIAUNKNOWN000000000", "s3", "ap-northeast-1")
    with db.read() as s:
        key = find_access_key(s, key_id)
    assert key is not None and key.status == "Inactive"
    last = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    assert (last["ServiceName"], last["Region"]) == ("s3", "ap-northeast-1")
    assert last["LastUsedDate"].timestamp() == when.timestamp()


def test_find_role_by_arn(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    iam = IamClient(IamProvider(db), admin_principal(db))
    role = iam.create_role(
        RoleName="Exec",
        Path="/service-role/",
        AssumeRolePolicyDocument=TRUST_SAGEMAKER,
        MaxSessionDuration=7200,
    )["Role"]
    arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/Exec"
    with db.read() as s:
        found = find_role_by_arn(s, arn)
        assert find_role_by_arn(s, f"arn:aws:iam::{ACCOUNT}:role/Exec") is None  # wrong path
        assert find_role_by_arn(s, "arn:aws:iam::210987654321:role/service-role/Exec") is None
        assert find_role_by_arn(s, "not-an-arn") is None
        assert find_role_by_arn(s, f"arn:aws:iam::{ACCOUNT}:role/service-role/exec") is not None
    assert found is not None
    assert (found.arn, found.role_id, found.name, found.path) == (
        arn,
        role["RoleId"],
        "Exec",
        "/service-role/",
    )
    assert found.account_id == ACCOUNT and found.max_session_duration == 7200
    assert found.trust_policy["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}

    with db.write() as s:
        record_role_use(s, arn, "ap-northeast-1")
    assert iam.get_role(RoleName="Exec")["Role"]["RoleLastUsed"]["Region"] == "ap-northeast-1"
