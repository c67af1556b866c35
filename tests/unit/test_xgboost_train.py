"""The built-in XGBoost algorithm end to end: real workspaces, the real entry point in a subprocess."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from sagelocal.algorithms.xgboost.train import main as train_main
from sagelocal.algorithms.xgboost.versions import LEGACY, VERSIONS, model_is_pickled
from tests.unit.xgboost_support import (
    BANK_CSV,
    binary_data,
    csv_text,
    libsvm_text,
    make_workspace,
    metric_regex,
    run_job,
    run_with,
)

TUTORIAL = {
    "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
    "objective": "binary:logistic", "num_round": "100",
}  # fmt: skip


def _bank_split() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's preparation: one-hot categoricals, label first, no header, 70/30 split (fixed seed)."""
    pd = pytest.importorskip("pandas")
    if not BANK_CSV.exists():
        pytest.skip(f"shared bank-marketing data not found at {BANK_CSV}")
    frame = pd.get_dummies(pd.read_csv(BANK_CSV, sep=";"))
    frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
    frame = frame.sample(frac=1, random_state=1729)
    cut = int(0.7 * len(frame))
    return frame.iloc[:cut].to_numpy(), frame.iloc[cut:].to_numpy()


def _to_csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n"


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _load(model_file: Path) -> xgb.Booster:
    """Load ``xgboost-model`` (UBJSON without an extension) from bytes, as serving does."""
    booster = xgb.Booster()
    booster.load_model(bytearray(model_file.read_bytes()))
    return booster


def _escaped_lines(stdout: str) -> list[str]:
    """The log as CloudWatch shows it: tabs as ``#011``."""
    return [line.replace("\t", "#011") for line in stdout.splitlines()]


@pytest.mark.parametrize(("version", "extra"), [("1.7-1", {}), ("1", {"silent": "0"})])
def test_bank_marketing_matches_xgboost_train(tmp_path: Path, version: str, extra: dict[str, str]) -> None:
    train, test = _bank_split()
    channels = {"train": {"train.csv": _to_csv(train)}, "validation": {"validation.csv": _to_csv(test)}}
    result = run_with(tmp_path, {**TUTORIAL, **extra}, channels, version=version)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.failure is None and (result.workspace / "output" / "success").exists()

    # the legacy image pickles the Booster
    booster = pickle.loads(result.model_file.read_bytes()) if version == "1" else _load(result.model_file)
    job_auc = _auc(test[:, 0], booster.predict(xgb.DMatrix(test[:, 1:])))
    params = {
        k: float(v) if "." in v else int(v)
        for k, v in TUTORIAL.items()
        if k not in ("objective", "num_round")
    }
    direct = xgb.train({**params, "objective": "binary:logistic", "seed": 0}, xgb.DMatrix(train[:, 1:], label=train[:, 0]),
                       num_boost_round=100)  # fmt: skip
    direct_auc = _auc(test[:, 0], direct.predict(xgb.DMatrix(test[:, 1:])))
    assert abs(job_auc - direct_auc) < 0.01, (job_auc, direct_auc)
    assert job_auc > 0.9

    # one line per round, matched by the service's regexes; XGBoost < 1.3 defaulted binary:logistic to error
    metric = "error" if version == "1" else "logloss"
    lines = [line for line in _escaped_lines(result.stdout) if re.match(r"\[\d+\]#011", line)]
    assert len(lines) == 100 and lines[0].startswith("[0]#011train-")
    last = re.match(metric_regex("validation", metric), lines[-1])
    assert last, lines[-1]
    assert result.metrics[f"validation:{metric}"] == pytest.approx(float(last.group(1)), abs=1e-5)
    assert re.match(metric_regex("train", metric), lines[-1])


def test_sdk_metric_definitions_match_the_log(tmp_path: Path) -> None:
    """The regexes our metric definitions publish capture the numbers the log prints."""
    from sagelocal.algorithms.xgboost.metrics import metric_definitions

    y, x = binary_data(300)
    hps = {"num_round": "3", "objective": "binary:logistic", "eval_metric": "auc,logloss"}
    result = run_with(tmp_path, hps, {"train": {"t.csv": csv_text(y[:200], x[:200])},
                                      "validation": {"v.csv": csv_text(y[200:], x[200:])}})  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = _escaped_lines(result.stdout)
    assert any(line.startswith("[2]#011train-auc:") for line in text)
    for definition in metric_definitions(["auc", "logloss"]):
        values = [m.group(1) for line in text if (m := re.match(definition["Regex"], line))]
        assert len(values) == 3, definition
        assert float(values[-1]) == pytest.approx(result.metrics[definition["Name"]], abs=1e-5)
    # the version-specific number format: %.5f from 1.3 on
    assert re.search(r"train-auc:\d\.\d{5}\b", result.stdout)


