"""Hyperparameter validation of the built-in XGBoost container, with its exact messages.

The rules are those of ``sagemaker-xgboost-container`` (1.7-1 and later are identical); older images and the
legacy ``xgboost:1`` image differ in a few accepted names, listed in :data:`_ONLY_IN`.  Validation runs as the
container's toolkit runs it: aliases, required, parse (in the user's order), ranges, then dependencies.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import AlgorithmError, UserError
from .metrics import ALL_METRICS, metric_names
from .versions import DEFAULT_VERSION, LEGACY, VERSIONS, normalize_version, version_from_image, version_key

__all__ = [
    "LEGACY",
    "VERSIONS",
    "TrainConfig",
    "normalize_version",
    "train_config",
    "validate",
    "version_from_image",
]

ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
#: Keys the container consumes itself; everything else goes to ``xgboost.train`` as a parameter.
CONTAINER_KEYS = frozenset(
    {"num_round", "csv_weights", "early_stopping_rounds", "_kfold", "_num_cv_round", "_tuning_objective_metric",
     "save_model_on_termination", "use_dask_gpu_training", "eval_metric"}
)  # fmt: skip
#: Accepted by old images but unknown to the XGBoost this platform runs: validated, then not passed on.
DROPPED_FOR_LIBRARY = frozenset(
    {"silent", "predictor", "dsplit", "lambda_bias", "prob_buffer_row", "single_precision_histogram",
     "deterministic_histogram"}
)  # fmt: skip


class Interval:
    """A numeric range printed as the toolkit prints it: ``[0, 1]``, ``(0, +inf)``, ``(-inf, 1)``."""

    def __init__(self, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                 hi_open: bool = False) -> None:  # fmt: skip
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    def __str__(self) -> str:
        left = "(-inf" if self.lo is None else ("(" if self.lo_open else "[") + str(self.lo)
        right = "+inf)" if self.hi is None else str(self.hi) + (")" if self.hi_open else "]")
        return f"{left}, {right}"

    def __contains__(self, value: Any) -> bool:
        lo_bad = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        hi_bad = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        return not (lo_bad or hi_bad)


def _closed(lo: float, hi: float | None = None) -> Interval:
    return Interval(lo, hi)


def _open_closed(lo: float, hi: float | None = None) -> Interval:
    return Interval(lo, hi, lo_open=True)


@dataclass
class Spec:
    """One accepted hyperparameter: its kind (int, float, cat, list, tuple, nested) and range."""

    name: str
    kind: str
    range: Any
    required: bool = False

    def parse(self, value: Any) -> Any:
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        if self.kind == "list":
            return value.split(",")
        if self.kind in ("tuple", "nested"):
            try:
                return ast.literal_eval(value) if isinstance(value, str) else value
            except (SyntaxError, TypeError) as exc:
                raise ValueError(str(exc)) from exc
        return value

    def check_range(self, value: Any) -> None:
        if self.kind == "list":
            if any(not self._contains(v) for v in value):
                raise UserError(f"Hyperparameter {self.name}: value {value} not in range {self.range}")
        elif self.kind in ("tuple", "nested"):
            items = [e for outer in value for e in outer] if self.kind == "nested" else list(value)
            if any(e not in self.range for e in items):
                raise UserError(f"Hyperparameter {self.name}: value {value} not in range {self.range}")
        elif not self._contains(value):
            raise UserError(f"Hyperparameter {self.name}: {value} is not in {self.range}")

    def _contains(self, value: Any) -> bool:
        if self.name == "eval_metric":
            return _eval_metric_in_range(value)
        return value in self.range


def _eval_metric_in_range(metric: str) -> bool:
    if "<function" in metric:
        raise UserError(f"User defined evaluation metric {metric} is not supported yet.")
    if "@" in metric:
        name, threshold = (part.strip() for part in metric.split("@")[:2])
        if name not in ("error", "ndcg", "map"):
            raise UserError(
                f"Metric '{metric}' is not supported. Parameter 'eval_metric' with customized threshold should "
                "be one of these options: 'error', 'ndcg', 'map'."
            )
        try:
            float(threshold)
        except ValueError:
            raise UserError(f"Threshold value 't' in '{name}@t' expects float input.") from None
        return True
    return metric in ALL_METRICS


OBJECTIVES = [
    "aft_loss_distribution", "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson",
    "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map", "reg:linear",
    "reg:squarederror", "reg:logistic", "reg:gamma", "reg:pseudohubererror", "reg:squaredlogerror",
    "reg:absoluteerror", "reg:tweedie", "survival:aft", "survival:cox",
]  # fmt: skip
UPDATERS = [
    "grow_colmaker", "distcol", "grow_histmaker", "grow_local_histmaker", "grow_skmaker", "sync", "refresh",
    "prune", "grow_colmaker", "distcol", "grow_histmaker", "grow_local_histmaker", "grow_colmaker", "shotgun",
    "coord_descent", "refresh", "prune",
]  # fmt: skip
TRUE_FALSE = ["true", "false"]


def _specs() -> list[Spec]:
    """Every name some image accepts, in the container's declaration order (this decides which missing or
    failing parameter is reported first)."""
    s = Spec
    zero_inf, zero_one, open_one = _closed(0), _closed(0, 1), _open_closed(0, 1)
    return [
        s("num_round", "int", _closed(1), required=True),
        s("csv_weights", "int", zero_one),
        s("early_stopping_rounds", "int", _closed(1)),
        s("booster", "cat", ["gbtree", "gblinear", "dart"]),
        s("silent", "int", zero_one),
        s("verbosity", "int", _closed(0, 3)),
        s("nthread", "int", _closed(1)),
        s("eta", "float", zero_one),
        s("gamma", "float", zero_inf),
        s("max_depth", "int", zero_inf),
        s("min_child_weight", "float", zero_inf),
        s("max_delta_step", "float", zero_inf),
        s("subsample", "float", open_one),
        s("colsample_bytree", "float", open_one),
        s("colsample_bylevel", "float", open_one),
        s("colsample_bynode", "float", open_one),
        s("lambda", "float", zero_inf),
        s("alpha", "float", zero_inf),
        s("tree_method", "cat", ["auto", "exact", "approx", "hist", "gpu_hist"]),
        s("sketch_eps", "float", Interval(0, 1, lo_open=True, hi_open=True)),
        s("scale_pos_weight", "float", _open_closed(0)),
        s("updater", "list", UPDATERS),
        s("dsplit", "cat", ["row", "col"]),
        s("refresh_leaf", "int", zero_one),
        s("process_type", "cat", ["default", "update"]),
        s("grow_policy", "cat", ["depthwise", "lossguide"]),
        s("max_leaves", "int", zero_inf),
        s("max_bin", "int", zero_inf),
        s("predictor", "cat", ["auto", "cpu_predictor", "gpu_predictor"]),
        s("monotone_constraints", "tuple", [-1, 0, 1]),
        s("interaction_constraints", "nested", _closed(1)),
        s("sample_type", "cat", ["uniform", "weighted"]),
        s("normalize_type", "cat", ["tree", "forest"]),
        s("rate_drop", "float", zero_one),
        s("one_drop", "int", zero_one),
        s("skip_drop", "float", zero_one),
        s("lambda_bias", "float", zero_one),
        s("tweedie_variance_power", "float", Interval(1, 2, True, True)),
        s("objective", "cat", OBJECTIVES),
        s("num_class", "int", _closed(2)),
        s("base_score", "float", zero_inf),
        s("_kfold", "int", _closed(2)),
        s("_num_cv_round", "int", _closed(1)),
        s("_tuning_objective_metric", "cat", metric_names()),
        s("eval_metric", "list", ALL_METRICS),
        s("seed", "int", Interval(-(2**31), 2**31 - 1, True, True)),
        s("num_parallel_tree", "int", _closed(1)),
        s("save_model_on_termination", "cat", TRUE_FALSE),
        s("aft_loss_distribution", "cat", ["normal", "logistic", "extreme"]),
        s("aft_loss_distribution_scale", "float", zero_inf),
        s("single_precision_histogram", "cat", TRUE_FALSE),
        s("deterministic_histogram", "cat", TRUE_FALSE),
        s("sampling_method", "cat", ["uniform", "gradient_based"]),
        s("prob_buffer_row", "int", Interval(1.0, lo_open=True)),
        s("use_dask_gpu_training", "cat", TRUE_FALSE),
    ]


#: name → (first version accepting it, last version accepting it); absent names are accepted by all but legacy.
_ONLY_IN: dict[str, tuple[str, str]] = {
    "silent": ("1", "0.90-2"),
    "single_precision_histogram": ("1.2-1", "1.5-1"),
    "use_dask_gpu_training": ("1.5-1", "3.2-0"),
    "sampling_method": ("1.2-1", "3.2-0"),
    "deterministic_histogram": ("1.2-1", "3.2-0"),
    "aft_loss_distribution": ("1.2-1", "3.2-0"),
    "aft_loss_distribution_scale": ("1.2-1", "3.2-0"),
}
#: The legacy image (XGBoost 0.72) documents only these names.
_LEGACY_TEXT = (
    "num_round num_class alpha base_score booster colsample_bylevel colsample_bytree csv_weights "
    "early_stopping_rounds eta eval_metric gamma grow_policy lambda lambda_bias max_bin max_delta_step max_depth "
    "max_leaves min_child_weight normalize_type nthread objective one_drop process_type rate_drop refresh_leaf "
    "sample_type scale_pos_weight seed silent sketch_eps skip_drop subsample tree_method tweedie_variance_power "
    "updater dsplit prob_buffer_row _tuning_objective_metric"
)
_LEGACY_NAMES = frozenset(_LEGACY_TEXT.split())
#: Objectives newer than some images: name → first version accepting it.
_OBJECTIVE_SINCE = {"reg:absoluteerror": "1.7-1", "survival:aft": "1.2-1", "reg:pseudohubererror": "1.2-1"}


def specs_for(version: str) -> dict[str, Spec]:
    """The accepted hyperparameters of one image version, in declaration order."""
    key = version_key(version)
    out: dict[str, Spec] = {}
    for spec in _specs():
        first, last = _ONLY_IN.get(spec.name, ("0.90-1", "3.2-0"))
        if version == LEGACY:
            if spec.name not in _LEGACY_NAMES:
                continue
        elif not version_key(first) <= key <= version_key(last):
            continue
        if spec.name == "objective":
            allowed = [o for o in OBJECTIVES if version_key(_OBJECTIVE_SINCE.get(o, "1")) <= key]
            spec = Spec(spec.name, "cat", allowed)
        out[spec.name] = spec
    return out


def _check_dependencies(values: dict[str, Any]) -> None:
    """The container's cross-parameter checks (its dependency validators)."""
    objective, num_class = values.get("objective"), values.get("num_class")
    if objective in ("multi:softmax", "multi:softprob") and num_class is None:
        raise UserError("Require input for parameter 'num_class' for multi-classification")
    if "eval_metric" in values:
        if "objective" not in values:
            # the container's validator indexes dependencies["objective"]: a raw KeyError, a framework error
            raise AlgorithmError("framework error: KeyError: 'objective'")
        metrics = values["eval_metric"]
        if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
            raise UserError("Metric 'auc' can only be applied for classification and ranking problems.")
        if "aft-nloglik" in metrics and objective != "survival:aft":
            raise UserError("Metric 'aft-nloglik' can only be applied for 'survival:aft' objective.")
    tree_method = values.get("tree_method")
    if "monotone_constraints" in values and tree_method not in ("exact", "hist"):
        raise UserError(
            "monotone_constraints can be used only when the tree_method parameter is set to either 'exact' or 'hist'."
        )
    if "interaction_constraints" in values and tree_method not in ("exact", "hist", "approx"):
        raise UserError(
            "interaction_constraints can be used only when the tree_method parameter is set to either 'exact', "
            "'hist' or 'approx'."
        )
    if "updater" in values:
        _check_updater(values["updater"], values.get("booster"), values.get("process_type"))


