"""Condition operators, IfExists, set qualifiers, Null, missing keys, and variables in values."""

from __future__ import annotations

import pytest

from sagelocal.services.iam.policy import PolicyError
from tests.unit.policy_support import condition_allows

T, F = True, False

# (operator, policy value(s), request value (None: key absent), expected) for key "k:key"
OPERATOR_CASES = [
    # strings
    ("StringEquals", "abc", "abc", T),
    ("StringEquals", "abc", "ABC", F),
    ("StringEquals", "abc", "abcd", F),
    ("StringEquals", "a*", "abc", F),  # no wildcards
    ("StringEquals", "a*", "a*", T),
    ("StringEquals", ["x", "abc"], "abc", T),  # values OR'ed
    ("StringEquals", "abc", None, F),  # missing key: false
    ("StringNotEquals", "abc", "abc", F),
    ("StringNotEquals", "abc", "xyz", T),
    ("StringNotEquals", ["abc", "xyz"], "xyz", F),  # negated values NOR'ed
    ("StringNotEquals", ["abc", "xyz"], "def", T),
    ("StringNotEquals", "abc", None, T),  # negated operator, missing key: true
    ("StringEqualsIgnoreCase", "TRUE", "true", T),
    ("StringEqualsIgnoreCase", "abc", "AbC", T),
    ("StringEqualsIgnoreCase", "abc", "abd", F),
    ("StringEqualsIgnoreCase", "abc", None, F),
    ("StringNotEqualsIgnoreCase", "abc", "ABC", F),
    ("StringNotEqualsIgnoreCase", "abc", "abd", T),
    ("StringNotEqualsIgnoreCase", "abc", None, T),
    ("StringLike", "home/*", "home/alice/x", T),
    ("StringLike", "home/*", "Home/alice", F),  # case-sensitive
    ("StringLike", "h?me", "home", T),
    ("StringLike", "h?me", "hoome", F),
    ("StringLike", "*", "", T),
    ("StringLike", "a.c", "abc", F),
    ("StringLike", ["x*", "y*"], "yes", T),
    ("StringLike", "a*", None, F),
    ("StringNotLike", "a*", "abc", F),
    ("StringNotLike", "a*", "bcd", T),
    ("StringNotLike", "a*", None, T),
    # numbers
    ("NumericEquals", "10", "10", T),
    ("NumericEquals", "10", "10.0", T),
    ("NumericEquals", "10", "11", F),
    ("NumericEquals", "10", "ten", F),
    ("NumericEquals", 10, "10", T),  # JSON number as the policy value
    ("NumericEquals", "10", None, F),
    ("NumericNotEquals", "10", "11", T),
    ("NumericNotEquals", "10", "10", F),
    ("NumericNotEquals", "10", None, T),
    ("NumericLessThan", "10", "9", T),
    ("NumericLessThan", "10", "10", F),
    ("NumericLessThan", "10", "-3.5", T),
    ("NumericLessThan", "10", None, F),
    ("NumericLessThanEquals", "10", "10", T),
    ("NumericLessThanEquals", "10", "11", F),
    ("NumericGreaterThan", "10", "11", T),
    ("NumericGreaterThan", "10", "10", F),
    ("NumericGreaterThanEquals", "10", "10", T),
    ("NumericGreaterThanEquals", "10", "9.99", F),
    ("NumericLessThan", ["5", "20"], "10", T),  # any value
    # dates
    ("DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", T),
    ("DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00+01:00", T),
    ("DateEquals", "2020-01-01T00:00:00Z", "1577836800", T),  # epoch seconds
    ("DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", T),
    ("DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", F),
    ("DateEquals", "2020-01-01T00:00:00Z", "not a date", F),
    ("DateNotEquals", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", T),
    ("DateNotEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", F),
    ("DateNotEquals", "2020-01-01T00:00:00Z", None, T),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", T),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", F),
    ("DateLessThanEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", T),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2020-06-01T00:00:00Z", T),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2019-06-01T00:00:00Z", F),
    ("DateGreaterThanEquals", "1577836800", "2020-01-01T00:00:00Z", T),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", None, F),
    # booleans
    ("Bool", "true", "true", T),
    ("Bool", "true", "false", F),
    ("Bool", "false", "false", T),
    ("Bool", True, "true", T),  # JSON true as the policy value
    ("Bool", "true", "TRUE", T),
    ("Bool", "true", None, F),
    # binary
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", T),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "T3RoZXI=", F),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", None, F),
    # IP addresses
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", T),
    ("IpAddress", "203.0.113.0/24", "203.0.114.7", F),
    ("IpAddress", "203.0.113.7", "203.0.113.7", T),  # a bare address is a /32
    ("IpAddress", "203.0.113.7/32", "203.0.113.8", F),
    ("IpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "192.168.3.4", T),
    ("IpAddress", "2001:db8::/32", "2001:db8:1234::1", T),
    ("IpAddress", "2001:db8::/32", "2001:db9::1", F),
    ("IpAddress", "2001:db8::/32", "203.0.113.7", F),  # v4 request, v6 block
    ("IpAddress", "203.0.113.0/24", "::ffff:203.0.113.9", T),  # v4-mapped v6
    ("IpAddress", "203.0.113.0/24", "not-an-ip", F),
    ("IpAddress", "203.0.113.0/24", None, F),
    ("NotIpAddress", "203.0.113.0/24", "203.0.113.7", F),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", T),
    ("NotIpAddress", "203.0.113.0/24", None, T),
    # ARNs
    ("ArnEquals", "arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:role/R", T),
    ("ArnEquals", "arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:role/r", F),
    ("ArnLike", "arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/a/b", T),
    ("ArnLike", "arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/a", F),
    ("ArnLike", "arn:aws:s3:::*", "arn:aws:s3:::b/k:with:colons", T),  # the last part may hold colons
    ("ArnLike", "arn:aws:*:us-east-1:*:*", "arn:aws:sqs:us-east-1:1:q", T),
    ("ArnLike", "arn:aws:*:us-east-1:*:*", "arn:aws:sqs:eu-west-1:1:q", F),
    ("ArnLike", "arn:aws:sqs*", "arn:aws:sqs:us-east-1:1:q", T),  # fewer parts: a plain glob
    ("ArnLike", "arn:aws:iam::*:role/*", "not-an-arn", F),
    ("ArnLike", "arn:aws:iam::?23456789012:root", "arn:aws:iam::123456789012:root", T),
    ("ArnLike", "arn:aws:iam::*:role/x", None, F),
    ("ArnNotEquals", "arn:aws:iam::1:role/R", "arn:aws:iam::1:role/S", T),
    ("ArnNotLike", "arn:aws:iam::*:role/*", "arn:aws:iam::1:role/R", F),
    ("ArnNotLike", "arn:aws:iam::*:role/*", "arn:aws:iam::1:user/U", T),
    ("ArnNotLike", "arn:aws:iam::*:role/*", None, T),
    # Null
    ("Null", "true", None, T),
    ("Null", "true", "x", F),
    ("Null", "false", "x", T),
    ("Null", "false", None, F),
    ("Null", True, None, T),
    ("Null", "true", [], T),  # an empty multi-valued key is absent
]


