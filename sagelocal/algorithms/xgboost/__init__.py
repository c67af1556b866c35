"""SageMaker's built-in XGBoost algorithm (``sagemaker-xgboost`` images and the legacy ``xgboost:1``/``latest``).

Run inside a job workspace laid out like ``/opt/ml``::

    python -m sagelocal.algorithms.xgboost train --workspace DIR [--version 1.7-1 | --image URI]

Inputs: ``input/config/{hyperparameters,inputdataconfig,resourceconfig}.json`` and ``input/data/<channel>/``
(``SM_CHANNEL_<NAME>``, ``SM_MODEL_DIR``, ``SM_OUTPUT_DIR``, ``SM_INPUT_CONFIG_DIR`` override the paths;
``SAGELOCAL_WORKSPACE``, ``SAGELOCAL_XGBOOST_VERSION`` and ``SAGELOCAL_IMAGE_URI`` stand in for the flags).

Outputs: ``model/xgboost-model`` (a pickled Booster before 1.3-1 and for legacy, else ``Booster.save_model``
UBJSON), ``output/success`` and ``output/metrics.json`` (``{"train:logloss": 0.1, ...}``, the last value of
each logged metric) with exit code 0; or ``output/failure`` (``ClientError: ...`` / ``AlgorithmError: ...``, at
most 1024 characters) with exit code 1.  Per-round lines go to stdout as ``[i]\\ttrain-m:v\\tvalidation-m:v``;
the log shipper must write each tab as ``#011``, as SageMaker's does, for the metric regexes in
:func:`.metrics.metric_definitions` to match.
"""
