"""Deny by default in the portal: every page declares its roles, exactly those roles get in,
anonymous visitors are sent to sign-in, and every POST needs the session's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.conftest import Users
from tests.web.conftest import csrf_of, login_token, sign_in
from tradeguard.domain.codes import Role
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import login_attempts
from tradeguard.web.session import PageFor

F, OF, S, A, T, P, SU, AD = (
    Role.FILER,
    Role.OFFICER,
    Role.IMPORT_SPECIALIST,
    Role.AUDITOR,
    Role.TARGETER,
    Role.PENALTIES_OFFICER,
    Role.SUPERVISOR,
    Role.ADMIN,
)
ALL = set(Role)
READERS = {OF, S, A, T, P, SU}
EXPECTED: dict[tuple[str, str], set[Role] | None] = {
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): ALL,
    ("GET", "/"): ALL,
    ("GET", "/queues/exam"): {OF, SU},
    ("GET", "/queues/review"): {S, SU},
    ("GET", "/queues/audit"): {A, SU},
    ("GET", "/entries/{entry_number}"): READERS,
    ("POST", "/entries/{entry_number}/findings"): {OF, S, A},
    ("POST", "/entries/{entry_number}/release"): {OF, S, SU},
    ("POST", "/entries/{entry_number}/refuse"): {OF, SU},
    ("POST", "/entries/{entry_number}/seize"): {OF, SU},
    ("POST", "/entries/{entry_number}/refer"): {OF, S, A, SU},
    ("POST", "/entries/{entry_number}/liquidate"): {S},
    ("GET", "/cases"): {P, A, SU},
    ("GET", "/cases/new"): {P},
    ("POST", "/cases"): {P},
    ("GET", "/cases/{case_id}"): {P, A, SU},
    ("POST", "/cases/{case_id}/status"): {P},
    ("POST", "/referrals/{referral_id}/decline"): {P, A},
    ("GET", "/importers/{importer_id}"): READERS,
    ("GET", "/rules"): {T, SU},
    ("GET", "/rules/{rule_id}"): {T},
    ("POST", "/rules/{rule_id}"): {T},
    ("POST", "/rules/{rule_id}/retire"): {T},
    ("GET", "/models"): {T, SU},
    ("POST", "/models/retrain"): {T},
    ("GET", "/models/{model_id}"): {T, SU},
    ("POST", "/models/{model_id}/promote"): {T},
    ("GET", "/reports"): {T, SU, AD},
    ("GET", "/reports/ports/{port_code}"): {T, SU, AD},
    ("GET", "/reports/ptis/{pti}"): {T, SU, AD},
    ("GET", "/reports/importers/{importer_id}"): {A, T, P, SU, AD},
    ("GET", "/filer/entries"): {F},
    ("GET", "/filer/entries/{entry_number}"): {F},
    ("GET", "/leads"): {T, SU},
    ("GET", "/leads/{lead_id}"): {T, SU},
    ("GET", "/leads/{lead_id}/rule"): {T},
    ("POST", "/leads/{lead_id}/rule"): {T},
    ("POST", "/leads/{lead_id}/referral"): {T},
    ("POST", "/leads/{lead_id}/watch"): {T},
}
UNGUARDED = {"/plotly.min.js"}  # a public static asset
VALUES = {"entry_number": "ZZZ-0000001-1", "importer_id": "NOBODY", "rule_id": "NO-SUCH",
          "model_id": "NO-SUCH", "port_code": "9999", "pti": "revenue",
          "case_id": "999999", "referral_id": "999999", "lead_id": "999999"}  # fmt: skip


def _pages(app: Any) -> list[tuple[str, str, APIRoute]]:
    out = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.route, APIRoute) and ctx.path not in UNGUARDED:
            out.extend((m, ctx.path, ctx.route) for m in sorted(ctx.methods or ()))
    return out


def _policy(route: APIRoute) -> PageFor | None:
    found: list[PageFor] = []

    def walk(dep: Any) -> None:
        if isinstance(dep.call, PageFor):
            found.append(dep.call)
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    assert len(found) <= 1
    return found[0] if found else None


def test_every_page_declares_exactly_the_expected_roles(app) -> None:
    seen = set()
    for method, path, route in _pages(app):
        policy = _policy(route)
        assert policy is not None, f"{method} {path} has no role policy"
        want = EXPECTED.get((method, path), "missing")
        assert want != "missing", f"{method} {path} is not in EXPECTED"
        got = None if policy.allowed_roles is None else set(policy.allowed_roles)
        assert got == want, f"{method} {path}: {got} != {want}"
        seen.add((method, path))
    assert seen == set(EXPECTED)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)


def test_every_page_times_every_role(app, db_path: str) -> None:
    users = Users(db_path)
    names = {}
    for role in Role:
        users.make(role, username=f"u-{role.value}")
        names[role] = f"u-{role.value}"
    with TestClient(app) as anon:
        for (method, path), want in EXPECTED.items():
            if want is None:
                continue
            r = anon.request(method, _url(path), follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    for role in Role:
        with TestClient(app) as c:
            csrf = sign_in(c, names[role], "correct horse battery")
            for (method, path), want in EXPECTED.items():
                if want is None or path == "/logout":
                    continue
                data = {"csrf_token": csrf} if method == "POST" else None
                r = c.request(method, _url(path), data=data, follow_redirects=False)
                if role in want:
                    assert r.status_code not in (401, 403), f"{method} {path} as {role}"
                else:
                    assert r.status_code == 403, f"{method} {path} as {role}: {r.status_code}"
                    assert "may not open this page" in r.text


def test_post_without_csrf_is_refused(app, users) -> None:
    users.make(Role.OFFICER, username="officer-x")
    with TestClient(app) as c:
        csrf = sign_in(c, "officer-x", "correct horse battery")
        for token in (None, "forged", csrf[:-2] + "xx"):
            data = {"discrepancy": "no"} | ({"csrf_token": token} if token else {})
            r = c.post("/entries/ZZZ-0000001-1/findings", data=data, follow_redirects=False)
            assert r.status_code == 403 and "CSRF" in r.text
        r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        assert c.get("/", follow_redirects=False).status_code == 303


def test_sign_in_errors_are_clear_and_throttled(app, users) -> None:
    users.make(Role.OFFICER, username="officer-y")
    with TestClient(app) as c:
        t = login_token(c)
        r = c.post("/login", data={"username": "", "password": "", "csrf_token": t})
        assert r.status_code == 422 and "Enter your username and your password" in r.text
        r = c.post("/login", data={"username": "officer-y", "password": "wrong", "csrf_token": t})
        assert r.status_code == 401 and "Wrong username or password" in r.text
        assert 'value="officer-y"' in r.text  # the username is kept in the form
        assert csrf_of(r.text) == t  # and the form still carries its token
        statuses = [
            c.post(
                "/login", data={"username": "officer-y", "password": "wrong", "csrf_token": t}
            ).status_code  # fmt: skip
            for _ in range(12)
        ]
        assert statuses[-1] == 429
        r = c.post("/login", data={"username": "officer-y", "password": "correct horse battery",
                                   "csrf_token": t})  # fmt: skip
        assert r.status_code == 429  # still throttled, even with the right password
    # a crafted next= stays on this site
    users.make(Role.OFFICER, username="officer-z")
    with TestClient(app, client=("10.0.0.9", 1)) as c:
        r = c.post("/login", data={"username": "officer-z", "password": "correct horse battery",
                                   "next": "//evil.example", "csrf_token": login_token(c)},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "tg_login_csrf" not in c.cookies  # the pre-session nonce is gone


def test_sign_in_form_needs_its_csrf_token(app, users) -> None:
    """Login CSRF: a sign-in posted from elsewhere (no token, a forged one, or a token of
    another browser's nonce) is refused before the password is checked, and not counted as
    a failed sign-in."""
    users.make(Role.OFFICER, username="officer-c")
    good = {"username": "officer-c", "password": "correct horse battery"}
    with TestClient(app) as other:
        foreign = login_token(other)
    with TestClient(app, client=("10.0.0.7", 1)) as c:
        for token in (None, "forged", foreign):
            data = good | ({"csrf_token": token} if token else {})
            r = c.post("/login", data=data, follow_redirects=False)
            assert r.status_code == 403 and "sign-in form has expired" in r.text
            assert "tg_session" not in r.cookies
        # the refusal page carries a fresh form that works
        r = c.post("/login", data=good | {"csrf_token": csrf_of(r.text)}, follow_redirects=False)
        assert r.status_code == 303, r.text
    with engine_for(app.state.settings.effective_database_url).connect() as conn:
        failed = conn.execute(
            select(func.count()).where(
                login_attempts.c.username == "officer-c", ~login_attempts.c.success
            )
        ).scalar_one()
    assert failed == 0


def test_plotly_is_served_locally(client) -> None:
    r = client.get("/plotly.min.js")
    assert r.status_code == 200 and "plotly" in r.text[:2000].lower()
    assert client.get("/static/portal.css").status_code == 200
