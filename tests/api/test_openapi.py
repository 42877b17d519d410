"""The app against its own OpenAPI document (schemathesis, in process): no 5xx, and every
response's status, content type and body conform to what the document says.

Each operation is called with a bearer token of a role its policy allows, so the checks reach
the handlers instead of stopping at 403.  The number of examples is kept small (the suite must
stay fast); raise ``SCHEMATHESIS_EXAMPLES`` locally to fuzz harder.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tradeguard.api.app import create_app
from tradeguard.api.deps import Allow
from tradeguard.domain.codes import Role

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _allowed(app: Any) -> dict[tuple[str, str], Role | None]:
    """(method, path) -> a role the route's policy lets through (None: public)."""
    out: dict[tuple[str, str], Role | None] = {}
    for ctx in iter_route_contexts(app.state.api.routes):
        if not isinstance(ctx.route, APIRoute):
            continue
        policy = next(d.call for d in ctx.route.dependant.dependencies if isinstance(d.call, Allow))
        role = None if policy.allowed_roles is None else sorted(policy.allowed_roles)[0]
        for method in ctx.methods or ():
            out[(method, ctx.path)] = role
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.api.api_fakes import FakePipeline
    from tests.api.conftest import Users, make_settings

    url = f"sqlite:///{tmp_path_factory.mktemp('oas') / 'api.sqlite'}"
    app = create_app(make_settings(url), pipeline=FakePipeline())
    users = Users(url)
    tokens = {role: users.make(role) for role in Role}
    return {"app": app, "tokens": tokens, "allowed": _allowed(app)}


def _drive(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.slow
def test_api_conforms_to_its_openapi(world: dict[str, Any]) -> None:
    # Operations are driven one by one with hypothesis (schemathesis' pytest plugin does not
    # work with pytest 9's nodes); a failure names the operation and the failing case.
    schema = schemathesis.openapi.from_asgi("/openapi.json", world["app"].state.api)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        role = world["allowed"][(operation.method.upper(), operation.path)]
        headers = dict(world["tokens"][role]) if role is not None else {}

        _drive(operation, headers)
        operations += 1
    assert operations == len(world["allowed"])


def test_document_lists_problem_responses(world: dict[str, Any]) -> None:
    doc = world["app"].state.api.openapi()
    assert "Problem" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"401", "403", "422"} <= codes, f"{method} {path}: {codes}"
            if "{" in path and method != "put":  # PUT creates what is missing
                assert "404" in codes, f"{method} {path} lacks 404"
            if method in ("post", "put"):
                assert "413" in codes, f"{method} {path} lacks 413"
            for code in (c for c in codes if not c.startswith("2")):  # 202: retrain job
                content = op["responses"][code].get("content", {})
                assert "application/problem+json" in content, f"{method} {path} {code}"
