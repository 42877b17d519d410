"""One module per resource; ``ROUTERS`` is the list the app includes, in OpenAPI order."""

from __future__ import annotations

from tradeguard.api.routes import (
    allegations,
    audit_log,
    auth,
    capacity,
    enforcement,
    entries,
    filings,
    leads,
    models,
    queues,
    referrals,
    rules,
    users,
    work,
)

ROUTERS = [
    auth.router,
    entries.router,
    filings.router,
    work.router,
    queues.router,
    rules.router,
    models.router,
    enforcement.router,
    referrals.router,
    allegations.router,
    leads.router,
    capacity.router,
    users.router,
    audit_log.router,
]
