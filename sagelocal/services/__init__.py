"""One package per AWS service: pure business logic, no HTTP."""

from __future__ import annotations

from sagelocal.services.base import Provider
from sagelocal.settings import Settings
from sagelocal.store.db import Database


def build_providers(db: Database, settings: Settings) -> dict[str, Provider]:
    """Every service provider, keyed by botocore service name. `settings.home` holds their files."""
    from sagelocal.services.iam.provider import IamProvider
    from sagelocal.services.logs.provider import LogsProvider
    from sagelocal.services.runtime.provider import RuntimeProvider
    from sagelocal.services.s3.provider import S3Provider
    from sagelocal.services.sagemaker.hosting import Hosting
    from sagelocal.services.sagemaker.provider import SageMakerProvider
    from sagelocal.services.sts.provider import StsProvider

    hosting = Hosting()

    providers: list[Provider] = [
        StsProvider(db),
        IamProvider(db),
        LogsProvider(db),
        S3Provider.at_home(db, settings.home),
        SageMakerProvider(
            db,
            settings.home,
            settings.endpoint_url,
            hosting,
            notebook_url_ttl=settings.notebook_url_ttl,
            notebook_lifecycle_timeout=settings.notebook_lifecycle_timeout,
            compute=settings.compute.for_job(),
        ),
        RuntimeProvider(hosting),
    ]
    return {p.service_name: p for p in providers}


def provider_classes() -> list[type[Provider]]:
    """The class of every provider `build_providers` makes: the operation table, without a database."""
    from sagelocal.services.iam.provider import IamProvider
    from sagelocal.services.logs.provider import LogsProvider
    from sagelocal.services.runtime.provider import RuntimeProvider
    from sagelocal.services.s3.provider import S3Provider
    from sagelocal.services.sagemaker.provider import SageMakerProvider
    from sagelocal.services.sts.provider import StsProvider

    return [StsProvider, IamProvider, LogsProvider, S3Provider, SageMakerProvider, RuntimeProvider]
