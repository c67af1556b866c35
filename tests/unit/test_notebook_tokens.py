"""Presigned notebook URL tokens and session-cookie values: signed, bound, expiring, not interchangeable."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagelocal.notebook_server.tokens import (
    InvalidToken,
    mint_session,
    mint_url_token,
    read_secret,
    verify_session,
    verify_url_token,
)

SECRET = "0123456789abcdef-secret"
NOW = 1_800_000_000.0


def reason(token: str, secret: str = SECRET, instance: str = "nb", now: float = NOW) -> str:
    with pytest.raises(InvalidToken) as caught:
        verify_url_token(secret, token, instance, now=now)
    return caught.value.reason


def test_round_trip_returns_the_session_duration() -> None:
    token = mint_url_token(SECRET, "nb", 3600, now=NOW)
    assert verify_url_token(SECRET, token, "nb", now=NOW + 299) == 3600


def test_tokens_are_query_safe_and_random() -> None:
    tokens = {mint_url_token(SECRET, "nb", 1800, now=NOW) for _ in range(20)}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", t) for t in tokens)


def test_url_token_expires_after_its_ttl() -> None:
    token = mint_url_token(SECRET, "nb", 1800, url_ttl=300, now=NOW)
    assert reason(token, now=NOW + 300) == "expired"
    long_lived = mint_url_token(SECRET, "nb", 1800, url_ttl=3600, now=NOW)
    assert verify_url_token(SECRET, long_lived, "nb", now=NOW + 3000) == 1800


def test_wrong_secret_and_wrong_instance() -> None:
    token = mint_url_token(SECRET, "nb", 1800, now=NOW)
    assert reason(token, secret="another-secret") == "bad signature"
    assert reason(token, instance="nb2") == "wrong instance"


@pytest.mark.parametrize("bad", ["", "abc", "a.b.c", "a b.c", "é.x", "x" * 5000 + ".y", "..", "a."])
def test_malformed(bad: str) -> None:
    assert reason(bad) in {"malformed", "bad signature"}


def test_forged_payload_with_a_valid_looking_signature_is_refused() -> None:
    body, signature = mint_url_token(SECRET, "nb", 1800, now=NOW).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["s"] = 43200
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert reason(f"{forged}.{signature}") == "bad signature"


def test_signed_but_malformed_claims_are_refused() -> None:
    from sagelocal.notebook_server import tokens

    for claims in ([1, 2], {"i": "nb", "e": "soon", "s": 1}, {"i": "nb", "e": NOW + 9, "s": True}):
        token = tokens._sign(tokens.URL_DOMAIN, SECRET, claims)  # type: ignore[arg-type]
        assert reason(token) == "malformed"


def test_mint_refuses_non_positive_sessions() -> None:
    for seconds in (0, -5, True):
        with pytest.raises(ValueError):
            mint_url_token(SECRET, "nb", seconds, now=NOW)


def test_session_cookie_round_trip_and_expiry() -> None:
    value = mint_session(SECRET, "nb", expires_at=NOW + 1800)
    assert verify_session(SECRET, value, "nb", now=NOW)
    assert verify_session(SECRET, value, "nb", now=NOW + 1799)
    assert not verify_session(SECRET, value, "nb", now=NOW + 1800)
    assert not verify_session(SECRET, value, "other", now=NOW)
    assert not verify_session("wrong", value, "nb", now=NOW)
    assert not verify_session(SECRET, value + "x", "nb", now=NOW)
    assert not verify_session(SECRET, "", "nb", now=NOW)


def test_url_token_and_session_value_are_not_interchangeable() -> None:
    token = mint_url_token(SECRET, "nb", 1800, now=NOW)
    assert not verify_session(SECRET, token, "nb", now=NOW)
    session = mint_session(SECRET, "nb", expires_at=NOW + 1800)
    assert reason(session) == "bad signature"


def test_read_secret(tmp_path) -> None:
    (tmp_path / "s").write_text("  abc\n")
    assert read_secret(tmp_path / "s") == "abc"
    (tmp_path / "e").write_text("\n")
    with pytest.raises(ValueError):
        read_secret(tmp_path / "e")


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_edit_is_refused(data: st.DataObject) -> None:
    token = mint_url_token(SECRET, "nb", 1800, now=NOW)
    session = mint_session(SECRET, "nb", expires_at=NOW + 1800)
    for original in (token, session):
        at = data.draw(st.integers(0, len(original)))
        edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        char = data.draw(st.sampled_from(ALPHABET))
        if edit == "replace" and at < len(original) and original[at] != char:
            changed = original[:at] + char + original[at + 1 :]
        elif edit == "delete" and at < len(original):
            changed = original[:at] + original[at + 1 :]
        else:
            changed = original[:at] + char + original[at:]
        assert changed != original
        if original is token:
            with pytest.raises(InvalidToken):
                verify_url_token(SECRET, changed, "nb", now=NOW)
        else:
            assert not verify_session(SECRET, changed, "nb", now=NOW)