@pytest.mark.parametrize(("op", "policy_value", "request_value", "expected"), OPERATOR_CASES)
def test_operator(op, policy_value, request_value, expected):
    context = {} if request_value is None else {"k:key": request_value}
    assert condition_allows({op: {"k:key": policy_value}}, **context) is expected


# --- IfExists -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "policy_value", "request_value", "expected"),
    [
        ("StringEqualsIfExists", "abc", None, T),
        ("StringEqualsIfExists", "abc", "abc", T),
        ("StringEqualsIfExists", "abc", "xyz", F),
        ("StringNotEqualsIfExists", "abc", None, T),
        ("StringNotEqualsIfExists", "abc", "abc", F),
        ("StringLikeIfExists", "a*", "bcd", F),
        ("NumericLessThanIfExists", "10", None, T),
        ("NumericLessThanIfExists", "10", "11", F),
        ("DateGreaterThanIfExists", "2020-01-01", None, T),
        ("BoolIfExists", "true", None, T),
        ("BoolIfExists", "true", "false", F),
        ("IpAddressIfExists", "10.0.0.0/8", None, T),
        ("IpAddressIfExists", "10.0.0.0/8", "11.0.0.1", F),
        ("ArnLikeIfExists", "arn:aws:iam::*:role/*", None, T),
        ("ArnLikeIfExists", "arn:aws:iam::*:role/*", "arn:aws:iam::1:user/u", F),
        ("BinaryEqualsIfExists", "QQ==", None, T),
    ],
)
def test_if_exists(op, policy_value, request_value, expected):
    context = {} if request_value is None else {"k:key": request_value}
    assert condition_allows({op: {"k:key": policy_value}}, **context) is expected


