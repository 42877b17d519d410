"""One exception tree for tradeguard; each error carries the HTTP status it maps to.

    TradeguardError (500)
    ├── ValidationFailed (422)        issues: list[Issue], every problem found, not only the first
    ├── ReferenceDataMissing (422)    an HTS line, country, port, SPI ... that the reference lacks
    ├── UnsupportedRate (422)         a rate form the revenue engine cannot compute (formula rates)
    ├── NotFound (404)
    ├── Conflict (409)                same key, other content
    ├── PermissionDenied (403)
    ├── NotAuthenticated (401)
    ├── PayloadTooLarge (413)
    ├── TooManyRequests (429)
    └── BackendUnavailable (503)      a database or other backend could not be reached

The API turns every one of them into ``application/problem+json`` (RFC 9457); the CLI prints
the message and the issues and exits non-zero.  Library errors are translated at the boundary
with ``raise ... from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One validation problem: where (a field path such as ``lines[2].hts``), what, why."""

    field: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.value is not None:
            out["value"] = (
                self.value if isinstance(self.value, int | float | bool) else str(self.value)
            )
        return out


class TradeguardError(Exception):
    status: int = 500
    title: str = "Internal error"

    def __init__(self, message: str, *, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = list(issues or [])

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        lines = [self.message] + [f"  {i.field}: {i.message}" for i in self.issues]
        return "\n".join(lines)


class ValidationFailed(TradeguardError):
    status = 422
    title = "Validation failed"


class ReferenceDataMissing(ValidationFailed):
    title = "Reference data missing"


class UnsupportedRate(ValidationFailed):
    title = "Unsupported rate"


class NotFound(TradeguardError):
    status = 404
    title = "Not found"


class Conflict(TradeguardError):
    status = 409
    title = "Conflict"


class PermissionDenied(TradeguardError):
    status = 403
    title = "Forbidden"


class NotAuthenticated(TradeguardError):
    status = 401
    title = "Not authenticated"


class PayloadTooLarge(TradeguardError):
    status = 413
    title = "Payload too large"


class TooManyRequests(TradeguardError):
    status = 429
    title = "Too many requests"


class BackendUnavailable(TradeguardError):
    status = 503
    title = "Backend unavailable"


class IssueCollector:
    """Collects validation issues and raises them all at once (splink's ErrorLogger).

    >>> c = IssueCollector()
    >>> c.add("lines[0].hts", "unknown HTS number", "9999999999")
    >>> c.raise_if_any("entry refused")
    Traceback (most recent call last):
    ...
    tradeguard.errors.ValidationFailed: entry refused
      lines[0].hts: unknown HTS number
    """

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, field: str, message: str, value: Any = None) -> None:
        self.issues.append(Issue(field, message, value))

    def extend(self, issues: list[Issue], prefix: str = "") -> None:
        for i in issues:
            self.issues.append(Issue(f"{prefix}{i.field}", i.message, i.value))

    def __bool__(self) -> bool:
        return bool(self.issues)

    def raise_if_any(self, message: str, cls: type[ValidationFailed] = ValidationFailed) -> None:
        if self.issues:
            raise cls(message, issues=self.issues)
