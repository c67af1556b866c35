"""S3's general-purpose bucket naming rules."""

from __future__ import annotations

import re

from sagelocal.services.base import ServiceError

_ALLOWED = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IP_FORM = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid bucket name, or None when it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket names must be between 3 (min) and 63 (max) characters long."
    if not _ALLOWED.match(name):
        return (
            "Bucket names can consist only of lowercase letters, numbers, periods and hyphens, "
            "and must begin and end with a letter or number."
        )
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket names must not contain two adjacent periods."
    if _IP_FORM.match(name):
        return "Bucket names must not be formatted as an IP address."
    if name.startswith(_BAD_PREFIXES) or name.endswith(_BAD_SUFFIXES):
        return "Bucket names must not use a reserved prefix or suffix."
    return None


def check_bucket_name(name: str) -> None:
    """Raise S3's InvalidBucketName for a name CreateBucket must refuse."""
    if bucket_name_problem(name) is not None:
        raise ServiceError(
            "InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": name}
        )
