"""Hyperparameter validation of the built-in XGBoost container: its exact messages, per image version."""

from __future__ import annotations

import pytest

from sagelocal.algorithms.xgboost.errors import AlgorithmError, UserError
from sagelocal.algorithms.xgboost.hyperparameters import (
    LEGACY,
    VERSIONS,
    accepted_names,
    normalize_version,
    train_config,
    validate,
    version_from_image,
)

MESSAGES = [
    ({}, "Missing required hyperparameter: num_round"),
    ({"eta": "0.1"}, "Missing required hyperparameter: num_round"),
    ({"num_round": "10", "foo": "1"}, "Extraneous hyperparameter found: foo"),
    ({"num_round": "10", "device": "cuda"}, "Extraneous hyperparameter found: device"),
    ({"num_round": "10", "sagemaker_region": "x"}, "Extraneous hyperparameter found: sagemaker_region"),
    ({"num_round": "10.0"}, "Hyperparameter num_round: could not parse value (caused by ValueError)"),
    ({"num_round": "ten"}, "Hyperparameter num_round: could not parse value (caused by ValueError)"),
    ({"num_round": "10", "eta": "fast"}, "Hyperparameter eta: could not parse value (caused by ValueError)"),
    ({"num_round": "0"}, "Hyperparameter num_round: 0 is not in [1, +inf)"),
    ({"num_round": "10", "eta": "1.5"}, "Hyperparameter eta: 1.5 is not in [0, 1]"),
    ({"num_round": "10", "learning_rate": "2"}, "Hyperparameter eta: 2.0 is not in [0, 1]"),
    ({"num_round": "10", "subsample": "0"}, "Hyperparameter subsample: 0.0 is not in (0, 1]"),
    ({"num_round": "10", "reg_lambda": "-1"}, "Hyperparameter lambda: -1.0 is not in [0, +inf)"),
    ({"num_round": "10", "sketch_eps": "1"}, "Hyperparameter sketch_eps: 1.0 is not in (0, 1)"),
    ({"num_round": "10", "scale_pos_weight": "0"}, "Hyperparameter scale_pos_weight: 0.0 is not in (0, +inf)"),
    ({"num_round": "10", "verbosity": "4"}, "Hyperparameter verbosity: 4 is not in [0, 3]"),
    ({"num_round": "10", "csv_weights": "2"}, "Hyperparameter csv_weights: 2 is not in [0, 1]"),
    ({"num_round": "10", "num_class": "1"}, "Hyperparameter num_class: 1 is not in [2, +inf)"),
    ({"num_round": "10", "seed": "2147483647"}, "Hyperparameter seed: 2147483647 is not in (-2147483648, 2147483647)"),
    ({"num_round": "10", "tweedie_variance_power": "2"}, "Hyperparameter tweedie_variance_power: 2.0 is not in (1, 2)"),
    ({"num_round": "10", "prob_buffer_row": "1"}, "Hyperparameter prob_buffer_row: 1 is not in (1.0, +inf)"),
    ({"num_round": "10", "booster": "foo"}, "Hyperparameter booster: foo is not in ['gbtree', 'gblinear', 'dart']"),
    ({"num_round": "10", "booster": "GBTREE"}, "Hyperparameter booster: GBTREE is not in ['gbtree', 'gblinear', 'dart']"),
    ({"num_round": "10", "save_model_on_termination": "True"},
     "Hyperparameter save_model_on_termination: True is not in ['true', 'false']"),
    ({"num_round": "10", "objective": "multi:softmax"},
     "Require input for parameter 'num_class' for multi-classification"),
    ({"num_round": "10", "objective": "multi:softprob"},
     "Require input for parameter 'num_class' for multi-classification"),
    ({"num_round": "10", "objective": "reg:squarederror", "eval_metric": "auc"},
     "Metric 'auc' can only be applied for classification and ranking problems."),
    ({"num_round": "10", "objective": "binary:logistic", "eval_metric": "aft-nloglik"},
     "Metric 'aft-nloglik' can only be applied for 'survival:aft' objective."),
    ({"num_round": "10", "objective": "binary:logistic", "eval_metric": "auc@0.7"},
     "Metric 'auc@0.7' is not supported. Parameter 'eval_metric' with customized threshold should be one of "
     "these options: 'error', 'ndcg', 'map'."),
    ({"num_round": "10", "objective": "binary:logistic", "eval_metric": "error@t"},
     "Threshold value 't' in 'error@t' expects float input."),
    ({"num_round": "10", "monotone_constraints": "(1,0,-1)"},
     "monotone_constraints can be used only when the tree_method parameter is set to either 'exact' or 'hist'."),
    ({"num_round": "10", "interaction_constraints": "[[1, 2]]", "tree_method": "auto"},
     "interaction_constraints can be used only when the tree_method parameter is set to either 'exact', 'hist' "
     "or 'approx'."),
    ({"num_round": "10", "process_type": "update", "updater": "grow_colmaker"},
     "process_type 'update' can only be used with updater 'refresh' and 'prune'"),
    ({"num_round": "10", "monotone_constraints": "(1,2)", "tree_method": "hist"},
     "Hyperparameter monotone_constraints: value (1, 2) not in range [-1, 0, 1]"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "message"), MESSAGES)
def test_exact_messages(raw: dict[str, str], message: str) -> None:
    with pytest.raises(UserError) as info:
        validate(raw, "1.7-1")
    assert info.value.message == message
    assert info.value.failure_reason == f"ClientError: {message}"


