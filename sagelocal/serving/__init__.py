"""The model server each endpoint replica runs, as a SageMaker inference container does.

Run as its own process, reading only its own inputs::

    python -m sagelocal.serving --model-dir DIR --port PORT [--host 127.0.0.1] [--code-dir DIR]

Routes: ``GET /ping``, ``GET /execution-parameters``, ``POST /invocations``; anything else 404 ``{}``.

Environment (see :mod:`.config`): ``SAGELOCAL_SERVING_MODE`` (``xgboost`` built-in algorithm, default, or
``script``), ``SAGELOCAL_XGBOOST_VERSION``, ``SAGELOCAL_SERVING_FRAMEWORK`` (``xgboost``/``sklearn``), and the
containers' own ``SAGEMAKER_PROGRAM``, ``SAGEMAKER_INFERENCE_OUTPUT``, ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``,
``SAGEMAKER_BATCH``, ``MAX_CONTENT_LENGTH``, ``SAGEMAKER_INFERENCE_ENSEMBLE``, ``SAGEMAKER_MODEL_SERVER_TIMEOUT``.
Never imports ``sagelocal.services`` or ``sagelocal.gateway``.
"""