# --- set qualifiers ---------------------------------------------------------------------------------

TAG_KEYS = "aws:TagKeys"


@pytest.mark.parametrize(
    ("op", "policy_value", "request_value", "expected"),
    [
        # ForAllValues: every request value matches some policy value; vacuously true when none
        ("ForAllValues:StringEquals", ["a", "b"], ["a"], T),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], T),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], F),
        ("ForAllValues:StringEquals", ["a", "b"], [], T),
        ("ForAllValues:StringEquals", ["a", "b"], None, T),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "team-b"], T),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "other"], F),
        ("ForAllValues:StringEqualsIgnoreCase", ["A"], ["a", "A"], T),
        ("ForAllValues:StringNotEquals", ["secret"], ["a", "b"], T),
        ("ForAllValues:StringNotEquals", ["secret"], ["a", "secret"], F),
        ("ForAllValues:NumericLessThan", "10", ["1", "2"], T),
        ("ForAllValues:NumericLessThan", "10", ["1", "20"], F),
        # ForAnyValue: at least one request value matches; false when none
        ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], T),
        ("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], F),
        ("ForAnyValue:StringEquals", ["a", "b"], [], F),
        ("ForAnyValue:StringEquals", ["a", "b"], None, F),
        ("ForAnyValue:StringEqualsIfExists", ["a"], None, T),
        ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], T),  # b is not a
        ("ForAnyValue:StringNotEquals", ["a"], ["a"], F),
        ("ForAnyValue:StringNotEquals", ["a"], None, F),
        ("ForAnyValue:StringLike", ["x*"], ["a", "xy"], T),
        ("ForAnyValue:IpAddress", "10.0.0.0/8", ["1.1.1.1", "10.1.1.1"], T),
        ("forallvalues:stringequals", ["a"], ["a"], T),  # operator names are case-insensitive
        # no qualifier on a multi-valued key: any value matches (negated: none does)
        ("StringEquals", "b", ["a", "b"], T),
        ("StringEquals", "c", ["a", "b"], F),
        ("StringNotEquals", "b", ["a", "b"], F),
        ("StringNotEquals", "c", ["a", "b"], T),
    ],
)
def test_set_qualifiers(op, policy_value, request_value, expected):
    context = {} if request_value is None else {TAG_KEYS: request_value}
    assert condition_allows({op: {TAG_KEYS: policy_value}}, **context) is expected


# --- combination rules ------------------------------------------------------------------------------


