"""Server-side validation messages, worded exactly as AWS words them."""

from __future__ import annotations

import pytest

from sagelocal.gateway.protocols.patterns import compile_pattern, translate
from sagelocal.gateway.protocols.validation import missing_required, validate, validation_error
from tests.unit.codec_helpers import op

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
NOTEBOOK = {"NotebookInstanceName": "nb", "InstanceType": "ml.t3.medium", "RoleArn": ROLE}
JOB = {"TrainingJobName": "job", "RoleArn": ROLE, "OutputDataConfig": {"S3OutputPath": "s3://b/out"}}
PREFIX = "failed to satisfy constraint: Member must"


def _message(service: str, operation: str, params: dict) -> str:  # type: ignore[type-arg]
    return validation_error(service, validate(op(service, operation), params)).message


def test_valid_parameters_pass() -> None:
    assert validate(op("sagemaker", "CreateNotebookInstance"), NOTEBOOK) == []
    assert validate(op("sagemaker", "CreateTrainingJob"), JOB) == []
    assert validate(op("sts", "GetCallerIdentity"), {}) == []


def test_pattern_message_matches_aws() -> None:
    message = _message("sagemaker", "CreateNotebookInstance", {**NOTEBOOK, "NotebookInstanceName": "x_y"})
    assert message == (
        "1 validation error detected: Value 'x_y' at 'notebookInstanceName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"
    )


def test_iam_pattern_is_printed_as_modeled() -> None:
    problems = validate(op("iam", "CreateRole"), {"RoleName": "bad name!", "AssumeRolePolicyDocument": "{}"})
    assert problems == [
        f"Value 'bad name!' at 'roleName' {PREFIX} satisfy regular expression pattern: [\\w+=,.@-]+"
    ]


def test_several_errors_on_one_member_and_codes() -> None:
    name = "m" * 64 + "-"
    error = validation_error("sagemaker", validate(op("sagemaker", "CreateModel"), {"ModelName": name}))
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message == (
        f"2 validation errors detected: Value '{name}' at 'modelName' {PREFIX} have length less than or "
        f"equal to 63; Value '{name}' at 'modelName' {PREFIX} satisfy regular expression pattern: "
        "^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?"
    )
    assert validation_error("iam", ["x"]).code == "ValidationError"
    assert validation_error("sts", ["x"]).code == "ValidationError"
    assert validation_error("logs", ["x"]).code == "InvalidParameterException"
    assert validation_error("kinesis", ["x"]).code == "ValidationException"


def test_ranges_print_numbers_quoted() -> None:
    big = validate(op("sagemaker", "CreateNotebookInstance"), {**NOTEBOOK, "VolumeSizeInGB": 20000})
    assert big == [f"Value '20000' at 'volumeSizeInGB' {PREFIX} have value less than or equal to 16384"]
    small = validate(op("sagemaker", "CreateNotebookInstance"), {**NOTEBOOK, "VolumeSizeInGB": 4})
    assert small == [f"Value '4' at 'volumeSizeInGB' {PREFIX} have value greater than or equal to 5"]
    assert _message("iam", "ListRoles", {"MaxItems": 1001}) == (
        f"1 validation error detected: Value '1001' at 'maxItems' {PREFIX} have value less than or equal to 1000"
    )


def test_length_minimum() -> None:
    problems = validate(op("logs", "CreateLogGroup"), {"logGroupName": ""})
    assert f"Value '' at 'logGroupName' {PREFIX} have length greater than or equal to 1" in problems


def test_enum() -> None:
    problems = validate(
        op("sagemaker", "CreateNotebookInstance"), {**NOTEBOOK, "DirectInternetAccess": "Maybe"}
    )
    assert problems == [
        f"Value 'Maybe' at 'directInternetAccess' {PREFIX} satisfy enum value set: [Enabled, Disabled]"
    ]


