"""IAM users, access keys and groups through the provider."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sagelocal.services.base import Principal
from tests.unit.iam_helpers import ACCOUNT, S3_READ, IamClient, make_client, raises

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def iam(tmp_path: Path) -> IamClient:
    return make_client(tmp_path)


def test_user_round_trip(iam: IamClient) -> None:
    resp = iam.create_user(UserName="alice", Path="/engineers/", Tags=[{"Key": "dept", "Value": "ml"}])
    user = resp["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/engineers/alice"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", user["UserId"])
    assert iam.get_user(UserName="alice")["User"]["Tags"] == [{"Key": "dept", "Value": "ml"}]

    listed = iam.list_users()["Users"]
    assert [u["UserName"] for u in listed] == ["admin", "alice"]
    assert "Tags" not in listed[1]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/engineers/")["Users"]] == ["alice"]

    err = raises("EntityAlreadyExists", iam.create_user, UserName="ALICE")
    assert err.message == "User with name ALICE already exists."

    iam.update_user(UserName="alice", NewUserName="alicia", NewPath="/")
    assert iam.get_user(UserName="alicia")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alicia"
    err = raises("NoSuchEntity", iam.get_user, UserName="alice")
    assert err.message == "The user with name alice cannot be found."

    iam.tag_user(UserName="alicia", Tags=[{"Key": "x", "Value": "y"}])
    iam.untag_user(UserName="alicia", TagKeys=["dept"])
    assert iam.list_user_tags(UserName="alicia")["Tags"] == [{"Key": "x", "Value": "y"}]

    iam.delete_user(UserName="alicia")
    raises("NoSuchEntity", iam.delete_user, UserName="alicia")


def test_get_user_defaults_to_caller(iam: IamClient) -> None:
    me = iam.get_user()["User"]
    assert me["UserName"] == "admin"
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"

    role_session = Principal(
        account_id=ACCOUNT,
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        user_id="AROAEXAMPLEEXAMPLE01:s",
        kind="assumed-role",
    )
    err = raises("ValidationError", iam.as_principal(role_session).get_user)
    assert err.message == "Must specify userName when calling with non-User credentials"


def test_access_keys_and_two_key_limit(iam: IamClient) -> None:
    iam.create_user(UserName="bob")
    first = iam.create_access_key(UserName="bob")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", first["AccessKeyId"])
    assert re.fullmatch(r"[A-Za-z0-9/+]{40}", first["SecretAccessKey"])
    assert first["Status"] == "Active" and first["UserName"] == "bob"
    second = iam.create_access_key(UserName="bob")["AccessKey"]

    iam.update_access_key(UserName="bob", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    err = raises("LimitExceeded", iam.create_access_key, UserName="bob")  # inactive keys count too
    assert err.message == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert err.status == 409

    listed = iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [
        (first["AccessKeyId"], "Inactive"),
        (second["AccessKeyId"], "Active"),
    ]
    assert all("SecretAccessKey" not in k for k in listed)

    last = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last == {"UserName": "bob", "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}

    err = raises("DeleteConflict", iam.delete_user, UserName="bob")
    assert err.message == "Cannot delete entity, must delete access keys first."
    err = raises("NoSuchEntity", iam.delete_access_key, UserName="admin", AccessKeyId=first["AccessKeyId"])
    assert err.message == f"The Access Key with id {first['AccessKeyId']} cannot be found."
    iam.delete_access_key(UserName="bob", AccessKeyId=first["AccessKeyId"])
    iam.delete_access_key(UserName="bob", AccessKeyId=second["AccessKeyId"])
    assert iam.list_access_keys(UserName="bob")["AccessKeyMetadata"] == []
    iam.delete_user(UserName="bob")


def test_access_keys_default_to_caller(iam: IamClient) -> None:
    mine = iam.list_access_keys()["AccessKeyMetadata"]
    assert len(mine) == 1 and mine[0]["UserName"] == "admin"
    created = iam.create_access_key()["AccessKey"]
    assert created["UserName"] == "admin"
    raises("LimitExceeded", iam.create_access_key)
    iam.delete_access_key(AccessKeyId=created["AccessKeyId"])


def test_user_policies_block_delete(iam: IamClient) -> None:
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="read", PolicyDocument=S3_READ)
    got = iam.get_user_policy(UserName="carol", PolicyName="read")
    assert got["PolicyDocument"]["Version"] == "2012-10-17"
    err = raises("DeleteConflict", iam.delete_user, UserName="carol")
    assert err.message == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName="carol", PolicyName="read")
    err = raises("NoSuchEntity", iam.get_user_policy, UserName="carol", PolicyName="read")
    assert err.message == "The user policy with name read cannot be found."

    iam.attach_user_policy(UserName="carol", PolicyArn=ADMIN_ARN)
    assert iam.list_attached_user_policies(UserName="carol")["AttachedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN_ARN}
    ]
    err = raises("DeleteConflict", iam.delete_user, UserName="carol")
    assert err.message == "Cannot delete entity, must detach all policies first."
    iam.detach_user_policy(UserName="carol", PolicyArn=ADMIN_ARN)
    iam.delete_user(UserName="carol")


def test_groups(iam: IamClient) -> None:
    group = iam.create_group(GroupName="scientists", Path="/ml/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/ml/scientists"
    assert re.fullmatch(r"AGPA[A-Z0-9]{17}", group["GroupId"])
    err = raises("EntityAlreadyExists", iam.create_group, GroupName="Scientists")
    assert err.message == "Group with name Scientists already exists."

    for name in ("dave", "erin", "frank"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="scientists", UserName=name)
    iam.add_user_to_group(GroupName="scientists", UserName="dave")  # idempotent

    page1 = iam.get_group(GroupName="scientists", MaxItems=2)
    assert page1["Group"]["GroupName"] == "scientists"
    assert [u["UserName"] for u in page1["Users"]] == ["dave", "erin"] and page1["IsTruncated"]
    page2 = iam.get_group(GroupName="scientists", Marker=page1["Marker"])
    assert [u["UserName"] for u in page2["Users"]] == ["frank"] and not page2["IsTruncated"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dave")["Groups"]] == ["scientists"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/ml/")["Groups"]] == ["scientists"]

    iam.attach_group_policy(GroupName="scientists", PolicyArn=ADMIN_ARN)
    iam.put_group_policy(GroupName="scientists", PolicyName="read", PolicyDocument=S3_READ)
    assert iam.list_group_policies(GroupName="scientists")["PolicyNames"] == ["read"]
    assert iam.get_group_policy(GroupName="scientists", PolicyName="read")["GroupName"] == "scientists"

    err = raises("DeleteConflict", iam.delete_user, UserName="dave")
    assert err.message == "Cannot delete entity, must remove users from group first."
    err = raises("DeleteConflict", iam.delete_group, GroupName="scientists")
    assert err.message == "Cannot delete entity, must remove users from group first."
    for name in ("dave", "erin", "frank"):
        iam.remove_user_from_group(GroupName="scientists", UserName=name)
    raises("NoSuchEntity", iam.remove_user_from_group, GroupName="scientists", UserName="dave")
    assert iam.list_groups_for_user(UserName="dave")["Groups"] == []

    err = raises("DeleteConflict", iam.delete_group, GroupName="scientists")
    assert err.message == "Cannot delete entity, must delete policies first."
    iam.delete_group_policy(GroupName="scientists", PolicyName="read")
    err = raises("DeleteConflict", iam.delete_group, GroupName="scientists")
    assert err.message == "Cannot delete entity, must detach all policies first."
    iam.detach_group_policy(GroupName="scientists", PolicyArn=ADMIN_ARN)
    assert iam.list_attached_group_policies(GroupName="scientists")["AttachedPolicies"] == []

    iam.update_group(GroupName="scientists", NewGroupName="researchers")
    assert iam.get_group(GroupName="researchers")["Group"]["Arn"].endswith(":group/ml/researchers")
    iam.delete_group(GroupName="researchers")
    err = raises("NoSuchEntity", iam.get_group, GroupName="researchers")
    assert err.message == "The group with name researchers cannot be found."


def test_missing_entities(iam: IamClient) -> None:
    for fn, params in [
        (iam.get_user, {"UserName": "nobody"}),
        (iam.create_access_key, {"UserName": "nobody"}),
        (iam.list_access_keys, {"UserName": "nobody"}),
        (iam.list_user_policies, {"UserName": "nobody"}),
        (iam.add_user_to_group, {"UserName": "nobody", "GroupName": "nogroup"}),
        (iam.list_attached_group_policies, {"GroupName": "nogroup"}),
        (iam.get_role, {"RoleName": "norole"}),
        (iam.list_role_policies, {"RoleName": "norole"}),
        (iam.update_role, {"RoleName": "norole"}),
    ]:
        err = raises("NoSuchEntity", fn, **params)
        assert err.message.endswith("cannot be found.")
        assert err.status == 404
