"""The console's service pages: each reads through `Gateway.call` as the signed-in user, so what a
page shows (or the AccessDenied it shows instead) is exactly what that user's API calls would get."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagelocal.services.base import ServiceError

Call = Callable[[str, str, dict[str, Any]], dict[str, Any]]


def _attempt(
    call: Call, service: str, operation: str, params: dict[str, Any]
) -> tuple[dict[str, Any], ServiceError | None]:
    try:
        return call(service, operation, params), None
    except ServiceError as err:
        return {}, err


def sagemaker(call: Call) -> dict[str, Any]:
    """Notebook instances, newest first (ListNotebookInstances, every page)."""
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending"}
    while True:
        page, error = _attempt(call, "sagemaker", "ListNotebookInstances", params)
        if error is not None:
            return {"notebooks": [], "error": error}
        rows += page.get("NotebookInstances", [])
        if not page.get("NextToken"):
            return {"notebooks": rows, "error": None}
        params["NextToken"] = page["NextToken"]


def s3(call: Call) -> dict[str, Any]:
    """The account's buckets (ListBuckets)."""
    page, error = _attempt(call, "s3", "ListBuckets", {})
    return {"buckets": page.get("Buckets", []), "error": error}


PAGES: dict[str, Callable[[Call], dict[str, Any]]] = {"sagemaker": sagemaker, "s3": s3}
