"""Inline policies: Put/Get/Delete/List {Role,User,Group} Policy (Policies)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam import documents, lookup
from sagelocal.services.iam.common import encode_document, no_such_entity, page
from sagelocal.store.db import Database
from sagelocal.store.models.iam import ENTITY_GROUP, ENTITY_ROLE, ENTITY_USER, IamInlinePolicy

NAME_PARAM = {ENTITY_USER: "UserName", ENTITY_ROLE: "RoleName", ENTITY_GROUP: "GroupName"}


def inline_policies(session: Session, entity_type: str, entity_id: str) -> list[IamInlinePolicy]:
    """The entity's inline policies, by name."""
    return list(
        session.scalars(
            select(IamInlinePolicy)
            .where(IamInlinePolicy.entity_type == entity_type, IamInlinePolicy.entity_id == entity_id)
            .order_by(IamInlinePolicy.name)
        )
    )


def _find(session: Session, entity_type: str, entity_id: str, name: str) -> IamInlinePolicy | None:
    return session.scalars(
        select(IamInlinePolicy).where(
            IamInlinePolicy.entity_type == entity_type,
            IamInlinePolicy.entity_id == entity_id,
            IamInlinePolicy.name == name,
        )
    ).first()


def _missing(entity_type: str, name: str) -> Exception:
    return no_such_entity(f"The {entity_type} policy with name {name} cannot be found.")


class InlineMixin:
    """Policies embedded in one user, role or group."""

    db: Database

    def _put_inline(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        name, text = params["PolicyName"], params["PolicyDocument"]
        with self.db.write() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            documents.validate(text, "identity")
            eid = lookup.entity_id(entity)
            others = [p.document for p in inline_policies(s, entity_type, eid) if p.name != name]
            documents.check_inline_total(entity_type, [*others, text])
            row = _find(s, entity_type, eid, name)
            if row is None:
                row = IamInlinePolicy(
                    account_id=ctx.account_id,
                    entity_type=entity_type,
                    entity_id=eid,
                    name=name,
                    document=text,
                    update_date=utcnow(),
                )
                s.add(row)
            else:
                row.document, row.update_date = text, utcnow()
        return {}

    def _get_inline(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        name = params["PolicyName"]
        with self.db.read() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            row = _find(s, entity_type, lookup.entity_id(entity), name)
            if row is None:
                raise _missing(entity_type, name)
            return {
                NAME_PARAM[entity_type]: entity.name,
                "PolicyName": row.name,
                "PolicyDocument": encode_document(row.document),
            }

    def _delete_inline(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        name = params["PolicyName"]
        with self.db.write() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            row = _find(s, entity_type, lookup.entity_id(entity), name)
            if row is None:
                raise _missing(entity_type, name)
            s.delete(row)
        return {}

    def _list_inline(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        with self.db.read() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            names = [p.name for p in inline_policies(s, entity_type, lookup.entity_id(entity))]
            chunk, paging = page(names, params, key=lambda n: n)
            return {"PolicyNames": chunk, **paging}

    def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put_inline(ctx, params, ENTITY_ROLE)

    def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, params, ENTITY_ROLE)

    def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete_inline(ctx, params, ENTITY_ROLE)

    def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, params, ENTITY_ROLE)

    def put_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put_inline(ctx, params, ENTITY_USER)

    def get_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, params, ENTITY_USER)

    def delete_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete_inline(ctx, params, ENTITY_USER)

    def list_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, params, ENTITY_USER)

    def put_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put_inline(ctx, params, ENTITY_GROUP)

    def get_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, params, ENTITY_GROUP)

    def delete_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete_inline(ctx, params, ENTITY_GROUP)

    def list_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, params, ENTITY_GROUP)
