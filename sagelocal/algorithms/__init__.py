"""Built-in SageMaker algorithms, re-implemented as programs that run inside a job workspace.

Nothing here imports ``sagelocal.services`` or the gateway: a job reads only its own ``/opt/ml``-style
directory and environment, exactly as a SageMaker container does.
"""
