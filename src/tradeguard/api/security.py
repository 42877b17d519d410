"""Security primitives of the service: password hashing, bearer tokens, signed session cookies
and CSRF tokens.

- Passwords are hashed with argon2id (argon2-cffi); a hash made with older parameters is
  flagged by :func:`needs_rehash` so it can be upgraded at the next login.
- Bearer tokens are 32 random bytes (URL-safe); only their SHA-256 is stored, so the token
  table grants nothing if it leaks.
- The portal's session cookie is ``<payload>.<HMAC-SHA256>`` over a JSON payload carrying the
  user id, the expiry and a CSRF secret; the CSRF token sent with every form is an HMAC of that
  secret, checked in constant time (double-submit bound to the session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Moderate argon2 parameters: a login costs ~10-20 ms, not the library's 50+ ms default,
# which would make the failed-login throttle the only defence against CPU exhaustion.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; safe to store)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash is a mismatch."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the current ones."""
    return _HASHER.check_needs_rehash(stored_hash)


def new_token() -> str:
    """A fresh bearer token (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    """What a valid session cookie carries."""

    user_id: int
    expires: int  # unix seconds
    csrf_secret: str


def sign_session(
    secret_key: str, user_id: int, ttl_seconds: int, *, now: float | None = None
) -> str:
    """A signed session cookie value for ``user_id`` valid ``ttl_seconds``."""
    payload = {
        "u": user_id,
        "e": int((now if now is not None else time.time()) + ttl_seconds),
        "c": secrets.token_urlsafe(16),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret_key, body)}"


def read_session(secret_key: str, cookie: str, *, now: float | None = None) -> Session | None:
    """The session a cookie carries, or None if it is forged, malformed or expired."""
    body, _, mac = cookie.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret_key, body)):
        return None
    try:
        data = json.loads(_unb64(body))
        session = Session(int(data["u"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires < (now if now is not None else time.time()):
        return None
    return session


def csrf_token(secret_key: str, session: Session) -> str:
    """The CSRF token a form of this session must send back."""
    return _mac(secret_key, "csrf:" + session.csrf_secret)


def check_csrf(secret_key: str, session: Session, token: str | None) -> bool:
    """Whether ``token`` is the CSRF token of ``session`` (constant-time comparison)."""
    return bool(token) and hmac.compare_digest(csrf_token(secret_key, session), token or "")


def _mac(secret_key: str, text: str) -> str:
    return _b64(hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).digest())
