"""sagelocal: Amazon SageMaker's workflow, self-hosted, speaking AWS's own wire protocols."""

__version__ = "0.1.0"
