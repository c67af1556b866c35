"""The console's words in English and Japanese. The language is the `lang` cookie's (set by the
switch in the header), else the first of the browser's Accept-Language that we have, else English."""

from __future__ import annotations

LANGUAGES = ("en", "ja")

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"en": "sagelocal console", "ja": "sagelocal コンソール"},
    "sign_in": {"en": "Sign in", "ja": "サインイン"},
    "sign_in_heading": {"en": "Sign in as IAM user", "ja": "IAM ユーザーとしてサインイン"},
    "account_id": {"en": "Account ID (12 digits)", "ja": "アカウント ID（12 桁）"},  # noqa: RUF001 - Japanese parentheses
    "user_name": {"en": "IAM user name", "ja": "IAM ユーザー名"},
    "password": {"en": "Password", "ja": "パスワード"},
    "sign_out": {"en": "Sign out", "ja": "サインアウト"},
    "bad_credentials": {
        "en": "Your authentication information is incorrect. Please try again.",
        "ja": "認証情報が正しくありません。もう一度お試しください。",
    },
    "locked": {
        "en": "Too many failed sign-in attempts. Try again in {seconds} seconds.",
        "ja": "サインインの失敗が多すぎます。{seconds} 秒後にもう一度お試しください。",
    },
    "expired_form": {
        "en": "This form has expired. Please try again.",
        "ja": "このフォームの有効期限が切れました。もう一度お試しください。",
    },
    "search": {"en": "Search services", "ja": "サービスを検索"},
    "search_none": {
        "en": "No service matches “{query}”.",
        "ja": "「{query}」に一致するサービスはありません。",
    },
    "region": {"en": "Region", "ja": "リージョン"},
    "language": {"en": "Language", "ja": "言語"},
    "account": {"en": "Account ID", "ja": "アカウント ID"},
    "signed_in_as": {"en": "Signed in as", "ja": "サインイン中のユーザー"},
    "services": {"en": "Services", "ja": "サービス"},
    "welcome": {"en": "Console home", "ja": "コンソールのホーム"},
    "not_built": {
        "en": "This page of the console is not built yet. Everything it will show is available now "
        "through the AWS CLI, boto3 and the SageMaker SDK.",
        "ja": "コンソールのこのページはまだありません。ここに表示される内容はすべて、AWS CLI、boto3、"
        "SageMaker SDK で利用できます。",
    },
    "notebook_instances": {"en": "Notebook instances", "ja": "ノートブックインスタンス"},
    "buckets": {"en": "Buckets", "ja": "バケット"},
    "name": {"en": "Name", "ja": "名前"},
    "instance_type": {"en": "Instance type", "ja": "インスタンスタイプ"},
    "status": {"en": "Status", "ja": "ステータス"},
    "created": {"en": "Created", "ja": "作成日時"},
    "actions": {"en": "Actions", "ja": "アクション"},
    "open_jupyterlab": {"en": "Open JupyterLab", "ja": "JupyterLab を開く"},
    "no_notebooks": {"en": "No notebook instances.", "ja": "ノートブックインスタンスはありません。"},
    "no_buckets": {"en": "No buckets.", "ja": "バケットはありません。"},
    "more_soon": {
        "en": "Creating, changing and deleting from the console is not built yet: use the AWS CLI, boto3 or "
        "the SageMaker SDK.",
        "ja": "コンソールからの作成・変更・削除はまだありません。AWS CLI、boto3、SageMaker SDK を使ってください。",
    },
    "svc_sagemaker": {"en": "Amazon SageMaker", "ja": "Amazon SageMaker"},
    "svc_s3": {"en": "Amazon S3", "ja": "Amazon S3"},
    "svc_iam": {"en": "IAM", "ja": "IAM"},
    "svc_logs": {"en": "CloudWatch Logs", "ja": "CloudWatch Logs"},
    "svc_billing": {"en": "Billing and Cost Management", "ja": "請求とコスト管理"},
}


def language(cookie: str | None, accept_language: str | None) -> str:
    """`cookie` if it names a language we have, else the browser's first one we have, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return "en"


def translator(lang: str) -> dict[str, str]:
    """Every message in `lang` (templates use `t.key`)."""
    return {key: texts[lang] for key, texts in MESSAGES.items()}