def test_keys_and_operators_are_anded():
    condition = {
        "StringEquals": {"k:a": "1", "k:b": "2"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    full = {"k:a": "1", "k:b": "2", "aws:SecureTransport": "true"}
    assert condition_allows(condition, **full)
    for missing in full:
        assert not condition_allows(condition, **{k: v for k, v in full.items() if k != missing})
    assert not condition_allows(condition, **{**full, "k:b": "3"})
    assert not condition_allows(condition, **{**full, "aws:SecureTransport": "false"})


def test_condition_keys_are_case_insensitive_values_are_not():
    assert condition_allows({"StringEquals": {"AWS:SourceVpc": "vpc-1"}}, **{"aws:sourcevpc": "vpc-1"})
    assert condition_allows({"StringEquals": {"aws:sourcevpc": "vpc-1"}}, **{"AWS:SOURCEVPC": "vpc-1"})
    assert not condition_allows({"StringEquals": {"aws:sourcevpc": "vpc-1"}}, **{"aws:sourcevpc": "VPC-1"})
    tag = {"StringEquals": {"aws:ResourceTag/Team": "ml"}}
    assert condition_allows(tag, **{"aws:resourcetag/team": "ml"})


def test_context_accepts_python_bools_and_numbers():
    assert condition_allows({"Bool": {"aws:SecureTransport": "true"}}, **{"aws:SecureTransport": True})
    assert not condition_allows({"Bool": {"aws:SecureTransport": "true"}}, **{"aws:SecureTransport": False})
    assert condition_allows({"NumericLessThan": {"s3:max-keys": "100"}}, **{"s3:max-keys": 10})


def test_date_against_current_time():
    condition = {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
    assert condition_allows(condition, **{"aws:CurrentTime": "2026-05-01T12:00:00Z"})
    assert not condition_allows(condition, **{"aws:CurrentTime": "2031-05-01T12:00:00Z"})
    assert not condition_allows(condition)  # the key is missing
    epoch = {"NumericGreaterThan": {"aws:EpochTime": "1700000000"}}
    assert condition_allows(epoch, **{"aws:EpochTime": "1800000000"})


# --- variables in condition values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/alice/x"}, T),
        ({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/bob/x"}, F),
        ({"StringLike": {"s3:prefix": "${*}"}}, {"s3:prefix": "anything"}, F),  # literal asterisk
        ({"StringLike": {"s3:prefix": "${*}"}}, {"s3:prefix": "*"}, T),
        ({"StringEquals": {"aws:RequestTag/owner": "${aws:username}"}}, {"aws:RequestTag/owner": "alice"}, T),
        ({"StringEquals": {"aws:RequestTag/owner": "${aws:username}"}}, {"aws:RequestTag/owner": "bob"}, F),
        ({"StringEquals": {"k:x": "${k:missing}"}}, {"k:x": ""}, F),  # no value matches nothing
        ({"StringEquals": {"k:x": "${k:missing, 'dflt'}"}}, {"k:x": "dflt"}, T),
        ({"StringNotEquals": {"k:x": "${k:missing}"}}, {"k:x": "v"}, T),
        ({"StringEqualsIgnoreCase": {"k:x": "${aws:username}"}}, {"k:x": "ALICE"}, T),
        (
            {"ArnLike": {"k:arn": "arn:aws:iam::*:user/${aws:username}"}},
            {"k:arn": "arn:aws:iam::1:user/alice"},
            T,
        ),
        (
            {"ArnLike": {"k:arn": "arn:aws:iam::*:user/${aws:username}"}},
            {"k:arn": "arn:aws:iam::1:user/bob"},
            F,
        ),
        (
            {"StringEquals": {"k:x": "${aws:PrincipalArn}"}},
            {"k:x": "arn:aws:iam::123456789012:user/alice"},
            T,
        ),
    ],
)
def test_condition_variables(condition, context, expected):
    assert condition_allows(condition, **context) is expected


def test_condition_variables_literal_in_old_version():
    condition = {"StringEquals": {"k:x": "${aws:username}"}}
    assert not condition_allows(condition, version="2008-10-17", **{"k:x": "alice"})
    assert condition_allows(condition, version="2008-10-17", **{"k:x": "${aws:username}"})


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualz": {"k:x": "a"}},
        {"NullIfExists": {"k:x": "true"}},
        {"ForSomeValues:StringEquals": {"k:x": "a"}},
        {"StringEquals": "not a mapping"},
        {"StringEquals": {"k:x": {"nested": "object"}}},
    ],
)
def test_malformed_conditions_rejected(condition):
    with pytest.raises(PolicyError):
        condition_allows(condition)
