"""Browser sessions for the workspace's web UI: one-time login tokens and signed session cookies.

A browser never holds the workspace key. ``cmlops local ui`` asks the server (with the key) for a
one-time token and prints a login link carrying it; the link (or the login form, given the key)
sets a session cookie: ``<expiry>.<nonce>.<HMAC-SHA256 over both, keyed by the workspace key>``,
HttpOnly and SameSite=Strict. Cookies are checked by signature alone, so they survive a server
restart and die with a new workspace key; tokens live in memory, expire after a few minutes and
work once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable

from automation.local.state.keys import keys_match

SESSION_TTL = 12 * 3600.0
TOKEN_TTL = 300.0
MAX_TOKENS = 64


def cookie_name(port: int) -> str:
    """Cookies are not kept apart by port: each workspace's cookie carries its port in its name."""
    return f"cmlops_ui_{port}"


class UiSessions:
    """Issues and checks the web UI's login tokens and session cookies for one workspace key."""

    def __init__(self, key: str, clock: Callable[[], float] = time.time) -> None:
        self._key = key.encode()
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, f"cmlops-ui|{payload}".encode(), hashlib.sha256).hexdigest()

    def issue_token(self) -> str:
        """A one-time login token, valid for ``TOKEN_TTL`` seconds."""
        token = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            while len(self._tokens) >= MAX_TOKENS:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[token] = now + TOKEN_TTL
        return token

    def redeem(self, token: str) -> str | None:
        """A session cookie value for a live, unused token (the token is spent); else None."""
        with self._lock:
            expiry = self._tokens.pop(token, None)
        if expiry is None or expiry <= self._clock():
            return None
        return self.new_session()

    def login(self, key: str) -> str | None:
        """A session cookie value for the right workspace key; else None."""
        return self.new_session() if keys_match(key.strip(), self._key.decode()) else None

    def new_session(self) -> str:
        payload = f"{int(self._clock() + SESSION_TTL)}.{secrets.token_hex(8)}"
        return f"{payload}.{self._sign(payload)}"

    def valid(self, value: str | None) -> bool:
        """True for an unexpired cookie value this workspace key signed."""
        if not value or value.count(".") != 2:
            return False
        expiry, nonce, signature = value.split(".")
        if not expiry.isdigit() or int(expiry) <= self._clock():
            return False
        return hmac.compare_digest(signature, self._sign(f"{expiry}.{nonce}"))


def cookie_value(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """The value of cookie ``name`` in raw ASGI headers, if sent."""
    wanted = name.encode()
    for header, value in headers:
        if header != b"cookie":
            continue
        for part in value.split(b";"):
            key, sep, val = part.strip().partition(b"=")
            if sep and key == wanted:
                return val.decode("latin-1")
    return None