def test_eval_metric_list_message_names_every_allowed_metric() -> None:
    with pytest.raises(UserError) as info:
        validate({"num_round": "1", "objective": "binary:logistic", "eval_metric": "auc,foo"})
    assert info.value.message.startswith(
        "Hyperparameter eval_metric: value ['auc', 'foo'] not in range ['accuracy', "
    )
    assert info.value.message.endswith("'rmse', 'rmsle', 'tweedie-nloglik']")


def test_order_of_checks_follows_the_container() -> None:
    # required before extraneous; then the user's order decides between parse and extraneous errors
    with pytest.raises(UserError, match="Missing required"):
        validate({"foo": "1"})
    with pytest.raises(UserError, match="Extraneous hyperparameter found: foo"):
        validate({"num_round": "1", "foo": "1", "eta": "x"})
    with pytest.raises(UserError, match="eta: could not parse"):
        validate({"num_round": "1", "eta": "x", "foo": "1"})
    # every value parses before any range check
    with pytest.raises(UserError, match="could not parse"):
        validate({"num_round": "1", "eta": "5", "max_depth": "x"})


def test_eval_metric_without_objective_is_the_containers_framework_error() -> None:
    with pytest.raises(AlgorithmError) as info:
        validate({"num_round": "1", "eval_metric": "rmse"})
    assert info.value.failure_reason == "AlgorithmError: framework error: KeyError: 'objective'"


def test_train_config_splits_container_keys_and_parses() -> None:
    cfg = train_config(
        {"num_round": "100", "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6",
         "subsample": "0.8", "objective": "binary:logistic", "eval_metric": "auc,logloss",
         "early_stopping_rounds": "10", "csv_weights": "1", "updater": "grow_colmaker,prune",
         "seed": "7", "reg_alpha": "0.5"},
    )  # fmt: skip
    assert cfg.num_round == 100 and cfg.early_stopping_rounds == 10 and cfg.csv_weights == 1
    assert cfg.eval_metrics == ["auc", "logloss"]
    assert cfg.params == {
        "max_depth": 5, "eta": 0.2, "gamma": 4.0, "min_child_weight": 6.0, "subsample": 0.8,
        "objective": "binary:logistic", "updater": "grow_colmaker,prune", "seed": 7, "alpha": 0.5,
    }  # fmt: skip


def test_tuning_metric_is_merged_into_eval_metric_sorted() -> None:
    cfg = train_config({"num_round": "1", "objective": "binary:logistic", "eval_metric": "logloss",
                        "_tuning_objective_metric": "validation:auc"})  # fmt: skip
    assert cfg.eval_metrics == ["auc", "logloss"]
    assert cfg.stop_metric == "auc"  # early stopping watches the tuning metric, not the last one


def test_versions_differ_where_the_images_differ() -> None:
    tutorial = {"num_round": "100", "max_depth": "5", "silent": "0", "objective": "binary:logistic"}
    legacy = train_config(tutorial, LEGACY)
    assert "silent" not in legacy.params and legacy.eval_metrics == ["error"]  # XGBoost 0.72 default
    assert train_config({**tutorial, "silent": "1"}, "0.90-2").params["verbosity"] == 0
    for version in ("1.0-1", "1.3-1", "1.7-1", "3.0-5", "3.2-0"):
        with pytest.raises(UserError, match="Extraneous hyperparameter found: silent"):
            validate(tutorial, version)
    assert train_config({"num_round": "1", "objective": "binary:logistic"}, "1.7-1").eval_metrics == []
    assert "single_precision_histogram" in accepted_names("1.5-1")
    assert "single_precision_histogram" not in accepted_names("1.7-1")
    assert "use_dask_gpu_training" in accepted_names("3.0-5")
    assert "colsample_bynode" not in accepted_names(LEGACY)
    with pytest.raises(UserError, match="objective: reg:absoluteerror is not in"):
        validate({"num_round": "1", "objective": "reg:absoluteerror"}, "1.5-1")
    validate({"num_round": "1", "objective": "reg:absoluteerror"}, "1.7-1")


def test_gpu_hist_runs_on_cpu_with_a_note() -> None:
    cfg = train_config({"num_round": "1", "tree_method": "gpu_hist"})
    assert cfg.params["tree_method"] == "hist" and cfg.notes


def test_version_names() -> None:
    assert [normalize_version(v) for v in ("0.90-1-cpu-py3", "1.5-1-arm64", "latest", "1", None)] == [
        "0.90-1", "1.5-1", LEGACY, LEGACY, "1.7-1",
    ]  # fmt: skip
    assert set(VERSIONS) >= {"0.90-1", "1.0-1", "1.7-1", "3.0-5", "3.2-0"}
    assert (
        version_from_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1") == "1.7-1"
    )
    assert version_from_image("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest") == LEGACY
    assert version_from_image(
        "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"
    ) == ("1.0-1")
    with pytest.raises(ValueError):
        normalize_version("9.9-9")


def test_algorithms_never_import_services_or_gateway() -> None:
    """The architecture's boundary: a job process reads only its own workspace."""
    import ast
    from pathlib import Path

    import sagelocal.algorithms

    root = Path(sagelocal.algorithms.__file__).parent
    for file in root.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("sagelocal.services", "sagelocal.gateway")), (file, name)