def test_required_members_at_every_depth() -> None:
    problems = validate(op("iam", "CreateRole"), {"RoleName": "r"})
    assert problems == [f"Value null at 'assumeRolePolicyDocument' {PREFIX} not be null"]
    params = {**JOB, "OutputDataConfig": {}, "Tags": [{"Key": "k"}]}
    assert validate(op("sagemaker", "CreateTrainingJob"), params) == [
        f"Value null at 'outputDataConfig.s3OutputPath' {PREFIX} not be null",
        f"Value null at 'tags.1.member.value' {PREFIX} not be null",
    ]


def test_list_element_paths_and_unicode_tag_pattern() -> None:
    tags = [{"Key": "ok", "Value": "Grüße 1"}, {"Key": "team", "Value": "MOJ D&T"}]
    problems = validate(op("iam", "TagRole"), {"RoleName": "r", "Tags": tags})
    assert problems == [
        f"Value 'MOJ D&T' at 'tags.2.member.value' {PREFIX} satisfy regular expression pattern: "
        "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
    ]


def test_list_length_renders_the_list() -> None:
    params = {**NOTEBOOK, "SecurityGroupIds": ["sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"]}
    problems = validate(op("sagemaker", "CreateNotebookInstance"), params)
    assert problems == [
        f"Value '[sg-1, sg-2, sg-3, sg-4, sg-5, sg-6]' at 'securityGroupIds' {PREFIX} have length less than "
        "or equal to 5"
    ]


def test_map_values_and_keys_report_the_whole_map() -> None:
    params = {**JOB, "Environment": {"bad key": "v"}}
    problems = validate(op("sagemaker", "CreateTrainingJob"), params)
    assert len(problems) == 1
    assert problems[0].startswith(
        "Value '{bad key=v}' at 'environment' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 512, Member must have length greater than or equal to 0, "
        "Member must satisfy regular expression pattern: "
    )
    params = {**JOB, "HyperParameters": {"eta": "x" * 2501}}
    problems = validate(op("sagemaker", "CreateTrainingJob"), params)
    assert (
        "at 'hyperParameters' failed to satisfy constraint: Map value must satisfy constraint: ["
        in problems[0]
    )


def test_sensitive_values_are_not_printed() -> None:
    problems = validate(
        op("sts", "AssumeRole"), {"RoleArn": ROLE, "RoleSessionName": "sess", "SerialNumber": "x" * 300}
    )
    assert problems[0].startswith("Value 'xxx")  # SerialNumber is not sensitive
    long_token = {"RoleArn": ROLE, "RoleSessionName": "sess", "WebIdentityToken": "t" * 20001}
    problems = validate(op("sts", "AssumeRoleWithWebIdentity"), long_token)
    assert problems == [f"Value at 'webIdentityToken' {PREFIX} have length less than or equal to 20000"]


def test_required_only_and_missing_required_for_s3() -> None:
    params = {"Bucket": "b", "Delete": {"Objects": [{"VersionId": "x"}]}}
    assert missing_required(op("s3", "DeleteObjects"), params) == ["Delete.Objects.1.Key"]
    assert validate(op("s3", "DeleteObjects"), params, required_only=True) == [
        f"Value null at 'delete.objects.1.member.key' {PREFIX} not be null"
    ]
    assert validate(op("s3", "PutObject"), {"Bucket": "b", "Key": "k" * 2000}, required_only=True) == []


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", "Grüße 1\u3000_.:/=+-@", "a&b"),
        ("[\\w-_]*", "a-b_c", "a b"),
        ("\\A\\S[\\p{Print}]*\\z", "ab c", " ab"),
        ("\\p{ASCII}*", "plain", "é"),
        ("[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+", "a1!€", "a b"),
        ("arn:[\\p{Alnum}\\-]+:lambda:.*", "arn:aws-cn:lambda:x", "arn:a_b:lambda:x"),
        ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*", "ok\t😀", "\x01"),
    ],
)
def test_java_patterns_are_translated(pattern: str, good: str, bad: str) -> None:
    regex = compile_pattern(pattern)
    assert regex is not None, translate(pattern)
    assert regex.fullmatch(good) and not regex.fullmatch(bad)


def test_untranslatable_pattern_is_skipped() -> None:
    assert compile_pattern("[^\\p{L}]+") is None
