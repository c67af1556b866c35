"""Signed presigned-URL tokens and session-cookie values for notebook instances.

Both are `<payload>.<signature>`: the payload is unpadded base64url JSON, the signature an unpadded
base64url HMAC-SHA256 over a per-kind domain string and the encoded payload, so neither kind can
stand in for the other. Every character is URL- and cookie-safe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

URL_DOMAIN = b"sagelocal-notebook-url-token-v1"
SESSION_DOMAIN = b"sagelocal-notebook-session-v1"
MAX_LENGTH = 4096
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class InvalidToken(Exception):
    """A token or session value that must be refused; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_secret(path: str | Path) -> str:
    """The signing secret stored at `path` (surrounding whitespace ignored); both sides use this."""
    secret = Path(path).read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"notebook auth secret file {path} is empty")
    return secret


def mint_url_token(
    secret: str,
    instance: str,
    session_seconds: int,
    url_ttl: float = 300.0,
    now: float | None = None,
) -> str:
    """A token for `?authToken=`: usable until now+url_ttl, opening a `session_seconds` session."""
    if not _positive_int(session_seconds):
        raise ValueError("session_seconds must be a positive integer")
    issued = time.time() if now is None else now
    payload = {"i": instance, "e": issued + url_ttl, "s": session_seconds, "n": _nonce()}
    return _sign(URL_DOMAIN, secret, payload)


def verify_url_token(secret: str, token: str, instance: str, now: float | None = None) -> int:
    """The session duration `token` grants on `instance`; raises InvalidToken otherwise."""
    payload = _open(URL_DOMAIN, secret, token, instance, now)
    session_seconds = payload.get("s")
    if not _positive_int(session_seconds):
        raise InvalidToken("malformed")
    return int(session_seconds)


def mint_session(secret: str, instance: str, expires_at: float) -> str:
    """A session-cookie value for `instance`, valid until the epoch time `expires_at`."""
    return _sign(SESSION_DOMAIN, secret, {"i": instance, "e": expires_at, "n": _nonce()})


def verify_session(secret: str, value: str, instance: str, now: float | None = None) -> bool:
    """Whether `value` is an unexpired session on `instance` signed with `secret`."""
    try:
        _open(SESSION_DOMAIN, secret, value, instance, now)
    except InvalidToken:
        return False
    return True


def _nonce() -> str:
    return secrets.token_urlsafe(12)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature(domain: bytes, secret: str, body: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), domain + b"\n" + body.encode("ascii"), hashlib.sha256)
    return _b64(mac.digest())


def _sign(domain: bytes, secret: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_signature(domain, secret, body)}"


def _open(domain: bytes, secret: str, token: str, instance: str, now: float | None) -> dict[str, Any]:
    """The verified payload of `token`: well-formed, signed for `domain`, for `instance`, unexpired."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH or not _SHAPE.fullmatch(token):
        raise InvalidToken("malformed")
    body, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(domain, secret, body)):
        raise InvalidToken("bad signature")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed") from None
    if not isinstance(payload, dict):
        raise InvalidToken("malformed")
    expires = payload.get("e")
    if (
        not isinstance(payload.get("i"), str)
        or not isinstance(expires, int | float)
        or isinstance(expires, bool)
    ):
        raise InvalidToken("malformed")
    if payload["i"] != instance:
        raise InvalidToken("wrong instance")
    if (time.time() if now is None else now) >= expires:
        raise InvalidToken("expired")
    return payload
