"""The example notebooks every notebook instance is offered (`sagelocal/data/examples/`), written
from this one source so the English and Japanese notebooks share their code cell for cell.

The code is plain SageMaker SDK v2, runnable unchanged on an AWS notebook instance; only the cost
cell (marked "sagelocal only") asks sagelocal anything. Rebuild after editing:

    .venv/bin/python -m sagelocal.examples_build        # rewrites sagelocal/data/examples/*.ipynb

A unit test checks the committed notebooks equal `build()`'s output.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

EXAMPLES_DIR = Path(__file__).parent / "data" / "examples"
NOTEBOOK = "bank-marketing-xgboost"
LANGUAGES = ("en", "ja")
CLEAN_UP_TAG = "clean-up"  # cells `notebook_exec` still runs after a failed cell, so nothing billable stays


@dataclass(frozen=True)
class Cell:
    """One cell: markdown in each language, or code (the same in both)."""

    id: str
    en: str = ""
    ja: str = ""
    code: str = ""
    tags: tuple[str, ...] = ()


CITATION = (
    "S. Moro, P. Cortez and P. Rita. *A Data-Driven Approach to Predict the Success of Bank "
    "Telemarketing.* Decision Support Systems, Elsevier, 62:22-31, June 2014. "
    "https://doi.org/10.1016/j.dss.2014.03.001 — UCI Machine Learning Repository, "
    "https://doi.org/10.24432/C5K306 (CC BY 4.0)"
)

CELLS: tuple[Cell, ...] = (
    Cell(
        "intro",
        en="""# Bank marketing: train, deploy and evaluate XGBoost with Amazon SageMaker

Will a bank's customer subscribe to a term deposit after a marketing call? This notebook follows
AWS's tutorial *Build, train, deploy, and monitor a machine learning model with Amazon SageMaker*:

1. the notebook's IAM role and a SageMaker session
2. an S3 bucket for the data and the model
3. data preparation
4. upload to S3
5. training with SageMaker's built-in XGBoost algorithm
6. deployment to a real-time endpoint
7. predictions for the held-out test set
8. confusion matrix and accuracy
9. ROC curve and AUC
10. what the run cost
11. clean-up, so nothing keeps billing

The code is the plain SageMaker Python SDK (v2): it runs unchanged on an Amazon SageMaker notebook
instance. Run the cells in order (**Run → Run All Cells** works too).""",
        ja="""# 銀行マーケティング: Amazon SageMaker で XGBoost を学習・デプロイ・評価する

銀行の顧客は、電話による営業のあとに定期預金を申し込むでしょうか。このノートブックは AWS の
チュートリアル「Amazon SageMaker で機械学習モデルを構築、トレーニング、デプロイ、モニタリングする」の
流れをたどります。

1. ノートブックの IAM ロールと SageMaker セッション
2. データとモデルを置く S3 バケット
3. データの準備
4. S3 へのアップロード
5. SageMaker 組み込みの XGBoost アルゴリズムによる学習
6. リアルタイムエンドポイントへのデプロイ
7. テストデータに対する予測
8. 混同行列と正解率
9. ROC 曲線と AUC
10. 今回の実行にかかった費用
11. 後片付け (課金が続くものを残さない)

コードは SageMaker Python SDK (v2) そのもので、Amazon SageMaker のノートブックインスタンスでも
そのまま動きます。上から順に実行してください (**Run → Run All Cells** でも構いません)。""",
    ),
    Cell(
        "role-md",
        en="""## 1. Role and session

