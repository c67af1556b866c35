"""Console sign-in sessions: opaque random tokens in an HttpOnly cookie, kept in the server's memory
with an expiry (12 hours, as the AWS console's), each with its own CSRF token. A server restart signs
everyone out; nothing else is lost (sessions hold no data)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from sagelocal.services.base import Principal

SESSION_SECONDS = 12 * 3600
COOKIE = "sagelocal-console"


@dataclass
class ConsoleSession:
    token: str
    account_id: str
    user_name: str
    user_arn: str
    user_id: str
    expires: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def principal(self) -> Principal:
        """The IAM user the console acts as: every action is authorized as this user's."""
        return Principal(account_id=self.account_id, arn=self.user_arn, user_id=self.user_id, kind="user")


class SessionStore:
    """Live sessions by token; expired ones are dropped when met."""

    def __init__(self, lifetime: float = SESSION_SECONDS) -> None:
        self.lifetime = lifetime
        self._now = time.monotonic
        self._sessions: dict[str, ConsoleSession] = {}
        self._lock = threading.Lock()

    def open(self, account_id: str, user_name: str, user_arn: str, user_id: str) -> ConsoleSession:
        expires = self._now() + self.lifetime
        session = ConsoleSession(secrets.token_urlsafe(32), account_id, user_name, user_arn, user_id, expires)
        with self._lock:
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> ConsoleSession | None:
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires <= self._now():
                del self._sessions[token]
                return None
            return session

    def close(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)
