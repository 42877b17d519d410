"""Every refusal of the service as ``application/problem+json`` (RFC 9457).

One handler turns each ``TradeguardError`` into a problem document carrying its status, title,
detail and, for validation failures, every issue found (field path, value, message).  FastAPI's
own request validation errors and Starlette's HTTP errors (404 on unknown paths, 405) are
mapped to the same shape, so a client parses one format for every failure.

:func:`responses` builds the ``responses=`` argument of a route so the OpenAPI document lists
each status a route can give with the problem schema.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradeguard.errors import Issue, TradeguardError

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("tradeguard.api")


class ProblemIssue(BaseModel):
    field: str = Field(
        description="Path of the offending field, e.g. lines[2].hts or record 50 [3-12]."
    )
    message: str
    value: Any = None


class Problem(BaseModel):
    """RFC 9457 problem details, extended with the list of validation issues."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    issues: list[ProblemIssue] = Field(default_factory=list)


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated: missing, invalid or expired credentials",
    403: "Forbidden: the caller's role may not use this route",
    404: "Not found (or not visible to the caller)",
    409: "Conflict: same key, other content, or a transition the resource's state forbids",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed: every issue is listed",
    429: "Too many requests (failed logins)",
    503: "Backend unavailable",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status with its description and the problem schema.

    401, 403, 422 and 503 are always included, since every protected route can give them.
    """
    wanted = sorted({401, 403, 422, 503, *codes})
    return {
        c: {
            "description": _DESCRIPTIONS.get(c, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for c in wanted
    }


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    issues: list[Issue] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body["issues"] = [i.as_dict() for i in issues or []]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "lines", 2, "hts")`` -> ``lines[2].hts``."""
    out = ""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        source = parts.pop(0)
        if not parts:
            return str(source)
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


async def _tradeguard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TradeguardError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 429:
        headers = {"Retry-After": "60"}
    return problem_response(
        exc.status, exc.title, exc.message, exc.issues, headers, instance=request.url.path
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = []
    for err in exc.errors():
        value = err.get("input")
        if isinstance(value, dict | list):
            value = None  # whole objects are noise in a message; the path says where
        issues.append(Issue(_loc_path(err.get("loc", ())), err.get("msg", "invalid"), value))
    return problem_response(
        422,
        "Validation failed",
        f"{len(issues)} issue(s) in the request",
        issues,
        instance=request.url.path,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code,
        _DESCRIPTIONS.get(exc.status_code, "Error"),
        str(exc.detail) if exc.detail else None,
        headers=getattr(exc, "headers", None),
        instance=request.url.path,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug: the client gets a problem document without internals; the server logs the trace.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        "Internal error",
        "an unexpected error occurred; it was logged",
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(TradeguardError, _tradeguard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
