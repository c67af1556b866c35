"""The SageMaker runtime (sagemaker-runtime): InvokeEndpoint routed to endpoint replicas."""