def _check_updater(updaters: list[str], booster: str | None, process_type: str | None) -> None:
    tree_build = {
        "grow_colmaker",
        "distcol",
        "grow_histmaker",
        "grow_local_histmaker",
        "grow_quantile_histmaker",
    }
    if booster == "gblinear":
        if not (len(updaters) == 1 and updaters[0] in ("shotgun", "coord_descent")):
            raise UserError("Linear updater should be one of these options: 'shotgun', 'coord_descent'.")
    elif process_type == "update":
        if not all(u in ("refresh", "prune") for u in updaters):
            raise UserError("process_type 'update' can only be used with updater 'refresh' and 'prune'")
    else:
        if not all(u in set(UPDATERS) - {"shotgun", "coord_descent"} for u in updaters):
            raise UserError(
                "Tree updater should be selected from these options: 'grow_colmaker', 'distcol', 'grow_histmaker', "
                "'grow_local_histmaker', 'grow_skmaker', 'grow_quantile_histmaker', 'sync', 'refresh', 'prune', "
                "'shortgun', 'coord_descent'."
            )
        if sum(u in tree_build for u in updaters) > 1:
            raise UserError(
                "Only one tree grow plugin can be selected. Choose one from thefollowing: 'grow_colmaker', "
                "'distcol', 'grow_histmaker', 'grow_local_histmaker', 'grow_skmaker'"
            )


