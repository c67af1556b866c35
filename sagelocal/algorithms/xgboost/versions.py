"""Image versions of the built-in XGBoost algorithm, as the SDK's ``image_uris.retrieve`` names them."""

from __future__ import annotations

#: Every sagemaker-xgboost version the SDK's image_uris returns, and "1" for the legacy xgboost:1/latest image.
VERSIONS: tuple[str, ...] = (
    "0.90-1", "0.90-2", "1.0-1", "1.2-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1", "3.0-5", "3.2-0",
)  # fmt: skip
LEGACY = "1"
DEFAULT_VERSION = "1.7-1"


def normalize_version(tag: str | None) -> str:
    """``1.7-1``, ``0.90-1-cpu-py3``, ``1.5-1-arm64``, ``latest``, ``1`` → a member of VERSIONS or LEGACY."""
    tag = (tag or DEFAULT_VERSION).strip()
    if tag in ("1", "latest", "0.72"):
        return LEGACY
    for suffix in ("-cpu-py3", "-arm64"):
        tag = tag.removesuffix(suffix)
    if tag not in VERSIONS:
        raise ValueError(f"unsupported sagemaker-xgboost version: {tag}")
    return tag


def version_key(version: str) -> tuple[int, int, int]:
    """Sortable key; the legacy image (XGBoost 0.72) sorts first."""
    if version == LEGACY:
        return (0, 72, 0)
    major_minor, _, build = version.partition("-")
    major, minor = major_minor.split(".")
    return (int(major), int(minor), int(build or 0))


def version_from_image(image_uri: str) -> str:
    """``…/sagemaker-xgboost:1.7-1`` → ``1.7-1``; ``…/xgboost:latest`` or ``:1`` → legacy ``1``."""
    repository, _, tag = image_uri.rpartition("/")[2].partition(":")
    if repository == "xgboost":
        return LEGACY
    return normalize_version(tag or DEFAULT_VERSION)


def model_is_pickled(version: str) -> bool:
    """Images before 1.3-1 (and the legacy one) pickle the Booster; later ones call ``Booster.save_model``."""
    return version_key(normalize_version(version)) < (1, 3, 0)
