"""The model server's model loading, prediction and handlers, in-process with real boosters."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from sagelocal.serving.config import ServingConfig
from sagelocal.serving.script import ScriptHandler
from sagelocal.serving.xgboost.handler import XGBoostHandler
from sagelocal.serving.xgboost.model import load_model

from .serving_support import csv_body, expected, rows, train, write_model


@pytest.fixture(scope="module")
def boosters() -> dict[str, xgb.Booster]:
    return {
        "binary": train("binary:logistic"),
        "binary2": train("binary:logistic", seed=7, rounds=3),
        "multi": train("multi:softprob"),
        "softmax": train("multi:softmax"),
        "softmax2": train("multi:softmax", seed=3, rounds=2),
        "softmax3": train("multi:softmax", seed=5, rounds=1),
        "reg": train("reg:squarederror"),
        "poisson": train("count:poisson"),
    }


def _dir(tmp_path: Path, *models: xgb.Booster, pickled: bool = False) -> Path:
    for i, booster in enumerate(models):
        write_model(tmp_path, booster, f"xgboost-model-{i}", pickled=pickled)
    return tmp_path


# --- config ---------------------------------------------------------------------------------------------


def test_config_from_env() -> None:
    config = ServingConfig.from_env(
        {
            "SAGELOCAL_XGBOOST_VERSION": "latest",
            "SAGEMAKER_BATCH": "false",  # the container tests the string's truth, as here
            "MAX_CONTENT_LENGTH": str(100 * 1024 * 1024),
            "SAGEMAKER_INFERENCE_ENSEMBLE": "False",
            "SAGEMAKER_INFERENCE_OUTPUT": "",
        }
    )
    assert config.version == "1" and config.batch and not config.ensemble
    assert config.max_content_length == 20 * 1024 * 1024 and config.inference_output == ""
    default = ServingConfig.from_env({})
    assert (default.mode, default.version, default.max_content_length, default.timeout) == (
        "xgboost", "1.7-1", 6291456, 60.0,
    )  # fmt: skip


# --- model loading and prediction -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["binary", "multi", "softmax", "reg"])
def test_predictions_equal_booster_predict(
    tmp_path: Path, boosters: dict[str, xgb.Booster], name: str
) -> None:
    model = load_model(_dir(tmp_path, boosters[name]))
    x = rows(6)
    np.testing.assert_array_equal(model.predict(x, "csv"), expected(boosters[name], x))
    x[1, 2] = np.nan
    np.testing.assert_array_equal(model.predict(x, "csv"), expected(boosters[name], x))


def test_model_metadata_and_dot_files_ignored(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    (tmp_path / ".hidden").write_bytes(b"garbage")
    (tmp_path / "code").mkdir()
    model = load_model(_dir(tmp_path, boosters["multi"]))
    assert (model.objective, model.num_class, model.num_features, model.pickled) == (
        "multi:softprob",
        "3",
        4,
        False,
    )


def test_ensemble_average_and_single(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    model_dir = _dir(tmp_path, boosters["binary"], boosters["binary2"])
    x = rows(4)
    want = np.mean([expected(boosters["binary"], x), expected(boosters["binary2"], x)], axis=0)
    np.testing.assert_allclose(load_model(model_dir).predict(x, "csv"), want, rtol=1e-6)
    single = load_model(model_dir, ensemble=False)
    assert len(single.boosters) == 1


def test_ensemble_majority_vote(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    members = [boosters["softmax"], boosters["softmax2"], boosters["softmax3"]]
    model = load_model(_dir(tmp_path, *members))
    x = rows(20)
    votes = np.stack([expected(b, x) for b in members])
    want = [max(sorted(set(col)), key=list(col).count) for col in votes.T]
    assert model.predict(x, "csv").tolist() == want


def test_pickled_model_feature_check(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    model = load_model(_dir(tmp_path, boosters["binary"], pickled=True))
    assert model.pickled
    np.testing.assert_array_equal(model.predict(rows(2, 3), "csv"), expected(boosters["binary"], rows(2, 3)))
    with pytest.raises(ValueError) as exc:
        model.predict(rows(2, 6), "csv")
    assert (
        str(exc.value)
        == "Feature size of csv inference data 6 is not consistent with feature size of trained model 4."
    )


def test_unloadable_model(tmp_path: Path) -> None:
    (tmp_path / "xgboost-model").write_text("{not a model")
    with pytest.raises(RuntimeError, match=r"Model at .*xgboost-model cannot be loaded:\n"):
        load_model(tmp_path)
    empty = tmp_path / "empty"
    (empty / "code").mkdir(parents=True)
    (empty / ".model").write_bytes(b"")
    with pytest.raises(RuntimeError, match="No model file found"):
        load_model(empty)


# --- the algorithm handler ------------------------------------------------------------------------------


def test_handler_batch_mode(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    handler = XGBoostHandler(_dir(tmp_path, boosters["multi"]), ServingConfig(batch=True))
    x = rows(2)
    reply = handler.invoke(csv_body(x), "text/csv", "application/json")
    want = expected(boosters["multi"], x)
    assert reply.status == 200 and reply.content_type == "application/json"
    assert reply.body.decode() == "".join(str([float(v) for v in row]) + "\n" for row in want)
    assert handler.invoke(csv_body(x), "text/csv", "text/plain").status == 406


def test_handler_batch_selectable_csv_has_final_newline(
    tmp_path: Path, boosters: dict[str, xgb.Booster]
) -> None:
    config = ServingConfig(batch=True, inference_output="predicted_score")
    reply = XGBoostHandler(_dir(tmp_path, boosters["reg"]), config).invoke(
        b"1,2,3,4\n0,0,0,0", "text/csv", None
    )
    want = expected(boosters["reg"], np.array([[1, 2, 3, 4], [0, 0, 0, 0]]))
    assert reply.body.decode() == "".join(f"{float(v)}\n" for v in want)


def test_handler_selectable_unsupported_objective_500(
    tmp_path: Path, boosters: dict[str, xgb.Booster]
) -> None:
    handler = XGBoostHandler(
        _dir(tmp_path, boosters["poisson"]), ServingConfig(inference_output="predicted_score")
    )
    reply = handler.invoke(b"1,2,3,4", "text/csv", "application/json")
    assert (reply.status, reply.body) == (
        500,
        b"Objective `count:poisson` unsupported for selectable inference predictions.",
    )


def test_handler_default_accept_env(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    handler = XGBoostHandler(
        _dir(tmp_path, boosters["reg"]), ServingConfig(default_accept="application/json")
    )
    reply = handler.invoke(b"1,2,3,4", "text/csv", "*/*")
    assert reply.content_type == "application/json"
    assert json.loads(reply.body)["predictions"][0]["score"] == float(
        expected(boosters["reg"], [[1, 2, 3, 4]])[0]
    )


# --- script mode ----------------------------------------------------------------------------------------


def _script(tmp_path: Path, source: str, name: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / f"{name}.py").write_text(textwrap.dedent(source))
    return code


def test_sklearn_script_without_model_fn(tmp_path: Path) -> None:
    code = _script(tmp_path, "def predict_fn(data, model):\n    return data\n", "sk_no_model_fn")
    config = ServingConfig(mode="script", framework="sklearn", program="sk_no_model_fn.py")
    handler = ScriptHandler(tmp_path, code, config)
    ping = handler.ping()
    assert ping.status == 500
    assert ping.body.decode().startswith(
        "Unable to load model: NotImplementedError: Please provide a model_fn"
    )


def test_xgboost_script_defaults(tmp_path: Path, boosters: dict[str, xgb.Booster]) -> None:
    write_model(tmp_path, boosters["binary"])
    code = _script(tmp_path, "# every handler function is the framework's default\n", "xgb_defaults")
    handler = ScriptHandler(
        tmp_path, code, ServingConfig(mode="script", framework="xgboost", program="xgb_defaults")
    )
    assert handler.ping().status == 200
    x = rows(3)
    want = expected(boosters["binary"], x)
    reply = handler.invoke(csv_body(x), "text/csv", None)
    assert reply.content_type == "application/json"
    np.testing.assert_array_equal(np.array(json.loads(reply.body), dtype=np.float32), want)
    buffer = io.BytesIO()
    np.save(buffer, x)
    reply = handler.invoke(buffer.getvalue(), "application/x-npy", "text/csv")
    assert reply.content_type == "text/csv; charset=utf-8"
    np.testing.assert_array_equal(np.array(reply.body.split(), dtype=np.float32), want)
    reply = handler.invoke(b"<x/>", "application/xml", None)
    assert reply.status == 415 and b"Content type application/xml is not supported" in reply.body


def test_script_transform_fn_and_user_error(tmp_path: Path) -> None:
    source = """
    def model_fn(model_dir):
        return {"scale": 2}

    def transform_fn(model, body, content_type, accept):
        if body == "boom":
            raise KeyError("boom")
        return str(float(body) * model["scale"]), "text/plain"
    """
    code = _script(tmp_path, source, "transformer")
    handler = ScriptHandler(
        tmp_path, code, ServingConfig(mode="script", framework="sklearn", program="transformer")
    )
    reply = handler.invoke(b"21", "text/csv", "*/*")
    assert (reply.status, reply.body, reply.content_type) == (200, b"42.0", "text/plain; charset=utf-8")
    reply = handler.invoke(b"boom", "text/csv", None)
    assert (reply.status, reply.body) == (500, b"KeyError: 'boom'")
