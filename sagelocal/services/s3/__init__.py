"""Amazon S3: the REST-XML object storage API over the store and the blob store."""

from sagelocal.services.s3.provider import S3Provider

__all__ = ["S3Provider"]
