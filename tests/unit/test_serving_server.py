"""The real model server (``python -m sagelocal.serving``) over HTTP, one process per configuration, all
started together: every route and status of contract §4, predictions compared with ``Booster.predict``."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest
import xgboost as xgb
from scipy.sparse import csr_matrix

from sagelocal.algorithms.xgboost import recordio

from .serving_support import (
    Server,
    csv_body,
    expected,
    feature_record,
    launch,
    rows,
    train,
    wait_answering,
    write_model,
)
from .serving_support import recordio as recordio_body

CSV_TYPE = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"
SMALL_LIMIT = 4096

SCRIPT = """
import json
import os

import numpy as np
import xgboost as xgb


def model_fn(model_dir):
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model"))
    return booster


def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"input_fn cannot read {content_type}")
    assert isinstance(body, str), type(body)
    return np.array(json.loads(body)["instances"], dtype=float)


def predict_fn(data, model):
    return model.predict(xgb.DMatrix(data))


def output_fn(prediction, accept):
    return json.dumps({"scores": prediction.tolist(), "accept": accept}), "application/json"
"""


@pytest.fixture(scope="module")
def boosters() -> dict[str, xgb.Booster]:
    return {"binary": train("binary:logistic"), "multi": train("multi:softprob")}


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, boosters: dict[str, xgb.Booster]
) -> Iterator[dict[str, Server]]:
    root = tmp_path_factory.mktemp("serving")
    binary, multi = root / "binary", root / "multi"
    write_model(binary, boosters["binary"])
    write_model(multi, boosters["multi"])
    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "xgboost-model").write_bytes(b"this is not a model")
    code = root / "code"
    code.mkdir()
    (code / "inference.py").write_text(textwrap.dedent(SCRIPT))
    logs = root / "logs"
    configs = {
        "binary": (
            binary,
            {"SAGELOCAL_XGBOOST_VERSION": "1.7-1", "MAX_CONTENT_LENGTH": str(SMALL_LIMIT)},
            None,
        ),
        "multi": (multi, {"SAGELOCAL_XGBOOST_VERSION": "3.0-5"}, None),
        "legacy": (binary, {"SAGELOCAL_XGBOOST_VERSION": "latest"}, None),
        "selectable": (
            binary,
            {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label, probabilities,Probability"},
            None,
        ),
        "corrupt": (corrupt, {}, None),
        "script": (binary, {"SAGELOCAL_SERVING_MODE": "script", "SAGEMAKER_PROGRAM": "inference.py"}, code),
    }
    started = {
        name: launch(model_dir, env, logs, code_dir) for name, (model_dir, env, code_dir) in configs.items()
    }
    try:
        yield {name: wait_answering(server) for name, server in started.items()}
    finally:
        for server in started.values():
            server.stop()


def _floats(response_text: str) -> np.ndarray:
    return np.array([float(v) for v in response_text.split()], dtype=np.float32)


# --- routes ---------------------------------------------------------------------------------------------


def test_ping_and_startup_log(servers: dict[str, Server]) -> None:
    response = servers["binary"].get("/ping")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-type"] == HTML
    log = servers["binary"].log()
    assert f"Listening at: http://127.0.0.1:{servers['binary'].port}" in log
    assert "Loading the model from" in log


def test_execution_parameters(servers: dict[str, Server]) -> None:
    response = servers["multi"].get("/execution-parameters")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["BatchStrategy"] == "MULTI_RECORD" and body["MaxPayloadInMB"] == 6
    assert body["MaxConcurrentTransforms"] >= 1


def test_unknown_path_404_and_wrong_method_405(servers: dict[str, Server]) -> None:
    server = servers["binary"]
    response = server.get("/models")
    assert (response.status_code, response.content) == (404, b"{}")
    response = server.get("/invocations")
    assert response.status_code == 405 and "Method Not Allowed" in response.text


def test_empty_body_204(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"")
    assert (response.status_code, response.content) == (204, b"")


def test_body_over_max_content_length_413(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"1," * SMALL_LIMIT)
    assert response.status_code == 413
    assert "<title>413 Request Entity Too Large</title>" in response.text
    assert servers["binary"].post(b"0.5,0.5,0.5,0.5").status_code == 200  # the connection still serves


# --- predictions ----------------------------------------------------------------------------------------


def test_csv_predictions_one_line_per_row(
    servers: dict[str, Server], boosters: dict[str, xgb.Booster]
) -> None:
    x = rows(5)
    response = servers["binary"].post(csv_body(x))
    assert response.status_code == 200
    assert response.headers["content-type"] == CSV_TYPE
    want = expected(boosters["binary"], x)
    assert response.text == "".join(f"{float(p)}\n" for p in want)
    np.testing.assert_array_equal(_floats(response.text), want)


@pytest.mark.parametrize("accept", [None, "*/*", "text/csv", "TEXT/CSV; q=1"])
def test_default_and_csv_accept(servers: dict[str, Server], accept: str | None) -> None:
    response = servers["binary"].post(b"0.1,0.2,0.3,0.4", accept=accept)
    assert response.status_code == 200 and response.headers["content-type"] == CSV_TYPE
    assert response.text.endswith("\n") and response.text.count("\n") == 1


def test_json_accept(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(3)
    response = servers["binary"].post(csv_body(x), accept="application/json")
    assert response.headers["content-type"] == "application/json"
    scores = [p["score"] for p in response.json()["predictions"]]
    np.testing.assert_array_equal(np.array(scores, dtype=np.float32), expected(boosters["binary"], x))


def test_unsupported_accept_406(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"0.1,0.2,0.3,0.4", accept="text/plain")
    assert response.status_code == 406
    assert response.text == (
        "Accept type text/plain is not supported. Please use supported accept types: "
        "['application/json', 'application/jsonlines', 'application/x-recordio-protobuf', 'text/csv']."
    )


def test_jsonlines_without_selectable_output_is_the_containers_500(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"0.1,0.2,0.3,0.4", accept="application/jsonlines")
    assert response.status_code == 500 and "Internal Server Error" in response.text


def test_unsupported_content_type_415(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"[1, 2]", content_type="application/json")
    assert response.status_code == 415
    assert response.text == (
        "application/json is not an accepted ContentType: csv, libsvm, parquet, recordio-protobuf, text/csv, "
        "text/libsvm, text/x-libsvm, application/x-parquet, application/x-recordio-protobuf."
    )
    response = servers["binary"].post(b"PAR1", content_type="application/x-parquet")
    assert (response.status_code, response.text) == (
        415,
        "Content-type application/x-parquet is not supported.",
    )


def test_bad_csv_415(servers: dict[str, Server]) -> None:
    response = servers["binary"].post(b"f1,f2,f3,f4\n1,2,3,4")
    assert response.status_code == 415
    assert response.text == (
        "Loading csv data failed with Exception, please ensure data is in csv format:\n"
        " <class 'ValueError'>\n could not convert string to float: 'f1'"
    )


def test_too_many_features_400_fewer_padded(
    servers: dict[str, Server], boosters: dict[str, xgb.Booster]
) -> None:
    response = servers["binary"].post(b"1,2,3,4,5")
    assert response.status_code == 400
    assert response.text.startswith("Unable to evaluate payload provided: ")
    assert "Number of columns does not match number of features in booster" in response.text
    x = rows(2, features=3)
    response = servers["binary"].post(csv_body(x))
    np.testing.assert_array_equal(_floats(response.text), expected(boosters["binary"], x))


def test_csv_tab_delimiter_and_empty_fields(
    servers: dict[str, Server], boosters: dict[str, xgb.Booster]
) -> None:
    x = rows(3)
    response = servers["binary"].post(csv_body(x, "\t"))
    np.testing.assert_array_equal(_floats(response.text), expected(boosters["binary"], x))
    response = servers["binary"].post(b"0.5,,1.5,\n,,,-1")
    want = expected(boosters["binary"], np.array([[0.5, np.nan, 1.5, np.nan], [np.nan, np.nan, np.nan, -1]]))
    np.testing.assert_array_equal(_floats(response.text), want)


@pytest.mark.parametrize("content_type", [None, "text/libsvm", "text/x-libsvm", "libsvm"])
def test_libsvm(
    servers: dict[str, Server], boosters: dict[str, xgb.Booster], content_type: str | None
) -> None:
    body = b"1 0:0.5 2:-1.25\n0 1:2.0 3:0.75"
    response = servers["binary"].post(body, content_type=content_type)
    assert response.status_code == 200, response.text
    x = csr_matrix(([0.5, -1.25, 2.0, 0.75], ([0, 0, 1, 1], [0, 2, 1, 3])))
    np.testing.assert_array_equal(_floats(response.text), expected(boosters["binary"], x))


def test_recordio_protobuf(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(3).astype(np.float32)
    body = recordio_body([feature_record(list(map(float, row))) for row in x])
    response = servers["binary"].post(body, content_type="application/x-recordio-protobuf")
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(_floats(response.text), expected(boosters["binary"], x))


def test_multiclass_rows(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(4)
    want = expected(boosters["multi"], x)
    response = servers["multi"].post(csv_body(x))
    assert response.text == "".join(",".join(str(float(v)) for v in row) + "\n" for row in want)
    response = servers["multi"].post(csv_body(x), accept="application/json")
    scores = np.array([p["score"] for p in response.json()["predictions"]], dtype=np.float32)
    np.testing.assert_array_equal(scores, want)


def test_legacy_image_answers_one_line(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(3)
    response = servers["legacy"].post(csv_body(x), accept="application/json")
    assert response.headers["content-type"] == CSV_TYPE
    want = expected(boosters["binary"], x)
    assert response.text == ",".join(str(float(p)) for p in want)
    np.testing.assert_array_equal(np.fromstring(response.text, sep=",").astype(np.float32), want)


# --- selectable output ----------------------------------------------------------------------------------


def test_selectable_csv_and_json(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(2)
    p = [float(v) for v in expected(boosters["binary"], x)]
    response = servers["selectable"].post(csv_body(x))
    assert response.headers["content-type"] == CSV_TYPE
    assert response.text == "\n".join(f'{int(v > 0.5)},"{[1.0 - v, v]}",{v}' for v in p)
    response = servers["selectable"].post(csv_body(x), accept="application/json")
    assert response.json() == {
        "predictions": [
            {"predicted_label": int(v > 0.5), "probability": v, "probabilities": [1.0 - v, v]} for v in p
        ]
    }
    response = servers["selectable"].post(csv_body(x), accept="application/jsonlines")
    assert [json.loads(line)["probability"] for line in response.text.splitlines()] == p


def test_selectable_recordio(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    x = rows(2)
    response = servers["selectable"].post(csv_body(x), accept="application/x-recordio-protobuf")
    assert response.headers["content-type"] == "application/x-recordio-protobuf"
    labels = [recordio.parse_record(frame)["label"] for frame in recordio.frames(response.content)]
    want = expected(boosters["binary"], x)
    assert [float(r["probability"][0][0]) for r in labels] == [float(v) for v in want]
    first = labels[0]["probabilities"][0].tolist()
    assert first == pytest.approx([1 - float(want[0]), float(want[0])])


# --- failures to load, and script mode ------------------------------------------------------------------


def test_corrupt_model_ping_500(servers: dict[str, Server]) -> None:
    response = servers["corrupt"].get("/ping")
    assert response.status_code == 500
    assert response.text.startswith("Unable to load model: Model at ")
    assert "cannot be loaded" in response.text
    response = servers["corrupt"].post(b"1,2,3")
    assert response.status_code == 500 and response.text.startswith("Unable to load model: ")
    assert servers["corrupt"].post(b"1,2", content_type="application/json").status_code == 415  # 415 first


def test_script_mode(servers: dict[str, Server], boosters: dict[str, xgb.Booster]) -> None:
    server = servers["script"]
    assert server.get("/ping").status_code == 200
    x = rows(3)
    response = server.post(json.dumps({"instances": x.tolist()}).encode(), content_type="application/json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["accept"] == "application/json"  # no Accept: the toolkit's default
    np.testing.assert_array_equal(np.array(body["scores"], dtype=np.float32), expected(boosters["binary"], x))
    response = server.post(b"1,2,3,4", content_type="text/csv")
    assert (response.status_code, response.text) == (500, "ValueError: input_fn cannot read text/csv")
    assert "Traceback" in server.log()
    assert server.get("/execution-parameters").status_code == 404