def test_libsvm_csv_weights_multiclass_and_early_stopping(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((300, 4))
    y = np.digitize(x[:, 0], [0.33, 0.66]).astype(float)
    libsvm = {
        "train": {"part/a.libsvm": libsvm_text(y[:200], x[:200])},
        "validation": {"v": libsvm_text(y[200:], x[200:])},
    }
    hps = {"num_round": "50", "objective": "multi:softprob", "num_class": "3", "eval_metric": "mlogloss,merror",
           "early_stopping_rounds": "3", "eta": "0.9"}  # fmt: skip
    result = run_with(tmp_path / "svm", hps, libsvm, content_type="text/libsvm")
    assert result.returncode == 0, result.stderr
    booster = _load(result.model_file)
    assert booster.predict(xgb.DMatrix(x[200:])).shape == (100, 3)
    rounds = [line for line in result.stdout.splitlines() if re.match(r"\[\d+\]\t", line)]
    assert len(rounds) < 50  # stopped early on validation-merror (the last metric)
    assert len(rounds) == booster.num_boosted_rounds() + 3  # the best model is kept; every round is logged
    assert set(result.metrics) == {
        "train:mlogloss",
        "train:merror",
        "validation:mlogloss",
        "validation:merror",
    }

    w = np.where(y[:200] == 0, 5.0, 1.0)
    weighted = run_with(tmp_path / "w", {"num_round": "5", "csv_weights": "1", "objective": "reg:squarederror"},
                        {"train": {"t.csv": csv_text(y[:200], x[:200], weights=w)}})  # fmt: skip
    assert weighted.returncode == 0, weighted.stderr
    assert _load(weighted.model_file).num_features() == 4


def test_legacy_and_pre_1_3_images_pickle_and_print_g_format(tmp_path: Path) -> None:
    y, x = binary_data()
    result = run_with(tmp_path, {"num_round": "2", "objective": "binary:logistic", "silent": "1"},
                      {"train": {"t.csv": csv_text(y, x)}}, version="0.90-1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert isinstance(pickle.loads(result.model_file.read_bytes()), xgb.Booster)
    assert re.search(r"^\[1\]\ttrain-error:[0-9.e-]+$", result.stdout, re.M)


FAILURES = [
    ({"objective": "binary:logistic"}, "ClientError: Missing required hyperparameter: num_round"),
    ({"num_round": "3", "foo": "1"}, "ClientError: Extraneous hyperparameter found: foo"),
    ({"num_round": "3", "eta": "1.5"}, "ClientError: Hyperparameter eta: 1.5 is not in [0, 1]"),
    ({"num_round": "3", "silent": "0"}, "ClientError: Extraneous hyperparameter found: silent"),
    ({"num_round": "3", "max_depth": "2.5"},
     "ClientError: Hyperparameter max_depth: could not parse value (caused by ValueError)"),
    ({"num_round": "3", "objective": "multi:softmax"},
     "ClientError: Require input for parameter 'num_class' for multi-classification"),
]  # fmt: skip


@pytest.mark.parametrize(("hps", "reason"), FAILURES)
def test_hyperparameter_failures(tmp_path: Path, hps: dict[str, str], reason: str) -> None:
    y, x = binary_data(50)
    result = run_with(tmp_path, hps, {"train": {"t.csv": csv_text(y, x)}})
    assert result.returncode == 1
    assert result.failure == reason
    assert not result.model_file.exists()


def _failing(tmp_path: Path, channels: dict[str, dict[str, bytes | str]], hps: dict[str, str] | None = None,
             content_type: str | None = "text/csv", **kw: object) -> str:  # fmt: skip
    result = run_with(tmp_path, hps or {"num_round": "3"}, channels, content_type=content_type, **kw)  # type: ignore[arg-type]
    assert result.returncode == 1, result.stdout
    assert result.failure is not None
    assert not (result.workspace / "output" / "success").exists()
    return result.failure


def test_channel_failures(tmp_path: Path) -> None:
    y, x = binary_data(50)
    good = {"t.csv": csv_text(y, x)}
    assert _failing(tmp_path / "a", {"validation": good}) == "ClientError: Missing required channel: train"
    assert (
        _failing(tmp_path / "b", {"train": good, "test": good})
        == "ClientError: Extraneous channel found: test"
    )
    assert _failing(tmp_path / "c", {"train": {}}).startswith(
        "ClientError: No data in training channel path "
    )
    assert _failing(tmp_path / "d", {"train": {"empty.csv": ""}}).startswith(
        "ClientError: No data in training"
    )
    assert _failing(tmp_path / "e", {"train": good, "validation": {}}).startswith(
        "ClientError: No data in validation channel path "
    )
    hidden = {"train": {"t.csv": good["t.csv"], "sub/.DS_Store": "x"}}
    assert _failing(tmp_path / "f", hidden) == (
        "ClientError: Hidden file found in the data path! Remove that before training."
    )
    bad_type = _failing(tmp_path / "g", {"train": good}, content_type="text/csv; label_size=1")
    assert bad_type.startswith("ClientError: Channel configuration for 'train' channel is not supported: {")


def test_malformed_data_failures(tmp_path: Path) -> None:
    no_delimiter = _failing(tmp_path / "a", {"train": {"t.csv": "\n1,2,3\n"}})
    assert (
        no_delimiter
        == "ClientError: Could not determine delimiter on line \n:\nCould not determine delimiter"
    )
    labels_only = _failing(tmp_path / "b", {"train": {"t.csv": "1\n0\n1\n"}})
    assert labels_only.startswith("ClientError: Failed to load csv data with exception:\n")
    assert "Delimiter '1' is not found" in labels_only
    bad_svm = _failing(tmp_path / "c", {"train": {"t.libsvm": "foo bar\n1 0:1 2:3\n"}}, content_type="libsvm")
    assert bad_svm == (
        "ClientError: First line 'foo bar\n...' of file 't.libsvm' is not 'LIBSVM' format. "
        "Please ensure the file is in 'LIBSVM' format."
    )


def test_label_range_failures(tmp_path: Path) -> None:
    y, x = binary_data(60)
    y[::7] = 2
    binary = _failing(tmp_path / "a", {"train": {"t.csv": csv_text(y, x)}},
                      hps={"num_round": "3", "objective": "binary:logistic"})  # fmt: skip
    assert binary == "ClientError: label must be in [0,1] for logistic regression"
    multi = _failing(tmp_path / "b", {"train": {"t.csv": csv_text(y, x)}},
                     hps={"num_round": "3", "objective": "multi:softmax", "num_class": "2"})  # fmt: skip
    assert multi == "ClientError: SoftmaxMultiClassObj: label must be in [0, num_class)."


def test_workspace_from_environment_and_failure_is_cut(tmp_path: Path) -> None:
    """SM_* variables point at the channels; an overlong reason is cut at 1024 characters."""
    y, x = binary_data(50)
    ws = make_workspace(
        tmp_path / "ws", {"num_round": "2", "x" * 2000: "1"}, {"train": {"t.csv": csv_text(y, x)}}
    )
    result = run_job(ws)
    assert result.returncode == 1 and result.failure is not None and len(result.failure) == 1024
    (ws / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"num_round": "2"}))
    (ws / "output" / "failure").unlink()
    assert run_job(ws).returncode == 0


