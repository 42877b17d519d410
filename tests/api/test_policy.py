"""Deny by default: every route declares its roles, and exactly those roles get through.

The routes are read from the app itself, so a new route without a policy fails here, and a
route whose policy changes must change ``EXPECTED`` too (a deliberate, reviewed decision).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tradeguard.api.deps import Allow
from tradeguard.domain.codes import Role

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
STAFF = {OF, S, A, T, P, SU, AD}
PUBLIC = None

# (method, path) -> the roles allowed; None marks a public route.
EXPECTED: dict[tuple[str, str], set[Role] | None] = {
    ("POST", "/auth/token"): PUBLIC,
    ("POST", "/entries"): {F},
    ("GET", "/entries"): {F} | STAFF,
    ("PUT", "/entries/{entry_number}"): {F},
    ("GET", "/entries/{entry_number}"): {F} | STAFF,
    ("GET", "/entries/{entry_number}/assessment"): {OF, S, A, T, P, SU},
    ("POST", "/entries/{entry_number}/findings"): {OF, S, A},
    ("POST", "/entries/{entry_number}/release"): {OF, S, SU},
    ("POST", "/entries/{entry_number}/refuse"): {OF, SU},
    ("GET", "/queues/exam"): {OF, SU},
    ("GET", "/queues/review"): {S, SU},
    ("GET", "/queues/audit"): {A, SU},
    ("POST", "/rules"): {T},
    ("GET", "/rules"): {T, SU},
    ("PUT", "/rules/{rule_id}"): {T},
    ("GET", "/rules/{rule_id}"): {T, SU},
    ("POST", "/rules/{rule_id}/retire"): {T},
    ("POST", "/models"): {T},
    ("GET", "/models"): {T, SU},
    ("GET", "/models/compare"): {T, SU},
    ("POST", "/models/{model_id}/promote"): {T},
    ("POST", "/allegations"): {T, SU},
    ("GET", "/allegations"): {T, SU, P},
    ("GET", "/leads"): {T, SU},
    ("GET", "/leads/{lead_id}"): {T, SU},
    ("POST", "/leads/{lead_id}/rule"): {T},
    ("PUT", "/leads/{lead_id}/rule"): {T},
    ("POST", "/leads/{lead_id}/referral"): {T},
    ("POST", "/leads/{lead_id}/watch"): {T},
    ("GET", "/capacity"): {SU, T},
    ("PUT", "/capacity/{port_code}"): {SU},
    ("POST", "/users"): {AD},
    ("GET", "/users"): {AD},
    ("POST", "/users/{user_id}/deactivate"): {AD},
    ("GET", "/audit"): {SU, AD},
    ("POST", "/abi"): {F},
    ("POST", "/entries/batch"): {F},
    # outcomes (issue 5): enforcement, penalty cases, rule statistics, retraining
    ("POST", "/entries/{entry_number}/seizures"): {OF, SU},
    ("POST", "/entries/{entry_number}/referrals"): {OF, S, A, SU},
    ("GET", "/referrals"): {P, A, SU},
    ("POST", "/referrals/{referral_id}/decline"): {P, A},
    ("POST", "/entries/{entry_number}/liquidation"): {S},
    ("GET", "/entries/{entry_number}/enforcement"): {OF, S, A, P, SU},
    ("POST", "/penalty-cases"): {P},
    ("GET", "/penalty-cases"): {P, A, SU},
    ("GET", "/penalty-cases/{case_id}"): {P, A, SU},
    ("POST", "/penalty-cases/{case_id}/status"): {P},
    ("GET", "/rule-statistics"): {T, SU},
    ("POST", "/models/retrain"): {T},
    ("GET", "/models/retrain/{job_id}"): {T, SU},
}
PATH_VALUES = {
    "entry_number": "ZZZ-0000001-1",
    "rule_id": "NO-SUCH-RULE",
    "model_id": "no-such-model",
    "port_code": "2704",
    "user_id": "999999",
    "lead_id": "999999",
    "case_id": "999999",
    "job_id": "999999",
    "referral_id": "999999",
}


def _policy(route: APIRoute) -> Allow | None:
    found = []

    def walk(dep: Any) -> None:
        if isinstance(dep.call, Allow):
            found.append(dep.call)
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    assert len(found) <= 1, f"{route.path} declares {len(found)} policies"
    return found[0] if found else None


def _routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    """Every (method, path, route) of the API, through included routers."""
    out = []
    for ctx in iter_route_contexts(app.state.api.routes):
        route = ctx.route
        if isinstance(route, APIRoute):
            for method in sorted(ctx.methods or ()):
                out.append((method, ctx.path, route))
    assert out, "no API routes found"
    return out


def test_every_route_declares_exactly_the_expected_policy(app) -> None:
    seen = set()
    for method, path, route in _routes(app):
        policy = _policy(route)
        assert policy is not None, f"{method} {path} has no role policy (deny by default)"
        assert (method, path) in EXPECTED, f"{method} {path} is not in EXPECTED"
        want = EXPECTED[(method, path)]
        got = None if policy.allowed_roles is None else set(policy.allowed_roles)
        assert got == want, f"{method} {path}: declares {got}, expected {want}"
        seen.add((method, path))
    missing = {k for k in EXPECTED if k not in seen and k[1] not in ("/abi", "/entries/batch")}
    assert not missing, f"routes expected but absent: {missing}"


def _url(path: str) -> str:
    return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_every_route_times_every_role(app, client, users) -> None:
    headers = {role: users.make(role) for role in Role}
    checked = 0
    for method, path, _route in _routes(app):
        want = EXPECTED[(method, path)]
        if want is None:
            continue
        # unauthenticated: 401 everywhere but the public routes
        r = client.request(method, _url(path), json={})
        assert r.status_code == 401, f"{method} {path} anonymous -> {r.status_code}"
        assert r.headers["content-type"].startswith("application/problem+json")
        for role in Role:
            r = client.request(method, _url(path), json={}, headers=headers[role])
            if role in want:
                assert r.status_code not in (401, 403), f"{method} {path} as {role}: {r.text}"
            else:
                assert r.status_code == 403, f"{method} {path} as {role}: {r.status_code}"
            checked += 1
    assert checked >= 8 * 25


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer nonsense", "Basic abc"])
def test_bad_credentials_are_401(client, token) -> None:
    r = client.get("/api/v1/entries", headers={"Authorization": token})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
