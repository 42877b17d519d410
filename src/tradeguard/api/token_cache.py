"""Bearer tokens a worker has checked, trusted for a few seconds.

Every API call authenticates; looking the token and its user up in the system of record took a
fifth of a filing's CPU on SQLite (``benchmarks/api_load.py``).  A worker keeps what it found
for ``Settings.auth_cache_seconds``, never past the token's own expiry.  What this worker
revokes (a user deactivated) it forgets at once (:meth:`TokenCache.clear`); a revocation made
through another worker or process takes effect here within those seconds.  Only tokens that
authenticated are kept: an unknown token is looked up every time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradeguard.api.deps import Principal

# more distinct tokens than this in one window empties the cache rather than growing it
MAX_ENTRIES = 10_000


class TokenCache:
    """token hash -> (principal, monotonic deadline), bounded, thread-safe."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Principal | None:
        if self.seconds <= 0:
            return None
        hit = self._items.get(token_hash)
        if hit is None:
            return None
        principal, deadline = hit
        if time.monotonic() >= deadline:
            with self._lock:
                self._items.pop(token_hash, None)
            return None
        return principal

    def put(
        self, token_hash: str, principal: Principal, expires_at: datetime, now: datetime
    ) -> None:
        """Keep ``principal`` for the cache's seconds, or until the token expires if sooner."""
        if self.seconds <= 0:
            return
        left = min(self.seconds, (expires_at - now) / timedelta(seconds=1))
        if left <= 0:
            return
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[token_hash] = (principal, time.monotonic() + left)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
