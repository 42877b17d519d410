"""The FastAPI application: ``create_app(settings)`` builds the service under ``/api/v1``.

The API lives in its own sub-application mounted at ``/api/v1`` (its OpenAPI document is
``/api/v1/openapi.json``), so the portal of issue 5 can mount it inside its own app, or take
the ``api_v1()`` sub-application alone.  Run it with ``tradeguard serve``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeguard import __version__
from tradeguard.api import problems
from tradeguard.api.deps import Database
from tradeguard.api.pipeline import Pipeline, StagePipeline
from tradeguard.config import Settings, get_settings

PREFIX = "/api/v1"


class BodyLimit:
    """ASGI middleware answering 413 for bodies over the limit (uploads have their own).

    A declared ``Content-Length`` is checked first; a streamed body is buffered up to the limit
    and refused as soon as it passes it, so no handler ever sees an oversized request.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].endswith("/entries/batch") else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problems.problem_response(
            413, "Payload too large", f"the request body exceeds {limit} bytes"
        )
        await response(scope, receive, send)


def api_v1(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    """The ``/api/v1`` sub-application (routes, problem handlers, OpenAPI).

    ``pipeline`` defaults to the real stages (:class:`StagePipeline`); tests may pass their own.
    """
    from tradeguard.api.routes import ROUTERS
    from tradeguard.decisions.policy import LanePolicy

    api = FastAPI(
        title="tradeguard API",
        version=__version__,
        description=(
            "Entries, duties and fees, risk assessments, lanes, work queues and findings. "
            "Every refusal is application/problem+json (RFC 9457)."
        ),
    )
    api.state.settings = settings
    api.state.db = Database(settings.effective_database_url, settings.auth_cache_seconds)
    api.state.pipeline = pipeline or StagePipeline(settings)
    api.state.lane_policy = LanePolicy.from_settings(settings)
    problems.install(api)
    for router in ROUTERS:
        api.include_router(router)
    _document_problem_schema(api)
    return api


def create_app(
    settings: Settings | None = None, *, pipeline: Pipeline | None = None, migrate: bool = True
) -> FastAPI:
    """The service: ``/api/v1`` mounted under a root app that the portal may extend.

    ``migrate`` applies the database migrations first, so a fresh SQLite file just works.
    """
    settings = settings or get_settings()
    if migrate:
        from tradeguard.storage.schema import migrate as run_migrations

        run_migrations(settings.effective_database_url)
    root = FastAPI(title="tradeguard", version=__version__, docs_url=None, redoc_url=None)
    api = api_v1(settings, pipeline)
    root.state.settings = settings
    root.state.api = api
    root.mount(
        PREFIX,
        BodyLimit(api, settings.max_request_bytes, settings.max_upload_bytes),
    )
    from tradeguard.web.app import mount_portal  # the officer portal at /

    mount_portal(root, settings)
    return root


def _document_problem_schema(api: FastAPI) -> None:
    """Make sure ``#/components/schemas/Problem`` exists in the generated document."""
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        doc = original()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in schemas:
            schemas["Problem"] = problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        for name, schema in (
            problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            .get("$defs", {})
            .items()
        ):
            schemas.setdefault(name, schema)
        schemas["Problem"].pop("$defs", None)
        # BodyLimit answers 413 for any route that takes a body, whatever the route says
        too_large = problems.responses(413)[413]
        for item in doc.get("paths", {}).values():
            for method, op in item.items():
                if method in ("post", "put", "patch"):
                    op["responses"].setdefault("413", too_large)
        api.openapi_schema = doc
        return doc

    api.openapi = openapi  # type: ignore[method-assign]


def app_factory() -> FastAPI:
    """The app from the environment's settings (uvicorn ``--factory``; migrations already run)."""
    settings = get_settings()
    pipeline = StagePipeline(settings)
    pipeline.warm()
    return create_app(settings, pipeline=pipeline, migrate=False)
