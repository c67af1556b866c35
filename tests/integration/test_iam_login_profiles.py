"""Console passwords (IAM login profiles) through boto3 and the AWS CLI, and the administrator's
first console password, printed once at the first server start and kept only as an argon2 hash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from sagelocal.launcher import ServerProcess
from sagelocal.services.iam.login_profiles import check_password
from sagelocal.settings import Settings
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamLoginProfile
from tests.conftest import AwsClients

GOOD = "Correct-Horse-42"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def _store(home: Path) -> Database:
    """The server's own store (SQLite in the home, or the database the home records)."""
    return Database(Settings(home=home).resolved_database_url())


def test_login_profile_lifecycle_with_awss_errors(aws: AwsClients) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="console-alice")
    with pytest.raises(ClientError) as missing:
        iam.get_login_profile(UserName="console-alice")
    assert _error(missing) == ("NoSuchEntity", "Login Profile for User console-alice cannot be found.", 404)

    made = iam.create_login_profile(UserName="console-alice", Password=GOOD, PasswordResetRequired=True)
    assert made["LoginProfile"]["UserName"] == "console-alice"
    assert made["LoginProfile"]["PasswordResetRequired"] is True
    got = iam.get_login_profile(UserName="console-alice")["LoginProfile"]
    assert got["CreateDate"] == made["LoginProfile"]["CreateDate"]

    with pytest.raises(ClientError) as twice:
        iam.create_login_profile(UserName="console-alice", Password=GOOD)
    assert _error(twice) == (
        "EntityAlreadyExists",
        "Login Profile for user console-alice already exists.",
        409,
    )
    with pytest.raises(ClientError) as busy:
        iam.delete_user(UserName="console-alice")
    assert _error(busy) == ("DeleteConflict", "Cannot delete entity, must delete login profile first.", 409)

    iam.update_login_profile(UserName="console-alice", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="console-alice")["LoginProfile"]["PasswordResetRequired"] is False
    iam.delete_login_profile(UserName="console-alice")
    with pytest.raises(ClientError) as gone:
        iam.delete_login_profile(UserName="console-alice")
    assert _error(gone)[0] == "NoSuchEntity"
    iam.delete_user(UserName="console-alice")
    with pytest.raises(ClientError) as no_user:
        iam.create_login_profile(UserName="console-alice", Password=GOOD)
    assert _error(no_user) == ("NoSuchEntity", "The user with name console-alice cannot be found.", 404)


@pytest.mark.parametrize("weak", ["Short-1", "alllowercase-no-digits", "ALLUPPER1234"])
def test_passwords_outside_the_default_policy_are_refused(aws: AwsClients, weak: str) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName=f"weak-{len(weak)}")
    with pytest.raises(ClientError) as refused:
        iam.create_login_profile(UserName=f"weak-{len(weak)}", Password=weak)
    expected = ("PasswordPolicyViolation", "Password does not conform to the account password policy.", 400)
    assert _error(refused) == expected
    with pytest.raises(ClientError):
        iam.get_login_profile(UserName=f"weak-{len(weak)}")  # nothing was stored


def test_a_password_over_128_characters_fails_the_models_length_check(aws: AwsClients) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="console-long")
    with pytest.raises(ClientError) as refused:
        iam.create_login_profile(UserName="console-long", Password="Aa1-" * 33)
    code, message, status = _error(refused)
    assert (code, status) == ("ValidationError", 400) and "length less than or equal to 128" in message


def test_the_aws_cli_sets_and_changes_a_password(aws: AwsClients) -> None:
    aws.client("iam").create_user(UserName="console-bob")
    made = aws.cli_json("iam", "create-login-profile", "--user-name", "console-bob", "--password", GOOD)
    assert made["LoginProfile"]["UserName"] == "console-bob"
    aws.cli("iam", "update-login-profile", "--user-name", "console-bob", "--password", "Another-Pass-7")
    db = _store(aws.server.home)
    account = aws.client("sts").get_caller_identity()["Account"]
    assert check_password(db, account, "console-bob", GOOD) is None  # the old one no longer works
    user = check_password(db, account, "console-bob", "Another-Pass-7")
    assert user is not None and user.name == "console-bob"
    assert aws.client("iam").get_user(UserName="console-bob")["User"]["PasswordLastUsed"] is not None
    db.dispose()


def test_the_administrator_gets_a_console_password_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with first.open("w") as log, ServerProcess(home, log=log) as server:
        aws = AwsClients(server)
        assert aws.client("iam").get_login_profile(UserName="admin")["LoginProfile"]["UserName"] == "admin"
        account = aws.client("sts").get_caller_identity()["Account"]
    printed = re.search(
        r"Console sign-in for account (\d{12}): user admin, password (\S+)", first.read_text()
    )
    assert printed is not None and printed.group(1) == account
    password = printed.group(2)

    with second.open("w") as log, ServerProcess(home, log=log):
        pass
    assert "Console sign-in" not in second.read_text()  # once: not at the next start

    # stored nowhere in clear: not in any file of the home, the database included; only an argon2id hash
    for path in home.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    db = _store(home)
    with db.read() as session:
        stored = session.scalars(select(IamLoginProfile.password_hash)).all()
    assert len(stored) == 1 and stored[0].startswith("$argon2id$")
    assert check_password(db, account, "admin", password) is not None
    assert check_password(db, account, "admin", password + "x") is None
    assert check_password(db, account, "nobody", password) is None
    db.dispose()
