"""Users' console passwords: Create/Get/Update/DeleteLoginProfile, and checking a password at sign-in.

Passwords are kept only as argon2id hashes. Without an account password policy, AWS's default one
applies: 8 to 128 characters, with at least three of upper case, lower case, digits and symbols.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.iam import lookup
from sagelocal.services.iam.common import already_exists, no_such_entity
from sagelocal.services.iam.users import user_named
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamLoginProfile, IamUser
from sagelocal.store.models.platform import PlatformFact

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
SYMBOLS = "!@#$%^&*()_+-=[]{}|'"


def password_violation(password: str) -> ServiceError | None:
    """AWS's answer to a password the default password policy refuses, else None."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
    kinds = sum(any(c in chars for c in password) for chars in classes)
    if not 8 <= len(password) <= 128 or kinds < 3:
        return ServiceError(
            "PasswordPolicyViolation", "Password does not conform to the account password policy.", 400
        )
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _profile(session: Session, user: IamUser) -> IamLoginProfile:
    profile = session.get(IamLoginProfile, user.user_id)
    if profile is None:
        raise no_such_entity(f"Login Profile for User {user.name} cannot be found.")
    return profile


def _shape(user: IamUser, profile: IamLoginProfile) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "CreateDate": profile.create_date,
        "PasswordResetRequired": profile.password_reset_required,
    }


def set_login_profile(
    session: Session, user: IamUser, password: str, reset_required: bool = False
) -> IamLoginProfile:
    """Create the user's login profile (the IAM API and the first-start administrator use it)."""
    if session.get(IamLoginProfile, user.user_id) is not None:
        raise already_exists(f"Login Profile for user {user.name} already exists.")
    violation = password_violation(password)
    if violation is not None:
        raise violation
    profile = IamLoginProfile(
        user_id=user.user_id,
        account_id=user.account_id,
        password_hash=hash_password(password),
        password_reset_required=reset_required,
        create_date=utcnow(),
    )
    session.add(profile)
    session.flush()
    return profile


CONSOLE_PASSWORD_ISSUED = "admin_console_password_issued"


def new_password(length: int = 20) -> str:
    """A random password the default policy accepts (letters, digits and symbols)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()_+-="
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_violation(password) is None and sum(c in SYMBOLS for c in password) > 0:
            return password


def issue_admin_console_password(db: Database, account_id: str, admin_name: str) -> str | None:
    """At the first server start only: give the administrator a random console password and
    return it (to be shown once; only its hash is kept). None when one was issued before, even if
    the administrator has since deleted their login profile."""
    with db.write() as session:
        if session.get(PlatformFact, CONSOLE_PASSWORD_ISSUED) is not None:
            return None
        user = lookup.get_user(session, account_id, admin_name)
        session.add(PlatformFact(key=CONSOLE_PASSWORD_ISSUED, value=utcnow().isoformat()))
        if session.get(IamLoginProfile, user.user_id) is not None:
            return None
        password = new_password()
        set_login_profile(session, user, password)
        return password


def check_password(db: Database, account_id: str, user_name: str, password: str) -> IamUser | None:
    """The user, if `password` is their console password (their PasswordLastUsed is recorded), else None.
    Unknown users cost a hash too, so timing does not tell which user names exist."""
    with db.write() as session:
        try:
            user = lookup.get_user(session, account_id, user_name)
        except ServiceError:
            user = None
        profile = session.get(IamLoginProfile, user.user_id) if user is not None else None
        try:
            if profile is None:
                _hasher.hash(password)
                return None
            _hasher.verify(profile.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        assert user is not None
        user.password_last_used = utcnow()
        if _hasher.check_needs_rehash(profile.password_hash):
            profile.password_hash = hash_password(password)
        return user


class LoginProfilesMixin:
    """The IAM operations on login profiles."""

    db: Database

    def create_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            if "Password" not in params:  # AWS allows it absent only with a root session's AssumeRoot
                raise ServiceError("ValidationError", "Password is required to create a login profile.", 400)
            reset = bool(params.get("PasswordResetRequired", False))
            profile = set_login_profile(s, user, params["Password"], reset)
            return {"LoginProfile": _shape(user, profile)}

    def get_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            user = user_named(s, ctx, params.get("UserName"))
            return {"LoginProfile": _shape(user, _profile(s, user))}

    def update_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            profile = _profile(s, user)
            if "Password" in params:
                violation = password_violation(params["Password"])
                if violation is not None:
                    raise violation
                profile.password_hash = hash_password(params["Password"])
            if "PasswordResetRequired" in params:
                profile.password_reset_required = bool(params["PasswordResetRequired"])
        return {}

    def delete_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            s.delete(_profile(s, user))
        return {}
