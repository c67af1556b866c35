"""Pieces every IAM module shares: identifiers, ARNs, AWS-shaped errors, paging and tags."""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError

from sagelocal.services.base import ServiceError

T = TypeVar("T")

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"

DEFAULT_MAX_ITEMS = 100
MAX_TAGS = 50


# --- identifiers and ARNs ------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    """A unique id like AWS's: `AIDA` users, `AROA` roles, `AGPA` groups, `ANPA` policies (+17)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def new_access_key_id() -> str:
    """`AKIA` + 16 upper-case letters/digits."""
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    """40 characters of `[A-Za-z0-9/+]`."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def arn(account_id: str, kind: str, path: str, name: str) -> str:
    """`arn:aws:iam::<acct>:<kind><path><name>` (kind: user, role, group, policy)."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def name_key(name: str) -> str:
    """IAM names are unique regardless of case; this is the form they are compared in."""
    return name.lower()


def encode_document(text: str) -> str:
    """A policy document as IAM puts it on the wire: URL-encoded JSON (botocore unquotes it)."""
    return quote(text, safe="")


# --- errors --------------------------------------------------------------------------------------


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def quota(name: str, limit: int) -> ServiceError:
    """AWS's quota error, e.g. `Cannot exceed quota for AccessKeysPerUser: 2`."""
    return limit_exceeded(f"Cannot exceed quota for {name}: {limit}")


@contextmanager
def unique_or(error: ServiceError) -> Iterator[None]:
    """Turn a unique-constraint violation (a concurrent create of the same name) into `error`."""
    try:
        yield
    except IntegrityError:
        raise error from None


# --- paging --------------------------------------------------------------------------------------


def _encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_marker(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_input("Invalid Marker.") from None


def page(
    items: Sequence[T],
    params: dict[str, Any],
    key: Callable[[T], str],
    *,
    descending: bool = False,
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items`, in `key` order, per `Marker`/`MaxItems`.

    Returns the page and the paging output members: `IsTruncated`, and `Marker` when truncated.
    The marker names the last item returned, so deletions between pages do not skip items.
    Sorting here, not trusting the query's ORDER BY, keeps the order the marker is compared in
    (code points) on a PostgreSQL whose collation orders `a-1`, `a_1` and `ab` otherwise.
    """
    items = sorted(items, key=key, reverse=descending)
    max_items = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    start = 0
    if params.get("Marker"):
        after = _decode_marker(params["Marker"])
        start = len(items)
        for i, item in enumerate(items):
            k = key(item)
            if (k < after) if descending else (k > after):
                start = i
                break
    chunk = list(items[start : start + max_items])
    truncated = start + max_items < len(items)
    out: dict[str, Any] = {"IsTruncated": truncated}
    if truncated and chunk:
        out["Marker"] = _encode_marker(key(chunk[-1]))
    return chunk, out


def path_filter(path: str, prefix: str | None) -> bool:
    """Whether an entity's path matches a `PathPrefix` (absent prefix matches everything)."""
    return not prefix or path.startswith(prefix)


# --- tags ----------------------------------------------------------------------------------------


def merge_tags(
    current: list[dict[str, Any]], new: list[dict[str, Any]], quota_name: str
) -> list[dict[str, Any]]:
    """`current` with `new` added or overwriting (keys compare case-insensitively, as IAM does)."""
    keys = [t["Key"].lower() for t in new]
    if len(keys) != len(set(keys)):
        raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    merged = {t["Key"].lower(): {"Key": t["Key"], "Value": t["Value"]} for t in current}
    for t in new:
        merged[t["Key"].lower()] = {"Key": t["Key"], "Value": t.get("Value", "")}
    if len(merged) > MAX_TAGS:
        raise quota(quota_name, MAX_TAGS)
    return list(merged.values())


def remove_tags(current: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """`current` without the tags named in `keys` (case-insensitive)."""
    drop = {k.lower() for k in keys}
    return [t for t in current if t["Key"].lower() not in drop]


def list_tags(current: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The output of a List*Tags operation: paged `Tags`."""
    ordered = list(current)
    index = {t["Key"]: i for i, t in enumerate(ordered)}
    chunk, paging = page(ordered, params, key=lambda t: f"{index[t['Key']]:06d}")
    return {"Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in chunk], **paging}
