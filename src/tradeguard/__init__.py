"""tradeguard: trade facilitation and enforcement for customs administrations.

The pipeline (data flows one way):
filings -> ingest -> reference -> revenue -> risk -> decisions -> storage -> work
-> learning -> analytics.  Each stage is a subpackage of the same name.
"""

from __future__ import annotations

__version__ = "0.1.0"