def validate(raw: dict[str, Any], version: str = DEFAULT_VERSION) -> dict[str, Any]:
    """Validate string hyperparameters as the container does; return the parsed values (container keys too).

    Raises :class:`UserError` with the container's message, or :class:`AlgorithmError` for its quirks.
    """
    specs = specs_for(normalize_version(version))
    values = {ALIASES.get(k, k): v for k, v in raw.items()}
    for name, spec in specs.items():
        if spec.required and name not in values:
            raise UserError(f"Missing required hyperparameter: {name}")
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            raise UserError(f"Extraneous hyperparameter found: {name}")
        try:
            parsed[name] = spec.parse(value)
        except ValueError as exc:
            raise UserError(f"Hyperparameter {name}: could not parse value", caused_by=exc) from exc
    for name, value in parsed.items():
        specs[name].check_range(value)
    _check_dependencies(parsed)
    return parsed


@dataclass
class TrainConfig:
    """What training needs: the ``xgboost.train`` params and the container's own settings."""

    params: dict[str, Any]
    num_round: int
    eval_metrics: list[str] = field(default_factory=list)
    early_stopping_rounds: int | None = None
    #: the metric early stopping watches: the tuning objective's, else the last of eval_metric
    stop_metric: str | None = None
    csv_weights: int = 0
    save_model_on_termination: bool = False
    kfold: int | None = None
    notes: list[str] = field(default_factory=list)


