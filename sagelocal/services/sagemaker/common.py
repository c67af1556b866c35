"""What every SageMaker resource shares: ARNs, AWS's constraint-error wording, list paging."""

from __future__ import annotations

import base64
import json
from typing import Any

from sagelocal.services.base import ServiceError

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
