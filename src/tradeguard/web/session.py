"""Who is using the portal: the signed session cookie, the role policy of each page, CSRF.

Deny by default, as in the API: every page declares ``Depends(page_for(Role.X, ...))`` (or
:func:`anyone`) and ``tests/web/test_portal_policy.py`` walks every portal route and fails for
one without a policy.  A request without a valid session is sent to the sign-in page; a POST
must carry the session's CSRF token in the form field ``csrf_token`` (the forms put it there).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request

from tradeguard.api import security
from tradeguard.api.deps import SESSION_COOKIE, Principal, load_principal
from tradeguard.domain.codes import Role
from tradeguard.errors import PermissionDenied

CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the portal answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_url, safe='/')}"


class PageFor:
    """A page's role policy as a dependency; ``roles=None`` marks a public page (sign-in)."""

    def __init__(self, roles: frozenset[Role] | None) -> None:
        self.allowed_roles = roles

    @property
    def roles(self) -> frozenset[Role]:
        """The roles that may open the page; the public sign-in page has none to list."""
        if self.allowed_roles is None:
            raise ValueError("a public page admits everyone; it has no role list")
        return self.allowed_roles

    async def __call__(self, request: Request) -> Principal | None:
        if self.allowed_roles is None:
            return None
        settings = request.app.state.settings
        cookie = request.cookies.get(SESSION_COOKIE)
        session = security.read_session(settings.secret_key, cookie) if cookie else None
        if session is None:
            raise LoginRequired(request.url.path)
        with request.app.state.api.state.db.connect() as conn:
            principal = load_principal(conn, session.user_id)
        if principal is None:
            raise LoginRequired(request.url.path)
        if request.method not in ("GET", "HEAD"):
            form = await request.form()
            token = form.get(CSRF_FIELD)
            if not security.check_csrf(
                settings.secret_key, session, token if isinstance(token, str) else None
            ):
                raise PermissionDenied("the form is missing its CSRF token; reload the page")
        if principal.role not in self.allowed_roles:
            raise PermissionDenied(f"the {principal.role.value} role may not open this page")
        request.state.principal = principal
        request.state.csrf = security.csrf_token(settings.secret_key, session)
        return principal


def page_for(*roles: Role) -> PageFor:
    """The policy letting exactly ``roles`` open a page."""
    if not roles:
        raise ValueError("a page needs at least one role; use anyone() for the sign-in page")
    return PageFor(frozenset(roles))


def anyone() -> PageFor:
    """The policy of a public page (sign-in)."""
    return PageFor(None)


def context(request: Request, **values: Any) -> dict[str, Any]:
    """The template context every page gets: the user, its CSRF token, a flash message."""
    return {
        "request": request,
        "user": getattr(request.state, "principal", None),
        "csrf": getattr(request.state, "csrf", ""),
        "message": request.query_params.get("msg"),
        "nav": nav_for(getattr(request.state, "principal", None)),
        **values,
    }


# The links of the top bar per role: the pages that role may open.
_NAV: dict[Role, list[tuple[str, str]]] = {
    Role.FILER: [("/filer/entries", "My entries")],
    Role.OFFICER: [("/queues/exam", "Exam queue")],
    Role.IMPORT_SPECIALIST: [("/queues/review", "Review queue")],
    Role.AUDITOR: [("/queues/audit", "Audit queue")],
    Role.TARGETER: [("/rules", "Rules"), ("/models", "Models"), ("/leads", "Leads")],
    Role.PENALTIES_OFFICER: [("/cases", "Penalty cases")],
    Role.SUPERVISOR: [
        ("/queues/exam", "Exams"),
        ("/queues/review", "Reviews"),
        ("/queues/audit", "Audits"),
        ("/rules", "Rules"),
        ("/models", "Models"),
        ("/cases", "Cases"),
    ],
    Role.ADMIN: [],
}
# Report cards (web.pages_reports): management's view of ports, issues and importers.
for _role in (Role.TARGETER, Role.SUPERVISOR, Role.ADMIN):
    _NAV[_role].append(("/reports", "Report cards"))


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """The top-bar links of ``principal`` (none before sign-in)."""
    if principal is None:
        return []
    return [("/", "Home"), *_NAV[principal.role]]