def test_pipe_mode(tmp_path: Path) -> None:
    """Pipe-mode csv reads the channel directory; libsvm is not a Pipe content type for the container."""
    y, x = binary_data(30)
    piped = {"ContentType": "text/csv", "TrainingInputMode": "Pipe", "S3DistributionType": "FullyReplicated"}
    ok = run_with(
        tmp_path / "csv", {"num_round": "2"}, {"train": {"t.csv": csv_text(y, x)}}, configs={"train": piped}
    )
    assert ok.returncode == 0, ok.stderr
    piped = {**piped, "ContentType": "libsvm"}
    reason = _failing(tmp_path / "svm", {"train": {"t": libsvm_text(y, x)}}, configs={"train": piped})
    assert reason == f"ClientError: Channel configuration for 'train' channel is not supported: {piped}"


def test_save_model_on_termination_keeps_the_model_on_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    y, x = binary_data(3000, d=20)
    hps = {"num_round": "100000", "max_depth": "8", "save_model_on_termination": "true"}
    ws = make_workspace(tmp_path / "ws", hps, {"train": {"t.csv": csv_text(y, x)}})
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagelocal.algorithms.xgboost", "train", "--workspace", str(ws)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    model = ws / "model" / "xgboost-model"
    try:
        deadline = time.monotonic() + 30
        while not model.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert model.exists(), proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _load(model).num_boosted_rounds() >= 1
    assert not (ws / "output" / "failure").exists()


@pytest.mark.parametrize("version", [*VERSIONS, LEGACY])
def test_every_image_version_trains_and_writes_its_model_format(tmp_path: Path, version: str) -> None:
    """In-process (the subprocess path is covered above): the model format and metric format per version."""
    y, x = binary_data(80)
    hps = {"num_round": "2", "objective": "binary:logistic", "eval_metric": "logloss"}
    ws = make_workspace(tmp_path / "ws", hps, {"train": {"t.csv": csv_text(y, x)}})
    assert train_main(ws, version) == 0
    raw = (ws / "model" / "xgboost-model").read_bytes()
    booster = pickle.loads(raw) if model_is_pickled(version) else _load(ws / "model" / "xgboost-model")
    assert booster.num_boosted_rounds() == 2
    assert set(json.loads((ws / "output" / "metrics.json").read_text())) == {"train:logloss"}


def test_unexpected_errors_are_algorithm_errors(tmp_path: Path) -> None:
    y, x = binary_data(30)
    ws = make_workspace(tmp_path / "ws", {"num_round": "2"}, {"train": {"t.csv": csv_text(y, x)}})
    (ws / "input" / "config" / "hyperparameters.json").write_text("{not json")
    assert train_main(ws, "1.7-1") == 1
    reason = (ws / "output" / "failure").read_text()
    assert reason.startswith("AlgorithmError: framework error: \nTraceback (most recent call last):")
    objective_missing = _failing(tmp_path / "o", {"train": {"t.csv": csv_text(y, x)}},
                                 hps={"num_round": "2", "eval_metric": "rmse"})  # fmt: skip
    assert objective_missing == "AlgorithmError: framework error: KeyError: 'objective'"
