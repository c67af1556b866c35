"""Finding IAM entities in a session, raising AWS's NoSuchEntity messages when absent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sagelocal.services.iam import managed
from sagelocal.services.iam.common import name_key, no_such_entity
from sagelocal.store.models.iam import (
    ENTITY_GROUP,
    ENTITY_ROLE,
    ENTITY_USER,
    IamGroup,
    IamPolicy,
    IamPolicyAttachment,
    IamRole,
    IamUser,
)


def find_user(session: Session, account_id: str, name: str) -> IamUser | None:
    return session.scalars(
        select(IamUser).where(IamUser.account_id == account_id, IamUser.name_key == name_key(name))
    ).first()


def get_user(session: Session, account_id: str, name: str) -> IamUser:
    user = find_user(session, account_id, name)
    if user is None:
        raise no_such_entity(f"The user with name {name} cannot be found.")
    return user


def find_role(session: Session, account_id: str, name: str) -> IamRole | None:
    return session.scalars(
        select(IamRole).where(IamRole.account_id == account_id, IamRole.name_key == name_key(name))
    ).first()


def get_role(session: Session, account_id: str, name: str) -> IamRole:
    role = find_role(session, account_id, name)
    if role is None:
        raise no_such_entity(f"The role with name {name} cannot be found.")
    return role


def find_group(session: Session, account_id: str, name: str) -> IamGroup | None:
    return session.scalars(
        select(IamGroup).where(IamGroup.account_id == account_id, IamGroup.name_key == name_key(name))
    ).first()


def get_group(session: Session, account_id: str, name: str) -> IamGroup:
    group = find_group(session, account_id, name)
    if group is None:
        raise no_such_entity(f"The group with name {name} cannot be found.")
    return group


def get_entity(
    session: Session, account_id: str, entity_type: str, name: str
) -> IamUser | IamRole | IamGroup:
    """The user, role or group named `name` (NoSuchEntity otherwise)."""
    if entity_type == ENTITY_USER:
        return get_user(session, account_id, name)
    if entity_type == ENTITY_ROLE:
        return get_role(session, account_id, name)
    return get_group(session, account_id, name)


def entity_id(entity: IamUser | IamRole | IamGroup) -> str:
    if isinstance(entity, IamUser):
        return entity.user_id
    if isinstance(entity, IamRole):
        return entity.role_id
    return entity.group_id


@dataclass(frozen=True)
class PolicyRef:
    """A managed policy by ARN, whichever kind: AWS managed (`aws`) or a customer's row."""

    arn: str
    name: str
    path: str
    aws: managed.ManagedPolicy | None = None
    row: IamPolicy | None = None


def find_policy(session: Session, account_id: str, policy_arn: str) -> PolicyRef | None:
    """The managed policy named by an ARN, if it exists and is visible to the account."""
    if managed.is_aws_managed(policy_arn):
        aws = managed.get(policy_arn)
        return None if aws is None else PolicyRef(aws.arn, aws.name, aws.path, aws=aws)
    row = session.scalars(
        select(IamPolicy).where(IamPolicy.account_id == account_id, IamPolicy.arn == policy_arn)
    ).first()
    return None if row is None else PolicyRef(row.arn, row.name, row.path, row=row)


def get_policy(session: Session, account_id: str, policy_arn: str) -> PolicyRef:
    """GetPolicy-style lookup: NoSuchEntity "Policy <arn> was not found."."""
    ref = find_policy(session, account_id, policy_arn)
    if ref is None:
        raise no_such_entity(f"Policy {policy_arn} was not found.")
    return ref


def get_attachable_policy(session: Session, account_id: str, policy_arn: str) -> PolicyRef:
    """Attach-style lookup: NoSuchEntity "Policy <arn> does not exist or is not attachable."."""
    ref = find_policy(session, account_id, policy_arn)
    if ref is None:
        raise no_such_entity(f"Policy {policy_arn} does not exist or is not attachable.")
    return ref


def attachment_count(session: Session, account_id: str, policy_arn: str) -> int:
    """How many users, roles and groups of the account have the policy attached."""
    return (
        session.scalar(
            select(func.count())
            .select_from(IamPolicyAttachment)
            .where(IamPolicyAttachment.account_id == account_id, IamPolicyAttachment.policy_arn == policy_arn)
        )
        or 0
    )


def boundary_count(session: Session, account_id: str, policy_arn: str) -> int:
    """How many users and roles of the account use the policy as permissions boundary."""
    users = session.scalar(
        select(func.count())
        .select_from(IamUser)
        .where(IamUser.account_id == account_id, IamUser.permissions_boundary == policy_arn)
    )
    roles = session.scalar(
        select(func.count())
        .select_from(IamRole)
        .where(IamRole.account_id == account_id, IamRole.permissions_boundary == policy_arn)
    )
    return (users or 0) + (roles or 0)


ENTITY_TYPES = (ENTITY_USER, ENTITY_ROLE, ENTITY_GROUP)
