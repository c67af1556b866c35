"""Amazon SageMaker's control plane (training jobs so far; models, endpoints, notebooks later)."""