A notebook instance acts as its **execution role**: no access keys appear in the code.
`get_execution_role()` returns the role's ARN (SageMaker passes it to the training job and the
model so they can read and write S3), and `Session()` is the SDK's connection to SageMaker and S3
in the instance's region.""",
        ja="""## 1. ロールとセッション

ノートブックインスタンスは自身の **実行ロール** として動作するため、コードにアクセスキーは
現れません。`get_execution_role()` はロールの ARN を返します (SageMaker はこれを学習ジョブと
モデルに渡し、S3 の読み書きに使います)。`Session()` はインスタンスのリージョンの SageMaker と
S3 への SDK の接続です。""",
    ),
    Cell(
        "role",
        code="""from datetime import datetime, timezone

import boto3
import sagemaker

notebook_started = datetime.now(timezone.utc)  # for the cost cell
role = sagemaker.get_execution_role()
session = sagemaker.Session()
region = session.boto_region_name
print("role:  ", role)
print("region:", region)
print("caller:", boto3.client("sts").get_caller_identity()["Arn"])""",
    ),
    Cell(
        "bucket-md",
        en="""## 2. Bucket

`default_bucket()` returns the bucket `sagemaker-<region>-<account>`, creating it on first use.
With the AmazonSageMakerFullAccess policy the role may write only to buckets whose names contain
"sagemaker", which this one does. Everything this notebook stores goes under one prefix, so the
clean-up can find it.""",
        ja="""## 2. バケット

`default_bucket()` はバケット `sagemaker-<リージョン>-<アカウント>` を返します (初回はバケットを
作成します)。AmazonSageMakerFullAccess ポリシーのロールが書き込めるのは名前に "sagemaker" を
含むバケットだけで、このバケットはその条件を満たします。このノートブックが保存するものはすべて
一つのプレフィックスの下に置くので、後片付けで漏れなく見つけられます。""",
    ),
    Cell(
        "bucket",
        code="""bucket = session.default_bucket()
prefix = "bank-marketing-xgboost"
print(f"s3://{bucket}/{prefix}/")""",
    ),
    Cell(
        "data-md",
        en=f"""## 3. Data

The UCI **Bank Marketing** data set: one row per customer contacted in a Portuguese bank's
telemarketing campaigns, with the customer's attributes, the campaign's and economic indicators,
and `y` — whether the customer subscribed. `data/bank-additional.csv` (4,119 rows, a 10% sample
of `bank-additional-full.csv`) is shipped next to this notebook with its licence notice
(`data/NOTICE.md`).

Citation: {CITATION}.

On AWS, download it from the UCI repository (https://archive.ics.uci.edu/dataset/222/bank+marketing),
unzip `bank-additional.zip` and put `bank-additional.csv` in a `data/` folder next to this
notebook.""",
        ja=f"""## 3. データ

UCI の **Bank Marketing** データセットです。ポルトガルの銀行が行った電話営業キャンペーンで
連絡した顧客 1 人につき 1 行で、顧客の属性、キャンペーンと経済の指標、そして申し込んだか
どうか (`y`) が入っています。`data/bank-additional.csv` (4,119 行、`bank-additional-full.csv`
の 10% の標本) がライセンス表示 (`data/NOTICE.md`) とともにこのノートブックの隣に置かれて
います。

出典: {CITATION}.

AWS で実行する場合は UCI のリポジトリ (https://archive.ics.uci.edu/dataset/222/bank+marketing)
からダウンロードし、`bank-additional.zip` を展開して `bank-additional.csv` をこのノートブックの
隣の `data/` フォルダーに置いてください。""",
    ),
    Cell(
        "load",
        code="""import numpy as np
import pandas as pd

raw = pd.read_csv("data/bank-additional.csv", sep=";")
print(raw.shape)
raw.head()""",
    ),
    Cell(
        "prepare-md",
        en="""### Preparation

XGBoost needs numbers, so each categorical column becomes one 0/1 column per value
(`pd.get_dummies`). The built-in algorithm reads CSV with **the label in the first column and no
header**: the label is `y_yes` (1 if the customer subscribed), and `y_no` is dropped. The rows are
shuffled (seed 1729, as in the tutorial) and split 70% for training, 30% for testing.""",
        ja="""### 前処理

XGBoost は数値しか扱えないため、カテゴリ列は値ごとの 0/1 の列に変換します (`pd.get_dummies`)。
組み込みアルゴリズムが読む CSV は **先頭列がラベルでヘッダーなし** の形式です。ラベルは
`y_yes` (申し込んだら 1) で、`y_no` は削除します。行をシャッフルし (チュートリアルと同じ
シード 1729)、70% を学習用、30% をテスト用に分けます。""",
    ),
    Cell(
        "prepare",
        code="""data = pd.get_dummies(raw)
data = pd.concat([data["y_yes"], data.drop(columns=["y_no", "y_yes"])], axis=1).astype(float)
shuffled = data.sample(frac=1, random_state=1729)
cut = int(0.7 * len(shuffled))
train_data, test_data = shuffled.iloc[:cut], shuffled.iloc[cut:]
train_data.to_csv("train.csv", index=False, header=False)
print(f"{len(train_data)} training rows, {len(test_data)} test rows, {data.shape[1] - 1} features")
print(f"subscribed: {train_data['y_yes'].mean():.1%} of the training rows")""",
    ),
    Cell(
        "upload-md",
        en="""## 4. Upload

Training jobs read their data from S3. `upload_data` puts `train.csv` under the prefix and returns
its S3 URI.""",
        ja="""## 4. アップロード

学習ジョブは S3 からデータを読みます。`upload_data` は `train.csv` をプレフィックスの下に置き、
その S3 URI を返します。""",
    ),
    Cell(
        "upload",
        code="""train_uri = session.upload_data("train.csv", bucket=bucket, key_prefix=f"{prefix}/train")
print(train_uri)""",
    ),
    Cell(
        "train-md",
        en="""## 5. Training

`image_uris.retrieve` names the container image of SageMaker's built-in XGBoost algorithm (version
1.7-1) in this region. The estimator trains it on one `ml.m5.xlarge` instance with the tutorial's
hyperparameters (trees at most 5 deep, learning rate 0.2, 100 rounds, a logistic objective for the
yes/no label) and writes `model.tar.gz` under the prefix. `fit(logs=True)` waits for the job and
prints its log as it runs.""",
        ja="""## 5. 学習

`image_uris.retrieve` は、このリージョンの SageMaker 組み込み XGBoost アルゴリズム
(バージョン 1.7-1) のコンテナイメージを返します。Estimator はチュートリアルのハイパーパラメーター
(木の深さは最大 5、学習率 0.2、100 ラウンド、yes/no のラベルに対するロジスティック目的関数) で
`ml.m5.xlarge` インスタンス 1 台を使って学習し、`model.tar.gz` をプレフィックスの下に書きます。
`fit(logs=True)` はジョブの終了を待ち、その間ログを表示します。""",
    ),
    Cell(
        "train",
        code="""from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

container = image_uris.retrieve("xgboost", region, "1.7-1")
xgb = Estimator(
    container,
    role,
    instance_count=1,
    instance_type="ml.m5.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=session,
)
xgb.set_hyperparameters(
    max_depth=5,
    eta=0.2,
    gamma=4,
    min_child_weight=6,
    subsample=0.8,
    objective="binary:logistic",
    num_round=100,
)
xgb.fit({"train": TrainingInput(train_uri, content_type="csv")}, logs=True)""",
    ),
    Cell(
        "deploy-md",
        en="""## 6. Deployment

`deploy` creates a model from the training job's artifact, an endpoint configuration and a
real-time **endpoint** on one `ml.m5.xlarge` instance, and waits until it is `InService`.
`CSVSerializer` sends the rows to predict as CSV, the format the algorithm expects. From now on the
endpoint bills by the hour until it is deleted (step 11).""",
        ja="""## 6. デプロイ

`deploy` は学習ジョブの成果物からモデル、エンドポイント設定、そして `ml.m5.xlarge` インスタンス
1 台のリアルタイム **エンドポイント** を作成し、`InService` になるまで待ちます。`CSVSerializer`
は予測する行をアルゴリズムが期待する CSV 形式で送ります。ここから先、エンドポイントは削除する
まで (手順 11) 時間単位で課金されます。""",
    ),
    Cell(
        "deploy",
        code="""from sagemaker.serializers import CSVSerializer

predictor = xgb.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge", serializer=CSVSerializer())
print("endpoint:", predictor.endpoint_name)""",
    ),
    Cell(
        "predict-md",
        en="""## 7. Predictions

The test rows go to the endpoint without their label, in batches of about 500 rows per request.
For each row the model answers a score between 0 and 1: its estimate of the probability that the
customer subscribes.""",
        ja="""## 7. 予測

テストデータの行をラベルを除いてエンドポイントに送ります (1 リクエストあたり約 500 行)。モデルは
各行に 0 から 1 のスコア、つまり顧客が申し込む確率の推定値を返します。""",
    ),
    Cell(
        "predict",
        code="""features = test_data.drop(columns=["y_yes"]).to_numpy()
labels = test_data["y_yes"].to_numpy().astype(int)

scores = []
for batch in np.array_split(features, max(1, len(features) // 500)):
    answer = predictor.predict(batch).decode("utf-8")
    scores += [float(s) for s in answer.replace("\\n", ",").split(",") if s.strip()]
scores = np.array(scores)
print(f"{len(scores)} scores, e.g. {np.round(scores[:5], 3)}")""",
    ),
    Cell(
        "confusion-md",
        en="""## 8. Confusion matrix and accuracy

A score of at least 0.5 counts as "will subscribe". The confusion matrix counts the test rows by
actual and predicted class; accuracy is the share predicted right. Few customers subscribe, so
accuracy alone flatters the model: always answering "no" already scores high.""",
        ja="""## 8. 混同行列と正解率

スコアが 0.5 以上なら「申し込む」と予測したことにします。混同行列は、テスト行を実際のクラスと
予測したクラスで数えたものです。正解率は正しく予測できた割合です。申し込む顧客は少ないので、
正解率だけではモデルを過大評価します (常に「申し込まない」と答えても高い値になります)。""",
    ),
    Cell(
        "confusion",
        code="""from sklearn.metrics import accuracy_score, confusion_matrix

predicted = (scores >= 0.5).astype(int)
matrix = confusion_matrix(labels, predicted, labels=[0, 1])
print(f"Accuracy: {accuracy_score(labels, predicted):.4f}")
pd.DataFrame(
    matrix,
    index=pd.Index(["no", "yes"], name="actual"),
    columns=pd.Index(["no", "yes"], name="predicted"),
)""",
    ),
    Cell(
        "roc-md",
        en="""## 9. ROC curve and AUC

The ROC curve shows every threshold at once: the share of subscribers found (true-positive rate)
against the share of non-subscribers wrongly flagged (false-positive rate). The area under it
(AUC) is the probability that a random subscriber scores higher than a random non-subscriber:
0.5 is guessing, 1.0 is perfect.""",
        ja="""## 9. ROC 曲線と AUC

ROC 曲線はすべてのしきい値を一度に表します。見つけられた申込者の割合 (真陽性率) を、誤って
申込者と判定した非申込者の割合 (偽陽性率) に対してプロットしたものです。曲線の下の面積 (AUC)
は、無作為に選んだ申込者のスコアが無作為に選んだ非申込者のスコアより高くなる確率で、0.5 は
当てずっぽう、1.0 は完璧を意味します。""",
    ),
    Cell(
        "roc",
        code="""%matplotlib inline
import matplotlib.pyplot as plt
from sklearn.metrics import roc_auc_score, roc_curve

fpr, tpr, _ = roc_curve(labels, scores)
auc = roc_auc_score(labels, scores)
print(f"AUC: {auc:.4f}")

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(fpr, tpr, label=f"XGBoost (AUC = {auc:.3f})")
ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="guessing")
ax.set_xlabel("false-positive rate")
ax.set_ylabel("true-positive rate")
ax.set_title("ROC curve, test set")
ax.legend(loc="lower right")
plt.show()""",
    ),
    Cell(
        "cost-md",
        en="""## 10. What it cost — *sagelocal only; on AWS see Billing*

**This cell is specific to sagelocal.** On AWS, open *Billing and Cost Management* (Cost
Explorer, filtered to the SageMaker and S3 services) a day later; the cell then prints just that.
On sagelocal it asks the server's meter what this notebook's usage since its first cell would
have cost on AWS at on-demand prices: the notebook instance, the training job, the endpoint and S3.
Usage for which AWS publishes no price sagelocal could find is listed as "not priced", not
guessed (sagelocal found SageMaker's instance rates for us-east-1 only).""",
        ja="""## 10. 費用 — *sagelocal 専用。AWS では Billing を参照*

**このセルだけは sagelocal 専用です。** AWS では翌日以降に *Billing and Cost Management*
(Cost Explorer で SageMaker と S3 に絞り込む) を開いてください。その場合、このセルはその旨を
表示するだけです。sagelocal では、最初のセルを実行してからのこのノートブックの利用量
(ノートブックインスタンス、学習ジョブ、エンドポイント、S3) が AWS のオンデマンド料金で
いくらになるかをサーバーの計量器に問い合わせます。sagelocal が AWS の公表価格を見つけられ
なかった利用は推測せず、「not priced」と表示します (SageMaker のインスタンス料金が見つかったのは
us-east-1 だけです)。""",
    ),
    Cell(
        "cost",
        code="""# sagelocal only — on AWS see Billing and Cost Management.
import json
import os
import urllib.parse
import urllib.request

server = os.environ.get("AWS_ENDPOINT_URL")
if not server:
    print("Not on sagelocal: see Billing and Cost Management in the AWS console.")
else:
    query = urllib.parse.urlencode({"since": notebook_started.isoformat(), "by": "resource", "region": region})
    with urllib.request.urlopen(f"{server}/_sagelocal/cost?{query}", timeout=30) as answer:
        report = json.load(answer)

    def quantity(line):
        if line["unit"] == "instance-hours":
            return f"{line['quantity'] * 3600:,.0f} instance-seconds"
        return f"{line['quantity']:.6g} {line['unit']}"

    display(pd.DataFrame(
        [
            {
                "resource": line["resource"],
                "usage": " ".join(filter(None, [line["family"], line["instance_type"]])),
                "quantity": quantity(line),
                "USD": f"{line['usd']:.6f}" if line["priced"] else line["note"],
            }
            for line in report["lines"]
        ]
    ))
    print(f"Total of the priced lines: ${report['total_usd']:.6f}")
    if report["not_priced"]:
        print(f"{len(report['not_priced'])} line(s) not priced: AWS publishes no figure sagelocal could find.")""",
    ),
    Cell(
        "clean-md",
        en="""## 11. Clean-up

Delete what keeps billing: the **endpoint** (and its configuration) and the **model** — the model
first, since the SDK finds it through the endpoint's configuration — then the objects this notebook
uploaded or trained under the prefix. The bucket stays: AmazonSageMakerFullAccess does not let the
role delete buckets, and an empty bucket costs nothing (an administrator may delete it in the S3
console). Finally, **stop the notebook instance** when you are done: it bills while it runs.""",
        ja="""## 11. 後片付け

課金が続くものを削除します。**エンドポイント** (とその設定) と **モデル** です。SDK はエンドポイント
設定からモデルを探すので、モデルを先に削除します。続いて、このノートブックがプレフィックスの
下にアップロード・学習したオブジェクトを削除します。バケットは残ります。AmazonSageMakerFullAccess
ではロールがバケットを削除できないためですが、空のバケットに費用はかかりません (管理者が S3
コンソールで削除できます)。最後に、使い終わったら **ノートブックインスタンスを停止** してください。
実行中は課金されます。""",
    ),
    Cell(
        "clean",
        code="""predictor.delete_model()
predictor.delete_endpoint(delete_endpoint_config=True)

deleted = boto3.resource("s3").Bucket(bucket).objects.filter(Prefix=f"{prefix}/").delete()
count = sum(len(batch.get("Deleted", [])) for batch in deleted)
print(f"deleted the endpoint, its configuration, the model and {count} objects under s3://{bucket}/{prefix}/")""",
        tags=(CLEAN_UP_TAG,),
    ),
)


def notebook(language: str) -> Any:
    """The notebook in `language` (markdown from it, code shared), valid nbformat v4, no outputs."""
    cells = []
    for cell in CELLS:
        metadata = {"tags": list(cell.tags)} if cell.tags else {}
        if cell.code:
            new = v4.new_code_cell(cell.code, id=cell.id, metadata=metadata)
        else:
            new = v4.new_markdown_cell(getattr(cell, language), id=cell.id, metadata=metadata)
        cells.append(new)
    nb = v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(nb)
    return nb


def file_name(language: str) -> str:
    return f"{NOTEBOOK}.ipynb" if language == "en" else f"{NOTEBOOK}.{language}.ipynb"


def build() -> dict[str, str]:
    """Each example notebook's file name and its text."""
    return {file_name(lang): nbformat.writes(notebook(lang)) + "\n" for lang in LANGUAGES}


def main() -> int:
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in build().items():
        (EXAMPLES_DIR / name).write_text(text, encoding="utf-8")
        print(EXAMPLES_DIR / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
