"""Every IAM operation the provider implements answers in the shape botocore's model describes.

The checked client (`iam_helpers.IamClient`) validates each output against the operation's output
shape and parses it back through botocore's QueryParser; this file makes sure every implemented
operation goes through it at least once, and that the checker itself catches bad outputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sagelocal.services.base import Provider
from sagelocal.services.iam.provider import IamProvider
from tests.unit.iam_helpers import (
    IAM_MODEL,
    OPERATIONS,
    S3_READ,
    TRUST_SAGEMAKER,
    IamClient,
    check_shape,
    make_client,
    query_roundtrip,
)

IMPLEMENTED = {name for name in OPERATIONS if callable(getattr(IamProvider, name, None))}


def test_public_methods_are_operations() -> None:
    hooks = set(dir(Provider))  # lifecycle hooks every provider has (recover)
    public = {
        n for n in dir(IamProvider) if not n.startswith("_") and callable(getattr(IamProvider, n))
    } - hooks
    assert public - set(OPERATIONS) == set(), "provider methods that are not IAM operations"
    assert len(IMPLEMENTED) >= 60


def test_checker_catches_bad_outputs() -> None:
    shape = IAM_MODEL.operation_model("GetRole").output_shape
    role = {
        "Path": "/",
        "RoleName": "r",
        "RoleId": "AROAEXAMPLE",
        "Arn": "arn:aws:iam::123456789012:role/r",
        "CreateDate": datetime.now(UTC),
    }
    check_shape(shape, {"Role": role})
    for bad in (
        {"Role": {k: v for k, v in role.items() if k != "Arn"}},  # required member missing
        {"Role": role | {"Unknown": 1}},  # not in the model
        {"Role": role | {"CreateDate": datetime.now()}},  # naive datetime
        {"Role": role | {"MaxSessionDuration": "3600"}},  # wrong type
    ):
        with pytest.raises(AssertionError):
            check_shape(shape, bad)


def test_query_roundtrip_decodes_policy_documents() -> None:
    op = IAM_MODEL.operation_model("GetRolePolicy")
    parsed = query_roundtrip(
        op, {"RoleName": "r", "PolicyName": "p", "PolicyDocument": "%7B%22a%22%3A%201%7D"}
    )
    assert parsed == {"RoleName": "r", "PolicyName": "p", "PolicyDocument": {"a": 1}}


class Recorder(IamClient):
    """An IamClient that remembers which operations were called."""

    called: set[str]

    def __getattr__(self, snake: str) -> Any:
        fn = super().__getattr__(snake)

        def call(**params: Any) -> dict[str, Any]:
            self.called.add(snake)
            return fn(**params)

        return call


def test_every_operation_output_matches_model(tmp_path: Path) -> None:
    base = make_client(tmp_path)
    iam = Recorder(base.provider, base.principal)
    iam.called = set()
    arn_sm = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"

    iam.create_user(UserName="u", Tags=[{"Key": "k", "Value": "v"}])
    iam.get_user(UserName="u")
    iam.list_users(MaxItems=1)
    iam.update_user(UserName="u", NewPath="/p/")
    iam.tag_user(UserName="u", Tags=[{"Key": "k2", "Value": "v"}])
    iam.untag_user(UserName="u", TagKeys=["k2"])
    iam.list_user_tags(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    iam.list_access_keys(UserName="u")
    iam.update_access_key(UserName="u", AccessKeyId=key, Status="Inactive")
    iam.get_access_key_last_used(AccessKeyId=key)
    iam.delete_access_key(UserName="u", AccessKeyId=key)
    iam.create_login_profile(UserName="u", Password="Shape-Check-1", PasswordResetRequired=True)
    iam.get_login_profile(UserName="u")
    iam.update_login_profile(UserName="u", Password="Shape-Check-2", PasswordResetRequired=False)
    iam.delete_login_profile(UserName="u")

    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER, Tags=[{"Key": "a", "Value": "b"}])
    iam.get_role(RoleName="r")
    iam.list_roles()
    iam.update_role(RoleName="r", Description="d")
    iam.update_role_description(RoleName="r", Description="d2")
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=TRUST_SAGEMAKER)
    iam.tag_role(RoleName="r", Tags=[{"Key": "c", "Value": "d"}])
    iam.untag_role(RoleName="r", TagKeys=["c"])
    iam.list_role_tags(RoleName="r")
    iam.list_instance_profiles_for_role(RoleName="r")

    iam.create_group(GroupName="g")
    iam.get_group(GroupName="g")
    iam.list_groups()
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.list_groups_for_user(UserName="u")
    iam.remove_user_from_group(GroupName="g", UserName="u")
    iam.update_group(GroupName="g", NewPath="/x/")

    arn = iam.create_policy(PolicyName="p", PolicyDocument=S3_READ, Description="d")["Policy"]["Arn"]
    iam.get_policy(PolicyArn=arn)
    iam.list_policies(Scope="All", MaxItems=3)
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "t", "Value": "v"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["t"])
    iam.list_policy_tags(PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ, SetAsDefault=True)
    iam.get_policy_version(PolicyArn=arn, VersionId="v2")
    iam.get_policy_version(PolicyArn=arn_sm, VersionId="v29")
    iam.list_policy_versions(PolicyArn=arn)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")

    for kind, name in (("role", "r"), ("user", "u"), ("group", "g")):
        who = {f"{kind.capitalize()}Name": name}
        getattr(iam, f"attach_{kind}_policy")(PolicyArn=arn, **who)
        getattr(iam, f"list_attached_{kind}_policies")(**who)
        getattr(iam, f"detach_{kind}_policy")(PolicyArn=arn, **who)
        getattr(iam, f"put_{kind}_policy")(PolicyName="i", PolicyDocument=S3_READ, **who)
        getattr(iam, f"get_{kind}_policy")(PolicyName="i", **who)
        getattr(iam, f"list_{kind}_policies")(**who)
        getattr(iam, f"delete_{kind}_policy")(PolicyName="i", **who)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn_sm)
    role_arn = iam.get_role(RoleName="r")["Role"]["Arn"]
    iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::sagemaker-x/k"]
    )
    iam.simulate_custom_policy(PolicyInputList=[S3_READ], ActionNames=["s3:GetObject", "s3:PutObject"])
    iam.list_entities_for_policy(PolicyArn=arn_sm)
    iam.detach_role_policy(RoleName="r", PolicyArn=arn_sm)

    iam.delete_policy(PolicyArn=arn)
    iam.delete_group(GroupName="g")
    iam.delete_role(RoleName="r")
    iam.delete_user(UserName="u")

    assert IMPLEMENTED - iam.called == set()
