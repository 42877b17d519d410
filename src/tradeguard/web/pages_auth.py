"""Sign-in, sign-out and the home page of each role.

Sign-in reuses the API's throttled password check (``api.queries.authenticate``) and sets the
signed session cookie of ``api.security``; the home page says what the role does (design.md's
users table) and links to its work with a count of what is waiting.

The sign-in form carries a CSRF token too, although no session exists yet (login CSRF: another
site must not sign a victim's browser into the attacker's account).  It is a signed double
submit: the form page sets a random nonce in the ``tg_login_csrf`` cookie and puts
HMAC(secret key, nonce) in the form; a POST whose field does not match its cookie is refused
before the password is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func

from tradeguard.api import audit, security
from tradeguard.api.deps import SESSION_COOKIE, Principal, load_principal
from tradeguard.api.queries import authenticate, queue_query
from tradeguard.domain.codes import EntryStatus, Lane, Role
from tradeguard.errors import TooManyRequests
from tradeguard.web.app import templates
from tradeguard.web.session import anyone, context, page_for

router = APIRouter(include_in_schema=False)
EVERYONE = page_for(*Role)

ROLE_TEXT: dict[Role, tuple[str, str]] = {
    Role.FILER: (
        "Customs broker / filer",
        "File entries and follow their status and duties and fees.",
    ),
    Role.OFFICER: (
        "CBP officer",
        "Work the exam queue of your ports: examine, record what you find, release, refuse "
        "or seize.",
    ),
    Role.IMPORT_SPECIALIST: (
        "Import specialist",
        "Review entry documents held for review in your ports and record the findings.",
    ),
    Role.AUDITOR: (
        "Auditor",
        "Audit released entries selected for post-release audit and record what you find.",
    ),
    Role.TARGETER: (
        "Targeter",
        "Write and tune the targeting rules; retire rules whose yield is low.",
    ),
    Role.PENALTIES_OFFICER: (
        "Fines, penalties and forfeitures officer",
        "Work penalty cases and importer accounts referred to you.",
    ),
    Role.SUPERVISOR: (
        "Supervisor",
        "Oversee every queue and the rules; see the work of every port.",
    ),
    Role.ADMIN: ("Administrator", "Manage users through the API (/api/v1/users)."),
}
_QUEUES = {
    "exam": (Lane.EXAM, EntryStatus.HELD, "Exam queue", "held entries to examine"),
    "review": (Lane.DOCUMENT_REVIEW, EntryStatus.HELD, "Review queue", "documents to review"),
    "audit": (Lane.POST_RELEASE_AUDIT, EntryStatus.RELEASED, "Audit queue", "entries to audit"),
}
_QUEUE_ROLES = {
    "exam": {Role.OFFICER, Role.SUPERVISOR},
    "review": {Role.IMPORT_SPECIALIST, Role.SUPERVISOR},
    "audit": {Role.AUDITOR, Role.SUPERVISOR},
}


LOGIN_CSRF_COOKIE = "tg_login_csrf"
LOGIN_CSRF_TTL = 2 * 3600  # seconds a sign-in form stays usable


def _login_token(secret_key: str, nonce: str) -> str:
    return hmac.new(secret_key.encode(), f"login-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def _login_form(
    request: Request,
    *,
    next: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The sign-in page with a CSRF token bound to the browser's nonce cookie (made if new)."""
    settings = request.app.state.settings
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    fresh = len(nonce) < 16
    if fresh:
        nonce = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        context(request, next=next, username=username, error=error,
                csrf=_login_token(settings.secret_key, nonce)),
        status_code=status_code,
    )  # fmt: skip
    if fresh:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            nonce,
            max_age=LOGIN_CSRF_TTL,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def _login_csrf_ok(request: Request, token: str) -> bool:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    want = _login_token(request.app.state.settings.secret_key, nonce)
    return len(nonce) >= 16 and hmac.compare_digest(want, token)


def _session_response(request: Request, user_id: int, target: str) -> Response:
    settings = request.app.state.settings
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        security.sign_session(settings.secret_key, user_id, settings.token_ttl_minutes * 60),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=settings.token_ttl_minutes * 60,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login", dependencies=[Depends(anyone())])
def login_page(request: Request, next: str = "/") -> Response:
    from tradeguard.web.caches import warm_in_background

    # whoever opens the portal first starts filling the page caches, before they sign in
    warm_in_background(request.app)
    return _login_form(request, next=next[:500])


@router.post("/login", dependencies=[Depends(anyone())])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the form's CSRF token, then the password (throttled like the API), and start
    a session."""
    db = request.app.state.api.state.db
    settings = request.app.state.settings
    error, status = None, 200
    if not _login_csrf_ok(request, csrf_token):
        error, status = "This sign-in form has expired; sign in again below.", 403
    elif not username.strip() or not password:
        error, status = "Enter your username and your password.", 422
    else:
        ip = request.client.host if request.client else "unknown"
        try:
            with db.begin() as conn:
                row = authenticate(conn, settings, username.strip(), password, ip)
        except TooManyRequests:
            row, error, status = None, "Too many failed sign-ins; wait a few minutes.", 429
        if row is None and error is None:
            error, status = "Wrong username or password.", 401
    if error is not None:
        return _login_form(request, next=next, username=username, error=error, status_code=status)
    with db.begin() as conn:
        audit.record(conn, load_principal(conn, row.id), "login", "user", str(row.id))
    # Only local paths: a crafted ?next= must not send the user to another site.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return _session_response(request, row.id, target)


@router.post("/logout")
def logout(principal: Annotated[Principal, Depends(EVERYONE)]) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _tiles(request: Request, principal: Principal) -> list[dict[str, Any]]:
    db = request.app.state.api.state.db
    tiles: list[dict[str, Any]] = []
    with db.connect() as conn:
        for kind, (lane, status, title, text) in _QUEUES.items():
            if principal.role in _QUEUE_ROLES[kind]:
                # the queue's own filter, counted without its columns (the revenue-at-risk
                # subquery) and without its order
                q = queue_query(lane, status, principal)
                n = conn.execute(q.with_only_columns(func.count()).order_by(None)).scalar_one()
                tiles.append({"href": f"/queues/{kind}", "title": title, "count": n, "text": text})
        from tradeguard.web.pages_cases import case_tiles  # penalties officer, supervisor

        tiles.extend(case_tiles(conn, principal))
    if principal.role in (Role.TARGETER, Role.SUPERVISOR):
        tiles.append(
            {"href": "/rules", "title": "Rules", "count": None, "text": "hits, yield, review"}
        )
        tiles.append(
            {"href": "/models", "title": "Models", "count": None,
             "text": "evaluation, retraining, promotion"}
        )  # fmt: skip
    if principal.role is Role.FILER:
        tiles.append(
            {
                "href": "/filer/entries",
                "title": "My entries",
                "count": None,
                "text": "status, duties and fees",
            }
        )
    return tiles


@router.get("/")
def home(request: Request, principal: Annotated[Principal, Depends(EVERYONE)]) -> Response:
    title, text = ROLE_TEXT[principal.role]
    return templates.TemplateResponse(
        request,
        "home.html",
        context(request, role_title=title, role_text=text, tiles=_tiles(request, principal)),
    )
