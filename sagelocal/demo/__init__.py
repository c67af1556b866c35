"""`sagelocal demo`: the README's main job — the whole SageMaker workflow end to end on this machine."""