def _legacy_default_metric(objective: str | None) -> list[str]:
    """XGBoost before 1.3 defaulted binary objectives to ``error`` and multi-class to ``merror``."""
    if objective in ("binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic"):
        return ["error"] if objective != "reg:logistic" else ["rmse"]
    if objective in ("multi:softmax", "multi:softprob"):
        return ["merror"]
    return []


def train_config(raw: dict[str, Any], version: str = DEFAULT_VERSION) -> TrainConfig:
    """Validate and split into ``xgboost.train`` params and container settings for this image version."""
    version = normalize_version(version)
    values = validate(raw, version)
    metrics = list(values.get("eval_metric") or [])
    tuning = values.get("_tuning_objective_metric")
    if tuning:  # the container merges the tuning metric into eval_metric, sorted
        metrics = sorted(set(metrics) | {tuning.split(":", 1)[1]})
    if not metrics and version_key(version) < (1, 3, 0):
        metrics = _legacy_default_metric(values.get("objective"))
    params = {k: v for k, v in values.items() if k not in CONTAINER_KEYS and k not in DROPPED_FOR_LIBRARY}
    notes: list[str] = []
    if "updater" in params:
        params["updater"] = ",".join(params["updater"])
    for key in ("monotone_constraints", "interaction_constraints"):
        if key in params:
            params[key] = str(params[key]).replace(" ", "")
    if values.get("silent") == 1 and "verbosity" not in params:
        params["verbosity"] = 0
    if params.get("tree_method") == "gpu_hist":
        params["tree_method"] = "hist"
        notes.append("tree_method 'gpu_hist' runs as 'hist': this platform trains on CPU.")
    early = values.get("early_stopping_rounds")
    return TrainConfig(
        params=params,
        num_round=values["num_round"],
        eval_metrics=metrics,
        early_stopping_rounds=early,
        stop_metric=tuning.split(":", 1)[1] if tuning else (metrics[-1] if metrics else None),
        csv_weights=values.get("csv_weights", 0),
        save_model_on_termination=values.get("save_model_on_termination") == "true",
        kfold=values.get("_kfold"),
        notes=notes,
    )


def accepted_names(version: str = DEFAULT_VERSION) -> Iterable[str]:
    """The hyperparameter names one image version accepts."""
    return specs_for(normalize_version(version)).keys()
