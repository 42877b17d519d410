"""api: the HTTP service (FastAPI) under ``/api/v1``.

Public surface::

    create_app(settings=None, *, pipeline=None, migrate=True) -> FastAPI   # api.app
    api_v1(settings, pipeline=None) -> FastAPI      # the bare /api/v1 sub-application
    allow(*roles), public()                           # api.deps: a route's role policy
    Principal, Database, get_principal               # api.deps
    security.hash_password / verify_password / new_token / token_hash
    security.sign_session / read_session / csrf_token / check_csrf   # for the portal
    audit.record(conn, principal, action, resource_type, resource_id, detail)

The portal (``web/``) extends the app that ``create_app`` returns with its own pages at ``/``;
the API stays mounted at ``/api/v1``.  Run it with ``tradeguard serve``.
"""
