"""What every SageMaker resource shares: ARNs, AWS's constraint-error wording, lookup by name,
List* filtering and paging."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, ServiceError, utcnow

T = TypeVar("T")

NOT_FOUND = "Requested resource not found."


def arn(region: str, account_id: str, kind: str, name: str) -> str:
    """AWS lower-cases the name inside SageMaker ARNs."""
    return f"arn:aws:sagemaker:{region}:{account_id}:{kind}/{name.lower()}"


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def not_null(path: str) -> ServiceError:
    """AWS's (coral) wording for a missing member the server requires."""
    return validation(
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: "
        "Member must not be null"
    )


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise validation("Invalid pagination token.") from None
    if offset < 0:
        raise validation("Invalid pagination token.")
    return offset


def page(items: list[Any], params: dict[str, Any], default_max: int = 10) -> tuple[list[Any], str | None]:
    """One page of `items` per MaxResults/NextToken, and the next token (None at the end)."""
    start = decode_token(params.get("NextToken"))
    size = int(params.get("MaxResults", default_max))
    chunk = items[start : start + size]
    return chunk, encode_token(start + size) if start + size < len(items) else None


def find_named(session: Session, table: type[T], ctx: RequestContext, name: str) -> T | None:
    """The caller's account and region's resource of this name (any case) in `table`, or None."""
    return session.scalar(
        select(table).where(
            table.account_id == ctx.account_id,  # type: ignore[attr-defined]
            table.region == ctx.region,  # type: ignore[attr-defined]
            table.name_lower == name.lower(),  # type: ignore[attr-defined]
        )
    )


def list_resources(
    session: Session,
    table: type[T],
    ctx: RequestContext,
    params: dict[str, Any],
    sort_keys: dict[str, Callable[[Any], Any]],
    default_order: str = "Descending",
    status_attr: str = "status",
    keep: Callable[[Any], bool] | None = None,
) -> tuple[list[T], str | None]:
    """One page of the caller's resources after SageMaker's List* filters (NameContains,
    Creation/LastModifiedTime bounds, StatusEquals, and the operation's own `keep`) and sorting
    (ties in creation order)."""
    rows: list[Any] = list(
        session.scalars(
            select(table).where(
                table.account_id == ctx.account_id,  # type: ignore[attr-defined]
                table.region == ctx.region,  # type: ignore[attr-defined]
            )
        )
    )
    contains = params.get("NameContains", "").lower()
    rows = [r for r in rows if contains in r.name_lower]
    if "StatusEquals" in params:
        rows = [r for r in rows if getattr(r, status_attr) == params["StatusEquals"]]
    if keep is not None:
        rows = [r for r in rows if keep(r)]
    for member, attr, after in (
        ("CreationTimeAfter", "creation_time", True),
        ("CreationTimeBefore", "creation_time", False),
        ("LastModifiedTimeAfter", "last_modified_time", True),
        ("LastModifiedTimeBefore", "last_modified_time", False),
    ):
        if member in params:
            bound = params[member]
            rows = [r for r in rows if (getattr(r, attr) > bound if after else getattr(r, attr) < bound)]
    rows.sort(key=lambda r: r.id)
    rows.sort(key=sort_keys[params.get("SortBy", "CreationTime")])
    if params.get("SortOrder", default_order) == "Descending":
        rows.reverse()
    return page(rows, params)


# List* SortBy keys of resources that keep a LastModifiedTime.
SORT_BY_TIMES: dict[str, Callable[[Any], Any]] = {
    "Name": lambda r: r.name,
    "CreationTime": lambda r: r.creation_time,
    "LastModifiedTime": lambda r: r.last_modified_time,
}


def new_named(
    table: type[T], ctx: RequestContext, kind: str, name: str, params: dict[str, Any], **fields: Any
) -> T:
    """A new row of `table` named `name` in the caller's account and region, with its ARN (of
    resource type `kind`), the request's Tags, creation (and last-modified) time now, and `fields`."""
    now = utcnow()
    row = table(
        account_id=ctx.account_id,
        region=ctx.region,
        name=name,
        name_lower=name.lower(),
        arn=arn(ctx.region, ctx.account_id, kind, name),
        creation_time=now,
        tags=tag_dict(params),
        **({"last_modified_time": now} | fields if hasattr(table, "last_modified_time") else fields),
    )
    return row


def tag_dict(params: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags", [])}
